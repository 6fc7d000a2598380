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


# Jobs a domain app runs itself (the NF-e receipts): task type -> the name of
# the URL of the job's page, which takes the notification's id. The
# notification centre links there as it links an import to its preview.
JOB_PAGES: dict[str, str] = {}


def register_job_page(task_type: str, url_name: str) -> None:
    JOB_PAGES[task_type] = url_name


def job_page(task_type: str) -> str | None:
    """The URL name of a job's own page, if its app registered one."""
    return JOB_PAGES.get(task_type)
