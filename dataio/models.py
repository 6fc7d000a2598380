"""Task notifications: what the notification centre shows for each background job.

Every import, export and scheduled check a person should hear about has one
row here. Only ``dataio.notifications`` writes them; Celery's own raw results
are kept apart by django-celery-results.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dataio.registry import JOB_TASKS


class TaskNotification(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        COMPLETED = "completed", _("Completed")
        FAILED = "failed", _("Failed")

    class TaskType(models.TextChoices):
        EXPORT = "export", _("Export")
        IMPORT_PREVIEW = "import_preview", _("Import check (preview)")
        IMPORT = "import", _("Import")
        LEDGER_CHECK = "ledger_check", _("Ledger check")
        REORDER_SUGGESTIONS = "reorder_suggestions", _("Reorder suggestions")
        NFE_PREVIEW = "nfe_preview", _("NF-e check (preview)")
        NFE_RECEIVE = "nfe_receive", _("NF-e receipt")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        JSON = "json", "JSON"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="task_notifications",
        verbose_name=_("user"),
    )
    task_id = models.CharField(_("task id"), max_length=255, blank=True, db_index=True)
    task_type = models.CharField(_("task"), max_length=32, choices=TaskType.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # "app_label.model_name" of the model imported or exported.
    model = models.CharField(_("model"), max_length=100, blank=True)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, blank=True)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    # Paths relative to MEDIA_ROOT, which no URL serves (see dataio.files).
    source_file = models.CharField(_("uploaded file"), max_length=255, blank=True)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    result_file = models.CharField(_("result file"), max_length=255, blank=True)
    error_file = models.CharField(_("error report"), max_length=255, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed rows"), default=0)
    new_rows = models.PositiveIntegerField(_("new"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    invalid_rows = models.PositiveIntegerField(_("invalid"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    # Invalid rows for the preview page: [{"row", "column", "message"}, ...].
    row_errors = models.JSONField(_("row errors"), default=list, blank=True)
    # What a movement file does to stock (dataio.imports.stock_impact):
    # {"digest", "count", "out", "low", "products": [{serial_number, before, after, ...}]}.
    stock_impact = models.JSONField(_("stock impact"), default=dict, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    is_read = models.BooleanField(_("read"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # When its task was last handed to the broker (created, retried or
    # re-sent by the sweep): a Pending job is re-sent when this is old.
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    # Refreshed every TRANSFER_HEARTBEAT_SECONDS by the running task; a
    # Processing job whose heartbeat is stale lost its worker.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        # The table and index names date from before the apps were split
        # (dataio/migrations/0001_initial.py adopts the existing table).
        db_table = "reports_tasknotification"
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "is_read"], name="reports_notif_user_read_idx"),
            models.Index(fields=["status", "started_at"], name="reports_notif_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="reports_notif_progress_lte_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_task_type_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def needs_fixing(self) -> bool:
        """A checked upload with invalid rows: the check ran, the file cannot be imported."""
        return (
            self.task_type == self.TaskType.IMPORT_PREVIEW
            and self.status == self.Status.COMPLETED
            and self.invalid_rows > 0
        )

    @property
    def status_text(self) -> str:
        """The status as people read it: a preview with invalid rows is not "Completed"."""
        if self.needs_fixing:
            return str(_("Needs fixing"))
        return self.get_status_display()

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)

    @property
    def can_retry(self) -> bool:
        """A failed job whose inputs are kept: dataio's own, and the jobs apps register.

        A registered job (the NF-e receipts) reads its files from its
        parameters; running it again is safe by its own rule (a note is
        received once).
        """
        return self.status == self.Status.FAILED and (
            self.task_type
            in (self.TaskType.EXPORT, self.TaskType.IMPORT_PREVIEW, self.TaskType.IMPORT)
            or self.task_type in JOB_TASKS
        )

    @property
    def can_confirm(self) -> bool:
        """A checked upload with no invalid row and something to change, not yet imported."""
        return (
            self.task_type == self.TaskType.IMPORT_PREVIEW
            and self.status == self.Status.COMPLETED
            and self.invalid_rows == 0
            and self.new_rows + self.updated_rows > 0
            and not self.parameters.get("confirmed_by")
        )
