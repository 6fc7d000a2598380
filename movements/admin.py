from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    ChoicesDropdownFilter,
    RangeDateFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display

from catalog.admin import ProductAdmin
from catalog.models import Product
from dataio.admin_mixins import ImportExportMixin
from movements import services
from movements.forms import InflowAddForm, OutflowAddForm
from movements.models import Inflow, Outflow
from movements.resources import InflowResource, OutflowResource
from movements.selectors import product_ledger
from project.admin_pagination import EstimatedCountPaginator

PRODUCT_PREFIX = "product__"


class MovementAdmin(ImportExportMixin, ModelAdmin):
    """Movements are recorded and read here, never changed or deleted.

    A mistake is undone with the "reverse" action, which records the
    correcting movement through the ledger service.
    """

    add_fields: tuple[str, ...] = ()
    list_per_page = 50
    show_full_result_count = False
    # Ten million rows: an estimated count past a threshold (issue 13).
    paginator = EstimatedCountPaginator
    list_filter_submit = True
    date_hierarchy = None
    # The note is not searched: at millions of movements that needs a
    # trigram index on movements.note; "note" can join these once it exists
    # (get_search_results searches the movement's own fields as Django does).
    search_fields = ("product__title", "product__serial_number")
    search_help_text = _("Search by product title or serial number.")
    autocomplete_fields = ("product",)
    actions = ("reverse_selected",)
    actions_detail = ("reverse_detail",)

    readonly_fields = ("reversal",)

    def get_search_results(self, request, queryset, search_term):
        """Find the products first (their trigram indexes), then their movements.

        Django's search would join every movement to its product and test the
        product's columns row by row: a scan of the whole ledger. Here each
        word matches products through catalog's indexes, and the movements
        of those products come from the (product, -created_at) index. Same
        meaning as Django's: every word must match one of the fields,
        case-insensitively, anywhere in it.
        """
        fields = self.get_search_fields(request)
        product_fields = [
            f.removeprefix(PRODUCT_PREFIX) for f in fields if f.startswith(PRODUCT_PREFIX)
        ]
        own_fields = [f for f in fields if not f.startswith(PRODUCT_PREFIX)]
        if not search_term or not product_fields:
            return super().get_search_results(request, queryset, search_term)
        for word in smart_split(search_term):
            if word.startswith(('"', "'")) and word[0] == word[-1]:
                word = unescape_string_literal(word)
            products = Product.objects.filter(_any_contains(product_fields, word)).values("pk")
            queryset = queryset.filter(Q(product__in=products) | _any_contains(own_fields, word))
        return queryset, False

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        fields = list(super().get_fields(request, obj))
        # A read-only field is listed already; only add it where it is not.
        return fields if "reversal" in fields else [*fields, "reversal"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change):
        # The add form recorded the movement through the ledger service while
        # validating (see MovementAddForm); saving again would be an UPDATE,
        # which the database refuses for movements.
        pass

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_reverse_permission(self, request, obj=None):
        opposite = Outflow if self.model is Inflow else Inflow
        opts = opposite._meta
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def get_actions_detail(self, request, object_id):
        # The page offers Reverse only on a movement that can still be
        # reversed. The action itself stays reachable (a page opened before
        # someone else reversed it gets the ledger's message, not a 403).
        actions = super().get_actions_detail(request, object_id)
        movement = self.get_object(request, object_id)
        if (
            movement is None
            or movement.reverses_id
            or movement.is_reversed
            or services.movement_owner_refusal(movement)
        ):
            actions = [item for item in actions if not item.action_name.endswith("_reverse_detail")]
        return actions

    @display(description=_("reversal"))
    def reversal(self, obj):
        if obj.reverses_id:
            other, text = obj.reverses, _("reverses %(movement)s")
        elif obj.is_reversed:
            other, text = obj.reversed_by, _("reversed by %(movement)s")
        else:
            return "-"
        link = format_html('<a href="{}">{}</a>', self._change_url(other), other)
        # The translated sentence escaped, then the (already escaped) link in it.
        return mark_safe(conditional_escape(text) % {"movement": link})  # noqa: S308

    @display(description=_("product"), ordering="product__title")
    def product_link(self, obj):
        url = reverse("admin:catalog_product_change", args=[obj.product_id])
        return format_html('<a href="{}">{}</a>', url, obj.product)

    @display(
        description=_("status"),
        label={_("reversed"): "warning", _("reversal"): "info", _("recorded"): "success"},
    )
    def status(self, obj):
        if obj.reverses_id:
            return _("reversal")
        if obj.is_reversed:
            return _("reversed")
        return _("recorded")

    @action(description=_("Reverse selected movements"), permissions=["reverse"])
    def reverse_selected(self, request, queryset):
        done = 0
        for movement in queryset.order_by("pk"):
            try:
                services.movement_reverse(movement=movement, user=request.user)
                done += 1
            except services.LedgerError as error:
                self.message_user(request, error.message, messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(count)d movement reversed.", "%(count)d movements reversed.", done)
                % {"count": done},
                messages.SUCCESS,
            )

    @action(description=_("Reverse"), url_path="reverse", icon="undo", permissions=["reverse"])
    def reverse_detail(self, request, object_id):
        if request.method != "POST":
            return self._confirm_reverse(request, object_id)
        movement = self.get_object(request, object_id)
        if movement is None:
            raise Http404
        try:
            reversal = services.movement_reverse(movement=movement, user=request.user)
        except services.LedgerError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(self._change_url(movement))
        self.message_user(request, _("Recorded %(reversal)s.") % {"reversal": reversal})
        return redirect(self._change_url(reversal))

    @staticmethod
    def _change_url(movement):
        opts = movement._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[movement.pk])

    def _confirm_reverse(self, request, object_id):
        movement = self.get_object(request, object_id)
        if movement is None:
            raise Http404
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "movement": movement,
            "title": _("Reverse %(movement)s") % {"movement": movement},
        }
        return TemplateResponse(request, "movements/confirm_reverse.html", context)


def _any_contains(fields, word) -> Q:
    """``word`` in any of ``fields`` (icontains, as the admin search); no fields: nothing."""
    condition = Q(pk__in=[])
    for field in fields:
        condition |= Q(**{f"{field}__icontains": word})
    return condition


@admin.register(Inflow)
class InflowAdmin(MovementAdmin):
    resource_classes = [InflowResource]
    form = InflowAddForm
    add_fields = ("product", "quantity", "supplier", "unit_cost", "reason", "note")
    autocomplete_fields = ("product", "supplier")
    list_display = (
        "id",
        "created_at",
        "product_link",
        "quantity",
        "unit_cost",
        "supplier",
        "reason",
        "note",
        "created_by",
        "status",
    )
    list_select_related = ("product", "supplier", "created_by", "reverses", "reversed_by")
    list_filter = (
        ("created_at", RangeDateFilter),
        ("reason", ChoicesDropdownFilter),
        ("supplier", RelatedDropdownFilter),
        ("product", AutocompleteSelectFilter),
    )


@admin.register(Outflow)
class OutflowAdmin(MovementAdmin):
    resource_classes = [OutflowResource]
    form = OutflowAddForm
    add_fields = ("product", "quantity", "unit_price", "reason", "note")
    list_display = (
        "id",
        "created_at",
        "product_link",
        "quantity",
        "unit_price",
        "unit_cost",
        "reason",
        "note",
        "created_by",
        "status",
    )
    list_select_related = ("product", "created_by", "reverses", "reversed_by")
    list_filter = (
        ("created_at", RangeDateFilter),
        ("reason", ChoicesDropdownFilter),
        ("product", AutocompleteSelectFilter),
    )


REASON_LABELS = {
    "inflow": dict(Inflow.Reason.choices),
    "outflow": dict(Outflow.Reason.choices),
}


@admin.register(Product)
class ProductLedgerAdmin(ProductAdmin):
    """The product admin: the catalog's (catalog.admin.ProductAdmin) with its ledger.

    The catalog does not know about movements (dependencies point one way),
    so the product page gains its latest movements and "record" buttons here.
    """

    readonly_fields = (*ProductAdmin.readonly_fields, "latest_movements")
    actions = (*ProductAdmin.actions, "delete_selected")
    actions_detail = ("record_inflow", "record_outflow", *ProductAdmin.actions_detail)

    # --- deleting: only a product nobody moved; the others are marked inactive.

    @staticmethod
    def _movement_counts(product_ids) -> dict[int, int]:
        counts: dict[int, int] = {}
        for model in (Inflow, Outflow):
            rows = (
                model.objects.filter(product_id__in=product_ids)
                .values("product_id")
                .annotate(n=Count("pk"))
                .values_list("product_id", "n")
            )
            for product_id, n in rows:
                counts[product_id] = counts.get(product_id, 0) + n
        return counts

    @staticmethod
    def _cannot_delete(product, count: int) -> str:
        return ngettext(
            "%(product)s has %(count)d stock movement, so it cannot be deleted: "
            "mark it inactive instead.",
            "%(product)s has %(count)d stock movements, so it cannot be deleted: "
            "mark it inactive instead.",
            count,
        ) % {"product": product, "count": count}

    def has_delete_permission(self, request, obj=None):
        # No Delete button on the page of a product that has movements.
        if obj is not None and self._movement_counts([obj.pk]):
            return False
        return super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        product = self.get_object(request, unquote(object_id))
        count = self._movement_counts([product.pk]).get(product.pk) if product else None
        if count:
            self.message_user(request, self._cannot_delete(product, count), messages.ERROR)
            return redirect(reverse("admin:catalog_product_change", args=[product.pk]))
        return super().delete_view(request, object_id, extra_context)

    @admin.action(permissions=["delete"], description=_("Delete selected products"))
    def delete_selected(self, request, queryset):
        counts = self._movement_counts(list(queryset.values_list("pk", flat=True)))
        if counts:
            for product in queryset.filter(pk__in=counts).order_by("serial_number")[:20]:
                self.message_user(
                    request, self._cannot_delete(product, counts[product.pk]), messages.ERROR
                )
            self.message_user(
                request,
                _(
                    "Nothing was deleted. Select only products without movements, or use "
                    "“Mark selected products inactive”."
                ),
                messages.WARNING,
            )
            return None
        # Django's own confirmation page and delete, for products nobody moved.
        return delete_selected(self, request, queryset)

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:  # a new product has no movements yet
            fieldsets.insert(-1, (_("Latest movements"), {"fields": ("latest_movements",)}))
        return fieldsets

    @display(description=_("latest movements"))
    def latest_movements(self, obj):
        rows = [
            [
                format_html(
                    '<a href="{}">{}</a>',
                    reverse(f"admin:movements_{entry['kind']}_change", args=[entry["id"]]),
                    localize(timezone.localtime(entry["created_at"])),
                ),
                _("Inflow") if entry["kind"] == "inflow" else _("Outflow"),
                f"{entry['delta']:+d}",
                localize(entry["unit_value"]),
                REASON_LABELS[entry["kind"]].get(entry["reason"], entry["reason"]),
                entry["note"],
                entry["created_by__username"] or "-",
            ]
            for entry in product_ledger(obj.pk, limit=settings.PRODUCT_LATEST_MOVEMENTS)
        ]
        if not rows:
            return _("No movements yet.")
        headers = [
            _("date"),
            _("type"),
            _("quantity"),
            _("unit value"),
            _("reason"),
            _("note"),
            _("by"),
        ]
        # The template escapes every cell; the links are built with format_html.
        return mark_safe(  # noqa: S308
            render_to_string(
                "unfold/components/table.html", {"table": {"headers": headers, "rows": rows}}
            )
        )

    @action(
        description=_("Record inflow"),
        url_path="record-inflow",
        icon="add_circle",
        permissions=["record_inflow"],
    )
    def record_inflow(self, request, object_id):
        return self._redirect_to_add(request, object_id, "movements:inflow")

    @action(
        description=_("Record outflow"),
        url_path="record-outflow",
        icon="remove_circle",
        permissions=["record_outflow"],
    )
    def record_outflow(self, request, object_id):
        return self._redirect_to_add(request, object_id, "movements:outflow")

    def _redirect_to_add(self, request, object_id, model):
        product = self.get_object(request, object_id)
        if product is None:
            raise Http404
        app_label, model_name = model.split(":")
        url = reverse(f"admin:{app_label}_{model_name}_add")
        return redirect(f"{url}?product={product.pk}")

    def has_record_inflow_permission(self, request, object_id=None):
        return request.user.has_perm("movements.add_inflow")

    def has_record_outflow_permission(self, request, object_id=None):
        return request.user.has_perm("movements.add_outflow")
