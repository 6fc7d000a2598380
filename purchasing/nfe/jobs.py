"""The NF-e jobs in the worker: the preview (checks, nothing written) and the receipt.

They follow dataio's lifecycle with its public services: started once
(``notification_start``), a heartbeat while they run, Completed with the
counts, or Failed with a message a person understands (the traceback goes
to the log only). The receipt commits its stock and "Completed" together.
"""

import logging
import zoneinfo

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dataio import files, notifications
from project.errors import UserFacingError
from project.transactions import retry_on_conflict
from purchasing.nfe import services
from purchasing.nfe.parsing import NFeError

logger = logging.getLogger(__name__)


class _Superseded(Exception):
    pass


def _documents(notification) -> list[services.Document]:
    documents = []
    for stored in notification.parameters.get("files", []):
        with files.local_copy(stored["path"]) as path:
            documents.append(services.Document(name=stored["name"], data=path.read_bytes()))
    return documents


def _run(notification_id: int, work, task_id: str | None) -> dict | None:
    notification = notifications.notification_start(
        notification_id=notification_id, task_id=task_id
    )
    if notification is None:
        return None
    with (
        notifications.notification_heartbeat(notification=notification),
        translation.override(notifications.job_language(notification)),
        timezone.override(zoneinfo.ZoneInfo(notifications.job_time_zone(notification))),
    ):
        try:
            return work(notification)
        except Exception as error:
            message = _failure_message(notification, error)
            notifications.notification_fail(
                notification_id=notification.pk, message=message, task_id=notification.task_id
            )
            return None


def _failure_message(notification, error: Exception) -> str:
    if isinstance(error, (NFeError, UserFacingError)):
        # The note's refusals, and the ledger's or the order's (a line of a
        # cancelled order, more stock than a product can hold): all worded.
        return error.message
    if isinstance(error, FileNotFoundError):
        return _("The uploaded file is gone; upload it again. Nothing was received.")
    if isinstance(error, _Superseded):
        return _("This run was stopped (the job was failed meanwhile); nothing was received.")
    if isinstance(error, SoftTimeLimitExceeded):
        return _("The task took longer than its time limit and was stopped. Nothing was received.")
    if isinstance(error, DatabaseError):
        logger.exception("NF-e job %s refused by the database", notification.pk)
        return _(
            "The database refused the receipt (probably a change made at the same time). "
            "Nothing was received; send it again."
        )
    logger.exception("NF-e job %s failed", notification.pk)
    return _(
        "The task failed because of an internal error; nothing was received. "
        "Reference for the administrator: job %(id)s."
    ) % {"id": notification.pk}


def _preview(notification) -> dict | None:
    preview = services.nfe_preview(documents=_documents(notification))
    counts = preview["counts"]
    done = notifications.notification_complete(
        notification=notification,
        total_rows=counts["lines"],
        new_rows=counts["ready"],
        invalid_rows=counts["problems"] + counts["refused"],
        stock_impact=preview,
    )
    return None if done is None else counts


RECEIVE_PERMISSION = "purchasing.receive_purchaseorder"


# The whole receipt runs again if PostgreSQL aborted it to break a deadlock
# (project.transactions): this is its outermost transaction.
@retry_on_conflict
def _receive(notification) -> dict | None:
    # Checked again when it runs, as exports check theirs: a Retry, or a
    # permission taken away since the upload, must not receive stock.
    user = notification.user
    if user is None or not user.is_active or not user.has_perm(RECEIVE_PERMISSION):
        raise UserFacingError(
            _("You are no longer allowed to receive stock, so nothing was received.")
        )
    parameters = notification.parameters
    with transaction.atomic():
        receipts = services.nfe_receive(
            documents=_documents(notification),
            user=notification.user,
            picks=parameters.get("picks") or {},
            orders=parameters.get("orders") or {},
        )
        lines = sum(receipt.lines.count() for receipt in receipts)
        # In the same transaction: the stock and "Completed" commit together;
        # a run whose job was failed meanwhile rolls back instead.
        if not notifications.notification_claim(notification=notification):
            raise _Superseded
        notifications.notification_complete(
            notification=notification,
            total_rows=lines,
            new_rows=lines,
            stock_impact={"receipts": [receipt.pk for receipt in receipts]},
        )
    return {"receipts": len(receipts), "lines": lines}


def run_preview(notification_id: int, task_id: str | None = None) -> dict | None:
    return _run(notification_id, _preview, task_id)


def run_receive(notification_id: int, task_id: str | None = None) -> dict | None:
    return _run(notification_id, _receive, task_id)
