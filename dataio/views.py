"""Notification centre pages outside the model admin: download, preview, confirm, retry, read.

Every view needs a staff login; a notification is found only among those the
user may see (their own; a superuser sees all), so anything else is a 404,
whether it exists or not. Every change is a POST.
"""

import csv
import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dataio import files, notifications, registry
from dataio.admin_mixins import notification_centre_url
from dataio.models import TaskNotification
from dataio.spreadsheet import quote

TaskType = TaskNotification.TaskType


def _visible(request, pk: int) -> TaskNotification:
    return get_object_or_404(notifications.visible_to(request.user), pk=pk)


def _download_name(notification: TaskNotification, kind: str) -> str:
    base = notification.model.replace(".", "-") or "file"
    # The time the user sees in the notification list (their zone, project.timezones), not UTC.
    stamp = timezone.localtime(notification.created_at).strftime("%Y%m%d-%H%M")
    if kind == "errors":
        return f"{base}-import-errors-{stamp}.csv"
    if kind == "stock":
        return f"{base}-import-stock-{stamp}.csv"
    return f"{base}-{stamp}.{notification.format}"


def _send(relative: str, download_name: str):
    """The stored file, to a caller that already checked the owner.

    Local disk: X-Accel-Redirect to nginx's internal location when configured,
    else streamed. Bucket: a redirect to a signed URL that expires in minutes,
    or the object streamed through (STORAGE_DOWNLOAD).
    """
    content_type = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    try:
        if files.is_local():
            return _send_local(relative, download_name, content_type)
        if settings.STORAGE_DOWNLOAD == "redirect":
            response = HttpResponseRedirect(
                files.signed_url(relative, filename=download_name, content_type=content_type)
            )
            # The signed URL is a key to the file for its lifetime: keep it out of caches.
            response["Cache-Control"] = "private, no-store"
            return response
        chunks, size = files.stream(relative)
        response = StreamingHttpResponse(chunks, content_type=content_type)
        response["Content-Length"] = str(size)
        response["Content-Disposition"] = f'attachment; filename="{download_name}"'
        return response
    except (ValueError, FileNotFoundError):
        raise Http404 from None


def _send_local(relative: str, download_name: str, content_type: str):
    path = files.absolute(relative)
    if not path.is_file():
        raise Http404
    prefix = settings.PRIVATE_FILES_ACCEL_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{relative}"
        response["Content-Disposition"] = f'attachment; filename="{download_name}"'
        return response
    return FileResponse(
        Path(path).open("rb"), as_attachment=True, filename=download_name, content_type=content_type
    )


def _storage_down(request) -> HttpResponseRedirect:
    messages.error(request, files.StorageUnavailable().message)
    return HttpResponseRedirect(_back(request))


def _send_file_of(request, pk: int, field: str, kind: str):
    """The job's file in ``field`` (result or error report), to its owner only."""
    notification = _visible(request, pk)
    relative = getattr(notification, field)
    if not relative:
        raise Http404
    try:
        return _send(relative, _download_name(notification, kind))
    except files.StorageUnavailable:
        # Not a 500: the person learns the storage is down and where they were.
        return _storage_down(request)


@require_GET
@staff_member_required
def download(request, pk: int):
    return _send_file_of(request, pk, "result_file", "result")


@require_GET
@staff_member_required
def download_errors(request, pk: int):
    return _send_file_of(request, pk, "error_file", "errors")


class _Echo:
    def write(self, value):
        return value


STOCK_REPORT_COLUMNS = (
    "serial_number",
    "title",
    "before",
    "after",
    "reorder_level",
    "level",
)


@require_GET
@staff_member_required
def download_stock(request, pk: int):
    """The preview's stock figures as CSV: every product the file moves."""
    notification = _visible(request, pk)
    products = (notification.stock_impact or {}).get("products")
    if not products:
        raise Http404
    writer = csv.writer(_Echo())
    labels = {"out": _("out of stock"), "low": _("at or below reorder level"), "ok": ""}

    def lines():
        yield "\ufeff" + writer.writerow(
            [
                _("serial number"),
                _("title"),
                _("stock before"),
                _("stock after"),
                _("reorder level"),
                _("warning"),
            ]
        )
        for item in products:
            values = [item[column] for column in STOCK_REPORT_COLUMNS]
            # Serial numbers and titles are people's text: quoted for spreadsheets.
            values[0], values[1] = quote(values[0]), quote(values[1])
            values[-1] = labels.get(values[-1], "")
            yield writer.writerow(values)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{_download_name(notification, "stock")}"'
    )
    return response


def _model_admin(notification: TaskNotification):
    return admin.site.get_model_admin(registry.get(notification.model).model)


@require_GET
@staff_member_required
def import_preview(request, pk: int):
    notification = _visible(request, pk)
    if notification.task_type not in (TaskType.IMPORT_PREVIEW, TaskType.IMPORT):
        raise Http404
    model = registry.get(notification.model).model
    opts = model._meta
    can_confirm = (
        notification.can_confirm
        and notification.user_id == request.user.pk
        and _model_admin(notification).has_import_permission(request)
    )
    followers = TaskNotification.objects.filter(
        task_type=TaskType.IMPORT, parameters__preview_id=notification.pk
    ).order_by("-created_at")
    context = {
        **admin.site.each_context(request),
        "title": _("Import of %(model)s") % {"model": opts.verbose_name_plural},
        "opts": opts,
        "notification": notification,
        "is_preview": notification.task_type == TaskType.IMPORT_PREVIEW,
        "running": not notification.is_finished,
        "can_confirm": can_confirm,
        "imports": followers,
        "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        "import_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_import"),
        "centre_url": notification_centre_url(),
        "more_errors": max(0, notification.invalid_rows - len(notification.row_errors)),
        "stock": _stock_context(notification),
        "recheck": _recheck_of(notification),
    }
    return TemplateResponse(request, "dataio/import_preview.html", context)


def _recheck_of(notification: TaskNotification) -> TaskNotification | None:
    """The newer preview of the same upload (queued when stock moved before a confirm)."""
    if notification.task_type != TaskType.IMPORT or notification.status != "failed":
        return None
    return (
        notifications.visible_to(notification.user)
        .filter(
            task_type=TaskType.IMPORT_PREVIEW,
            source_file=notification.source_file,
            created_at__gt=notification.created_at,
        )
        .order_by("-created_at")
        .first()
    )


def _stock_context(notification: TaskNotification) -> dict | None:
    impact = notification.stock_impact or {}
    # A file with invalid rows imports nothing: no picture of its effect.
    if not impact.get("count") or notification.invalid_rows:
        return None
    shown = [
        {**item, "change": item["after"] - item["before"]}
        for item in impact["products"][: settings.IMPORT_PREVIEW_MAX_ERRORS]
    ]
    return {**impact, "products": shown, "more": impact["count"] - len(shown)}


@require_POST
@staff_member_required
def import_confirm(request, pk: int):
    notification = _visible(request, pk)
    if notification.user_id != request.user.pk or not _model_admin(
        notification
    ).has_import_permission(request):
        raise Http404
    try:
        created = notifications.import_confirm(preview=notification, user=request.user)
    except ValueError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("dataio:import_preview", args=[pk]))
    if created.status == TaskNotification.Status.FAILED:  # the broker did not take it
        messages.error(request, created.error_message)
    else:
        messages.success(request, _("The import is queued: all rows or none."))
    return HttpResponseRedirect(reverse("dataio:import_preview", args=[created.pk]))


@require_POST
@staff_member_required
def retry(request, pk: int):
    notification = _visible(request, pk)
    try:
        notification = notifications.notification_retry(notification=notification)
    except ValueError as error:
        messages.error(request, str(error))
    except files.StorageUnavailable as error:  # the old files could not be removed
        messages.error(request, error.message)
    else:
        if notification.status == TaskNotification.Status.FAILED:  # the broker did not take it
            messages.error(request, notification.error_message)
        else:
            messages.success(request, _("Queued again."))
    return HttpResponseRedirect(_back(request))


@require_POST
@staff_member_required
def mark_read(request, pk: int | None = None):
    notifications.notifications_mark_read(user=request.user, ids=None if pk is None else [pk])
    return HttpResponseRedirect(_back(request))


def _back(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return notification_centre_url()
