"""The metrics read from the daily rollups give exactly the figures the movement scan gave."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard import metrics
from dashboard.tests import scan_metrics
from movements import rollups, services
from movements.models import Inflow, Outflow

pytestmark = pytest.mark.django_db

LEDGER_METRICS = ("sales", "daily_sales", "flows", "top_products", "low_stock")


def _scan(now):
    documents = {}
    for function in (
        scan_metrics.compute_ledger_series,
        scan_metrics.compute_top_products,
        scan_metrics.compute_low_stock,
    ):
        documents.update(function(now=now))
    return documents


def _varied_ledger(stocked_product, supplier, seed: int) -> None:
    """Movements over 35 days (and one day ahead), many at local midnight, with reversals."""
    rng = random.Random(seed)
    products = [
        stocked_product(
            quantity=rng.randint(0, 40),
            reorder_level=rng.randint(0, 30),
            cost_price=Decimal(rng.randint(100, 9000)) / 100,
            sell_price=Decimal(rng.randint(9000, 20000)) / 100,
            title=f"Product {number}",
        )
        for number in range(14)
    ]
    tz = timezone.get_default_timezone()
    today = timezone.localdate()

    def moment() -> datetime:
        day = today - timedelta(days=rng.randint(-1, 34))
        midnight = datetime.combine(day, time.min, tzinfo=tz)
        # Half of them within a second of a local midnight: the day boundary.
        if rng.random() < 0.5:
            return midnight + timedelta(seconds=rng.choice([-1, 0, 1]))
        return midnight + timedelta(seconds=rng.randint(0, 86399))

    for _ in range(160):
        product = rng.choice(products)
        quantity = rng.randint(1, 9)
        price = Decimal(rng.randint(1, 30000)) / 100
        if rng.random() < 0.65:
            Outflow.objects.create(
                product=product,
                quantity=quantity,
                unit_price=price,
                unit_cost=price * Decimal("0.6"),
                reason=rng.choice(["sale", "sale", "sale", "correction"]),
                created_at=moment(),
            )
        else:
            purchase = rng.random() < 0.7
            Inflow.objects.create(
                product=product,
                quantity=quantity,
                unit_cost=price,
                reason="purchase" if purchase else "correction",
                supplier=supplier if purchase else None,
                created_at=moment(),
            )
    # Today's movements through the ledger service, and reversals of both kinds.
    for product in products[:6]:
        services.inflow_create(product=product, quantity=20, supplier=supplier)
        sale = services.outflow_create(product=product, quantity=3)
        services.movement_reverse(movement=sale)
        services.outflow_create(product=product, quantity=2, unit_price=Decimal("12.34"))
    received = services.inflow_create(product=products[7], quantity=5, supplier=supplier)
    services.movement_reverse(movement=received)


@pytest.mark.parametrize(
    ("zone", "seed"),
    [
        ("America/Sao_Paulo", 1),
        ("America/Sao_Paulo", 2),
        ("America/New_York", 3),  # a DST change falls in the 30-day window
        ("Asia/Kolkata", 4),  # half-hour offset
        ("UTC", 5),
    ],
)
def test_rollup_metrics_equal_the_movement_scan(settings, stocked_product, supplier, zone, seed):
    settings.TIME_ZONE = zone
    _varied_ledger(stocked_product, supplier, seed)
    now = timezone.now()
    from_rollups = metrics.compute(LEDGER_METRICS, now=now)
    from_movements = _scan(now)
    for name in LEDGER_METRICS:
        rolled = {k: v for k, v in from_rollups[name].items() if k not in ("computed_at", "schema")}
        assert rolled == from_movements[name], name
    # Not vacuous: there are sales on several days and ten ranked products.
    assert sum(1 for units in from_movements["daily_sales"]["units"] if units) > 10
    assert len(from_movements["top_products"]["rows"]) == 10
    assert from_movements["sales"]["30d"]["count"] > 50


@pytest.mark.parametrize(
    "days_later",
    [
        1,  # yesterday closes: the window moves by a day
        3,
        45,  # the window is summed anew
        -2,  # a clock moved back: days ahead are closed, the rollups are grouped
    ],
)
def test_metrics_equal_the_scan_when_days_close(stocked_product, supplier, days_later):
    """close_days moves the closed days' tables; the figures still equal the scan."""
    _varied_ledger(stocked_product, supplier, 7)
    now = timezone.now() + timedelta(days=days_later)
    from_rollups = metrics.compute(LEDGER_METRICS, now=now)
    from_movements = _scan(now)
    for name in LEDGER_METRICS:
        rolled = {k: v for k, v in from_rollups[name].items() if k not in ("computed_at", "schema")}
        assert rolled == from_movements[name], name
    assert rollups.totals_differences() == []
    if days_later < 45:
        assert len(from_movements["top_products"]["rows"]) == 10


def test_top_products_rank_the_same_on_both_paths(stocked_product, supplier):
    """The sales window's ranking (days closed up to yesterday) equals grouping the rollups."""
    _varied_ledger(stocked_product, supplier, 8)
    # Closed explicitly: a transactional test before this one may have
    # emptied the day totals the migration filled.
    closed = rollups.close_days(timezone.localdate())
    assert closed == timezone.localdate() - timedelta(days=1)
    ledger = metrics.compute_ledger()
    grouped = metrics.compute_top_products(closed=None, ceiling=Decimal(0))
    assert ledger["top_products"] == grouped["top_products"]
    assert len(grouped["top_products"]["rows"]) == 10


def test_refresh_reads_rollups_not_movements(stocked_product):
    product = stocked_product(quantity=5)
    services.outflow_create(product=product, quantity=2)
    # Closing a day locks the movement tables (once a day): not a read of them.
    rollups.close_days(timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        documents = metrics.compute()
    assert documents["sales"]["today"]["units"] == 2
    sql = " ".join(query["sql"] for query in queries)
    assert "movements_outflow" not in sql
    assert "movements_inflow" not in sql


@pytest.mark.parametrize("limit", [2, 4, 5, 50])
def test_low_stock_equals_the_scan_whether_out_of_stock_products_fill_the_list(
    settings, stocked_product, limit
):
    """Four products out of stock come first; past them, the fewest days of stock left."""
    settings.METRICS_LOW_STOCK_LIMIT = limit
    for number in range(4):
        stocked_product(quantity=0, reorder_level=number + 1, title=f"Gone {number}")
    for number in range(6):
        product = stocked_product(quantity=10 + number, reorder_level=30, title=f"Low {number}")
        services.outflow_create(product=product, quantity=1 + number % 3)
    stocked_product(quantity=3, reorder_level=5, title="Idle")  # low, no sales
    stocked_product(quantity=0, reorder_level=0, is_active=False, title="Inactive")
    now = timezone.now()
    expected = scan_metrics.compute_low_stock(now=now)["low_stock"]
    assert metrics.compute_low_stock(now=now)["low_stock"] == expected
    assert len(expected["rows"]) == min(limit, 11)
