"""A database migrated by the former reports app is adopted, not emptied (project/app_split.py)."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from dataio.models import TaskNotification
from project import app_split

pytestmark = pytest.mark.django_db


def _run(operation, direction="forwards"):
    from django.apps import apps

    # RunPython hands its function the project's apps and a schema editor.
    function = operation.code if direction == "forwards" else operation.reverse_code
    with connection.schema_editor(atomic=False) as editor:
        function(apps, editor)


def _reports_migrations(names):
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(
                "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, now())",
                ["reports", name],
            )


def _as_the_reports_app_left_it():
    """The content types back under the old label, the old migrations recorded."""
    ContentType.objects.filter(app_label="dataio", model="tasknotification").update(
        app_label="reports"
    )
    ContentType.objects.filter(app_label="dashboard", model="dashboard").update(app_label="reports")
    ContentType.objects.clear_cache()
    _reports_migrations([f"000{n}_x" for n in range(1, 7)] + [app_split.LAST_OLD_MIGRATION])


def test_jobs_permissions_and_grants_survive_the_split(admin_user):
    owner = User.objects.create_user("owner", password="x", is_staff=True)
    job = TaskNotification.objects.create(user=owner, task_type="export", model="catalog.brand")
    financials = Permission.objects.get(codename="view_financials")
    view_jobs = Permission.objects.get(codename="view_tasknotification")
    owner.user_permissions.add(view_jobs)
    auditors = Group.objects.create(name="Auditors")
    auditors.permissions.add(financials)
    _as_the_reports_app_left_it()

    _run(app_split.move_content_type("tasknotification", "dataio", "tasknotification"))
    _run(app_split.move_content_type("dashboard", "dashboard", "dashboard"))
    _run(app_split.create_table_unless_adopted("dataio", "TaskNotification"))

    ContentType.objects.clear_cache()
    assert TaskNotification.objects.filter(pk=job.pk).exists()  # the table was kept
    owner = User.objects.get(pk=owner.pk)
    assert owner.has_perm("dataio.view_tasknotification")
    assert Group.objects.get(name="Auditors").permissions.get().pk == financials.pk
    assert Permission.objects.get(pk=financials.pk).content_type.app_label == "dashboard"


def test_a_database_part_way_through_the_old_migrations_is_refused():
    _reports_migrations(["0001_roles", "0002_periodic_tasks"])
    with pytest.raises(RuntimeError, match="previous release"):
        _run(app_split.create_table_unless_adopted("dataio", "TaskNotification"))


def test_a_fresh_database_gets_the_table(transactional_db):
    # Backwards drops the table; forwards on a database without the old app creates it.
    operation = app_split.create_table_unless_adopted("dataio", "TaskNotification")
    _run(operation, "backwards")
    assert TaskNotification._meta.db_table not in connection.introspection.table_names()
    _run(operation)
    assert TaskNotification._meta.db_table in connection.introspection.table_names()
