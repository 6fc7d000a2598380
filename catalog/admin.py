from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.db import connections
from django.db.models import CharField, Count, F, Func
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    BooleanRadioFilter,
    RangeNumericFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import action, display
from unfold.views import ChangeList

from catalog import services
from catalog.models import Brand, Category, Product, ProductModel, Supplier
from catalog.resources import (
    BrandResource,
    CategoryResource,
    ProductModelResource,
    ProductResource,
    SupplierResource,
)
from dataio.admin_mixins import ImportExportMixin
from project.admin_pagination import (
    EstimatedCountPaginator,
    planner_row_estimate,
    search_exact_count_limit,
)
from project.formats import integer

# The row checkbox's markup per language, its value a mark for the row's pk.
_ROW_CHECKBOX: dict[str | None, str] = {}
_PK_MARK = "__row_pk__"


class _Marked:
    pk = _PK_MARK


class CatalogAdmin(ImportExportMixin, ModelAdmin):
    """Every catalog admin imports and exports with its Resource (``resource_classes``)."""

    list_filter_submit = True
    # The second COUNT(*) over the whole table costs as much as the page on
    # a large catalog; the filtered count is enough to page.
    show_full_result_count = False
    # An estimated count past a threshold and deferred joins on deep pages:
    # the product list holds a million rows (issue 13).
    paginator = EstimatedCountPaginator
    list_per_page = 50
    readonly_fields = ("created_at", "updated_at")

    def action_checkbox(self, obj):
        # unfold's markup, rendered through the form renderer's template once
        # per language instead of once per row (a tenth of a 50-row page);
        # only the value differs from row to row.
        language = get_language()
        markup = _ROW_CHECKBOX.get(language)
        if markup is None:
            markup = _ROW_CHECKBOX[language] = str(super().action_checkbox(_Marked()))
        return mark_safe(markup.replace(_PK_MARK, conditional_escape(str(obj.pk)), 1))  # noqa: S308 - escaped above

    # The column header (the select-all box), as unfold declares it.
    action_checkbox.short_description = ModelAdmin.action_checkbox.short_description


class NamedAdmin(CatalogAdmin):
    """Brand, Category, Supplier: searched and sorted by name."""

    search_fields = ("name",)
    ordering = ("name",)


@admin.register(Brand)
class BrandAdmin(NamedAdmin):
    resource_classes = [BrandResource]
    list_display = ("name", "model_count", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_model_count=Count("product_models"))

    @display(description=_("models"), ordering="_model_count")
    def model_count(self, obj):
        return obj._model_count


@admin.register(Category)
class CategoryAdmin(NamedAdmin):
    resource_classes = [CategoryResource]
    list_display = ("name", "product_count", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @display(description=_("products"), ordering="_product_count")
    def product_count(self, obj):
        return obj._product_count


@admin.register(Supplier)
class SupplierAdmin(NamedAdmin):
    resource_classes = [SupplierResource]
    list_display = ("name", "cnpj", "tax_id", "contact_name", "email", "phone", "updated_at")
    search_fields = ("name", "cnpj", "tax_id", "email")


@admin.register(ProductModel)
class ProductModelAdmin(CatalogAdmin):
    resource_classes = [ProductModelResource]
    list_display = ("name", "brand", "updated_at")
    list_filter = (("brand", RelatedDropdownFilter),)
    list_select_related = ("brand",)
    search_fields = ("name", "brand__name")
    autocomplete_fields = ("brand",)
    ordering = ("brand__name", "name")


class LowStockFilter(admin.SimpleListFilter):
    title = _("stock level")
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return (
            ("low", _("At or below reorder level")),
            ("out", _("Out of stock")),
            ("ok", _("Above reorder level")),
        )

    def queryset(self, request, queryset):
        match self.value():
            case "low":
                return queryset.filter(quantity__lte=F("reorder_level"))
            case "out":
                return queryset.filter(quantity=0)
            case "ok":
                return queryset.filter(quantity__gt=F("reorder_level"))
        return queryset


# The title as an expression no index matches: the same values and order.
UNINDEXED_TITLE = Func(F("title"), template="(%(expressions)s || '')", output_field=CharField())
# Longer terms cannot be a serial number: no lookup for them.
SKU_MAX_LENGTH = Product._meta.get_field("serial_number").max_length


class ProductChangeList(ChangeList):
    """A search sorted by title sorts its matches, never walks the title index.

    The planner reads a search's matches in title order from the title
    index, expecting them spread evenly; a word is clustered instead (the
    brand opens the title), and it reads most of the table before the
    first match (9 s for a brand at a million products). Sorted by an
    expression no index matches, the matches come from the trigram index
    and only they are sorted.
    """

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if not self.query.strip():
            return ordering
        by_title = {"title": UNINDEXED_TITLE.asc(), "-title": UNINDEXED_TITLE.desc()}
        return [by_title.get(item, item) if isinstance(item, str) else item for item in ordering]


def _picker_term(request) -> str:
    """The words typed in a product picker (the admin's autocomplete asks this admin)."""
    if request.path != reverse("admin:autocomplete"):
        return ""
    return request.GET.get("term", "").strip()


def _search_term(request) -> str:
    """The words searched: the list's ``q``, or a product picker's ``term``."""
    return request.GET.get(SEARCH_VAR, "").strip() or _picker_term(request)


# A picker sorts its matches by title (an exact title comes first) up to
# this many, as the planner estimates them; past it, the newest first.
PICKER_TITLE_ORDER_LIMIT = 2_000


def _picker_order(matches) -> tuple[str, ...]:
    """A product picker's order: by title, unless the term matches too many products.

    A person picking reads the suggestions by title. For a common word at a
    million products, title order makes PostgreSQL walk the title index
    through most of the table (0.9-1.1 s a keystroke); newest first it
    stops at the 20th match (10-20 ms), as the list's search does.
    """
    few = (
        connections[matches.db].vendor != "postgresql"  # the planner's estimate is PostgreSQL's
        or planner_row_estimate(matches) <= PICKER_TITLE_ORDER_LIMIT
    )
    return ("title", "pk") if few else ("-pk",)


class ProductAdmin(CatalogAdmin):
    """The product pages' catalog side: list, filters, form, import and export.

    Registered by ``movements.admin.ProductLedgerAdmin``, which adds the
    product's latest movements and its "record" buttons: the catalog does
    not depend on the ledger (docs/architecture.md).
    """

    resource_classes = [ProductResource]
    list_display = (
        "title",
        "serial_number",
        "product_model",
        "category",
        "stock",
        "cost_price",
        "sell_price",
        "is_active",
    )
    list_display_links = ("title", "serial_number")
    list_filter = (
        LowStockFilter,
        ("category", RelatedDropdownFilter),
        ("product_model__brand", RelatedDropdownFilter),
        ("is_active", BooleanRadioFilter),
        ("quantity", RangeNumericFilter),
    )
    list_select_related = ("product_model__brand", "category")
    search_fields = ("title", "serial_number")
    search_help_text = _(
        "Search by title or serial number; a whole serial number finds that product. "
        "Results list the newest first."
    )
    autocomplete_fields = ("product_model", "category")
    readonly_fields = ("quantity", "created_at", "updated_at")
    # services.PRODUCT_FIELDS in groups, with the read-only fields among them.
    fieldsets = (
        (None, {"fields": ("title", "serial_number", "product_model", "category")}),
        (
            _("Prices and stock"),
            {"fields": ("cost_price", "sell_price", "quantity", "reorder_level", "is_active")},
        ),
        (_("Description"), {"fields": ("description",), "classes": ("collapse",)}),
        (_("Bar code"), {"fields": ("ean",)}),
        (_("History"), {"fields": ("created_at", "updated_at")}),
    )

    actions = ("mark_inactive",)
    actions_detail = ("mark_inactive_detail",)

    @action(description=_("Mark selected products inactive"), permissions=["change"])
    def mark_inactive(self, request, queryset):
        count = 0
        for product in queryset.filter(is_active=True):
            services.product_update(product=product, is_active=False)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d product marked inactive.", "%(count)d products marked inactive.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @action(
        description=_("Mark inactive"),
        url_path="mark-inactive",
        icon="visibility_off",
        permissions=["change"],
    )
    def mark_inactive_detail(self, request, object_id):
        product = self.get_object(request, object_id)
        if product is None:
            raise Http404
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "product": product,
                "title": _("Mark %(product)s inactive") % {"product": product},
            }
            return TemplateResponse(request, "catalog/confirm_deactivate.html", context)
        if product.is_active:
            services.product_update(product=product, is_active=False)
            self.message_user(
                request, _("%(product)s is now inactive.") % {"product": product}, messages.SUCCESS
            )
        return redirect(reverse("admin:catalog_product_change", args=[product.pk]))

    def get_actions_detail(self, request, object_id):
        # "Mark inactive" only on an active product.
        actions = super().get_actions_detail(request, object_id)
        product = self.get_object(request, object_id)
        if product is None or not product.is_active:
            actions = [a for a in actions if not a.action_name.endswith("_mark_inactive_detail")]
        return actions

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    def get_search_results(self, request, queryset, search_term):
        """A whole SKU finds its product by the unique index; other terms as Django searches.

        An ``icontains`` search for a SKU reads both trigram indexes and
        rechecks every candidate row; a SKU is unique, so a term that is
        one (as typed, or in capitals as SKUs are usually written) is a
        lookup of the serial number's btree, and the list shows that
        product alone (with the list's filters still applied).
        """
        term = search_term.strip()
        if term and len(term) <= SKU_MAX_LENGTH and not any(c.isspace() for c in term):
            # No ordering: with one, the planner may walk the title index.
            found = list(
                self.model._default_manager.filter(serial_number__in={term, term.upper()})
                .order_by()
                .values_list("serial_number", flat=True)[:1]
            )
            if found:
                return queryset.filter(serial_number=found[0]), False
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if _picker_term(request):
            found = found.order_by(*_picker_order(found))
        return found, may_have_duplicates

    def get_ordering(self, request):
        """Title order; the newest first for a search (an order the primary key serves).

        A search's first page in title order costs either every match
        sorted (the whole table read for a common word: 0.5 s at a million
        products) or a walk of the title index until 50 rows match, which
        for a word clustered in title order (the brand opens the title)
        reads most of the table first. Newest first, PostgreSQL walks the
        primary key backwards and stops at the 50th match when the word is
        common, or sorts the few matches of a rare word it found through the
        trigram index. The title column header still sorts a search by
        title (the matches, sorted by an expression no index serves).
        """
        if request.GET.get(SEARCH_VAR, "").strip():
            return ("-pk",)
        return super().get_ordering(request)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        if _search_term(request):
            # A search's matches are counted by reading them (a trigram
            # index cannot count): exact up to a lower limit, estimated past it.
            paginator.exact_count_limit = search_exact_count_limit()
        return paginator

    def save_model(self, request, obj, form, change):
        # Through the catalog service, and only the fields this form changed:
        # the instance was loaded when the form was opened, and writing back
        # what nobody touched would undo other people's edits (the stock, above
        # all, is never written here; see Product.save).
        if change:
            changed = {name: getattr(obj, name) for name in form.changed_data}
            services.product_update(product=obj, **changed)
            return
        created = services.product_create(
            **{name: getattr(obj, name) for name in services.PRODUCT_FIELDS}
        )
        obj.pk, obj.created_at, obj.updated_at = created.pk, created.created_at, created.updated_at
        obj._state.adding = False

    @display(
        description=_("stock"),
        ordering="quantity",
        label={"out": "danger", "low": "danger", "ok": "success"},
    )
    def stock(self, obj):
        # As text: unfold shows a falsy value as "-", and an empty shelf is
        # the most urgent state, not missing data.
        level = "out" if obj.quantity == 0 else "low" if obj.is_low_stock else "ok"
        return level, integer(obj.quantity)
