"""Purchasing in the back office: supplier products, orders, receiving, suggestions.

Thin: every change calls ``purchasing.services``; the pages only collect
input and show the services' refusals as messages.
"""

from decimal import Decimal

from django.contrib import admin, messages
from django.db import OperationalError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display

from catalog.models import Supplier
from project import formats
from project.admin_readonly import ViewOnlyAdminMixin
from project.transactions import conflict_message, is_conflict
from purchasing import services
from purchasing.models import (
    NFeReceipt,
    NFeReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    Receipt,
    SupplierProduct,
)
from purchasing.selectors import reorder_suggestions

State = PurchaseOrder.State
STATE_COLOURS = {
    State.DRAFT: "info",
    State.SENT: "warning",
    State.PARTIALLY_RECEIVED: "warning",
    State.RECEIVED: "success",
    State.CANCELLED: "danger",
}


def _can_receive(request) -> bool:
    return request.user.has_perm("purchasing.receive_purchaseorder")


@admin.register(SupplierProduct)
class SupplierProductAdmin(ModelAdmin):
    list_display = (
        "supplier",
        "product",
        "supplier_code",
        "pack_size",
        "last_cost",
        "lead_time_days",
        "is_preferred",
    )
    list_filter = ("is_preferred", "supplier")
    list_filter_submit = True
    list_select_related = ("supplier", "product")
    search_fields = ("supplier_code", "product__title", "product__serial_number", "supplier__name")
    autocomplete_fields = ("supplier", "product")
    readonly_fields = ("updated_at",)
    list_per_page = 50

    def save_model(self, request, obj, form, change):
        services.supplier_product_save(link=obj)

    def delete_model(self, request, obj):
        services.supplier_product_delete(link=obj)


class LineInline(TabularInline):
    model = PurchaseOrderLine
    extra = 0
    fields = ("product", "quantity", "unit_cost", "received_quantity", "to_receive_display")
    readonly_fields = ("received_quantity", "to_receive_display")
    autocomplete_fields = ("product",)

    @display(description=_("still to receive"))
    def to_receive_display(self, line):
        if line.pk is None:
            return "-"
        return _("cancelled") if line.is_cancelled else line.to_receive

    # Lines change only while their order is a draft.
    def _editable(self, obj):
        return obj is None or obj.is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ModelAdmin):
    list_display = (
        "number_display",
        "supplier",
        "state_badge",
        "created_at",
        "sent_at",
        "received_at",
    )
    list_filter = ("state", "supplier")
    list_filter_submit = True
    list_select_related = ("supplier",)
    search_fields = ("supplier__name", "note")
    autocomplete_fields = ("supplier",)
    inlines = (LineInline,)
    list_per_page = 50
    fields = (
        "supplier",
        "note",
        "state",
        ("created_by", "created_at"),
        ("sent_by", "sent_at"),
        ("received_by", "received_at"),
        ("cancelled_by", "cancelled_at"),
    )
    WHO_WHEN = (
        "state",
        "created_by",
        "created_at",
        "sent_by",
        "sent_at",
        "received_by",
        "received_at",
        "cancelled_by",
        "cancelled_at",
    )
    actions_list = ("suggestions",)
    actions_detail = ("send_detail", "receive_detail", "cancel_lines_detail", "cancel_detail")

    @display(description=_("number"), ordering="pk")
    def number_display(self, order):
        return order.number

    @display(description=_("state"), label=STATE_COLOURS)
    def state_badge(self, order):
        return order.state, order.get_state_display()

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return ("supplier", "note", *self.WHO_WHEN)
        return self.WHO_WHEN

    # --- saving through the services ---------------------------------------
    def has_delete_permission(self, request, obj=None):
        # A sent order is history (the supplier has it): cancel it instead.
        return (obj is None or obj.is_editable) and super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.order_delete(order=obj)

    def delete_queryset(self, request, queryset):
        # Drafts only (has_delete_permission); one by one, so each keeps the
        # products' units on order right.
        for order in queryset:
            services.order_delete(order=order)

    def save_model(self, request, obj, form, change):
        if change and not form.changed_data:
            return  # a read-only page saved as it was: nothing to change
        try:
            if change:
                services.order_update(order=obj, supplier=obj.supplier, note=obj.note)
            else:
                created = services.order_create(
                    supplier=obj.supplier, note=obj.note, user=request.user
                )
                obj.pk, obj.created_by, obj.created_at = (
                    created.pk,
                    request.user,
                    created.created_at,
                )
                obj._state.adding = False
        except services.PurchasingError as error:
            self.message_user(request, error.message, messages.ERROR)

    def save_formset(self, request, form, formset, change):
        try:
            for line in formset.save(commit=False):
                line.order = form.instance
                services.order_line_save(line=line)
            for line in formset.deleted_objects:
                services.order_line_delete(line=line)
        except services.PurchasingError as error:
            self.message_user(request, error.message, messages.ERROR)

    # --- state changes -------------------------------------------------------
    def has_receive_permission(self, request, obj=None):
        return _can_receive(request)

    def has_module_permission(self, request):
        return super().has_module_permission(request) or _can_receive(request)

    def get_actions_detail(self, request, object_id):
        # Offer only what the order's state allows; the services check again.
        actions = super().get_actions_detail(request, object_id)
        order = self.get_object(request, object_id)
        if order is None:
            return actions
        allowed = {
            "send_detail": order.state == State.DRAFT,
            "cancel_detail": order.state in (State.DRAFT, State.SENT),
            "receive_detail": order.state in PurchaseOrder.RECEIVABLE_STATES,
            "cancel_lines_detail": order.state in PurchaseOrder.RECEIVABLE_STATES,
        }
        return [
            item
            for item in actions
            if all(ok or not item.action_name.endswith(name) for name, ok in allowed.items())
        ]

    def _order_or_404(self, request, object_id):
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404
        return order

    def _change_url(self, order):
        return reverse("admin:purchasing_purchaseorder_change", args=[order.pk])

    def _run(self, request, order, change, done, *, confirm, explanation):
        # Send and Cancel are links in the action bar (a GET): the link asks,
        # the button on that page (a POST) changes the order.
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "order": order,
                "title": f"{confirm}: {order.number}",
                "confirm": confirm,
                "explanation": explanation,
                "back_url": self._change_url(order),
            }
            return TemplateResponse(request, "purchasing/confirm_order_change.html", context)
        try:
            change(order=order, user=request.user)
        except services.PurchasingError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, done % {"order": order.number}, messages.SUCCESS)
        return redirect(self._change_url(order))

    @action(description=_("Send"), url_path="send", icon="send", permissions=["change"])
    def send_detail(self, request, object_id):
        order = self._order_or_404(request, object_id)
        return self._run(
            request,
            order,
            services.order_send,
            _("%(order)s sent."),
            confirm=_("Send the order"),
            explanation=_(
                "Once sent, %(order)s to %(supplier)s can no longer be changed: it waits for its "
                "units, which are received from its page."
            )
            % {"order": order.number, "supplier": order.supplier},
        )

    @action(description=_("Cancel order"), url_path="cancel", icon="cancel", permissions=["change"])
    def cancel_detail(self, request, object_id):
        order = self._order_or_404(request, object_id)
        return self._run(
            request,
            order,
            services.order_cancel,
            _("%(order)s cancelled."),
            confirm=_("Cancel the order"),
            explanation=_(
                "Cancelling %(order)s takes its units off order for good; it stays in the list "
                "as cancelled."
            )
            % {"order": order.number},
        )

    @action(
        description=_("Cancel lines"), url_path="cancel-lines", icon="block", permissions=["change"]
    )
    def cancel_lines_detail(self, request, object_id):
        """Cancel the lines of a sent order that will not come (nothing of them received)."""
        order = self._order_or_404(request, object_id)
        if request.method == "POST":
            chosen = set(request.POST.getlist("line"))
            try:
                for line in order.lines.filter(pk__in=[pk for pk in chosen if pk.isdigit()]):
                    services.order_line_cancel(line=line, user=request.user)
            except services.PurchasingError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, _("Lines cancelled."), messages.SUCCESS)
            return redirect(self._change_url(order))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "order": order,
            "lines": order.lines.select_related("product").filter(
                is_cancelled=False, received_quantity=0
            ),
            "title": _("Cancel lines of %(order)s") % {"order": order.number},
        }
        return TemplateResponse(request, "purchasing/cancel_lines.html", context)

    @action(description=_("Receive"), url_path="receive", icon="inventory", permissions=["receive"])
    def receive_detail(self, request, object_id):
        order = self._order_or_404(request, object_id)
        lines = list(order.lines.select_related("product").order_by("pk"))
        values = {}
        if request.method == "POST":
            items = []
            for line in lines:
                raw = request.POST.get(f"quantity_{line.pk}", "").strip()
                reason = request.POST.get(f"reason_{line.pk}", "").strip()
                values[line.pk] = (raw, reason)
                if not raw:
                    continue
                try:
                    quantity = int(raw)
                except ValueError:
                    quantity = -1
                items.append(services.ReceiveInput(line.pk, quantity, reason))
            try:
                receipts = services.order_receive(
                    order=order,
                    user=request.user,
                    lines=items,
                    note=request.POST.get("note", "").strip()[:200],
                )
            except services.PurchasingError as error:
                self.message_user(request, error.message, messages.ERROR)
            except services.ledger.LedgerError as error:
                self.message_user(request, error.message, messages.ERROR)
            except OperationalError as error:
                # Still deadlocked after the service's own retries.
                if not is_conflict(error):
                    raise
                self.message_user(request, conflict_message(), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("%(count)s unit(s) received into stock.")
                    % {"count": sum(receipt.quantity for receipt in receipts)},
                    messages.SUCCESS,
                )
                return redirect(self._change_url(order))
        rows = [
            {
                "line": line,
                "quantity": values.get(line.pk, ("", ""))[0],
                "reason": values.get(line.pk, ("", ""))[1],
            }
            for line in lines
            if not line.is_cancelled
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "order": order,
            "rows": rows,
            "title": _("Receive %(order)s") % {"order": order.number},
        }
        return TemplateResponse(request, "purchasing/receive.html", context)

    @action(description=_("Reorder suggestions"), url_path="suggestions", icon="lightbulb")
    def suggestions(self, request):
        if not self.has_view_permission(request):
            raise Http404
        if request.method == "POST":
            if not self.has_add_permission(request):
                raise Http404
            supplier = Supplier.objects.filter(pk=request.POST.get("supplier")).first()
            if supplier is None:
                raise Http404
            order = services.order_create_from_suggestions(supplier=supplier, user=request.user)
            if order is None:
                self.message_user(request, _("Nothing to order from this supplier."), messages.INFO)
                return redirect(reverse("admin:purchasing_purchaseorder_suggestions"))
            self.message_user(
                request, _("Draft %(order)s created.") % {"order": order.number}, messages.SUCCESS
            )
            return redirect(self._change_url(order))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "groups": reorder_suggestions(),
            "can_order": self.has_add_permission(request),
            "title": _("Reorder suggestions"),
        }
        return TemplateResponse(request, "purchasing/suggestions.html", context)


@admin.register(Receipt)
class ReceiptAdmin(ViewOnlyAdminMixin, ModelAdmin):
    """Receipts are made by receiving an order; here they are read and reversed."""

    list_display = ("__str__", "order_display", "line", "created_by", "created_at", "reversed_at")
    list_select_related = ("line__order", "line__product", "created_by")
    readonly_fields = (
        "line",
        "quantity",
        "inflow",
        "over_receipt_reason",
        "created_by",
        "created_at",
        "reversal",
        "reversed_by",
        "reversed_at",
    )
    fields = readonly_fields
    actions_detail = ("reverse_detail",)
    list_per_page = 50

    @display(description=_("order"))
    def order_display(self, receipt):
        return receipt.line.order.number

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("purchasing.view_purchaseorder") or _can_receive(request)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_receive_permission(self, request, obj=None):
        return _can_receive(request)

    @action(description=_("Reverse"), url_path="reverse", icon="undo", permissions=["receive"])
    def reverse_detail(self, request, object_id):
        receipt = self.get_object(request, object_id)
        if receipt is None:
            raise Http404
        if request.method == "POST":
            try:
                services.receipt_reverse(receipt=receipt, user=request.user)
            except (services.PurchasingError, services.ledger.LedgerError) as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request, _("Receipt reversed: the line expects those units again.")
                )
            return redirect(reverse("admin:purchasing_receipt_change", args=[receipt.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "receipt": receipt,
            "title": _("Reverse %(receipt)s") % {"receipt": receipt},
        }
        return TemplateResponse(request, "purchasing/confirm_reverse_receipt.html", context)


# --- NF-e XML receipts ---------------------------------------------------------


def _with_posted(preview: dict, posted) -> dict:
    notes = []
    for note in preview["notes"]:
        key = note.get("access_key")
        if not key:
            notes.append(note)
            continue
        lines = [
            {**line, "pick": posted.get(f"pick_{key}_{line['item']}", "")}
            for line in note.get("lines", [])
        ]
        notes.append({**note, "lines": lines, "chosen": posted.get(f"order_{key}", "")})
    return {**preview, "notes": notes}


def _shown(preview: dict) -> dict:
    """The preview's amounts as the person's language writes money (the job stores them as text)."""

    def amount(value, *, exact: bool = False):
        if value in (None, ""):
            return value
        decimal = Decimal(str(value))
        # A unit cost may carry more than cents: show them all.
        places = max(2, -decimal.as_tuple().exponent) if exact else 2
        return formats.money(decimal, places)

    notes = [
        {
            **note,
            "total": amount(note.get("total")),
            "lines": [
                {
                    **line,
                    "cost": amount(line.get("cost")),
                    "unit_cost": amount(line.get("unit_cost"), exact=True),
                }
                for line in note.get("lines", [])
            ],
        }
        for note in preview.get("notes", [])
    ]
    return {**preview, "notes": notes} if preview else preview


class NFeReceiptLineInline(ViewOnlyAdminMixin, TabularInline):
    model = NFeReceiptLine
    extra = 0
    can_delete = False
    fields = (
        "item",
        "supplier_code",
        "ean",
        "description",
        "product",
        "matched_by",
        "quantity",
        "line_cost",
        "unit_cost",
        "inflow",
        "order_receipt",
    )
    readonly_fields = fields


@admin.register(NFeReceipt)
class NFeReceiptAdmin(ViewOnlyAdminMixin, ModelAdmin):
    """Notes received are read here; "Import NF-e XML" uploads, previews and confirms."""

    list_display = ("number", "series", "supplier", "total", "order", "created_by", "created_at")
    list_select_related = ("supplier", "order", "created_by")
    search_fields = ("access_key", "number", "supplier__name", "supplier__cnpj")
    list_filter = ("supplier",)
    list_filter_submit = True
    readonly_fields = (
        "access_key",
        "number",
        "series",
        "issued_at",
        "supplier",
        "order",
        "total",
        "file_name",
        "created_by",
        "created_at",
    )
    fields = readonly_fields
    inlines = (NFeReceiptLineInline,)
    actions_list = ("import_nfe",)
    list_per_page = 50

    def has_module_permission(self, request):
        return super().has_module_permission(request) or _can_receive(request)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or _can_receive(request)

    def has_receive_permission(self, request, obj=None):
        return _can_receive(request)

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "import/<int:job>/",
                self.admin_site.admin_view(self.nfe_job_view),
                name="purchasing_nfereceipt_job",
            ),
            *super().get_urls(),
        ]

    @action(
        description=_("Import NF-e XML"), url_path="import", icon="upload", permissions=["receive"]
    )
    def import_nfe(self, request):
        from purchasing.nfe import services as nfe

        if request.method == "POST":
            try:
                job = nfe.nfe_upload(user=request.user, uploads=request.FILES.getlist("files"))
            except nfe.NFeError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                if job.status == job.Status.FAILED:
                    self.message_user(request, job.error_message, messages.ERROR)
                return redirect(reverse("admin:purchasing_nfereceipt_job", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import NF-e XML"),
            "recent": self._recent_jobs(request),
        }
        return TemplateResponse(request, "purchasing/nfe_upload.html", context)

    def _recent_jobs(self, request):
        """The person's last NF-e jobs, to get back to a preview left open."""
        from dataio import notifications
        from dataio.models import TaskNotification

        types = (TaskNotification.TaskType.NFE_PREVIEW, TaskNotification.TaskType.NFE_RECEIVE)
        return list(
            notifications.visible_to(request.user)
            .filter(user=request.user, task_type__in=types)
            .only("pk", "task_type", "status", "created_at", "error_message", "user")[:10]
        )

    def nfe_job_view(self, request, job):
        """A job's page: waiting, the preview (pick products, choose orders, confirm), or done."""
        from dataio import notifications
        from dataio.models import TaskNotification

        if not _can_receive(request):
            raise Http404
        types = (TaskNotification.TaskType.NFE_PREVIEW, TaskNotification.TaskType.NFE_RECEIVE)
        notification = (
            notifications.visible_to(request.user).filter(pk=job, task_type__in=types).first()
        )
        if notification is None:
            raise Http404
        preview = notification.stock_impact if notification.status == "completed" else {}
        if request.method == "POST" and preview.get("notes"):
            # What the person typed comes back with the page when it is refused.
            preview = _with_posted(preview, request.POST)
        problems = []
        if request.method == "POST" and notification.task_type == types[0]:
            confirmed, problems = self._nfe_confirm(request, notification, preview)
            if confirmed is not None:
                return redirect(reverse("admin:purchasing_nfereceipt_job", args=[confirmed.pk]))
        receipts = []
        if notification.task_type == types[1] and notification.status == "completed":
            ids = (notification.stock_impact or {}).get("receipts", [])
            receipts = list(NFeReceipt.objects.filter(pk__in=ids).select_related("supplier"))
            for receipt in receipts:
                receipt.total_shown = formats.money(receipt.total)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "job": notification,
            "is_preview": notification.task_type == types[0],
            "preview": _shown(preview),
            "posted": request.POST,
            "problems": problems,
            "receipts": receipts,
            "waiting": not notification.is_finished,
            "title": _("NF-e receipt")
            if notification.task_type == types[1]
            else _("NF-e check (preview)"),
        }
        return TemplateResponse(request, "purchasing/nfe_preview.html", context)

    def _nfe_confirm(self, request, notification, preview):
        """Read the picks and orders from the preview form and queue the receipt."""
        from django.db.models import Q

        from catalog.models import Product
        from purchasing.nfe import services as nfe

        if not preview.get("notes"):
            return None, [_("This upload is not checked yet.")]
        problems: list[str] = []
        typed: dict[tuple[str, int], str] = {}
        orders: dict[str, int] = {}
        for note in preview["notes"]:
            if note.get("error"):
                problems.append(f"{note['file']}: {note['error']}")
                continue
            key = note["access_key"]
            order = request.POST.get(f"order_{key}", "").strip()
            if order.isdigit():
                orders[key] = int(order)
            for line in note["lines"]:
                value = request.POST.get(f"pick_{key}_{line['item']}", "").strip()
                if value:
                    typed[(key, line["item"])] = value
                elif line["product"] is None:
                    problems.append(
                        _("%(file)s, line %(item)s (%(description)s): pick a product.")
                        % {"file": note["file"], **line}
                    )
        values = set(typed.values())
        found = {}
        for product in Product.objects.filter(Q(serial_number__in=values) | Q(ean__in=values)):
            found[product.serial_number] = product.pk
            if product.ean:
                found.setdefault(product.ean, product.pk)
        picks: dict[str, dict[str, int]] = {}
        for (key, item), value in typed.items():
            if value not in found:
                problems.append(
                    _("Line %(item)s: no product has the SKU or EAN “%(value)s”.")
                    % {"item": item, "value": value}
                )
                continue
            picks.setdefault(key, {})[str(item)] = found[value]
        if problems:
            return None, problems
        try:
            job = nfe.nfe_confirm(
                preview=notification, user=request.user, picks=picks, orders=orders
            )
        except nfe.NFeError as error:
            return None, [error.message]
        if job.status == job.Status.FAILED:
            self.message_user(request, job.error_message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("The receipt is queued; this page shows the result when it is done."),
                messages.SUCCESS,
            )
        return job, []
