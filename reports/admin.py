"""Administration section of the admin: users, roles, schedules, task results.

Django's and the Celery packages' own admins, re-registered on unfold's
ModelAdmin so the whole back office shares one theme.
"""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)
from django_celery_results import admin as results_admin
from django_celery_results.models import GroupResult, TaskResult
from rest_framework_simplejwt.token_blacklist import admin as jwt_admin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from reports import notifications
from reports.dashboard import integer
from reports.models import TaskNotification
from reports.transfers.admin import add_transfers_to

# The catalog and movements admins are registered by then (INSTALLED_APPS
# order); give them their Export and Import buttons.
add_transfers_to(admin.site)


for model in (
    User,
    Group,
    PeriodicTask,
    IntervalSchedule,
    CrontabSchedule,
    SolarSchedule,
    ClockedSchedule,
    TaskResult,
    GroupResult,
    OutstandingToken,
    BlacklistedToken,
    AccessAttempt,
    AccessLog,
    AccessFailureLog,
):
    admin.site.unregister(model)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
    list_filter_submit = True


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


class UnfoldTaskSelectWidget(UnfoldAdminSelectWidget, beat_admin.TaskSelectWidget):
    pass


class UnfoldPeriodicTaskForm(beat_admin.PeriodicTaskForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["task"].widget = UnfoldAdminTextInputWidget()
        self.fields["regtask"].widget = UnfoldTaskSelectWidget()
        # django-celery-beat leaves "Task (registered)" blank on an existing
        # schedule; show the task it runs.
        if self.instance.pk:
            self.initial.setdefault("regtask", self.instance.task)

    def clean(self):
        # django-celery-beat prefers "Task (registered)" whenever it is set;
        # a person who typed a new custom task and left the preselected
        # registered one alone means the typed one.
        if "task" in self.changed_data and "regtask" not in self.changed_data:
            self.cleaned_data["regtask"] = ""
        return super().clean()


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(beat_admin.PeriodicTaskAdmin, ModelAdmin):
    form = UnfoldPeriodicTaskForm


@admin.register(IntervalSchedule)
class IntervalScheduleAdmin(beat_admin.IntervalScheduleAdmin, ModelAdmin):
    pass


@admin.register(CrontabSchedule)
class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin, ModelAdmin):
    pass


@admin.register(SolarSchedule)
class SolarScheduleAdmin(beat_admin.SolarScheduleAdmin, ModelAdmin):
    pass


@admin.register(ClockedSchedule)
class ClockedScheduleAdmin(beat_admin.ClockedScheduleAdmin, ModelAdmin):
    pass


@admin.register(TaskResult)
class TaskResultAdmin(results_admin.TaskResultAdmin, ModelAdmin):
    pass


@admin.register(GroupResult)
class GroupResultAdmin(results_admin.GroupResultAdmin, ModelAdmin):
    pass


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(jwt_admin.OutstandingTokenAdmin, ModelAdmin):
    pass


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(jwt_admin.BlacklistedTokenAdmin, ModelAdmin):
    pass


# --- Login lockouts (django-axes, project/lockout.py) ------------------------


@admin.register(AccessAttempt)
class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin, ModelAdmin):
    """Failed logins per username, address and browser; deleting rows unlocks.

    Unlocking takes the model's delete permission: superusers, or a role
    granted ``axes.delete_accessattempt``.
    """

    actions = ("unlock_selected", "cleanup_expired_attempts")
    list_filter_submit = True

    def has_unlock_selected_permission(self, request):
        return self.has_delete_permission(request)

    @action(description=_("Unlock (forget these failed logins)"), permissions=["unlock_selected"])
    def unlock_selected(self, request, queryset):
        count = queryset.count()
        queryset.delete()
        self.message_user(
            request,
            ngettext(
                "%(count)d lockout record removed; those logins can be tried again now.",
                "%(count)d lockout records removed; those logins can be tried again now.",
                count,
            )
            % {"count": count},
        )


@admin.register(AccessLog)
class AccessLogAdmin(axes_admin.AccessLogAdmin, ModelAdmin):
    pass


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(axes_admin.AccessFailureLogAdmin, ModelAdmin):
    pass


# --- Notification centre -------------------------------------------------------


@admin.register(TaskNotification)
class TaskNotificationAdmin(ModelAdmin):
    """Each user's imports, exports and checks; superusers see everyone's.

    Read-only: every change goes through ``reports.notifications`` (retry,
    mark read, confirm are POST views in ``reports.views_transfers``).
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
    list_before_template = "reports/transfers/notification_list_before.html"
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
        "error_message",
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

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
        },
    )
    def status_label(self, obj):
        return obj.get_status_display()

    @display(description=_("progress"))
    def progress_display(self, obj):
        if obj.status == TaskNotification.Status.PROCESSING:
            return f"{obj.progress}% ({obj.processed_rows:,} rows)"
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
        if not obj.error_message:
            return ""
        return format_html(
            '<span class="whitespace-pre-line text-red-600 dark:text-red-400">{}</span>',
            obj.error_message,
        )

    @display(description=_("actions"))
    def links(self, obj):
        parts = []
        if obj.task_type == TaskNotification.TaskType.EXPORT and obj.result_file:
            parts.append(
                format_html(
                    '<a class="text-primary-600 font-medium" href="{}">{}</a>',
                    reverse("reports:download", args=[obj.pk]),
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
                    reverse("reports:import_preview", args=[obj.pk]),
                    _("Preview")
                    if obj.task_type == TaskNotification.TaskType.IMPORT_PREVIEW
                    else _("Details"),
                )
            )
        if obj.can_retry:
            # The buttons submit the one CSRF-protected form of the page
            # (list_before_template), to the URL of their own notification.
            parts.append(
                format_html(
                    '<button type="submit" form="notification-actions" formaction="{}" '
                    'class="text-primary-600 font-medium">{}</button>',
                    reverse("reports:retry", args=[obj.pk]),
                    _("Retry"),
                )
            )
        if not obj.is_read:
            parts.append(
                format_html(
                    '<button type="submit" form="notification-actions" formaction="{}" '
                    'class="text-gray-500">{}</button>',
                    reverse("reports:mark_read", args=[obj.pk]),
                    _("Mark read"),
                )
            )
        return format_html_join(" · ", "{}", ((part,) for part in parts))
