"""Adopting what the former ``reports`` app left in a database.

Until the apps were split by purpose, one app named ``reports`` held the job
record, the dashboard's permission, the roles and the periodic tasks. A
database migrated back then keeps its rows; the new apps' first migrations
take them over instead of starting empty:

- the job table keeps its name (``TaskNotification.Meta.db_table``), so it is
  created only when it does not exist yet;
- content types move to the new app label, so permissions keep their ids and
  every grant to a group or a user survives.

A database must have reached the last ``reports`` migration first (the
previous release); anything older is refused with a message saying so.
"""

from django.db import migrations

OLD_APP = "reports"
LAST_OLD_MIGRATION = "0007_view_financials"


def old_app_was_migrated(schema_editor) -> bool:
    """Whether this database ran the former reports app's migrations, all of them."""
    connection = schema_editor.connection
    if "django_migrations" not in connection.introspection.table_names():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = %s", [OLD_APP])
        applied = {name for (name,) in cursor.fetchall()}
    if applied and LAST_OLD_MIGRATION not in applied:
        raise RuntimeError(
            "This database stopped part-way through the former 'reports' app's migrations "
            f"(last one: {LAST_OLD_MIGRATION}). Install the previous release, run "
            "'manage.py migrate' with it, then upgrade."
        )
    return bool(applied)


def move_content_type(old_model: str, new_app: str, new_model: str):
    """A RunPython operation giving ``reports.<old_model>``'s content type to the new app."""

    def forwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        if ContentType.objects.filter(app_label=new_app, model=new_model).exists():
            return
        ContentType.objects.filter(app_label=OLD_APP, model=old_model).update(
            app_label=new_app, model=new_model
        )

    def backwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        ContentType.objects.filter(app_label=new_app, model=new_model).update(
            app_label=OLD_APP, model=old_model
        )

    return migrations.RunPython(forwards, backwards)


def create_table_unless_adopted(app_label: str, model_name: str):
    """A RunPython operation creating the model's table unless the old app made it."""

    def forwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        if old_app_was_migrated(schema_editor):
            return  # the table and its indexes exist, filled with the jobs so far
        schema_editor.create_model(model)

    def backwards(apps, schema_editor):
        schema_editor.delete_model(apps.get_model(app_label, model_name))

    return migrations.RunPython(forwards, backwards)
