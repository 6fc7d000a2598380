"""Reads over the ledger, as SQL aggregates."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import CharField, F, Value

from catalog.models import Product
from movements.models import Inflow, Outflow


@dataclass(frozen=True)
class LedgerDifference:
    product_id: int
    serial_number: str
    recorded: int
    expected: int


# Two grouped scans and hash joins: one pass over each table, whatever the
# number of products, instead of a correlated sum per product.
_LEDGER_DIFFERENCES_SQL = f"""
    SELECT p.id, p.serial_number, p.quantity,
           COALESCE(i.total, 0) - COALESCE(o.total, 0) AS expected
    FROM {Product._meta.db_table} p
    LEFT JOIN (
        SELECT product_id, SUM(quantity) AS total
        FROM {Inflow._meta.db_table} GROUP BY product_id
    ) i ON i.product_id = p.id
    LEFT JOIN (
        SELECT product_id, SUM(quantity) AS total
        FROM {Outflow._meta.db_table} GROUP BY product_id
    ) o ON o.product_id = p.id
    WHERE p.quantity <> COALESCE(i.total, 0) - COALESCE(o.total, 0)
    ORDER BY p.id
"""


def ledger_differences() -> list[LedgerDifference]:
    """Products whose stored quantity differs from inflows minus outflows."""
    with connection.cursor() as cursor:
        cursor.execute(_LEDGER_DIFFERENCES_SQL)
        return [LedgerDifference(*row) for row in cursor.fetchall()]


def product_ledger(product_id: int, limit: int | None = None):
    """The product's movements, inflows and outflows together, newest first.

    One UNION query; each row carries ``kind`` ("inflow" or "outflow") and a
    signed ``delta`` and ``unit_value`` (unit cost of an inflow, unit price of
    an outflow).
    """
    fields = ("id", "created_at", "quantity", "reason", "note", "created_by__username")
    inflows = (
        Inflow.objects.filter(product_id=product_id)
        .order_by()  # SQLite refuses ORDER BY inside the parts of a UNION
        .annotate(
            kind=Value("inflow", output_field=CharField()),
            delta=F("quantity"),
            unit_value=F("unit_cost"),
        )
        .values(*fields, "kind", "delta", "unit_value")
    )
    outflows = (
        Outflow.objects.filter(product_id=product_id)
        .order_by()
        .annotate(
            kind=Value("outflow", output_field=CharField()),
            delta=-F("quantity"),
            unit_value=F("unit_price"),
        )
        .values(*fields, "kind", "delta", "unit_value")
    )
    ledger = inflows.union(outflows, all=True).order_by("-created_at", "-id")
    return ledger[:limit] if limit else ledger
