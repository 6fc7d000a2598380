"""Which models import and export, and with which Resource.

dataio imports no domain app: each domain app registers its Resources here
when it is ready (``CatalogConfig.ready``, ``MovementsConfig.ready``), and the
pipeline finds a job's Resource by the model label stored on the job.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Transfer:
    resource: type

    @property
    def model(self):
        return self.resource._meta.model

    @property
    def importer(self):
        """The class that checks and writes a file (dataio.imports.UpsertImport...)."""
        return self.resource.importer


TRANSFERS: dict[str, Transfer] = {}


def register(*resources) -> None:
    for resource in resources:
        TRANSFERS[label_of(resource._meta.model)] = Transfer(resource)


def get(label: str) -> Transfer:
    return TRANSFERS[label]


def label_of(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


# Jobs a domain app runs itself (the NF-e receipts), through the same job
# record and queue as imports: task type -> its Celery task (published,
# re-sent by the sweep and failed on a refusing broker as dataio's own), and
# task type -> the name of the URL of the job's page, which takes the
# notification's id (the notification centre links there).
JOB_TASKS: dict[str, object] = {}
JOB_PAGES: dict[str, str] = {}


def register_job_task(task_type: str, task) -> None:
    JOB_TASKS[task_type] = task


def register_job_page(task_type: str, url_name: str) -> None:
    JOB_PAGES[task_type] = url_name


def job_page(task_type: str) -> str | None:
    """The URL name of a job's own page, if its app registered one."""
    return JOB_PAGES.get(task_type)
