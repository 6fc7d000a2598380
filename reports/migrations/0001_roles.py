from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from reports.roles import sync_roles

    # Permissions are normally created after all migrations (post_migrate);
    # create them now so a fresh database gets complete groups right away.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0001_initial"),
        ("movements", "0002_append_only_triggers"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
