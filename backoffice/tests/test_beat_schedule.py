"""The periodic tasks exist after migrate and admins manage them in the admin."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as global_apps
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from backoffice.tasks import flush_expired_tokens
from project.celery import app

pytestmark = pytest.mark.django_db

migration = importlib.import_module("backoffice.migrations.0001_initial")

EXPECTED = {
    "dashboard.update_dashboard_metrics_cache": ("interval", 5),
    "dataio.sweep_stuck_tasks": ("interval", 1),
    "movements.check_ledger_nightly": ("crontab", "3", "0"),
    "backoffice.flush_expired_tokens": ("crontab", "4", "0"),
    "dataio.purge_old_task_files": ("crontab", "4", "30"),
}


def _schedule(task: PeriodicTask) -> tuple:
    if task.interval_id:
        assert task.interval.period == IntervalSchedule.MINUTES
        return ("interval", task.interval.every)
    return ("crontab", task.crontab.hour, task.crontab.minute)


def test_periodic_tasks_exist_after_migrate(settings):
    tasks = {task.task: task for task in PeriodicTask.objects.filter(task__in=EXPECTED)}
    assert {name: _schedule(task) for name, task in tasks.items()} == EXPECTED
    assert all(task.enabled for task in tasks.values())
    for name in ("movements.check_ledger_nightly", "backoffice.flush_expired_tokens"):
        assert str(tasks[name].crontab.timezone) == settings.TIME_ZONE
        assert tasks[name].crontab.day_of_week == "*"


def test_every_scheduled_task_is_a_registered_celery_task():
    app.loader.import_default_modules()
    assert set(EXPECTED) <= set(app.tasks)


def test_creating_the_schedules_again_changes_nothing_an_admin_set():
    task = PeriodicTask.objects.get(task="dashboard.update_dashboard_metrics_cache")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    task.interval = every_minute
    task.enabled = False
    task.save()
    before = PeriodicTask.objects.count()
    migration.create_periodic_tasks(global_apps, None)
    migration.create_periodic_tasks(global_apps, None)
    assert PeriodicTask.objects.count() == before
    task.refresh_from_db()
    assert (task.interval.every, task.enabled) == (1, False)


def test_a_fresh_database_gets_the_schedules_once():
    PeriodicTask.objects.filter(task__in=EXPECTED).delete()
    migration.create_periodic_tasks(global_apps, None)
    migration.create_periodic_tasks(global_apps, None)
    assert PeriodicTask.objects.filter(task__in=EXPECTED).count() == len(EXPECTED)
    assert IntervalSchedule.objects.filter(every=5, period="minutes").count() == 1


def test_beat_admin_lists_and_edits_the_metrics_schedule(admin_client):
    """Change the metrics refresh to every minute through the admin form."""
    response = admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert response.status_code == 200
    assert b"Dashboard metrics refresh" in response.content
    task = PeriodicTask.objects.get(task="dashboard.update_dashboard_metrics_cache")
    url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    data["interval"] = every_minute.pk
    changed_before = PeriodicTasks.last_change()
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.interval.every == 1
    # DatabaseScheduler reloads its schedule when this moves.
    assert PeriodicTasks.last_change() > changed_before


@pytest.mark.parametrize(
    "model", ["periodictask", "intervalschedule", "crontabschedule", "clockedschedule"]
)
def test_beat_admin_add_pages_render(admin_client, model):
    response = admin_client.get(reverse(f"admin:django_celery_beat_{model}_add"))
    assert response.status_code == 200


def test_flush_expired_tokens_deletes_only_expired_ones(admin_user):
    now = timezone.now()
    for jti, expires in (("old", now - timedelta(days=1)), ("live", now + timedelta(days=1))):
        OutstandingToken.objects.create(
            user=admin_user, jti=jti, token=f"token-{jti}", created_at=now, expires_at=expires
        )
    assert flush_expired_tokens()["flushed"] == 1
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == ["live"]


def test_a_schedule_page_shows_its_registered_task_selected(admin_client):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="dashboard.update_dashboard_metrics_cache")
    response = admin_client.get(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    assert response.status_code == 200
    assert b'<option value="dashboard.update_dashboard_metrics_cache" selected>' in response.content


def test_a_typed_custom_task_wins_over_the_preselected_registered_one(db):
    from backoffice.admin import UnfoldPeriodicTaskForm

    task = PeriodicTask.objects.get(task="dashboard.update_dashboard_metrics_cache")
    data = {
        "name": task.name,
        "regtask": task.task,
        "task": "dataio.sweep_stuck_tasks",
        "interval": task.interval_id,
        "enabled": "on",
        "args": "[]",
        "kwargs": "{}",
        "headers": "{}",
        "priority": "",
        "expire_seconds": "",
    }
    form = UnfoldPeriodicTaskForm(data=data, instance=task)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["task"] == "dataio.sweep_stuck_tasks"
    # Choosing another registered task still works.
    data.update(task=task.task, regtask="dataio.purge_old_task_files")
    form = UnfoldPeriodicTaskForm(data=data, instance=task)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["task"] == "dataio.purge_old_task_files"
