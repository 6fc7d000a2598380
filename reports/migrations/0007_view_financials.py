"""The view_financials permission, granted to the roles that saw money figures.

Until now the dashboard and the API's metrics showed money to the groups
named Admin, Manager and Analyst; from now on to holders of
``reports.view_financials``. This grants it to those three groups on an
existing database at once, so nobody loses a figure between the migration
and the role sync that follows ``migrate`` (reports.roles). The names are
frozen here: a migration does not follow later edits of ROLES.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

MONEY_ROLES = ("Admin", "Manager", "Analyst")


def _view_financials(apps):
    # Permissions are normally created after all migrations (post_migrate).
    app_config = apps.get_app_config("reports")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    return apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="reports", codename="view_financials"
    )


def grant(apps, schema_editor):
    permission = _view_financials(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=MONEY_ROLES):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission = _view_financials(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=MONEY_ROLES):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("reports", "0006_task_notification_stock_impact"),
    ]

    operations = [
        migrations.CreateModel(
            name="Dashboard",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
            options={
                "verbose_name": "dashboard",
                "verbose_name_plural": "dashboards",
                "permissions": [
                    ("view_financials", "Can see money figures (stock value, sales, profit)")
                ],
                "managed": False,
                "default_permissions": (),
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
