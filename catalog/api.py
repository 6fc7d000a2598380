"""The catalog over the API: brands, categories, suppliers, models, products."""

from django import forms
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import SearchFilter

from catalog import selectors, services
from catalog.models import Brand, Category, Product, ProductModel, Supplier
from project.api.exceptions import Conflict
from project.api.fields import ModelSerializer
from project.api.schema import ErrorSerializer
from project.api.views import (
    FilterBackend,
    ModelViewSet,
    StableOrderingFilter,
    UTCDateTimeFilter,
)

TIMESTAMPS = ("created_at", "updated_at")
NAMED_FIELDS = ("id", "name", "description", *TIMESTAMPS)


# --- serializers -----------------------------------------------------------
class BrandSerializer(ModelSerializer):
    class Meta:
        model = Brand
        fields = NAMED_FIELDS
        read_only_fields = TIMESTAMPS


class CategorySerializer(ModelSerializer):
    class Meta:
        model = Category
        fields = NAMED_FIELDS
        read_only_fields = TIMESTAMPS


class SupplierSerializer(ModelSerializer):
    class Meta:
        model = Supplier
        fields = (
            *NAMED_FIELDS[:3],
            "tax_id",
            "email",
            "phone",
            "cnpj",
            "contact_name",
            "address",
            *TIMESTAMPS,
        )
        read_only_fields = TIMESTAMPS


class ProductModelSerializer(ModelSerializer):
    class Meta:
        model = ProductModel
        fields = ("id", "brand", "name", "description", *TIMESTAMPS)
        read_only_fields = TIMESTAMPS


MONEY = {"min_value": 0, "max_digits": 12, "decimal_places": 2}


class ProductSerializer(ModelSerializer):
    brand = serializers.IntegerField(
        source="product_model.brand_id", read_only=True, help_text="The model's brand (id)."
    )
    is_low_stock = serializers.BooleanField(
        read_only=True, help_text="Quantity at or below the reorder level."
    )

    class Meta:
        model = Product
        # services.PRODUCT_FIELDS plus read-only ones, in the order clients
        # have always received the keys.
        fields = (
            "id",
            "title",
            "serial_number",
            "product_model",
            "brand",
            "category",
            "cost_price",
            "sell_price",
            "quantity",
            "reorder_level",
            "is_low_stock",
            "is_active",
            "description",
            "ean",
            "on_order",
            *TIMESTAMPS,
        )
        read_only_fields = ("quantity", "on_order", *TIMESTAMPS)
        extra_kwargs = {
            "cost_price": MONEY,
            "sell_price": MONEY,
            "quantity": {"help_text": "Units in stock; changed only by inflows and outflows."},
        }


# --- filters -----------------------------------------------------------------
@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An id: no query to check that it exists (an unknown id matches nothing)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """true or false (also 1 or 0); anything else is a 400, not silently no filter."""

    def to_python(self, value):
        text = str(value).strip().lower() if value is not None else ""
        if text == "":
            return None
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError(_("Use true or false."), code="invalid")

    def validate(self, value):
        pass


class BooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # django-filter's BooleanWidget turns unknown words into "no value";
        # a text input hands them to the field, which refuses them.
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class ProductFilter(filters.FilterSet):
    category = IdFilter(field_name="category_id", help_text="Category id.")
    brand = IdFilter(field_name="product_model__brand_id", help_text="Brand id.")
    product_model = IdFilter(field_name="product_model_id", help_text="Product model id.")
    supplier = IdFilter(method="filter_supplier", help_text="Received from this supplier (id).")
    low_stock = BooleanFilter(
        method="filter_low_stock",
        help_text="Needs ordering (true): stock plus units on order at or below the reorder level.",
    )
    is_active = BooleanFilter(help_text="Active products (true) or inactive (false).")
    updated_after = UTCDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after (ISO 8601); a stock movement changes its product too.",
    )

    class Meta:
        model = Product
        fields = (
            "category",
            "brand",
            "product_model",
            "supplier",
            "low_stock",
            "is_active",
            "updated_after",
        )

    def filter_supplier(self, queryset, name, value):
        # Through the reverse relation of the ledger, by name: the catalog
        # does not import movements (dependencies point the other way).
        received = Product.objects.filter(inflows__supplier_id=value).values("pk")
        return queryset.filter(pk__in=received)

    def filter_low_stock(self, queryset, name, value):
        # Low stock is what still needs ordering: units already on open
        # purchase orders (the column the purchasing services keep) are
        # netted out.
        low = Q(reorder_level__gte=F("quantity") + F("on_order"))
        return queryset.filter(low) if value else queryset.exclude(low)


class ModelFilter(filters.FilterSet):
    brand = IdFilter(field_name="brand_id", help_text="Brand id.")

    class Meta:
        model = ProductModel
        fields = ("brand",)


# --- views -------------------------------------------------------------------
# 409: a delete of a referenced object; on writes, a uniqueness race.
DELETE_CONFLICT = {method: {409: ErrorSerializer} for method in ("POST", "PUT", "PATCH", "DELETE")}


class CatalogViewSet(ModelViewSet):
    api_scope = "catalog"  # API clients need catalog:read / catalog:write
    filter_backends = (FilterBackend, SearchFilter, StableOrderingFilter)
    error_responses = DELETE_CONFLICT

    def perform_destroy(self, instance):
        try:
            services.catalog_object_delete(instance=instance)
        except services.InUse as exc:
            raise Conflict(exc.message, code="in_use") from None


class NamedViewSet(CatalogViewSet):
    search_fields = ("name",)
    ordering_fields = ("id", "name", "created_at", "updated_at")
    ordering = ("name",)
    list_fields = NAMED_FIELDS


class BrandViewSet(NamedViewSet):
    """Brands. Deleting one that product models use is refused (409)."""

    queryset = Brand.objects.all()
    serializer_class = BrandSerializer


class CategoryViewSet(NamedViewSet):
    """Product categories. Deleting one that products use is refused (409)."""

    queryset = Category.objects.all()
    serializer_class = CategorySerializer


class SupplierViewSet(NamedViewSet):
    """Suppliers. Deleting one that inflows name is refused (409)."""

    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    search_fields = ("name", "tax_id", "cnpj")
    list_fields = SupplierSerializer.Meta.fields


class ProductModelViewSet(CatalogViewSet):
    """Product models, one brand each. Deleting one that products use is refused (409)."""

    queryset = ProductModel.objects.all()
    serializer_class = ProductModelSerializer
    filterset_class = ModelFilter
    search_fields = ("name",)
    ordering_fields = ("id", "name", "created_at", "updated_at")
    ordering = ("id",)
    list_fields = ProductModelSerializer.Meta.fields


class ProductViewSet(CatalogViewSet):
    """Products. ``quantity`` is read-only: stock changes through inflows and outflows.

    Filters: ``category``, ``brand``, ``product_model``, ``supplier``,
    ``low_stock`` (at or below the reorder level once units on open
    purchase orders, ``on_order``, are counted), ``is_active``,
    ``updated_after`` (a stock movement changes ``updated_at`` too; it is
    the time of the write, so re-read with an overlap); ``search`` in title
    and serial number; ``ordering`` by any listed field (prefix ``-`` for
    descending). Deleting a product that has movements is refused with 409:
    deactivate it instead.
    """

    queryset = Product.objects.select_related("product_model")
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ("title", "serial_number")
    ordering_fields = (
        "id",
        "title",
        "serial_number",
        "quantity",
        "cost_price",
        "sell_price",
        "reorder_level",
        "created_at",
        "updated_at",
    )
    ordering = ("id",)
    list_fields = tuple(name for name in ProductSerializer.Meta.fields if name != "is_low_stock")
    list_paths = {"brand": "product_model__brand_id"}
    list_plain_sql = selectors.product_list_sql(list_fields, list_paths)

    def list_extra(self, rows):
        # Product.is_low_stock's rule, on the page's values: cheaper than an
        # ORM expression built for every request.
        for row in rows:
            row["is_low_stock"] = row["quantity"] <= row["reorder_level"]
        return rows

    def perform_create(self, serializer):
        serializer.instance = services.product_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.product_update(
            product=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        try:
            services.product_delete(product=instance)
        except services.InUse as exc:
            raise Conflict(exc.message, code="in_use") from None
