"""Dashboard metrics: SQL aggregates over the catalog and the ledger, cached as JSON.

Each metric lives in its own cache key (``metrics:product``, ``metrics:sales``
and one per chart), as a JSON document with its ``computed_at`` (and the
``schema`` version of its shape). The number of
queries of a refresh is fixed (about ten), whatever the number of products
or movements: every figure is an aggregate computed by the database.

Ledger figures are read from the daily rollups (``movements.DailyRollup``:
per product and local day, kept by triggers in each movement's own
transaction, today included) and, for the days that are over, from their
sums (``movements.DayTotal`` per day, ``movements.SaleWindow`` per product
over the window's closed days; see ``movements.rollups``), not from the
movements themselves; a test checks they equal the movement scan they
replaced (``dashboard/tests/scan_metrics.py``). At 1,000,000 products and
10,000,000 movements that is a few hundred rows read instead of ~3,000,000
product-days grouped.

Sales are outflows with reason ``sale`` (corrections are not sales), valued
with the price snapshots stored on each outflow (``unit_price``,
``unit_cost``), so a later price change never rewrites past revenue. Stock is
valued at the products' current cost and sell prices.

Days are calendar days in ``settings.TIME_ZONE``; "7 days" and "30 days" mean
today and the 6 (or 29) days before it.

Readers call :func:`metrics_get` (cache first, computes what is missing);
the Celery task and the refresh button call :func:`metrics_refresh`. A
cache that does not answer (Redis down) never makes either fail: the figures
are computed live and the failure is logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.models import Category, Product, ProductModel
from movements.models import DailyRollup, DayTotal, Outflow, SaleWindow
from movements.rollups import WINDOW_DAYS, close_days, closed_day

logger = logging.getLogger(__name__)

KEY_PREFIX = "metrics:"
# Bumped when a document's shape changes: a cached document of another
# version (written before a deploy) counts as missing and is recomputed.
SCHEMA = 2
TOP_PRODUCTS = 10
BREAKDOWN_LIMIT = 12
SALE = Outflow.Reason.SALE.value

# "Not read yet", where None is a value (no day closed).
UNKNOWN = object()
CENT = Decimal("0.01")
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=20, decimal_places=2)


def cache_key(name: str) -> str:
    return f"{KEY_PREFIX}{name}"


def cache_timeout() -> int | None:
    """Seconds a metric stays cached; beat rewrites it every 5 minutes anyway."""
    return settings.METRICS_CACHE_TIMEOUT


def low_stock_limit() -> int:
    return settings.METRICS_LOW_STOCK_LIMIT


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


def _fetch(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _empty_day() -> dict:
    return {"count": 0, "units": 0, "revenue": ZERO, "cost": ZERO}


def _ledger_days(first: date, today: date, closed: date | None) -> list[dict]:
    """One row per day of the window that has movements, and per open day ahead of it.

    The closed days come summed (``movements.DayTotal``, kept by the rollup
    triggers); the days after the last closed one (today, usually) are
    summed from their daily rollups (``movements.DailyRollup``, one row per
    product and local day), which also give ``top``, the day's largest sales
    revenue of one product (the top products' ceiling): one read of the
    open days' rollups serves both.
    """
    totals, rollups = DayTotal._meta.db_table, DailyRollup._meta.db_table
    names = {
        "count": "sale_count",
        "units": "sale_units",
        "revenue": "sale_revenue",
        "cost": "sale_cost",
        "out_units": "out_units",
        "in_units": "in_units",
    }
    columns = ", ".join(f"{column} AS {name}" for name, column in names.items())
    sums = ", ".join(f"SUM({column})" for column in names.values())
    opened = max(closed, first - timedelta(days=1)) if closed else first - timedelta(days=1)
    return _fetch(
        f"""
        SELECT day, {columns}, NULL AS top FROM {totals}
        WHERE day >= %(first)s AND day <= %(today)s
        UNION ALL
        SELECT day, {sums}, MAX(CASE WHEN sale_count > 0 THEN sale_revenue END)
        FROM {rollups} WHERE day > %(opened)s
        GROUP BY day
        """,
        {"first": first, "today": today, "opened": opened},
    )


def compute_ledger(now: datetime | None = None, closed=UNKNOWN) -> dict[str, dict]:
    """Sales summary, daily sales, inflows vs outflows and the top products.

    Summed in Python from at most 30 rows (:func:`_ledger_days`); the top
    products in :func:`compute_top_products`.
    """
    today, _, days = _window(now)
    if closed is UNKNOWN:
        closed = closed_day()
    rows = _ledger_days(days[0], today, closed)
    ceiling = sum(
        (_dec(row["top"]) for row in rows if closed and _as_date(row["day"]) > closed), ZERO
    )
    return {
        **_ledger_series(days, rows),
        **compute_top_products(now, closed=closed, ceiling=ceiling),
    }


def _ledger_series(days: list[date], rows: list[dict]) -> dict[str, dict]:
    sales = {day: _empty_day() for day in days}
    out_units = dict.fromkeys(days, 0)
    in_units = dict.fromkeys(days, 0)
    for row in rows:
        day = _as_date(row["day"])
        if day not in out_units:  # an open day ahead (a movement dated in the future)
            continue
        out_units[day] += int(row["out_units"] or 0)
        in_units[day] += int(row["in_units"] or 0)
        bucket = sales[day]
        bucket["count"] += int(row["count"] or 0)
        bucket["units"] += int(row["units"] or 0)
        bucket["revenue"] += _dec(row["revenue"])
        bucket["cost"] += _dec(row["cost"])
    return ledger_figures(days, sales, in_units, out_units)


def ledger_figures(days: list[date], sales: dict, in_units: dict, out_units: dict) -> dict:
    """The dashboard's ledger figures from per-day sums over the window ``days``."""
    today = days[-1]

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


def _limit_breakdown(rows: list[dict], limit: int) -> dict:
    """The largest ``limit - 1`` groups and one "Other" row for the rest."""
    if len(rows) > limit:
        head, tail = rows[: limit - 1], rows[limit - 1 :]
        other = {
            "name": "Other",
            "products": sum(row["products"] for row in tail),
            "units": sum(row["units"] for row in tail),
            "value_cost": sum(row["value_cost"] for row in tail),
            "value_sell": sum(row["value_sell"] for row in tail),
            "groups": len(tail),
        }
        rows = [*head, other]
    return {
        "rows": [
            {
                **row,
                "value_cost": _money(row["value_cost"]),
                "value_sell": _money(row["value_sell"]),
            }
            for row in rows
        ]
    }


def _add_to(groups: dict, name: str, row: dict) -> None:
    group = groups.setdefault(
        name, {"name": name, "products": 0, "units": 0, "value_cost": ZERO, "value_sell": ZERO}
    )
    group["products"] += row["products"]
    group["units"] += int(row["units"] or 0)
    group["value_cost"] += _dec(row["value_cost"])
    group["value_sell"] += _dec(row["value_sell"])


def compute_catalog(now: datetime | None = None) -> dict[str, dict]:
    """Product KPIs and stock value by category and by brand.

    One scan of the products table, grouped by (category, product model):
    at most one row per product model. The KPIs and both breakdowns are
    summed from those rows; two small queries fetch the names.
    """
    rows = list(
        Product.objects.values("category_id", "product_model_id")
        .annotate(
            products=Count("id"),
            active=Count("id", filter=Q(is_active=True)),
            units=Coalesce(Sum("quantity"), 0),
            value_cost=Sum(_line_total("cost_price")),
            value_sell=Sum(_line_total("sell_price")),
            low=Count("id", filter=Q(is_active=True, quantity__lte=F("reorder_level"))),
        )
        .order_by()
    )
    category_names = dict(
        Category.objects.filter(pk__in={row["category_id"] for row in rows}).values_list(
            "pk", "name"
        )
    )
    brand_names = dict(
        ProductModel.objects.filter(pk__in={row["product_model_id"] for row in rows}).values_list(
            "pk", "brand__name"
        )
    )
    by_category: dict[str, dict] = {}
    by_brand: dict[str, dict] = {}
    for row in rows:
        _add_to(by_category, category_names.get(row["category_id"], "?"), row)
        _add_to(by_brand, brand_names.get(row["product_model_id"], "?"), row)
    cost = sum((_dec(row["value_cost"]) for row in rows), ZERO)
    sell = sum((_dec(row["value_sell"]) for row in rows), ZERO)

    def ranked(groups: dict) -> list[dict]:
        return sorted(groups.values(), key=lambda group: (-group["value_cost"], group["name"]))

    return {
        "product": {
            "products": sum(row["products"] for row in rows),
            "active_products": sum(row["active"] for row in rows),
            "stock_units": sum(int(row["units"] or 0) for row in rows),
            "stock_value_cost": _money(cost),
            "stock_value_sell": _money(sell),
            "potential_profit": _money(sell - cost),
            "low_stock": sum(row["low"] for row in rows),
        },
        "stock_by_category": _limit_breakdown(ranked(by_category), BREAKDOWN_LIMIT),
        "stock_by_brand": _limit_breakdown(ranked(by_brand), BREAKDOWN_LIMIT),
    }


def _top_product_ids(today: date, closed: date | None, ceiling: Decimal) -> list[int] | None:
    """The 10 products with the highest sales revenue over 30 days, best first.

    When yesterday is the last closed day, a product's 30-day revenue is its
    ``SaleWindow`` row plus its rollups of the open days (today, and any day
    ahead), and only a few products can be in the top 10. ``theta``, the
    10th largest window revenue, is a floor of the 10th largest total
    (revenues are never negative); ``ceiling``, the sum over the open days
    of each day's largest rollup (read with the days' figures), is at least
    any product's revenue since.
    So a winner has a window revenue of at least ``theta - ceiling`` (an
    index range), or, only when ``ceiling`` reaches ``theta``, no window row
    and a revenue since of at least ``theta``. Each candidate's total is two
    index lookups. None when the days are not closed up to yesterday.
    """
    if closed is None or closed != today - timedelta(days=1):
        return None
    window, rollups = SaleWindow._meta.db_table, DailyRollup._meta.db_table
    bounds = _fetch(
        f"""SELECT sale_revenue AS theta FROM {window} ORDER BY sale_revenue DESC
            LIMIT 1 OFFSET {TOP_PRODUCTS - 1}""",
        {},
    )
    params = {"closed": closed, "limit": TOP_PRODUCTS}
    since = f"""SELECT product_id FROM {rollups} WHERE day > %(closed)s AND sale_count > 0
                GROUP BY product_id"""
    if not bounds:  # fewer than 10 products in the window: all compete
        candidates = f"SELECT product_id FROM {window} UNION {since}"
    else:
        # A cent of margin: SQLite sums decimals as floats.
        theta, ceiling = _dec(bounds[0]["theta"]) - CENT, ceiling + CENT
        params.update(window_floor=theta - ceiling, since_floor=theta)
        candidates = f"SELECT product_id FROM {window} WHERE sale_revenue >= %(window_floor)s"
        if ceiling >= theta:
            candidates += f" UNION {since} HAVING SUM(sale_revenue) >= %(since_floor)s"
    rows = _fetch(
        f"""
        SELECT c.product_id, COALESCE((
                   SELECT w.sale_revenue FROM {window} w WHERE w.product_id = c.product_id
               ), 0) + COALESCE((
                   SELECT SUM(r.sale_revenue) FROM {rollups} r
                   WHERE r.product_id = c.product_id AND r.day > %(closed)s
               ), 0) AS revenue
        FROM ({candidates}) c
        ORDER BY revenue DESC, c.product_id
        LIMIT %(limit)s
        """,
        params,
    )
    return [row["product_id"] for row in rows]


def compute_top_products(
    now: datetime | None = None, *, closed: date | None, ceiling: Decimal
) -> dict[str, dict]:
    """The 10 products with the highest sales revenue over 30 days.

    ``closed`` is the last closed day, ``ceiling`` the sum of the open days'
    largest sales revenue of one product (see :func:`compute_ledger`).
    Ranked through the sales window (:func:`_top_product_ids`); before the
    days are closed up to yesterday (a refresh just after midnight that did
    not get the lock, or a clock moved back in tests), by grouping the
    rollups of the 30 days instead. The figures shown are summed exactly
    for the ten winners, through the rollups' (product, day) index.
    """
    today, _, days = _window(now)
    first = days[0]
    rollups, products = DailyRollup._meta.db_table, Product._meta.db_table
    ids = _top_product_ids(today, closed, ceiling)
    if ids is None:
        # Exact decimals, like the fast path: the ranking must not depend
        # on which path ran.
        winners = f"""
            SELECT product_id
            FROM {rollups}
            WHERE day >= %(first)s AND sale_count > 0
            GROUP BY product_id
            ORDER BY SUM(sale_revenue) DESC, product_id
            LIMIT %(limit)s
        """
    else:
        if not ids:
            return {"top_products": {"rows": []}}
        # Ids read from the database a moment ago: integers, written inline.
        listed = ", ".join(str(int(pk)) for pk in ids)
        winners = f"SELECT id AS product_id FROM {products} WHERE id IN ({listed})"
    sql = f"""
        SELECT p.id, p.title, p.serial_number, SUM(r.sale_units) AS units,
               SUM(r.sale_revenue) AS revenue, SUM(r.sale_cost) AS cost
        FROM ({winners}) t
        JOIN {products} p ON p.id = t.product_id
        JOIN {rollups} r ON r.product_id = t.product_id
        WHERE r.day >= %(first)s
        GROUP BY p.id, p.title, p.serial_number
        ORDER BY revenue DESC, p.id
    """
    rows = _fetch(sql, {"first": first, "limit": TOP_PRODUCTS})
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
    """Active products that need ordering, fewest days of stock first.

    A product needs ordering when its stock plus the units on open purchase
    orders is at or below its reorder level. Days of stock left = stock /
    (units sold over 30 days / 30). A product with stock and no sales has no
    estimate (null) and sorts after the others.
    """
    _, _, days = _window(now)
    limit = low_stock_limit()
    # Products out of stock come first (0 days left, then by id), so when
    # there are at least ``limit`` of them they are the whole list: ``low``
    # then keeps no product with stock, and no sales are summed for the
    # (hundreds of thousands of) others. Otherwise each low product's sales
    # are summed through the rollups' (product, day) index. MATERIALIZED:
    # each CTE runs once.
    rollups, products = DailyRollup._meta.db_table, Product._meta.db_table
    sold = f"""COALESCE((
                       SELECT SUM(r.sale_units) FROM {rollups} r
                       WHERE r.product_id = p.id AND r.day >= %(first)s
                   ), 0)"""
    columns = f"p.id, p.title, p.serial_number, p.quantity, p.on_order, p.reorder_level, {sold}"
    # Units already on open purchase orders (``on_order``, kept by the
    # purchasing services) count as stock to come: a product they lift
    # above its reorder level needs no order and is not listed.
    needs_order = "p.is_active AND p.quantity + p.on_order <= p.reorder_level"
    # The second part's condition does not depend on the row: PostgreSQL
    # tests it once and skips the scan of the products when the products
    # out of stock already fill the list.
    sql = f"""
        WITH out_of_stock AS MATERIALIZED (
            SELECT p.id FROM {products} p
            WHERE {needs_order} AND p.quantity <= 0
            ORDER BY p.id
            LIMIT %(limit)s
        ), low AS MATERIALIZED (
            SELECT {columns} AS sold FROM {products} p
            WHERE p.id IN (SELECT id FROM out_of_stock)
            UNION ALL
            SELECT {columns} AS sold FROM {products} p
            WHERE (SELECT COUNT(*) FROM out_of_stock) < %(limit)s
              AND {needs_order} AND p.quantity > 0
        )
        SELECT * FROM low
        ORDER BY CASE WHEN quantity = 0 THEN 0.0
                      WHEN sold > 0 THEN quantity * {WINDOW_DAYS}.0 / sold
                      ELSE NULL END ASC NULLS LAST,
                 quantity, id
        LIMIT %(limit)s
    """
    rows = _fetch(sql, {"first": days[0], "limit": limit})
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


# Which computation produces which keys; a refresh runs each once.
COMPUTATIONS: list[tuple[Callable[..., dict[str, dict]], tuple[str, ...]]] = [
    (compute_catalog, ("product", "stock_by_category", "stock_by_brand")),
    (compute_ledger, ("sales", "daily_sales", "flows", "top_products")),
    (compute_low_stock, ("low_stock",)),
]
METRIC_NAMES: tuple[str, ...] = tuple(name for _, names in COMPUTATIONS for name in names)
CACHE_KEYS: tuple[str, ...] = tuple(cache_key(name) for name in METRIC_NAMES)


def compute(names=METRIC_NAMES, *, now: datetime | None = None) -> dict[str, dict]:
    """Compute the metrics ``names`` (and their siblings) from the database.

    ``now`` moves the clock, for tests; the default is the current time.
    """
    wanted = set(names)
    documents: dict[str, dict] = {}
    # Before the figures' transaction: closing yesterday (once a day) waits
    # for the movements in flight and keeps out only backdated ones.
    closed = close_days(_window(now)[0])
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # These aggregates run in a fraction of a second, but the planner
            # overestimates some of them and JIT-compiles them, which alone
            # costs ~0.5 s. Before the days are closed up to yesterday,
            # ranking the top products groups every product sold in 30 days
            # (~1,000,000 at 10 million movements): ~120 MB of hash table,
            # which at the default 4 MB spills to disk in batches. Both
            # settings end with this transaction (is_local), set in one
            # round trip.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('jit', 'off', true), set_config('work_mem', '128MB', true)"
                )
        for function, produces in COMPUTATIONS:
            if wanted.intersection(produces):
                computed_at = _now_iso()
                # The ledger needs the last closed day, which close_days read.
                extra = {"closed": closed} if function is compute_ledger else {}
                for name, document in function(now=now, **extra).items():
                    documents[name] = {**document, "computed_at": computed_at, "schema": SCHEMA}
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
            document = json.loads(value)
        except (TypeError, ValueError):
            logger.warning("Ignoring a malformed cached metric %s", cache_key(name))
            continue
        if isinstance(document, dict) and document.get("schema") == SCHEMA:
            found[name] = document
    return found


def _write(documents: dict[str, dict]) -> None:
    try:
        cache.set_many(
            {cache_key(name): json.dumps(doc) for name, doc in documents.items()},
            timeout=cache_timeout(),
        )
    except Exception as error:
        raise CacheUnavailable(str(error)) from error


class MetricsRead(NamedTuple):
    """What :func:`metrics_get` found: every document, and where it came from."""

    documents: dict[str, dict]
    # "cache": every key was cached; "computed": the missing ones were
    # computed and stored; "live": the cache did not answer, all computed.
    source: str


class MetricsRefresh(NamedTuple):
    """What :func:`metrics_refresh` computed, and whether the cache took it."""

    documents: dict[str, dict]
    stored: bool


def metrics_get() -> MetricsRead:
    """Every metric by name (``{"product": {...}, "sales": {...}, <chart>: {...}}``).

    Reads the cache; computes and stores the keys that are missing; never
    fails because the cache is down (then everything is computed live).
    """
    try:
        found = _read(METRIC_NAMES)
    except CacheUnavailable as error:
        logger.warning("Metrics cache unavailable, computing live: %s", error)
        return MetricsRead(compute(), "live")
    missing = [name for name in METRIC_NAMES if name not in found]
    if not missing:
        return MetricsRead(found, "cache")
    computed = compute(missing)
    try:
        _write(computed)
    except CacheUnavailable as error:
        logger.warning("Could not store metrics in the cache: %s", error)
        return MetricsRead({**found, **computed}, "live")
    return MetricsRead({**found, **computed}, "computed")


def metrics_refresh() -> MetricsRefresh:
    """Recompute every metric and write every key.

    If the cache does not answer the documents are still returned (``stored``
    is False), and the failure is logged.
    """
    documents = compute()
    try:
        _write(documents)
    except CacheUnavailable as error:
        logger.warning("Could not store refreshed metrics in the cache: %s", error)
        return MetricsRefresh(documents, False)
    return MetricsRefresh(documents, True)


def oldest_computed_at(metrics: dict[str, dict]) -> datetime | None:
    stamps = [
        datetime.fromisoformat(doc["computed_at"])
        for doc in metrics.values()
        if isinstance(doc, dict) and doc.get("computed_at")
    ]
    return min(stamps) if stamps else None
