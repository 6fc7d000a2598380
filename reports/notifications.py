"""Task notifications: the only code that writes ``TaskNotification``.

Lifecycle (from the architecture guide)::

    Pending -> Processing -> Completed (file generated)
                          -> Failed (error captured) -> Pending (retry)

A task is queued only after the transaction that created (or retried) its
notification commits, so the worker never looks for a row that is not there
yet. Tasks run with acks-late: a worker that dies mid-task gets its message
redelivered, and ``notification_start`` lets the redelivered run continue (up
to TRANSFER_TASK_MAX_ATTEMPTS). A task killed by the hard time limit is not
redelivered; ``notifications_sweep_stuck`` fails it once the limit has passed.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from reports.models import TaskNotification
from reports.transfers import files

Status = TaskNotification.Status
TaskType = TaskNotification.TaskType


def _enqueue(notification: TaskNotification) -> None:
    from reports.tasks import transfers as tasks

    task = {
        TaskType.EXPORT: tasks.run_export,
        TaskType.IMPORT_PREVIEW: tasks.check_import,
        TaskType.IMPORT: tasks.apply_import,
    }[notification.task_type]
    task_id = notification.task_id
    notification_id = notification.pk
    queue = settings.TRANSFER_TASK_QUEUE
    transaction.on_commit(
        lambda: task.apply_async(args=[notification_id], task_id=task_id, queue=queue)
    )


@transaction.atomic
def notification_create(
    *,
    user,
    task_type: str,
    model: str = "",
    file_format: str = "",
    parameters: dict | None = None,
    source_file: str = "",
    original_name: str = "",
) -> TaskNotification:
    """Record a job as Pending and queue its task once this transaction commits."""
    notification = TaskNotification.objects.create(
        user=user,
        task_id=str(uuid.uuid4()),
        task_type=task_type,
        model=model,
        format=file_format,
        parameters=parameters or {},
        source_file=source_file,
        original_name=original_name,
    )
    _enqueue(notification)
    return notification


def notification_start(*, notification_id: int) -> TaskNotification | None:
    """Pending -> Processing, or resume after a redelivery; None if nothing to do.

    One conditional UPDATE: two deliveries of one message cannot both start.
    A Processing row is taken over only by a redelivery (worker lost), and at
    most TRANSFER_TASK_MAX_ATTEMPTS times in all.
    """
    now = timezone.now()
    max_attempts = settings.TRANSFER_TASK_MAX_ATTEMPTS
    with transaction.atomic():
        notification = (
            TaskNotification.objects.select_for_update().filter(pk=notification_id).first()
        )
        if notification is None or notification.is_finished:
            return None
        if notification.attempts >= max_attempts:
            _fail(
                notification,
                _("The task stopped %(count)d times (the worker was lost); giving up.")
                % {"count": notification.attempts},
            )
            return None
        notification.status = Status.PROCESSING
        notification.started_at = now
        notification.attempts += 1
        notification.progress = 0
        notification.processed_rows = 0
        notification.save(
            update_fields=["status", "started_at", "attempts", "progress", "processed_rows"]
        )
    return notification


def notification_progress(*, notification_id: int, processed: int, total: int) -> None:
    """Store progress on a connection of its own.

    An import runs in one long transaction; progress written through that
    transaction would stay invisible until the end. A separate connection
    (autocommit) lets the notification centre show it while the task runs.
    """
    percent = min(99, int(processed * 100 / total)) if total > 0 else 0
    if connections["default"].vendor != "postgresql":
        # SQLite has one writer at a time: a second connection would wait
        # for the import's own transaction. Progress shows only outside one.
        if not connections["default"].in_atomic_block:
            TaskNotification.objects.filter(pk=notification_id, status=Status.PROCESSING).update(
                progress=percent, processed_rows=processed
            )
        return
    side = connections.create_connection("default")
    try:
        with side.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TaskNotification._meta.db_table} SET progress = %s, "
                "processed_rows = %s WHERE id = %s AND status = %s",
                [percent, processed, notification_id, Status.PROCESSING],
            )
    finally:
        side.close()


def notification_complete(
    *,
    notification: TaskNotification,
    total_rows: int = 0,
    new_rows: int = 0,
    updated_rows: int = 0,
    unchanged_rows: int = 0,
    invalid_rows: int = 0,
    result_file: str = "",
    error_file: str = "",
    row_errors: list | None = None,
) -> TaskNotification:
    notification.status = Status.COMPLETED
    notification.progress = 100
    notification.total_rows = total_rows
    notification.processed_rows = total_rows
    notification.new_rows = new_rows
    notification.updated_rows = updated_rows
    notification.unchanged_rows = unchanged_rows
    notification.invalid_rows = invalid_rows
    notification.result_file = result_file
    notification.error_file = error_file
    notification.row_errors = row_errors or []
    notification.error_message = ""
    notification.completed_at = timezone.now()
    notification.is_read = False
    notification.save()
    return notification


def _fail(notification: TaskNotification, message: str) -> TaskNotification:
    notification.status = Status.FAILED
    notification.error_message = message
    notification.completed_at = timezone.now()
    notification.is_read = False
    notification.save(update_fields=["status", "error_message", "completed_at", "is_read"])
    return notification


def notification_fail(*, notification_id: int, message: str) -> TaskNotification | None:
    """-> Failed with a message for the user (never a traceback)."""
    with transaction.atomic():
        notification = (
            TaskNotification.objects.select_for_update().filter(pk=notification_id).first()
        )
        if notification is None or notification.status == Status.COMPLETED:
            return notification
        return _fail(notification, message)


@transaction.atomic
def notification_retry(*, notification: TaskNotification) -> TaskNotification:
    """Failed -> Pending, queued again after commit."""
    notification = TaskNotification.objects.select_for_update().get(pk=notification.pk)
    if not notification.can_retry:
        raise ValueError(_("Only a failed import or export can be retried."))
    if notification.task_type != TaskType.EXPORT and not notification.source_file:
        raise ValueError(_("The uploaded file is gone; upload it again."))
    files.delete(notification.result_file)
    files.delete(notification.error_file)
    notification.status = Status.PENDING
    notification.task_id = str(uuid.uuid4())
    notification.error_message = ""
    notification.result_file = ""
    notification.error_file = ""
    notification.row_errors = []
    notification.progress = 0
    notification.processed_rows = 0
    notification.attempts = 0
    notification.started_at = None
    notification.completed_at = None
    notification.save()
    _enqueue(notification)
    return notification


@transaction.atomic
def import_confirm(*, preview: TaskNotification, user) -> TaskNotification:
    """Queue the real import of a checked upload (once)."""
    preview = TaskNotification.objects.select_for_update().get(pk=preview.pk)
    if not preview.can_confirm:
        raise ValueError(_("This upload cannot be imported (not checked, invalid, or done)."))
    preview.parameters = {**preview.parameters, "confirmed_by": user.pk}
    preview.is_read = True
    preview.save(update_fields=["parameters", "is_read"])
    return notification_create(
        user=user,
        task_type=TaskType.IMPORT,
        model=preview.model,
        file_format=preview.format,
        parameters={"preview_id": preview.pk},
        source_file=preview.source_file,
        original_name=preview.original_name,
    )


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    queryset = TaskNotification.objects.filter(user=user, is_read=False)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(is_read=True)


def notifications_sweep_stuck(*, now=None) -> int:
    """Fail notifications left Processing past the time limit (or Pending for too long)."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.TRANSFER_TASK_TIME_LIMIT + 60)
    pending_limit = timedelta(minutes=settings.TRANSFER_PENDING_TIMEOUT_MINUTES)
    stuck = TaskNotification.objects.filter(
        Q(status=Status.PROCESSING, started_at__lt=now - limit)
        | Q(status=Status.PENDING, created_at__lt=now - pending_limit)
    )
    count = 0
    for notification_id, status in stuck.values_list("pk", "status"):
        message = (
            _("The task did not finish within its time limit (the worker stopped or was killed).")
            if status == Status.PROCESSING
            else _("The task never started (the queue lost it). Retry it.")
        )
        with transaction.atomic():
            updated = TaskNotification.objects.filter(pk=notification_id, status=status).update(
                status=Status.FAILED, error_message=message, completed_at=now, is_read=False
            )
        count += updated
    return count


def notifications_purge_files(*, now=None) -> int:
    """Delete result, upload and error files older than the retention; returns files deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TRANSFER_FILES_RETENTION_DAYS)
    old = TaskNotification.objects.filter(created_at__lt=cutoff).exclude(
        result_file="", source_file="", error_file=""
    )
    deleted = 0
    for notification in old.only("pk", "result_file", "source_file", "error_file"):
        for name in (notification.result_file, notification.source_file, notification.error_file):
            if name:
                files.delete(name)
                deleted += 1
        TaskNotification.objects.filter(pk=notification.pk).update(
            result_file="", source_file="", error_file=""
        )
    # Files no notification points to any more (a crash between write and save).
    cutoff_ts = cutoff.timestamp()
    for folder in (files.EXPORTS, files.UPLOADS, files.ERRORS):
        directory = files.root() / folder
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff_ts:
                path.unlink(missing_ok=True)
                deleted += 1
    return deleted


def notification_ledger_alert(*, differences) -> list[TaskNotification]:
    """A Failed "ledger check" notification for every active superuser."""
    from django.contrib.auth import get_user_model

    shown = differences[:50]
    lines = [
        _("%(serial)s: stored %(recorded)s, movements say %(expected)s")
        % {"serial": d.serial_number, "recorded": d.recorded, "expected": d.expected}
        for d in shown
    ]
    if len(differences) > len(shown):
        lines.append(_("… and %(count)d more.") % {"count": len(differences) - len(shown)})
    message = (
        ngettext(
            "Stock differs from the ledger for %(count)d product:",
            "Stock differs from the ledger for %(count)d products:",
            len(differences),
        )
        % {"count": len(differences)}
        + "\n"
        + "\n".join(lines)
    )
    now = timezone.now()
    users = get_user_model().objects.filter(is_superuser=True, is_active=True)
    return TaskNotification.objects.bulk_create(
        TaskNotification(
            user=user,
            task_type=TaskType.LEDGER_CHECK,
            status=Status.FAILED,
            error_message=message,
            total_rows=len(differences),
            invalid_rows=len(differences),
            parameters={"product_ids": [d.product_id for d in differences[:1000]]},
            started_at=now,
            completed_at=now,
        )
        for user in users
    )


# --- reads -------------------------------------------------------------------


def visible_to(user):
    """The notifications a user sees: their own; a superuser sees everyone's."""
    queryset = TaskNotification.objects.select_related("user")
    return queryset if user.is_superuser else queryset.filter(user=user)


def unread_count(user) -> int:
    return TaskNotification.objects.filter(user=user, is_read=False).count()


def unread_badge(request) -> str:
    """Sidebar badge (unfold ``"badge"`` callback): the unread count, or nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    count = unread_count(user)
    return str(count) if count else ""
