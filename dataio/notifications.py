"""Task notifications: the only code that writes ``TaskNotification``.

Lifecycle (docs/architecture.md, "Asynchronous task lifecycle")::

    Pending -> Processing -> Completed (file generated)
                          -> Failed (error captured) -> Pending (retry)

A task is queued only after the transaction that created (or retried) its
notification commits, so the worker never looks for a row that is not there
yet. A task the broker does not accept (Redis down or hung; publishing is
bounded by CELERY_TASK_PUBLISH_RETRY_POLICY) leaves its notification Failed
with a message saying so: retryable, nothing lost.

Each message carries the notification's current ``task_id``; a Retry gives
it a new one. ``notification_start`` runs a message only if its id is the
current one and nobody else is running it, so a stale message (sent before a
Retry) or a duplicate (redelivered, or re-sent by the sweep) never runs a job
twice.

A running task refreshes ``heartbeat_at`` every TRANSFER_HEARTBEAT_SECONDS
from a thread on its own connection. A worker killed mid-job (OOM killer,
container restart) stops the heartbeat; ``notifications_sweep_stuck`` (beat,
every minute) fails the job once the heartbeat is older than
TRANSFER_HEARTBEAT_STALE_SECONDS, so it is Failed and retryable within about
two minutes; an import's rows were rolled back with its transaction. A
redelivery that finds the heartbeat stale takes the job over instead (up to
TRANSFER_TASK_MAX_ATTEMPTS runs). SQLite (the embedded default) has one
writer at a time, so there is no heartbeat there: only the hard time limit
(TRANSFER_TASK_TIME_LIMIT) says a job is lost.
"""

import contextlib
import logging
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dataio import files, registry
from dataio.models import TaskNotification
from project import timezones

logger = logging.getLogger(__name__)

Status = TaskNotification.Status
TaskType = TaskNotification.TaskType


def queue_unreachable_message() -> str:
    return _("The task queue is unreachable; nothing was lost, retry when it is back.")


def _heartbeat_supported() -> bool:
    # SQLite: a second connection would wait for the import's own write
    # transaction, so the heartbeat could not be written while it runs.
    return connections["default"].vendor == "postgresql"


def _publish(*, notification_id: int, task_type: str, task_id: str) -> bool:
    """Hand the task to the broker; False (and logged) if the broker refused or hung."""
    from dataio import tasks

    task = {
        TaskType.EXPORT: tasks.run_export,
        TaskType.IMPORT_PREVIEW: tasks.check_import,
        TaskType.IMPORT: tasks.apply_import,
        **registry.JOB_TASKS,
    }[task_type]
    try:
        task.apply_async(
            args=[notification_id], task_id=task_id, queue=settings.TRANSFER_TASK_QUEUE
        )
    except Exception:  # kombu's OperationalError, redis' errors, a refused socket...
        logger.warning(
            "Task %s (notification %s) not queued", task_id, notification_id, exc_info=True
        )
        return False
    return True


def _enqueue(notification: TaskNotification) -> None:
    """Publish once the transaction commits; if the broker is unreachable, -> Failed.

    The caller's ``notification`` object is updated too, so a view can tell
    the person at once (it runs after the commit, before the view returns).
    """
    notification_id = notification.pk
    task_id = notification.task_id
    task_type = notification.task_type

    def publish() -> None:
        if _publish(notification_id=notification_id, task_type=task_type, task_id=task_id):
            return
        message = queue_unreachable_message()
        now = timezone.now()
        TaskNotification.objects.filter(
            pk=notification_id, task_id=task_id, status=Status.PENDING
        ).update(status=Status.FAILED, error_message=message, completed_at=now, is_read=False)
        notification.status = Status.FAILED
        notification.error_message = message
        notification.completed_at = now

    transaction.on_commit(publish)


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
    total_rows: int = 0,
) -> TaskNotification:
    """Record a job as Pending and queue its task once this transaction commits.

    The job keeps the language and the time zone of the person who asked for
    it (the request's active ones, project.timezones): its messages are
    written in that language (``job_language``), its dates in that zone
    (``job_time_zone``).
    """
    notification = TaskNotification.objects.create(
        user=user,
        task_id=str(uuid.uuid4()),
        task_type=task_type,
        model=model,
        format=file_format,
        parameters={
            "language": translation.get_language(),
            "time_zone": timezones.current_name(),
            **(parameters or {}),
        },
        source_file=source_file,
        original_name=original_name,
        total_rows=total_rows,
        queued_at=timezone.now(),
    )
    _enqueue(notification)
    return notification


def job_language(notification: TaskNotification) -> str:
    """The language the job's messages are written in: its requester's."""
    return notification.parameters.get("language") or settings.LANGUAGE_CODE


def job_time_zone(notification: TaskNotification) -> str:
    """The zone the job writes dates in: its requester's (jobs older than that: TIME_ZONE)."""
    return timezones.zone_or_default(notification.parameters.get("time_zone"))


def _heartbeat_is_fresh(notification: TaskNotification, now) -> bool:
    stale = timedelta(seconds=settings.TRANSFER_HEARTBEAT_STALE_SECONDS)
    if notification.heartbeat_at is not None:
        return notification.heartbeat_at >= now - stale
    # No heartbeat (SQLite): only the hard time limit says the run is gone.
    limit = timedelta(seconds=settings.TRANSFER_TASK_TIME_LIMIT)
    return notification.started_at is not None and notification.started_at >= now - limit


def notification_start(
    *, notification_id: int, task_id: str | None = None
) -> TaskNotification | None:
    """Pending -> Processing, or take over a lost run; None if there is nothing to do.

    Under the row lock, so two deliveries of one message cannot both start.
    Nothing to do when: the job is finished; ``task_id`` (the message's) is
    not the notification's current one (a message sent before a Retry); the
    job is Processing and its heartbeat is fresh (another delivery runs it).
    A Processing row whose heartbeat is stale lost its worker and is taken
    over, at most TRANSFER_TASK_MAX_ATTEMPTS runs in all.
    """
    now = timezone.now()
    max_attempts = settings.TRANSFER_TASK_MAX_ATTEMPTS
    with transaction.atomic():
        notification = (
            TaskNotification.objects.select_for_update().filter(pk=notification_id).first()
        )
        if notification is None or notification.is_finished:
            return None
        if task_id is not None and notification.task_id != task_id:
            logger.info(
                "Ignoring task %s for notification %s: its current task is %s",
                task_id,
                notification_id,
                notification.task_id,
            )
            return None
        if notification.status == Status.PROCESSING and _heartbeat_is_fresh(notification, now):
            logger.info("Notification %s is already running; duplicate ignored", notification_id)
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
        notification.heartbeat_at = now if _heartbeat_supported() else None
        notification.attempts += 1
        notification.progress = 0
        notification.processed_rows = 0
        notification.save(
            update_fields=[
                "status",
                "started_at",
                "heartbeat_at",
                "attempts",
                "progress",
                "processed_rows",
            ]
        )
    return notification


class _Heartbeat(threading.Thread):
    """Writes ``heartbeat_at`` every TRANSFER_HEARTBEAT_SECONDS until stopped.

    On a connection of its own, in autocommit: the job's transaction (an
    import runs in one) would hide the write until the end. Only the run
    that owns the job (same task_id, still Processing) moves it.
    """

    def __init__(self, notification_id: int, task_id: str):
        super().__init__(name=f"heartbeat-{notification_id}", daemon=True)
        self.notification_id = notification_id
        self.task_id = task_id
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = settings.TRANSFER_HEARTBEAT_SECONDS
        table = TaskNotification._meta.db_table
        side = connections.create_connection("default")
        try:
            while not self.stopped.wait(interval):
                try:
                    with side.cursor() as cursor:
                        cursor.execute(
                            f"UPDATE {table} SET heartbeat_at = %s "
                            "WHERE id = %s AND task_id = %s AND status = %s",
                            [timezone.now(), self.notification_id, self.task_id, Status.PROCESSING],
                        )
                except Exception:  # the next beat reconnects; a stale one is the sweep's cue
                    logger.warning(
                        "Heartbeat of notification %s failed", self.notification_id, exc_info=True
                    )
                    with contextlib.suppress(Exception):
                        side.close()
        finally:
            with contextlib.suppress(Exception):
                side.close()


@contextlib.contextmanager
def notification_heartbeat(*, notification: TaskNotification):
    """While the block runs, the job's heartbeat says its worker is alive."""
    if not _heartbeat_supported():
        yield
        return
    beat = _Heartbeat(notification.pk, notification.task_id)
    beat.start()
    try:
        yield
    finally:
        beat.stopped.set()
        beat.join(timeout=10)


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


def notification_claim(*, notification: TaskNotification) -> bool:
    """Lock the job's row if this run still owns it (same task_id, Processing).

    Call inside the transaction that writes the job's result, just before
    writing "Completed": until it commits, neither the sweep nor a Retry can
    change the row, and a run that lost its job (failed by the sweep, or
    retried meanwhile) learns it and rolls back instead of writing twice.
    """
    return (
        TaskNotification.objects.select_for_update()
        .filter(pk=notification.pk, task_id=notification.task_id, status=Status.PROCESSING)
        .exists()
    )


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
    stock_impact: dict | None = None,
) -> TaskNotification | None:
    """Processing -> Completed; None if this run no longer owns the job (see claim)."""
    with transaction.atomic():
        if not notification_claim(notification=notification):
            logger.warning(
                "Notification %s was failed or retried while task %s ran; result dropped",
                notification.pk,
                notification.task_id,
            )
            return None
        return _complete(
            notification,
            total_rows=total_rows,
            new_rows=new_rows,
            updated_rows=updated_rows,
            unchanged_rows=unchanged_rows,
            invalid_rows=invalid_rows,
            result_file=result_file,
            error_file=error_file,
            row_errors=row_errors,
            stock_impact=stock_impact,
        )


def _complete(
    notification: TaskNotification,
    *,
    total_rows: int,
    new_rows: int,
    updated_rows: int,
    unchanged_rows: int,
    invalid_rows: int,
    result_file: str,
    error_file: str,
    row_errors: list | None,
    stock_impact: dict | None = None,
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
    notification.stock_impact = stock_impact or {}
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


def notification_fail(
    *, notification_id: int, message: str, task_id: str | None = None
) -> TaskNotification | None:
    """-> Failed with a message for the user (never a traceback).

    With ``task_id``, only if that run still owns the job: a run that ends
    after its job was retried must not fail the new attempt.
    """
    with transaction.atomic():
        notification = (
            TaskNotification.objects.select_for_update().filter(pk=notification_id).first()
        )
        if notification is None or notification.status == Status.COMPLETED:
            return notification
        if task_id is not None and notification.task_id != task_id:
            return notification
        return _fail(notification, message)


@transaction.atomic
def notification_retry(*, notification: TaskNotification) -> TaskNotification:
    """Failed -> Pending, queued again after commit."""
    notification = TaskNotification.objects.select_for_update().get(pk=notification.pk)
    if not notification.can_retry:
        raise ValueError(_("Only a failed job can be retried."))
    imports = (TaskType.IMPORT_PREVIEW, TaskType.IMPORT)
    if notification.task_type in imports and not notification.source_file:
        raise ValueError(_("The uploaded file is gone; upload it again."))
    files.delete(notification.result_file)
    files.delete(notification.error_file)
    notification.status = Status.PENDING
    notification.task_id = str(uuid.uuid4())
    notification.error_message = ""
    notification.result_file = ""
    notification.error_file = ""
    notification.row_errors = []
    notification.stock_impact = {}
    notification.progress = 0
    notification.processed_rows = 0
    notification.attempts = 0
    notification.started_at = None
    notification.heartbeat_at = None
    notification.completed_at = None
    notification.queued_at = timezone.now()
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
    """Fail the jobs that will not finish; re-send the Pending ones the queue may have lost.

    Failed (retryable), in this order:
    - Processing with a heartbeat older than TRANSFER_HEARTBEAT_STALE_SECONDS:
      its worker died (killed, OOM, restarted);
    - Processing past the hard time limit (SQLite has no heartbeat);
    - Pending for more than TRANSFER_PENDING_TIMEOUT_MINUTES.
    A Pending job whose message was sent more than
    TRANSFER_PENDING_REPUBLISH_MINUTES ago is sent again with the same
    task_id: if the broker lost it (Redis restarted without its data) it now
    runs; if it is only waiting behind long jobs, whichever copy arrives
    first runs it and the other finds it started or finished
    (``notification_start``). Returns how many jobs were failed.
    """
    now = now or timezone.now()
    limit = timedelta(seconds=settings.TRANSFER_TASK_TIME_LIMIT + 60)
    stale = timedelta(seconds=settings.TRANSFER_HEARTBEAT_STALE_SECONDS)
    pending_limit = timedelta(minutes=settings.TRANSFER_PENDING_TIMEOUT_MINUTES)
    worker_lost = _(
        "The worker running this task stopped (restarted or out of memory); "
        "nothing was changed. Retry it."
    )
    rules = [
        (Q(status=Status.PROCESSING, heartbeat_at__lt=now - stale), worker_lost),
        (
            Q(status=Status.PROCESSING, started_at__lt=now - limit),
            _("The task did not finish within its time limit (the worker stopped or was killed)."),
        ),
        (
            Q(status=Status.PENDING, created_at__lt=now - pending_limit),
            _("The task never started (the queue lost it). Retry it."),
        ),
    ]
    count = 0
    for condition, message in rules:
        for notification_id in TaskNotification.objects.filter(condition).values_list(
            "pk", flat=True
        ):
            # The condition again in the UPDATE: a job that moved meanwhile
            # (finished, or a fresh heartbeat) is left alone.
            count += TaskNotification.objects.filter(condition, pk=notification_id).update(
                status=Status.FAILED, error_message=message, completed_at=now, is_read=False
            )
    _republish_pending(now=now)
    return count


def _republish_pending(*, now) -> int:
    since = now - timedelta(minutes=settings.TRANSFER_PENDING_REPUBLISH_MINUTES)
    waiting = TaskNotification.objects.filter(
        Q(queued_at__lt=since) | Q(queued_at__isnull=True, created_at__lt=since),
        status=Status.PENDING,
        task_type__in=[
            TaskType.EXPORT,
            TaskType.IMPORT_PREVIEW,
            TaskType.IMPORT,
            *registry.JOB_TASKS,
        ],
    )
    sent = 0
    for notification_id, task_type, task_id in waiting.values_list("pk", "task_type", "task_id"):
        if not _publish(notification_id=notification_id, task_type=task_type, task_id=task_id):
            break  # the broker is down: the next sweep tries again
        TaskNotification.objects.filter(pk=notification_id, task_id=task_id).update(queued_at=now)
        sent += 1
    if sent:
        logger.info("Re-sent %d Pending task(s) the queue may have lost", sent)
    return sent


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
    return deleted + files.purge_older_than(cutoff)


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
    return notices_send(
        users=get_user_model().objects.filter(is_superuser=True, is_active=True),
        task_type=TaskType.LEDGER_CHECK,
        status=Status.FAILED,
        message=message,
        total_rows=len(differences),
        invalid_rows=len(differences),
        parameters={"product_ids": [d.product_id for d in differences[:1000]]},
    )


def notices_send(
    *,
    users,
    task_type: str,
    status: str,
    message: str,
    total_rows: int,
    invalid_rows: int = 0,
    parameters: dict,
) -> list[TaskNotification]:
    """A finished notice (no job ran, no file) in each of ``users``' notification centres."""
    now = timezone.now()
    return TaskNotification.objects.bulk_create(
        TaskNotification(
            user=user,
            task_type=task_type,
            status=status,
            error_message=message,
            total_rows=total_rows,
            invalid_rows=invalid_rows,
            parameters=parameters,
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
