"""The ledger over the API: inflows and outflows (append-only) and a product's ledger.

Views validate the shape of a request and call ``movements.services``, the
same functions the admin calls; they never write stock themselves.
"""

from datetime import datetime
from decimal import Decimal

from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from catalog.api import IdFilter
from catalog.models import Product, Supplier
from movements import services
from movements.idempotency import HEADER, KEY_PATTERN, idempotent
from movements.models import Inflow, Outflow
from movements.selectors import product_ledger
from movements.services import InsufficientStock, LedgerError
from project.api.exceptions import Conflict
from project.api.fields import ModelSerializer, MoneyField, UTCDateTimeField
from project.api.schema import ConflictErrorSerializer, ErrorSerializer, OutflowConflictSerializer
from project.api.views import (
    ApiViewSetMixin,
    FilterBackend,
    ReadCreateViewSet,
    StableOrderingFilter,
    UTCDateTimeFilter,
)

MONEY = {"min_value": 0, "max_digits": 12, "decimal_places": 2}
QUANTITY = {"min_value": 1, "max_value": 2**31 - 1}

REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=[201],
    description="Present (``true``) when this is the stored answer to an earlier request "
    "with the same Idempotency-Key: nothing was written again.",
)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    pattern=KEY_PATTERN,
    description="A key of your choice (a UUID, say). Sending the same key and body again "
    "returns the first result without writing again; the same key with another body is a 422.",
)


# --- serializers -----------------------------------------------------------
MOVEMENT_FIELDS = ("id", "product", "quantity", "reason", "note", "reverses", "created_by")


def _created_by():
    # A username, as the product's ledger gives it: the API has no users
    # resource where a client could look an id up.
    return serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of the person who recorded it; null if that user was deleted.",
    )


class InflowSerializer(ModelSerializer):
    created_by = _created_by()

    class Meta:
        model = Inflow
        fields = (*MOVEMENT_FIELDS[:3], "supplier", "unit_cost", *MOVEMENT_FIELDS[3:], "created_at")
        read_only_fields = fields


class OutflowSerializer(ModelSerializer):
    created_by = _created_by()

    class Meta:
        model = Outflow
        fields = (
            *MOVEMENT_FIELDS[:3],
            "unit_price",
            "unit_cost",
            *MOVEMENT_FIELDS[3:],
            "created_at",
        )
        read_only_fields = fields


class MovementCreateSerializer(serializers.Serializer):
    # An id, not a PrimaryKeyRelatedField: the service locks the product row
    # anyway and says when it does not exist, so no query is spent here.
    product = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="Product id.")
    quantity = serializers.IntegerField(**QUANTITY)
    note = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class InflowCreateSerializer(MovementCreateSerializer):
    supplier = serializers.PrimaryKeyRelatedField(
        queryset=Supplier.objects.all(),
        required=False,
        allow_null=True,
        help_text="Required for a purchase.",
    )
    unit_cost = MoneyField(
        **MONEY, required=False, help_text="Defaults to the product's cost price."
    )
    reason = serializers.ChoiceField(choices=Inflow.Reason.choices, default=Inflow.Reason.PURCHASE)


class OutflowCreateSerializer(MovementCreateSerializer):
    unit_price = MoneyField(
        **MONEY, required=False, help_text="Defaults to the product's sell price."
    )
    reason = serializers.ChoiceField(choices=Outflow.Reason.choices, default=Outflow.Reason.SALE)


class LedgerEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["inflow", "outflow"])
    id = serializers.IntegerField(help_text="The inflow's or the outflow's id.")
    created_at = UTCDateTimeField()
    quantity = serializers.IntegerField()
    delta = serializers.IntegerField(help_text="+quantity for an inflow, -quantity for an outflow.")
    unit_value = MoneyField(
        max_digits=12, decimal_places=2, help_text="Unit cost of an inflow, unit price of a sale."
    )
    reason = serializers.ChoiceField(
        choices=sorted(set(Inflow.Reason.values) | set(Outflow.Reason.values)),
        help_text="The inflow's or the outflow's reason.",
    )
    note = serializers.CharField()
    created_by = serializers.CharField(
        allow_null=True, help_text="Username, as on inflows and outflows."
    )

    class Meta:
        ref_name = "LedgerEntry"


def _unknown_product_is_a_field_error(create, **data):
    try:
        return create(**data)
    except services.InvalidMovement as exc:
        # The service names no field only when the product does not exist.
        if exc.field is None:
            exc.field = "product"
        raise


_to_utc_text = UTCDateTimeField().to_representation


def movement_data(movement, fields: tuple[str, ...]) -> dict:
    """What the movement's ModelSerializer gives, without building one per request.

    A test checks that a created movement's body equals its detail.
    """
    data = {}
    for name in fields:
        if name == "created_by":
            data[name] = movement.created_by.username if movement.created_by_id else None
            continue
        field = movement._meta.get_field(name)
        value = getattr(movement, field.attname)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime):
            value = _to_utc_text(value)
        data[name] = value
    return data


# --- views -------------------------------------------------------------------
class MovementFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id", help_text="Product id.")
    created_after = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = UTCDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )


class InflowFilter(MovementFilter):
    supplier = IdFilter(field_name="supplier_id", help_text="Supplier id.")

    class Meta:
        model = Inflow
        fields = ("product", "supplier", "reason", "created_after", "created_before")


class OutflowFilter(MovementFilter):
    class Meta:
        model = Outflow
        fields = ("product", "reason", "created_after", "created_before")


def ledger_error_to_api(exc) -> exceptions.APIException:
    """Translate a refusal of the ledger service into an API error."""
    if isinstance(exc, InsufficientStock):
        return Conflict(
            exc.message,
            code="insufficient_stock",
            extra={
                "product": {
                    "id": exc.product.pk,
                    "serial_number": exc.product.serial_number,
                    "title": exc.product.title,
                },
                "requested": exc.requested,
                "available": exc.available,
            },
        )
    field = exc.field or "non_field_errors"
    return exceptions.ValidationError({field: [exc.message]})


class MovementViewSet(ReadCreateViewSet):
    """Movements are recorded through the ledger service; its refusals become API errors."""

    api_scope = "movements"  # API clients need movements:read / movements:write
    filter_backends = (FilterBackend, StableOrderingFilter)
    ordering_fields = ("id", "created_at", "quantity")
    ordering = ("-created_at",)
    create_serializer_class: type[serializers.Serializer]

    def get_serializer_class(self):
        if self.action == "create":
            return self.create_serializer_class
        return self.serializer_class

    def record(self, **data):
        raise NotImplementedError

    def handle_exception(self, exc):
        if isinstance(exc, LedgerError):
            exc = ledger_error_to_api(exc)
        return super().handle_exception(exc)

    def create(self, request, *args, **kwargs):
        def run():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            movement = self.record(user=request.user, **serializer.validated_data)
            data = movement_data(movement, self.serializer_class.Meta.fields)
            return Response(data, status=status.HTTP_201_CREATED)

        return idempotent(request, run)


_MOVEMENT_ERRORS = {422: ErrorSerializer}


@extend_schema(tags=["inflows"])
class InflowViewSet(MovementViewSet):
    """Inflows: units received (a purchase from a supplier, or a correction).

    Append-only: list, retrieve and create; a mistake is corrected by a new
    movement, never by editing or deleting one.
    """

    queryset = Inflow.objects.all()
    serializer_class = InflowSerializer
    create_serializer_class = InflowCreateSerializer
    filterset_class = InflowFilter
    list_fields = InflowSerializer.Meta.fields
    list_paths = {"created_by": "created_by__username"}
    error_responses = {"POST": {**_MOVEMENT_ERRORS, 409: ConflictErrorSerializer}}

    def record(self, **data):
        return _unknown_product_is_a_field_error(services.inflow_create, **data)

    @extend_schema(
        request=InflowCreateSerializer,
        responses={201: InflowSerializer},
        parameters=[IDEMPOTENCY_PARAMETER, REPLAYED_HEADER],
        examples=[
            OpenApiExample(
                "Purchase",
                value={"product": 42, "quantity": 10, "supplier": 3, "note": "NF-e 1234"},
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


@extend_schema(tags=["outflows"])
class OutflowViewSet(MovementViewSet):
    """Outflows: units taken out (a sale, or a correction).

    Append-only like inflows. An outflow above the stock is refused with 409
    naming the product, the units asked and the units available; nothing is
    written.
    """

    queryset = Outflow.objects.all()
    serializer_class = OutflowSerializer
    create_serializer_class = OutflowCreateSerializer
    filterset_class = OutflowFilter
    list_fields = OutflowSerializer.Meta.fields
    list_paths = {"created_by": "created_by__username"}
    error_responses = {"POST": {**_MOVEMENT_ERRORS, 409: OutflowConflictSerializer}}

    def record(self, **data):
        return _unknown_product_is_a_field_error(services.outflow_create, **data)

    @extend_schema(
        request=OutflowCreateSerializer,
        responses={201: OutflowSerializer},
        parameters=[IDEMPOTENCY_PARAMETER, REPLAYED_HEADER],
        examples=[
            OpenApiExample(
                "Sale", value={"product": 42, "quantity": 2, "note": "order 981"}, request_only=True
            ),
            OpenApiExample(
                "Oversell refused",
                status_codes=["409"],
                response_only=True,
                value={
                    "code": "insufficient_stock",
                    "detail": "Not enough stock of Phone X (SKU-1): 5 asked, 2 available.",
                    "product": {"id": 42, "serial_number": "SKU-1", "title": "Phone X"},
                    "requested": 5,
                    "available": 2,
                },
            ),
        ],
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


@extend_schema(tags=["products"])
class ProductMovementsView(ApiViewSetMixin, generics.ListAPIView):
    """The product's ledger: its inflows and outflows together, newest first."""

    serializer_class = LedgerEntrySerializer
    api_scope = "movements"
    queryset = Inflow.objects.none()  # for the permission: movements.view_inflow
    extra_permissions = {
        "GET": ["catalog.view_product", "movements.view_outflow"],
        "HEAD": ["catalog.view_product", "movements.view_outflow"],
    }
    lookup_field = "pk"

    def list(self, request, *args, **kwargs):
        product_id = self.kwargs["pk"]
        if not Product.objects.filter(pk=product_id).exists():
            raise NotFound()
        page = self.paginate_queryset(product_ledger(product_id))
        for row in page:
            row["created_by"] = row.pop("created_by__username")
        return self.get_paginated_response(page)
