"""The admin side of imports and exports, mixed into every model admin that has them.

django-import-export's admin pages and unfold's forms are kept (the Export and
Import buttons, the "Export selected" action, the format and resource pickers),
but the work is not done in the request: each page records a notification
and queues a Celery task, then sends the user to the notification centre.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export.admin import ExportActionMixin, ImportMixin
from import_export.formats import base_formats
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from dataio import files, notifications, registry
from dataio.models import TaskNotification


class Workbook(base_formats.XLSX):
    """The import's spreadsheet format: the reader reads XLSX and ODS from the bytes."""

    def get_title(self):
        return "xlsx / ods"


FORMATS = [base_formats.CSV, base_formats.XLSX, base_formats.JSON]
IMPORT_FORMATS = [base_formats.CSV, Workbook, base_formats.JSON]
FORMAT_KEYS = {
    base_formats.CSV: "csv",
    base_formats.XLSX: "xlsx",
    Workbook: "xlsx",
    base_formats.JSON: "json",
}


class ExportMixin(ExportActionMixin):
    """Export the filtered list or the selected rows, in the worker."""

    export_form_class = ExportForm
    formats = FORMATS
    # The product page keeps its own template (ledger, record buttons).
    change_form_template = None
    show_change_form_export = False

    def has_export_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    def get_export_formats(self):
        return FORMATS

    def get_valid_export_item_pks(self, request):
        # Only the posted ids the user can see: the default loads every pk
        # of the table to validate the hidden field.
        posted = [pk for pk in request.POST.getlist("export_items") if pk.isdigit()]
        return self.get_queryset(request).filter(pk__in=posted).values_list("pk", flat=True)

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        if not self.has_export_permission(request):
            raise PermissionDenied
        ids = None
        if export_form is not None and "export_items" in export_form.changed_data:
            ids = [int(pk) for pk in export_form.cleaned_data["export_items"]]
        notification = notifications.notification_create(
            user=request.user,
            task_type=TaskNotification.TaskType.EXPORT,
            model=registry.label_of(self.model),
            file_format=FORMAT_KEYS[type(file_format)],
            parameters={"query": request.GET.urlencode(), "ids": ids},
        )
        if notification.status == TaskNotification.Status.FAILED:
            # The broker did not take the task (Redis down or hung): say so now.
            self.message_user(request, notification.error_message, messages.ERROR)
            return HttpResponseRedirect(notification_centre_url(notification))
        self.message_user(
            request,
            _(
                "The export is queued (%(what)s). Follow it in Notifications; "
                "the file appears there when it is ready."
            )
            % {
                "what": ngettext("%(count)d selected row", "%(count)d selected rows", len(ids))
                % {"count": len(ids)}
                if ids is not None
                else _("the whole filtered list")
            },
            messages.SUCCESS,
        )
        return HttpResponseRedirect(notification_centre_url(notification))


class ImportExportMixin(ImportMixin, ExportMixin):
    """Export as above; import = upload, check in the worker, preview, confirm."""

    import_form_class = ImportForm
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"

    def get_import_formats(self):
        return IMPORT_FORMATS

    def get_urls(self):
        # One import path: upload, check in the worker, confirm on the preview
        # (dataio.views). The library's own confirm step would
        # import row by row in the web process, past the preview, so it is
        # not routed.
        return [
            url
            for url in super().get_urls()
            if not (getattr(url, "name", None) or "").endswith("_process_import")
        ]

    def has_import_permission(self, request):
        opts = self.opts
        user = request.user
        needs = ["add"]
        if registry.get(registry.label_of(self.model)).importer.updates_rows:
            needs.append("change")
        return all(user.has_perm(f"{opts.app_label}.{p}_{opts.model_name}") for p in needs)

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = self.create_import_form(request)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["import_file"]
            file_format = IMPORT_FORMATS[int(form.cleaned_data["format"])]
            limit = settings.IMPORT_MAX_FILE_MB * 1024 * 1024
            if upload.size > limit:
                form.add_error(
                    "import_file",
                    _(
                        "The file is %(size).1f MB; the most an import accepts is %(limit)d MB. "
                        "Split it into smaller files."
                    )
                    % {"size": upload.size / 1024 / 1024, "limit": settings.IMPORT_MAX_FILE_MB},
                )
            else:
                notification = self._queue_import(request, upload, FORMAT_KEYS[file_format])
                if notification.status == TaskNotification.Status.FAILED:
                    # The broker did not take the task: the upload is kept, Retry checks it.
                    self.message_user(request, notification.error_message, messages.ERROR)
                else:
                    self.message_user(
                        request,
                        _("The file is uploaded and being checked; the preview opens when ready."),
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(
                    reverse("dataio:import_preview", args=[notification.pk])
                )
        resources = [
            resource_class(**self.get_import_resource_kwargs(request=request, form=form))
            for resource_class in self.get_import_resource_classes(request)
        ]
        context = {
            **self.get_import_context_data(),
            **self.admin_site.each_context(request),
            "title": _("Import"),
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "fields_list": [
                (
                    resource.get_display_name(),
                    [
                        field.column_name
                        for field in resource.get_import_fields()
                        if not field.readonly or field.column_name == "brand"
                    ],
                )
                for resource in resources
            ],
            "import_error_display": self.import_error_display,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def _queue_import(self, request, upload, file_format: str) -> TaskNotification:
        # To the storage (the disk or the bucket every worker reads).
        name = files.save_upload(files.UPLOADS, file_format, upload)
        return notifications.notification_create(
            user=request.user,
            task_type=TaskNotification.TaskType.IMPORT_PREVIEW,
            model=registry.label_of(self.model),
            file_format=file_format,
            source_file=name,
            original_name=upload.name[:255],
        )


def notification_centre_url(notification: TaskNotification | None = None) -> str:
    return reverse("admin:dataio_tasknotification_changelist")
