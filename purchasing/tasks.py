from celery import shared_task

# The NF-e jobs' tasks live with the NF-e code; importing them here is what
# registers them in the worker (Celery autodiscovers each app's tasks module).
from purchasing.nfe import tasks as nfe_tasks  # noqa: F401


@shared_task(name="purchasing.prepare_reorder_suggestions")
def prepare_reorder_suggestions() -> int:
    """Every morning (a periodic task): the day's reorder suggestions, sent to the Managers."""
    from purchasing.services import reorder_suggestions_notify

    return reorder_suggestions_notify()
