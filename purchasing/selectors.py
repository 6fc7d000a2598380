"""Purchasing reads that aggregate: what is on order, and the reorder suggestions.

Both are SQL aggregates: one query however many products there are.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from catalog.models import Product
from movements.models import DailyRollup
from project import timezones
from purchasing.models import PurchaseOrder, PurchaseOrderLine

SALES_WINDOW_DAYS = 30


def open_lines() -> QuerySet[PurchaseOrderLine]:
    """Lines still expecting units: not cancelled, not fully received, on an open order.

    Drafts count: a draft made from today's suggestions must not be suggested again.
    """
    return PurchaseOrderLine.objects.filter(
        is_cancelled=False,
        received_quantity__lt=F("quantity"),
        order__state__in=PurchaseOrder.OPEN_STATES,
    )


def on_order_subquery(product_ref: str = "pk") -> Coalesce:
    """Units on open orders of the outer query's product, as a correlated subquery."""
    units = (
        open_lines()
        .filter(product_id=OuterRef(product_ref))
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("received_quantity")))
        .values("units")
    )
    return Coalesce(Subquery(units, output_field=IntegerField()), Value(0))


def on_order_by_product(product_ids: Iterable[int]) -> dict[int, int]:
    """Units on open orders per product (products with none are left out)."""
    rows = (
        open_lines()
        .filter(product_id__in=list(product_ids))
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("received_quantity")))
    )
    return {row["product_id"]: row["units"] for row in rows}


@dataclass(frozen=True)
class SuggestionLine:
    product_id: int
    serial_number: str
    title: str
    stock: int
    reorder_level: int
    on_order: int
    sold_30_days: int
    lead_time_days: int
    pack_size: int
    supplier_code: str
    unit_cost: Decimal
    quantity: int

    @property
    def average_daily_sales(self) -> Decimal:
        return (Decimal(self.sold_30_days) / SALES_WINDOW_DAYS).quantize(Decimal("0.01"))


@dataclass
class SupplierSuggestions:
    supplier_id: int | None  # None: products with no preferred supplier
    supplier_name: str
    lines: list[SuggestionLine] = field(default_factory=list)

    @property
    def total_cost(self) -> Decimal:
        return sum((line.unit_cost * line.quantity for line in self.lines), Decimal("0.00"))


def suggested_quantity(
    *, reorder_level: int, stock: int, on_order: int, sold: int, lead_time_days: int, pack_size: int
) -> int:
    """Units to order: up to reorder level + lead time x average daily sales, in whole packs.

    Integer arithmetic on thirtieths, so no rounding error decides a pack.
    """
    target_30ths = reorder_level * SALES_WINDOW_DAYS + lead_time_days * sold
    missing_30ths = target_30ths - (stock + on_order) * SALES_WINDOW_DAYS
    if missing_30ths <= 0:
        return 0
    units = -(-missing_30ths // SALES_WINDOW_DAYS)  # ceiling
    pack = max(pack_size, 1)
    return -(-units // pack) * pack


def reorder_suggestions(
    *, supplier_ids: Iterable[int] | None = None, today: date | None = None
) -> list[SupplierSuggestions]:
    """What to order, grouped by preferred supplier (one query).

    For each active product at or below its reorder level: reorder level +
    lead time x average daily sales of the last 30 days (from the daily
    rollups) - stock - units on open orders (``Product.on_order``), rounded up to the preferred
    supplier's pack size. Products with nothing to order are left out;
    products with no preferred supplier form a group of their own.
    """
    today = today or timezones.shop_today()  # the rollups count the shop's days
    since = today - timedelta(days=SALES_WINDOW_DAYS - 1)
    sold = (
        DailyRollup.objects.filter(product_id=OuterRef("pk"), day__gte=since, day__lte=today)
        .values("product_id")
        .annotate(units=Sum("sale_units"))
        .values("units")
    )
    products = (
        Product.objects.filter(is_active=True, quantity__lte=F("reorder_level"))
        .annotate(
            preferred=FilteredRelation(
                "supplier_links", condition=Q(supplier_links__is_preferred=True)
            ),
            sold=Coalesce(Subquery(sold, output_field=IntegerField()), Value(0)),
        )
        .order_by("preferred__supplier__name", "title", "pk")
    )
    if supplier_ids is not None:
        products = products.filter(preferred__supplier_id__in=list(supplier_ids))
    rows = products.values_list(
        "pk",
        "serial_number",
        "title",
        "quantity",
        "reorder_level",
        "cost_price",
        "sold",
        "on_order",
        "preferred__supplier_id",
        "preferred__supplier__name",
        "preferred__pack_size",
        "preferred__lead_time_days",
        "preferred__last_cost",
        "preferred__supplier_code",
    )
    groups: dict[int | None, SupplierSuggestions] = {}
    for (
        pk,
        serial,
        title,
        stock,
        reorder_level,
        cost_price,
        sold_units,
        on_order,
        supplier_id,
        supplier_name,
        pack_size,
        lead_time,
        last_cost,
        supplier_code,
    ) in rows:
        pack_size = pack_size or 1
        lead_time = lead_time or 0
        quantity = suggested_quantity(
            reorder_level=reorder_level,
            stock=stock,
            on_order=on_order,
            sold=sold_units,
            lead_time_days=lead_time,
            pack_size=pack_size,
        )
        if quantity <= 0:
            continue
        group = groups.get(supplier_id)
        if group is None:
            group = groups[supplier_id] = SupplierSuggestions(supplier_id, supplier_name or "")
        group.lines.append(
            SuggestionLine(
                product_id=pk,
                serial_number=serial,
                title=title,
                stock=stock,
                reorder_level=reorder_level,
                on_order=on_order,
                sold_30_days=sold_units,
                lead_time_days=lead_time,
                pack_size=pack_size,
                supplier_code=supplier_code or "",
                unit_cost=cost_price if last_cost is None else last_cost,
                quantity=quantity,
            )
        )
    # Suppliers by name, the products with no preferred supplier last.
    return sorted(groups.values(), key=lambda g: (g.supplier_id is None, g.supplier_name.lower()))
