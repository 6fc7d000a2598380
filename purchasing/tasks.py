from celery import shared_task


@shared_task(name="purchasing.prepare_reorder_suggestions")
def prepare_reorder_suggestions() -> int:
    """Every morning (a periodic task): the day's reorder suggestions, sent to the Managers."""
    from purchasing.services import reorder_suggestions_notify

    return reorder_suggestions_notify()
