"""Purchasing over the API: supplier products, purchase orders, receiving, suggestions.

Views validate the shape of a request and call ``purchasing.services``; the
services call the ledger. Permissions are the model permissions, as
everywhere; receiving needs ``purchasing.receive_purchaseorder``.
"""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api import IdFilter
from catalog.models import Product
from movements.api import IDEMPOTENCY_PARAMETER, REPLAYED_HEADER
from movements.idempotency import idempotent
from project.api.exceptions import Conflict
from project.api.fields import ModelSerializer, MoneyField
from project.api.schema import ErrorSerializer
from project.api.views import (
    ApiViewSetMixin,
    FilterBackend,
    ModelViewSet,
    ReadCreateViewSet,
    StableOrderingFilter,
)
from purchasing import services
from purchasing.models import PurchaseOrder, PurchaseOrderLine, Receipt, SupplierProduct
from purchasing.selectors import reorder_suggestions

MONEY = {"min_value": 0, "max_digits": 12, "decimal_places": 2}
QUANTITY = {"min_value": 1, "max_value": 2**31 - 1}
SCOPE = "purchasing"  # API clients need purchasing:read / purchasing:write


def purchasing_error_to_api(exc: services.PurchasingError) -> exceptions.APIException:
    """A refusal of the purchasing service as an API error (the rest of the API's bodies)."""
    if isinstance(exc, services.StateRefused):
        return Conflict(exc.message, code=exc.code)
    return exceptions.ValidationError({exc.field or "non_field_errors": [exc.message]})


def _flat_errors(detail, prefix: str = "") -> dict[str, list]:
    """Nested serializer errors as the API's body gives them: ``{field: [messages]}``.

    A line's field is named ``lines[0].quantity``, as the services name it.
    """
    if isinstance(detail, dict):
        flat = {}
        for name, value in detail.items():
            if name == "non_field_errors" and prefix:
                key = prefix
            elif isinstance(name, int) or str(name).isdigit():  # a list's item, by index
                key = f"{prefix}[{name}]"
            else:
                key = f"{prefix}.{name}" if prefix else str(name)
            flat.update(_flat_errors(value, key))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_flat_errors(item, f"{prefix}[{index}]"))
        return flat
    return {prefix or "non_field_errors": detail if isinstance(detail, list) else [detail]}


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise exceptions.ValidationError(_flat_errors(serializer.errors))
    return serializer.validated_data


class PurchasingErrors:
    def handle_exception(self, exc):
        if isinstance(exc, services.PurchasingError):
            exc = purchasing_error_to_api(exc)
        else:
            from movements.api import ledger_error_to_api
            from movements.services import LedgerError

            if isinstance(exc, LedgerError):
                exc = ledger_error_to_api(exc)
        return super().handle_exception(exc)


# --- supplier products ---------------------------------------------------------
class SupplierProductSerializer(ModelSerializer):
    class Meta:
        model = SupplierProduct
        fields = (
            "id",
            "supplier",
            "product",
            "supplier_code",
            "pack_size",
            "last_cost",
            "lead_time_days",
            "is_preferred",
            "updated_at",
        )
        read_only_fields = ("updated_at",)
        extra_kwargs = {"last_cost": {**MONEY, "required": False}}

    def get_validators(self):
        # The one-preferred-supplier constraint is kept by the service, which
        # unmarks the product's other preferred link (a switch, not an error).
        return [
            validator
            for validator in super().get_validators()
            if tuple(getattr(validator, "fields", ())) != ("product",)
        ]


class SupplierProductFilter(filters.FilterSet):
    supplier = IdFilter(field_name="supplier_id", help_text="Supplier id.")
    product = IdFilter(field_name="product_id", help_text="Product id.")

    class Meta:
        model = SupplierProduct
        fields = ("supplier", "product", "is_preferred")


class SupplierProductViewSet(ModelViewSet):
    """A supplier's products: their code, pack size, last cost, lead time, preferred flag.

    One preferred supplier per product; a supplier's code names one product.
    """

    api_scope = SCOPE
    queryset = SupplierProduct.objects.all()
    serializer_class = SupplierProductSerializer
    filterset_class = SupplierProductFilter
    filter_backends = (FilterBackend, StableOrderingFilter)
    ordering_fields = ("id", "updated_at")
    ordering = ("id",)
    list_fields = SupplierProductSerializer.Meta.fields

    def handle_exception(self, exc):
        if isinstance(exc, services.PurchasingError):
            exc = Conflict(exc.message, code=exc.code)
        return super().handle_exception(exc)

    def perform_create(self, serializer):
        link = SupplierProduct(**serializer.validated_data)
        serializer.instance = services.supplier_product_save(link=link)

    def perform_update(self, serializer):
        link = serializer.instance
        for name, value in serializer.validated_data.items():
            setattr(link, name, value)
        serializer.instance = services.supplier_product_save(link=link)

    def perform_destroy(self, instance):
        services.supplier_product_delete(link=instance)


# --- purchase orders -----------------------------------------------------------
class PurchaseOrderLineSerializer(ModelSerializer):
    to_receive = serializers.IntegerField(
        read_only=True, help_text="Units still expected (0 on a cancelled line)."
    )

    class Meta:
        model = PurchaseOrderLine
        fields = (
            "id",
            "product",
            "quantity",
            "unit_cost",
            "received_quantity",
            "to_receive",
            "is_cancelled",
        )
        read_only_fields = fields


def _username():
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)


class PurchaseOrderSerializer(ModelSerializer):
    number = serializers.CharField(read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    created_by = _username()
    sent_by = _username()
    received_by = _username()
    cancelled_by = _username()

    class Meta:
        model = PurchaseOrder
        fields = (
            "id",
            "number",
            "supplier",
            "state",
            "note",
            "lines",
            "created_by",
            "created_at",
            "sent_by",
            "sent_at",
            "received_by",
            "received_at",
            "cancelled_by",
            "cancelled_at",
        )
        read_only_fields = fields


class LineCreateSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    quantity = serializers.IntegerField(**QUANTITY)
    unit_cost = MoneyField(
        **MONEY,
        required=False,
        help_text="Defaults to the last cost paid to this supplier, else the product's cost.",
    )


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(
        queryset=PurchaseOrder._meta.get_field("supplier").related_model.objects.all()
    )
    note = serializers.CharField(required=False, default="", allow_blank=True)
    lines = LineCreateSerializer(many=True, allow_empty=False)


class LineRefSerializer(serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="Order line id.")


class PurchaseOrderFilter(filters.FilterSet):
    supplier = IdFilter(field_name="supplier_id", help_text="Supplier id.")

    class Meta:
        model = PurchaseOrder
        fields = ("supplier", "state")


@extend_schema(tags=["purchase-orders"])
class PurchaseOrderViewSet(PurchasingErrors, ReadCreateViewSet):
    """Purchase orders to one supplier each. Created as drafts; ``send/`` makes them receivable.

    States: draft -> sent -> partially_received -> received, or cancelled.
    Receiving is ``POST /purchase-orders/{id}/receive/``.
    """

    api_scope = SCOPE
    queryset = PurchaseOrder.objects.select_related(
        "created_by", "sent_by", "received_by", "cancelled_by"
    ).prefetch_related("lines")
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    filter_backends = (FilterBackend, StableOrderingFilter)
    ordering_fields = ("id", "created_at")
    ordering = ("-created_at",)
    error_responses = {"POST": {409: ErrorSerializer}}

    def list(self, request, *args, **kwargs):
        # Nested lines: a serializer per page, with the lines prefetched (one
        # query for the page's lines, however many orders it has).
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=PurchaseOrderCreateSerializer, responses={201: PurchaseOrderSerializer})
    def create(self, request, *args, **kwargs):
        data = _validated(PurchaseOrderCreateSerializer, request.data)
        order = services.order_create(
            supplier=data["supplier"],
            user=request.user,
            note=data["note"],
            lines=[services.LineInput(**line) for line in data["lines"]],
        )
        order = self.get_queryset().get(pk=order.pk)
        return Response(PurchaseOrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: PurchaseOrderSerializer})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send a draft: from now on it can be received and no longer edited."""
        services.order_send(order=self.get_object(), user=request.user)
        return Response(PurchaseOrderSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=None, responses={200: PurchaseOrderSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a draft or a sent order of which nothing was received."""
        services.order_cancel(order=self.get_object(), user=request.user)
        return Response(PurchaseOrderSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=LineRefSerializer, responses={200: PurchaseOrderSerializer})
    @action(detail=True, methods=["post"], url_path="cancel-line")
    def cancel_line(self, request, pk=None):
        """Cancel one line of a sent order with nothing received; the order's state follows."""
        order = self.get_object()
        data = _validated(LineRefSerializer, request.data)
        line = order.lines.filter(pk=data["line"]).first()
        if line is None:
            raise exceptions.ValidationError({"line": [_("Not a line of this order.")]})
        services.order_line_cancel(line=line, user=request.user)
        return Response(PurchaseOrderSerializer(self.get_queryset().get(pk=pk)).data)


class ReceiveLineSerializer(LineRefSerializer):
    quantity = serializers.IntegerField(**QUANTITY)
    reason = serializers.CharField(
        max_length=255,
        required=False,
        default="",
        allow_blank=True,
        help_text="Required to receive more than the line still expects.",
    )


class ReceiveSerializer(serializers.Serializer):
    lines = ReceiveLineSerializer(many=True, allow_empty=False)
    note = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True, help_text="E.g. the invoice."
    )


class ReceiptSerializer(ModelSerializer):
    class Meta:
        model = Receipt
        fields = ("id", "line", "quantity", "inflow", "over_receipt_reason", "created_at")
        read_only_fields = fields


class ReceiveResultSerializer(serializers.Serializer):
    order = PurchaseOrderSerializer()
    receipts = ReceiptSerializer(many=True)


@extend_schema(tags=["purchase-orders"])
class PurchaseOrderReceiveView(PurchasingErrors, ApiViewSetMixin, APIView):
    """Receive units of a sent order, line by line, in one transaction.

    Each quantity becomes an inflow (a purchase) at the line's cost. More
    than a line still expects needs a ``reason``. Send an Idempotency-Key
    to retry safely: the same key and body never receive twice.
    """

    api_scope = SCOPE
    # No queryset: only this permission applies (model permissions would ask
    # for add_purchaseorder, which receiving staff do not have).
    extra_permissions = {"POST": ["purchasing.receive_purchaseorder"]}

    @extend_schema(
        request=ReceiveSerializer,
        responses={201: ReceiveResultSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
        parameters=[IDEMPOTENCY_PARAMETER, REPLAYED_HEADER],
    )
    def post(self, request, pk):
        def run():
            order = get_object_or_404(PurchaseOrder.objects.all(), pk=pk)
            data = _validated(ReceiveSerializer, request.data)
            receipts = services.order_receive(
                order=order,
                user=request.user,
                note=data["note"],
                lines=[services.ReceiveInput(**line) for line in data["lines"]],
            )
            order = PurchaseOrderViewSet.queryset.get(pk=order.pk)
            body = {
                "order": PurchaseOrderSerializer(order).data,
                "receipts": ReceiptSerializer(receipts, many=True).data,
            }
            return Response(body, status=status.HTTP_201_CREATED)

        return idempotent(request, run)


# --- suggestions ---------------------------------------------------------------
class SuggestionLineSerializer(serializers.Serializer):
    product = serializers.IntegerField(source="product_id")
    serial_number = serializers.CharField()
    title = serializers.CharField()
    stock = serializers.IntegerField()
    reorder_level = serializers.IntegerField()
    on_order = serializers.IntegerField(help_text="Units on open orders (drafts included).")
    sold_30_days = serializers.IntegerField()
    lead_time_days = serializers.IntegerField()
    pack_size = serializers.IntegerField()
    supplier_code = serializers.CharField()
    unit_cost = MoneyField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField(help_text="Suggested units, whole packs.")


class SupplierSuggestionsSerializer(serializers.Serializer):
    supplier = serializers.IntegerField(
        source="supplier_id", allow_null=True, help_text="Null: no preferred supplier."
    )
    supplier_name = serializers.CharField()
    lines = SuggestionLineSerializer(many=True)


@extend_schema(tags=["purchase-orders"])
class ReorderSuggestionsView(ApiViewSetMixin, APIView):
    """Today's reorder suggestions, grouped by preferred supplier (not paginated)."""

    api_scope = SCOPE
    extra_permissions = {"GET": ["purchasing.view_purchaseorder"]}

    @extend_schema(responses={200: SupplierSuggestionsSerializer(many=True)})
    def get(self, request):
        return Response(SupplierSuggestionsSerializer(reorder_suggestions(), many=True).data)
