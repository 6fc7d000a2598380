from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchasingConfig(AppConfig):
    name = "purchasing"
    verbose_name = _("Purchasing")

    def ready(self):
        from dataio import registry
        from dataio.models import TaskNotification
        from movements import services as ledger
        from purchasing.nfe import tasks
        from purchasing.services import receipt_reversal_refusal

        ledger.movement_owner_register(receipt_reversal_refusal)
        # The NF-e receipts run as dataio's jobs: published, re-sent and shown alike.
        jobs = {
            TaskNotification.TaskType.NFE_PREVIEW: tasks.nfe_preview,
            TaskNotification.TaskType.NFE_RECEIVE: tasks.nfe_receive,
        }
        for task_type, task in jobs.items():
            registry.register_job_task(task_type, task)
            registry.register_job_page(task_type, "admin:purchasing_nfereceipt_job")
