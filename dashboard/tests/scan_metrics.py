"""The ledger metrics as computed before the daily rollups: by scanning movements.

Kept only as the reference the rollup-based metrics are compared with
(``test_metrics_rollups.py``): same window, same day boundaries, same
figures. A verbatim copy of the reads of ``dashboard/metrics.py`` before
the rollups (what turns per-day sums into figures is shared:
``ledger_figures``), but for one change of what is listed: the low-stock
list nets out the units on order (issue 15) and shows them; and raw SQL
gets its datetimes as the ORM passes them (``_raw``).
"""

from datetime import UTC, datetime

from django.db import connection
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from catalog.models import Product
from dashboard.metrics import (
    SALE,
    TOP_PRODUCTS,
    WINDOW_DAYS,
    _as_date,
    _dec,
    _empty_day,
    _fetch,
    _line_total,
    _money,
    _window,
    ledger_figures,
    low_stock_limit,
)
from movements.models import Inflow, Outflow


def _local_day(start: datetime):
    """created_at as a local calendar day, as cheaply as the time zone allows.

    When the zone's UTC offset is the same over the whole window (no DST
    change in it, always the case for America/Sao_Paulo since 2019),
    shifting the UTC timestamp by that offset gives the local day and is much
    cheaper than converting every row with a named time zone.
    """
    tz = timezone.get_default_timezone()
    offset = start.utcoffset()
    if offset == timezone.localtime(timezone.now(), tz).utcoffset():
        shifted = ExpressionWrapper(F("created_at") + Value(offset), output_field=DateTimeField())
        return TruncDate(shifted, tzinfo=UTC)
    return TruncDate("created_at", tzinfo=tz)


def _raw(moment: datetime):
    """A datetime for raw SQL as the ORM would pass it (on SQLite: naive UTC text).

    sqlite3 alone writes an aware datetime with its offset, which then
    compares as text with the stored UTC values: wrong near midnight.
    """
    return connection.ops.adapt_datetimefield_value(moment)


def compute_ledger_series(now: datetime | None = None) -> dict[str, dict]:
    """Sales summary, daily sales and inflows vs outflows: two grouped queries.

    Outflows of the last 30 days are grouped by (day, reason) and inflows by
    day; everything else is summed in Python from those at most 60 + 30 rows.
    """
    _, start, days = _window(now)
    outflow_rows = (
        Outflow.objects.filter(created_at__gte=start)
        .annotate(day=_local_day(start))
        .values("day", "reason")
        .annotate(
            count=Count("id"),
            units=Sum("quantity"),
            revenue=Sum(_line_total("unit_price")),
            cost=Sum(_line_total("unit_cost")),
        )
        .order_by()
    )
    inflow_rows = (
        Inflow.objects.filter(created_at__gte=start)
        .annotate(day=_local_day(start))
        .values("day")
        .annotate(units=Sum("quantity"))
        .order_by()
    )
    sales = {day: _empty_day() for day in days}
    out_units = dict.fromkeys(days, 0)
    in_units = dict.fromkeys(days, 0)
    for row in outflow_rows:
        day = _as_date(row["day"])
        if day not in out_units:  # a movement dated in the future
            continue
        out_units[day] += row["units"] or 0
        if row["reason"] == SALE:
            bucket = sales[day]
            bucket["count"] += row["count"]
            bucket["units"] += row["units"] or 0
            bucket["revenue"] += _dec(row["revenue"])
            bucket["cost"] += _dec(row["cost"])
    for row in inflow_rows:
        day = _as_date(row["day"])
        if day in in_units:
            in_units[day] += row["units"] or 0

    return ledger_figures(days, sales, in_units, out_units)


def compute_top_products(now: datetime | None = None) -> dict[str, dict]:
    """The 10 products with the highest sales revenue over 30 days (one query).

    The ranking sums in floating point, which is much cheaper than exact
    decimals over hundreds of thousands of rows; the figures shown are then
    summed exactly for the ten winners only, through the product index.
    """
    _, start, _ = _window(now)
    outflows, products = Outflow._meta.db_table, Product._meta.db_table
    sql = f"""
        SELECT p.id, p.title, p.serial_number, SUM(o.quantity) AS units,
               SUM(o.quantity * o.unit_price) AS revenue,
               SUM(o.quantity * o.unit_cost) AS cost
        FROM (
            SELECT product_id
            FROM {outflows}
            WHERE reason = %s AND created_at >= %s
            GROUP BY product_id
            ORDER BY SUM(quantity * CAST(unit_price AS DOUBLE PRECISION)) DESC, product_id
            LIMIT %s
        ) t
        JOIN {products} p ON p.id = t.product_id
        JOIN {outflows} o ON o.product_id = t.product_id
        WHERE o.reason = %s AND o.created_at >= %s
        GROUP BY p.id, p.title, p.serial_number
        ORDER BY revenue DESC, p.id
    """
    start = _raw(start)
    rows = _fetch(sql, [SALE, start, TOP_PRODUCTS, SALE, start])
    return {
        "top_products": {
            "rows": [
                {
                    "id": row["id"],
                    "title": row["title"],
                    "serial_number": row["serial_number"],
                    "units": int(row["units"]),
                    "revenue": _money(row["revenue"]),
                    "profit": _money(_dec(row["revenue"]) - _dec(row["cost"])),
                }
                for row in rows
            ]
        }
    }


def compute_low_stock(now: datetime | None = None) -> dict[str, dict]:
    """Active products at or below their reorder level, fewest days of stock first.

    Days of stock left = stock / (units sold over 30 days / 30). A product
    with stock and no sales has no estimate (null) and sorts after the others.
    """
    _, start, _ = _window(now)
    limit = low_stock_limit()
    # Few products are low at a time: a per-product sum through the
    # (product, created_at) index beats aggregating every recent sale.
    # MATERIALIZED: the sum is computed once per product, not once per
    # mention in ORDER BY.
    sql = f"""
        WITH low AS MATERIALIZED (
            SELECT p.id, p.title, p.serial_number, p.quantity, p.on_order, p.reorder_level,
                   COALESCE((
                       SELECT SUM(o.quantity) FROM {Outflow._meta.db_table} o
                       WHERE o.product_id = p.id AND o.reason = %s AND o.created_at >= %s
                   ), 0) AS sold
            FROM {Product._meta.db_table} p
            WHERE p.is_active AND p.quantity + p.on_order <= p.reorder_level
        )
        SELECT * FROM low
        ORDER BY CASE WHEN quantity = 0 THEN 0.0
                      WHEN sold > 0 THEN quantity * {WINDOW_DAYS}.0 / sold
                      ELSE NULL END ASC NULLS LAST,
                 quantity, id
        LIMIT %s
    """
    rows = _fetch(sql, [SALE, _raw(start), limit])
    result = []
    for row in rows:
        sold = int(row["sold"])
        if row["quantity"] == 0:
            days_left = 0.0
        elif sold:
            days_left = round(row["quantity"] * WINDOW_DAYS / sold, 1)
        else:
            days_left = None
        result.append(
            {
                "id": row["id"],
                "title": row["title"],
                "serial_number": row["serial_number"],
                "quantity": row["quantity"],
                "on_order": row["on_order"],
                "reorder_level": row["reorder_level"],
                "sold_30d": sold,
                "avg_daily_units": round(sold / WINDOW_DAYS, 2),
                "days_left": days_left,
            }
        )
    return {"low_stock": {"rows": result, "limit": limit}}
