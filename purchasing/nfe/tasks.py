"""The NF-e tasks: thin, a notification id in (see ``purchasing.nfe.jobs``).

Registered with dataio (``PurchasingConfig.ready``), which publishes them as
it publishes imports; ``purchasing.tasks`` imports them for the worker.
"""

from celery import shared_task

from dataio.tasks import TRANSFER_OPTIONS


@shared_task(name="purchasing.nfe_preview", bind=True, **TRANSFER_OPTIONS)
def nfe_preview(self, notification_id: int):
    from purchasing.nfe import jobs

    return jobs.run_preview(notification_id, task_id=self.request.id)


@shared_task(name="purchasing.nfe_receive", bind=True, **TRANSFER_OPTIONS)
def nfe_receive(self, notification_id: int):
    from purchasing.nfe import jobs

    return jobs.run_receive(notification_id, task_id=self.request.id)
