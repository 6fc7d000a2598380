"""The notification centre: each user's imports, exports and checks."""

from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from dataio import notifications, registry
from dataio.models import TaskNotification
from project.admin_readonly import ViewOnlyAdminMixin
from project.formats import integer


@admin.register(TaskNotification)
class TaskNotificationAdmin(ViewOnlyAdminMixin, ModelAdmin):
    """Each user's imports, exports and checks; superusers see everyone's.

    Read-only: every change goes through ``dataio.notifications`` (retry,
    mark read, confirm are POST views in ``dataio.views``).
    """

    list_display = (
        "created_at",
        "task",
        "status_label",
        "progress_display",
        "counts",
        "error_text",
        "links",
    )
    list_display_links = None
    list_filter = ("status", "task_type", "is_read")
    list_filter_submit = True
    list_per_page = 25
    show_full_result_count = False
    ordering = ("-created_at", "-id")
    actions = ("mark_selected_read",)
    list_before_template = "dataio/notification_list_before.html"
    readonly_fields = (
        "user",
        "task_id",
        "task_type",
        "status",
        "model",
        "format",
        "original_name",
        "total_rows",
        "new_rows",
        "updated_rows",
        "unchanged_rows",
        "invalid_rows",
        "progress",
        "error_text",
        "is_read",
        "created_at",
        "started_at",
        "completed_at",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return notifications.visible_to(request.user)

    def get_list_display(self, request):
        if request.user.is_superuser:
            return ("user", *self.list_display)
        return self.list_display

    # Every staff user has a notification centre; it only ever shows their rows.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def has_mark_selected_read_permission(self, request):
        return self.has_module_permission(request)

    def changelist_view(self, request, extra_context=None):
        running = (
            notifications.visible_to(request.user)
            .filter(
                status__in=[TaskNotification.Status.PENDING, TaskNotification.Status.PROCESSING]
            )
            .exists()
        )
        extra_context = {
            **(extra_context or {}),
            "auto_refresh": running,
            "unread": notifications.unread_count(request.user),
        }
        return super().changelist_view(request, extra_context)

    @action(description=_("Mark selected as read"), permissions=["mark_selected_read"])
    def mark_selected_read(self, request, queryset):
        count = notifications.notifications_mark_read(
            user=request.user, ids=list(queryset.values_list("pk", flat=True))
        )
        message = ngettext(
            "%(count)d notification marked read.", "%(count)d notifications marked read.", count
        )
        self.message_user(request, message % {"count": count})

    @display(description=_("task"), ordering="task_type")
    def task(self, obj):
        label = obj.get_task_type_display()
        if obj.model:
            model = apps.get_model(obj.model)
            label = f"{label}: {model._meta.verbose_name_plural}"
        if obj.format:
            label = f"{label} ({obj.get_format_display()})"
        if obj.original_name:
            label = f"{label} — {obj.original_name}"
        if not obj.is_read:
            return format_html("<strong>{}</strong>", label)
        return label

    @display(
        description=_("status"),
        ordering="status",
        label={
            TaskNotification.Status.PENDING.label: "info",
            TaskNotification.Status.PROCESSING.label: "warning",
            TaskNotification.Status.COMPLETED.label: "success",
            TaskNotification.Status.FAILED.label: "danger",
            _("Needs fixing"): "warning",
        },
    )
    def status_label(self, obj):
        return obj.status_text

    @display(description=_("progress"))
    def progress_display(self, obj):
        if obj.status == TaskNotification.Status.PROCESSING:
            return ngettext(
                "%(progress)s%% (%(rows)s row)",
                "%(progress)s%% (%(rows)s rows)",
                obj.processed_rows,
            ) % {"progress": obj.progress, "rows": integer(obj.processed_rows)}
        if obj.status == TaskNotification.Status.COMPLETED:
            return "100%"
        return "—"

    @display(description=_("rows"))
    def counts(self, obj):
        if obj.task_type == TaskNotification.TaskType.EXPORT:
            return integer(obj.total_rows) if obj.total_rows else "—"
        if obj.task_type == TaskNotification.TaskType.LEDGER_CHECK:
            count = obj.invalid_rows
            return ngettext("%(count)d product differs", "%(count)d products differ", count) % {
                "count": count
            }
        if not obj.total_rows:
            return "—"
        return _(
            "%(total)s: %(new)s new, %(updated)s updated, "
            "%(unchanged)s unchanged, %(invalid)s invalid"
        ) % {
            "total": integer(obj.total_rows),
            "new": integer(obj.new_rows),
            "updated": integer(obj.updated_rows),
            "unchanged": integer(obj.unchanged_rows),
            "invalid": integer(obj.invalid_rows),
        }

    @display(description=_("message"))
    def error_text(self, obj):
        # The column holds a failure's reason and also the text of a notice
        # that reports news (the morning's reorder suggestions): red only
        # when something went wrong.
        if not obj.error_message:
            return ""
        failed = obj.status == TaskNotification.Status.FAILED or obj.invalid_rows
        colour = (
            "text-red-600 dark:text-red-400"
            if failed
            else "text-font-default-light dark:text-font-default-dark"
        )
        return format_html(
            '<span class="whitespace-pre-line {}">{}</span>', colour, obj.error_message
        )

    @display(description=_("actions"))
    def links(self, obj):
        parts = []
        if obj.task_type == TaskNotification.TaskType.EXPORT and obj.result_file:
            parts.append(
                format_html(
                    '<a class="text-primary-600 font-medium" href="{}">{}</a>',
                    reverse("dataio:download", args=[obj.pk]),
                    _("Download"),
                )
            )
        if obj.task_type in (
            TaskNotification.TaskType.IMPORT_PREVIEW,
            TaskNotification.TaskType.IMPORT,
        ):
            parts.append(
                format_html(
                    '<a class="text-primary-600 font-medium" href="{}">{}</a>',
                    reverse("dataio:import_preview", args=[obj.pk]),
                    _("Preview")
                    if obj.task_type == TaskNotification.TaskType.IMPORT_PREVIEW
                    else _("Details"),
                )
            )
        page = registry.job_page(obj.task_type)
        if page:  # a job another app runs (an NF-e receipt) has its own page
            parts.append(
                format_html(
                    '<a class="text-primary-600 font-medium" href="{}">{}</a>',
                    reverse(page, args=[obj.pk]),
                    _("Open"),
                )
            )
        if obj.can_retry:
            # The buttons submit the one CSRF-protected form of the page
            # (list_before_template), to the URL of their own notification.
            parts.append(
                format_html(
                    '<button type="submit" form="notification-actions" formaction="{}" '
                    'class="text-primary-600 font-medium">{}</button>',
                    reverse("dataio:retry", args=[obj.pk]),
                    _("Retry"),
                )
            )
        if not obj.is_read:
            parts.append(
                format_html(
                    '<button type="submit" form="notification-actions" formaction="{}" '
                    'class="text-gray-500">{}</button>',
                    reverse("dataio:mark_read", args=[obj.pk]),
                    _("Mark read"),
                )
            )
        return format_html_join(" · ", "{}", ((part,) for part in parts))
