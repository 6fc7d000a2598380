"""The work behind each transfer task: one function per task, notification id in.

Each function moves its notification through the lifecycle with the services
in ``dataio.notifications`` and turns every failure into a message a person
understands; the traceback goes to the log (and Sentry), never to the user.
"""

import functools
import logging
import zoneinfo
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import DatabaseError, IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dataio import exports, files, imports, notifications, registry, signals
from dataio.models import TaskNotification
from dataio.readers import ImportFileError
from project.errors import UserFacingError
from project.transactions import retry_on_conflict

logger = logging.getLogger(__name__)


def _fail(notification: TaskNotification, message: str) -> None:
    # Only while this run owns the job: a run that ends after its job was
    # retried must not fail the new attempt.
    notifications.notification_fail(
        notification_id=notification.pk, message=message, task_id=notification.task_id
    )


def _superseded() -> str:
    return _("This run was stopped (the job was failed or retried meanwhile); nothing was changed.")


def _too_long() -> str:
    return _("The task took longer than its time limit and was stopped. Nothing was changed.")


def _internal_error(notification: TaskNotification) -> str:
    return _(
        "The task failed because of an internal error; nothing was changed. "
        "Reference for the administrator: %(task_id)s."
    ) % {"task_id": notification.task_id}


# What a job does with a failure it knows: (exception types, handler).
Handler = tuple[
    type[Exception] | tuple[type[Exception], ...], Callable[[TaskNotification, Exception], None]
]


def _fails_job(label: str, *handlers: Handler):
    """Turn whatever escapes a job's work into a Failed job with a message a person understands.

    The job's own ``handlers`` come first (the first whose types match); then
    the time limit; anything else is an internal error: its traceback goes to
    the log (and Sentry) as "<label> <id> failed", never to the user. The
    decorated function then returns None.
    """

    def decorate(work):
        @functools.wraps(work)
        def run(notification: TaskNotification, *args, **kwargs):
            # Every message the job stores, in its requester's language; every
            # date it writes (an export's cells), in its requester's time zone.
            with (
                translation.override(notifications.job_language(notification)),
                timezone.override(zoneinfo.ZoneInfo(notifications.job_time_zone(notification))),
            ):
                try:
                    return work(notification, *args, **kwargs)
                except Exception as error:
                    for types, handle in handlers:
                        if isinstance(error, types):
                            handle(notification, error)
                            return None
                    if isinstance(error, SoftTimeLimitExceeded):
                        _fail(notification, _too_long())
                        return None
                    logger.exception("%s %s failed", label, notification.pk)
                    _fail(notification, _internal_error(notification))
                    return None

        return run

    return decorate


def _show(notification: TaskNotification, error: UserFacingError) -> None:
    _fail(notification, error.message)


def _progress(notification: TaskNotification):
    def report(processed: int, total: int) -> None:
        notifications.notification_progress(
            notification_id=notification.pk, processed=processed, total=total
        )

    return report


def export_queryset_for(notification: TaskNotification):
    """The rows the user asked for: the admin list as they filtered it, or the selection.

    The admin page stored its query string; the changelist is rebuilt here,
    with the same filters, search and permissions, as the user saw it.
    """
    model = apps.get_model(notification.model)
    model_admin = admin.site.get_model_admin(model)
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = notification.parameters.get("query", "")
    request = RequestFactory().get(f"{url}?{query}" if query else url)
    request.user = notification.user
    if not model_admin.has_view_permission(request):
        raise PermissionError
    queryset = model_admin.get_export_queryset(request)
    ids = notification.parameters.get("ids")
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset


def run_export(notification_id: int, task_id: str | None = None) -> dict | None:
    notification = notifications.notification_start(
        notification_id=notification_id, task_id=task_id
    )
    if notification is None:
        return None
    with notifications.notification_heartbeat(notification=notification):
        return _export(notification)


def _not_allowed(notification: TaskNotification, error: PermissionError) -> None:
    _fail(notification, _("You are not allowed to see these rows any more."))


def _export(notification: TaskNotification) -> dict | None:
    written = _write_export(notification)
    if written is None:
        return None
    name, count = written
    done = notifications.notification_complete(
        notification=notification, total_rows=count, new_rows=0, result_file=name
    )
    if done is None:  # failed or retried meanwhile: this file is nobody's
        files.delete(name)
        return None
    return {"rows": count}


@_fails_job("Export", (PermissionError, _not_allowed), (files.StorageUnavailable, _show))
def _write_export(notification: TaskNotification) -> tuple[str, int]:
    name = ""
    try:
        transfer = registry.get(notification.model)
        queryset = export_queryset_for(notification)
        name = files.new_name(files.EXPORTS, notification.format)
        # A local file, stored (uploaded to the bucket) when the writer is done.
        with files.writing(name) as path:
            count = exports.export_queryset(
                transfer.resource(),
                queryset,
                notification.format,
                path,
                progress=_progress(notification),
            )
    except Exception:
        files.delete(name)  # a failed export leaves no half-written file behind
        raise
    return name, count


def _summary(result: imports.ImportResult) -> str:
    if not result.invalid:
        return ""
    first = result.errors[0] if result.errors else None
    text = ngettext(
        "%(count)d invalid row: nothing can be imported until it is fixed.",
        "%(count)d invalid rows: nothing can be imported until they are fixed.",
        result.invalid,
    ) % {"count": result.invalid}
    if first:
        text += " " + _("First: row %(row)d, column “%(column)s”: %(message)s") % first.as_dict()
    return text


def run_import_check(notification_id: int, task_id: str | None = None) -> dict | None:
    """The dry run: every check of the import, nothing written; fills the preview."""
    notification = notifications.notification_start(
        notification_id=notification_id, task_id=task_id
    )
    if notification is None:
        return None
    with notifications.notification_heartbeat(notification=notification):
        return _import_check(notification)


def _import_check(notification: TaskNotification) -> dict | None:
    checked = _check(notification)
    if checked is None:
        return None
    result, error_file, impact = checked
    notification = notifications.notification_complete(
        notification=notification,
        total_rows=result.total,
        new_rows=result.new,
        updated_rows=result.updated,
        unchanged_rows=result.unchanged,
        invalid_rows=result.invalid,
        error_file=error_file,
        row_errors=[
            error.as_dict() for error in result.errors[: settings.IMPORT_PREVIEW_MAX_ERRORS]
        ],
        stock_impact=impact,
    )
    if notification is None:  # failed or retried meanwhile
        return None
    summary = _summary(result)
    if summary:
        TaskNotification.objects.filter(pk=notification.pk).update(error_message=summary)
    return {"rows": result.total, "invalid": result.invalid}


@_fails_job("Import check", ((ImportFileError, files.StorageUnavailable), _show))
def _check(notification: TaskNotification) -> tuple[imports.ImportResult, str, dict]:
    transfer = registry.get(notification.model)
    # The upload as a local file (a temporary copy when it is in a bucket),
    # read through by the check.
    with files.local_copy(notification.source_file) as source:
        checker = imports.check_file(
            transfer, source, notification.format, progress=_progress(notification)
        )
    try:
        result = checker.result
        # Every error of every row: the report reads them all back from the
        # checker's spool; the preview keeps the first ones.
        error_file = imports.write_error_report(result.all_errors()) if result.errors else ""
        return result, error_file, checker.stock_impact()
    finally:
        checker.close()


class StockMoved(imports.ImportAborted):
    """Stock of the file's products changed between the preview and the confirm."""

    def __init__(self, lines: list[str]):
        shown = lines[:10]
        if len(lines) > len(shown):
            shown.append(_("… and %(count)d more.") % {"count": len(lines) - len(shown)})
        super().__init__(
            _(
                "Stock moved since the preview, so its figures are out of date. "
                "Nothing was imported. A new preview with today's figures is being "
                "prepared; confirm it there."
            )
            + "\n"
            + "\n".join(shown)
        )


def _preview_impact(notification: TaskNotification) -> dict:
    preview_id = notification.parameters.get("preview_id")
    if preview_id is None:
        return {}
    found = TaskNotification.objects.filter(pk=preview_id).values_list("stock_impact", flat=True)
    return next(iter(found), {}) or {}


def _recheck(notification: TaskNotification) -> None:
    """Queue a new preview of the same file, with the stock as it is now."""
    notifications.notification_create(
        user=notification.user,
        task_type=TaskNotification.TaskType.IMPORT_PREVIEW,
        model=notification.model,
        file_format=notification.format,
        source_file=notification.source_file,
        original_name=notification.original_name,
    )


def run_import_apply(notification_id: int, task_id: str | None = None) -> dict | None:
    """The import: the same checks again (never the preview's results), then every row or none.

    One transaction: the file is checked and staged batch by batch, then the
    staged rows are written; an error anywhere, in the last batch too,
    rolls back everything.
    """
    notification = notifications.notification_start(
        notification_id=notification_id, task_id=task_id
    )
    if notification is None:
        return None
    with notifications.notification_heartbeat(notification=notification):
        return _import_apply(notification)


def _stock_moved(notification: TaskNotification, moved: StockMoved) -> None:
    _fail(notification, moved.message)
    _recheck(notification)


def _database_refused(notification: TaskNotification, error: DatabaseError) -> None:
    logger.exception("Import %s refused by the database", notification.pk)
    _fail(
        notification,
        _(
            "The database refused the import (probably a change made at the same time). "
            "Nothing was imported; retry it."
        ),
    )


@_fails_job(
    "Import",
    (StockMoved, _stock_moved),
    ((ImportFileError, imports.ImportAborted, files.StorageUnavailable), _show),
    ((IntegrityError, DatabaseError), _database_refused),
)
# A deadlock with a receipt or another import: the whole import runs again
# (project.transactions); its checks then see what the other one committed.
@retry_on_conflict
def _import_apply(notification: TaskNotification) -> dict | None:
    transfer = registry.get(notification.model)
    with transaction.atomic():
        with files.local_copy(notification.source_file) as source:
            checker = imports.check_file(
                transfer, source, notification.format, lock=True, progress=_progress(notification)
            )
        try:
            result = checker.result
            if result.invalid:
                raise imports.ImportAborted(
                    _("The file no longer passes the checks (the data changed since the preview). ")
                    + _summary(result)
                    + " "
                    + _("Nothing was imported.")
                )
            # Under the ledger's locks: the stock this import would move is the
            # stock the person saw in the preview, or nothing moves.
            moved = checker.stock_moved(_preview_impact(notification))
            if moved:
                raise StockMoved(moved)
            checker.write(user=notification.user)
        finally:
            checker.close()
        signals.rows_imported.send(
            sender=transfer.model, job=notification, new=result.new, updated=result.updated
        )
        # In the same transaction: the rows and "Completed" commit together,
        # so a redelivered task sees Completed and does not import twice.
        # The claim locks the row first: a run whose job was failed (its
        # heartbeat looked dead) or retried meanwhile rolls back instead.
        if not notifications.notification_claim(notification=notification):
            raise imports.ImportAborted(_superseded())
        notifications.notification_complete(
            notification=notification,
            total_rows=result.total,
            new_rows=result.new,
            updated_rows=result.updated,
            unchanged_rows=result.unchanged,
            stock_impact=checker.stock_impact(),
        )
    return {"rows": result.total, "new": result.new, "updated": result.updated}
