"""The nightly ledger check. Its schedule is a django-celery-beat row (backoffice migrations)."""

from celery import shared_task

from dataio import notifications
from movements.selectors import ledger_differences


@shared_task(name="movements.check_ledger_nightly")
def check_ledger_nightly() -> dict:
    """Recompute invariant 1 for every product; superusers get a notification if any differs."""
    differences = ledger_differences()
    if differences:
        notifications.notification_ledger_alert(differences=differences)
    return {"differences": len(differences)}
