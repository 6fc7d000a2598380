"""Dashboard metrics: SQL aggregates over the catalog and the ledger, cached as JSON.

Each metric lives in its own cache key (``metrics:product``, ``metrics:sales``
and one per chart), as a JSON document with its ``computed_at``. The number of
queries of a refresh is fixed (seven), whatever the number of products or
movements: every figure is an aggregate computed by the database.

Sales are outflows with reason ``sale`` (corrections are not sales), valued
with the price snapshots stored on each outflow (``unit_price``,
``unit_cost``), so a later price change never rewrites past revenue. Stock is
valued at the products' current cost and sell prices.

Days are calendar days in ``settings.TIME_ZONE``; "7 days" and "30 days" mean
today and the 6 (or 29) days before it.

Readers call :func:`get_all_metrics` (cache first, computes what is missing);
the Celery task and the refresh button call :func:`refresh_all_metrics`. A
cache that does not answer (Redis down) never makes either fail: the figures
are computed live and the failure is logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from catalog.models import Product
from movements.models import Inflow, Outflow

logger = logging.getLogger(__name__)

KEY_PREFIX = "metrics:"
WINDOW_DAYS = 30
TOP_PRODUCTS = 10
BREAKDOWN_LIMIT = 12
SALE = Outflow.Reason.SALE.value

CENT = Decimal("0.01")
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=2)


def cache_key(name: str) -> str:
    return f"{KEY_PREFIX}{name}"


def _setting(name: str, default):
    return getattr(settings, name, default)


def cache_timeout() -> int | None:
    """Seconds a metric stays cached; beat rewrites it every 5 minutes anyway."""
    return _setting("METRICS_CACHE_TIMEOUT", 24 * 60 * 60)


def low_stock_limit() -> int:
    return _setting("METRICS_LOW_STOCK_LIMIT", 20)


# --- formatting -------------------------------------------------------------


def _money(value) -> str:
    """A money amount as a JSON string with two decimals (exact, unlike a float)."""
    if value is None:
        value = ZERO
    if not isinstance(value, Decimal):
        # SQLite returns sums of decimals as floats or ints.
        value = Decimal(str(value))
    return str(value.quantize(CENT))


def _dec(value) -> Decimal:
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _margin(profit: Decimal, revenue: Decimal) -> float | None:
    if not revenue:
        return None
    return float((profit * 100 / revenue).quantize(Decimal("0.1")))


def _now_iso() -> str:
    return timezone.now().isoformat()


def _window(now: datetime | None = None) -> tuple[date, datetime, list[date]]:
    """Today (local), the start of the 30-day window and its 30 days, oldest first."""
    tz = timezone.get_default_timezone()
    now = now or timezone.now()
    today = timezone.localtime(now, tz).date()
    first = today - timedelta(days=WINDOW_DAYS - 1)
    start = datetime.combine(first, time.min, tzinfo=tz)
    return today, start, [first + timedelta(days=n) for n in range(WINDOW_DAYS)]


def _as_date(value) -> date:
    # SQLite returns TruncDate as a string.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _line_total(price_field: str) -> ExpressionWrapper:
    return ExpressionWrapper(F("quantity") * F(price_field), output_field=MONEY)


# --- computations -----------------------------------------------------------
# Each function returns {metric name: document}; documents get computed_at later.


def compute_product() -> dict[str, dict]:
    """One aggregate over the products table."""
    row = Product.objects.aggregate(
        products=Count("id"),
        active_products=Count("id", filter=Q(is_active=True)),
        stock_units=Coalesce(Sum("quantity"), 0),
        stock_value_cost=Sum(_line_total("cost_price")),
        stock_value_sell=Sum(_line_total("sell_price")),
        low_stock=Count("id", filter=Q(is_active=True, quantity__lte=F("reorder_level"))),
    )
    cost, sell = _dec(row["stock_value_cost"]), _dec(row["stock_value_sell"])
    return {
        "product": {
            "products": row["products"],
            "active_products": row["active_products"],
            "stock_units": int(row["stock_units"]),
            "stock_value_cost": _money(cost),
            "stock_value_sell": _money(sell),
            "potential_profit": _money(sell - cost),
            "low_stock": row["low_stock"],
        }
    }


def _empty_day() -> dict:
    return {"count": 0, "units": 0, "revenue": ZERO, "cost": ZERO}


def compute_ledger_series(now: datetime | None = None) -> dict[str, dict]:
    """Sales summary, daily sales and inflows vs outflows: two grouped queries.

    Outflows of the last 30 days are grouped by (day, reason) and inflows by
    day; everything else is summed in Python from those at most 60 + 30 rows.
    """
    today, start, days = _window(now)
    tz = timezone.get_default_timezone()
    outflow_rows = (
        Outflow.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
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
        .annotate(day=TruncDate("created_at", tzinfo=tz))
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

    def period(first_day: date) -> dict:
        total = _empty_day()
        for day, bucket in sales.items():
            if day >= first_day:
                for field in total:
                    total[field] += bucket[field]
        profit = total["revenue"] - total["cost"]
        return {
            "count": total["count"],
            "units": total["units"],
            "revenue": _money(total["revenue"]),
            "cost": _money(total["cost"]),
            "profit": _money(profit),
            "margin_pct": _margin(profit, total["revenue"]),
        }

    labels = [day.isoformat() for day in days]
    return {
        "sales": {
            "today": period(today),
            "7d": period(today - timedelta(days=6)),
            "30d": period(days[0]),
        },
        "daily_sales": {
            "labels": labels,
            "count": [sales[day]["count"] for day in days],
            "units": [sales[day]["units"] for day in days],
            "revenue": [_money(sales[day]["revenue"]) for day in days],
            "profit": [_money(sales[day]["revenue"] - sales[day]["cost"]) for day in days],
        },
        "flows": {
            "labels": labels,
            "inflow_units": [in_units[day] for day in days],
            "outflow_units": [out_units[day] for day in days],
        },
    }


def _breakdown(group_by: str) -> list[dict]:
    rows = (
        Product.objects.values(name=F(group_by))
        .annotate(
            products=Count("id"),
            units=Coalesce(Sum("quantity"), 0),
            value_cost=Sum(_line_total("cost_price")),
            value_sell=Sum(_line_total("sell_price")),
        )
        .order_by("-value_cost", "name")
    )
    return [
        {
            "name": row["name"],
            "products": row["products"],
            "units": int(row["units"]),
            "value_cost": _money(row["value_cost"]),
            "value_sell": _money(row["value_sell"]),
        }
        for row in rows
    ]


def _limit_breakdown(rows: list[dict], limit: int) -> dict:
    """The largest ``limit - 1`` groups and one "Other" row for the rest."""
    if len(rows) > limit:
        head, tail = rows[: limit - 1], rows[limit - 1 :]
        other = {
            "name": "Other",
            "products": sum(row["products"] for row in tail),
            "units": sum(row["units"] for row in tail),
            "value_cost": _money(sum(Decimal(row["value_cost"]) for row in tail)),
            "value_sell": _money(sum(Decimal(row["value_sell"]) for row in tail)),
            "groups": len(tail),
        }
        rows = [*head, other]
    return {"rows": rows}


def compute_stock_breakdown() -> dict[str, dict]:
    """Stock value by category and by brand: one grouped query each."""
    return {
        "stock_by_category": _limit_breakdown(_breakdown("category__name"), BREAKDOWN_LIMIT),
        "stock_by_brand": _limit_breakdown(
            _breakdown("product_model__brand__name"), BREAKDOWN_LIMIT
        ),
    }


def _fetch(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def compute_top_products(now: datetime | None = None) -> dict[str, dict]:
    """The 10 products with the highest sales revenue over 30 days (one query)."""
    _, start, _ = _window(now)
    sql = f"""
        SELECT p.id, p.title, p.serial_number, t.units, t.revenue, t.cost
        FROM (
            SELECT product_id, SUM(quantity) AS units,
                   SUM(quantity * unit_price) AS revenue,
                   SUM(quantity * unit_cost) AS cost
            FROM {Outflow._meta.db_table}
            WHERE reason = %s AND created_at >= %s
            GROUP BY product_id
            ORDER BY revenue DESC, product_id
            LIMIT %s
        ) t
        JOIN {Product._meta.db_table} p ON p.id = t.product_id
        ORDER BY t.revenue DESC, p.id
    """
    rows = _fetch(sql, [SALE, start, TOP_PRODUCTS])
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
    sql = f"""
        SELECT p.id, p.title, p.serial_number, p.quantity, p.reorder_level,
               COALESCE(s.units, 0) AS sold
        FROM {Product._meta.db_table} p
        LEFT JOIN (
            SELECT o.product_id, SUM(o.quantity) AS units
            FROM {Outflow._meta.db_table} o
            JOIN {Product._meta.db_table} lp ON lp.id = o.product_id
            WHERE o.reason = %s AND o.created_at >= %s
              AND lp.is_active AND lp.quantity <= lp.reorder_level
            GROUP BY o.product_id
        ) s ON s.product_id = p.id
        WHERE p.is_active AND p.quantity <= p.reorder_level
        ORDER BY CASE WHEN p.quantity = 0 THEN 0.0
                      WHEN s.units > 0 THEN p.quantity * {WINDOW_DAYS}.0 / s.units
                      ELSE NULL END ASC NULLS LAST,
                 p.quantity, p.id
        LIMIT %s
    """
    rows = _fetch(sql, [SALE, start, limit])
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
                "reorder_level": row["reorder_level"],
                "sold_30d": sold,
                "avg_daily_units": round(sold / WINDOW_DAYS, 2),
                "days_left": days_left,
            }
        )
    return {"low_stock": {"rows": result, "limit": limit}}


# Which computation produces which keys; a refresh runs each once.
COMPUTATIONS: list[tuple[Callable[[], dict[str, dict]], tuple[str, ...]]] = [
    (compute_product, ("product",)),
    (compute_ledger_series, ("sales", "daily_sales", "flows")),
    (compute_stock_breakdown, ("stock_by_category", "stock_by_brand")),
    (compute_top_products, ("top_products",)),
    (compute_low_stock, ("low_stock",)),
]
METRIC_NAMES: tuple[str, ...] = tuple(name for _, names in COMPUTATIONS for name in names)
CACHE_KEYS: tuple[str, ...] = tuple(cache_key(name) for name in METRIC_NAMES)


def compute(names=METRIC_NAMES) -> dict[str, dict]:
    """Compute the metrics ``names`` (and their siblings) from the database."""
    wanted = set(names)
    documents: dict[str, dict] = {}
    for function, produces in COMPUTATIONS:
        if wanted.intersection(produces):
            computed_at = _now_iso()
            for name, document in function().items():
                documents[name] = {**document, "computed_at": computed_at}
    return documents


# --- cache ------------------------------------------------------------------


class CacheUnavailable(Exception):
    """The cache backend did not answer (Redis down); figures are computed live."""


def _read(names) -> dict[str, dict]:
    try:
        raw = cache.get_many([cache_key(name) for name in names])
    except Exception as error:
        raise CacheUnavailable(str(error)) from error
    found = {}
    for name in names:
        value = raw.get(cache_key(name))
        if value is None:
            continue
        try:
            found[name] = json.loads(value)
        except (TypeError, ValueError):
            logger.warning("Ignoring a malformed cached metric %s", cache_key(name))
    return found


def _write(documents: dict[str, dict]) -> None:
    try:
        cache.set_many(
            {cache_key(name): json.dumps(doc) for name, doc in documents.items()},
            timeout=cache_timeout(),
        )
    except Exception as error:
        raise CacheUnavailable(str(error)) from error


def load_metrics() -> tuple[dict[str, dict], str]:
    """Every metric, and where it came from.

    The source is ``"cache"`` when every key was cached, ``"computed"`` when
    some were missing and have been computed and stored, ``"live"`` when the
    cache did not answer and everything was computed without it.
    """
    try:
        found = _read(METRIC_NAMES)
    except CacheUnavailable as error:
        logger.warning("Metrics cache unavailable, computing live: %s", error)
        return compute(), "live"
    missing = [name for name in METRIC_NAMES if name not in found]
    if not missing:
        return found, "cache"
    computed = compute(missing)
    try:
        _write(computed)
    except CacheUnavailable as error:
        logger.warning("Could not store metrics in the cache: %s", error)
        return {**found, **computed}, "live"
    return {**found, **computed}, "computed"


def get_all_metrics() -> dict[str, dict]:
    """Every metric by name: ``{"product": {...}, "sales": {...}, <chart>: {...}}``.

    Reads the cache; computes and stores the keys that are missing; never
    fails because the cache is down (then everything is computed live).
    """
    return load_metrics()[0]


def refresh_all_metrics() -> dict[str, dict]:
    """Recompute every metric and write every key; returns the documents.

    If the cache does not answer the documents are still returned, and the
    failure is logged.
    """
    documents = compute()
    try:
        _write(documents)
    except CacheUnavailable as error:
        logger.warning("Could not store refreshed metrics in the cache: %s", error)
    return documents


def oldest_computed_at(metrics: dict[str, dict]) -> datetime | None:
    stamps = [
        datetime.fromisoformat(doc["computed_at"])
        for doc in metrics.values()
        if isinstance(doc, dict) and doc.get("computed_at")
    ]
    return min(stamps) if stamps else None
