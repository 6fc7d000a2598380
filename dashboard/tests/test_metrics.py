"""Each dashboard metric against figures computed by hand."""

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Product
from catalog.tests.factories import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductModelFactory,
)
from dashboard import metrics
from movements import services
from movements.models import Outflow

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(supplier):
    """Four products and a small ledger; the expected figures are in the tests.

    phone:  cost 10 / sell 15, +10, sells 3 (at 15), then its prices change
            to 12 / 20, sells 2 (at 20), +1 received and that inflow reversed
            (a correction outflow of 1, not a sale). Stock 5, reorder 2.
    laptop: cost 100 / sell 150, +6, sells 2. Stock 4, reorder 5 (low).
    old:    inactive, no stock, reorder 0 (not counted as low: inactive).
    empty:  active, no stock, reorder 1 (low, 0 days left).
    """
    phones, laptops = CategoryFactory(name="Phones"), CategoryFactory(name="Laptops")
    acme, zen = BrandFactory(name="Acme"), BrandFactory(name="Zen")
    acme_model = ProductModelFactory(brand=acme, name="A1")
    zen_model = ProductModelFactory(brand=zen, name="Z1")

    def product(title, category, model, cost, sell, reorder, **extra):
        return ProductFactory(
            title=title,
            category=category,
            product_model=model,
            cost_price=Decimal(cost),
            sell_price=Decimal(sell),
            reorder_level=reorder,
            **extra,
        )

    phone = product("Phone", phones, acme_model, "10.00", "15.00", 2)
    laptop = product("Laptop", laptops, zen_model, "100.00", "150.00", 5)
    old = product("Old phone", phones, zen_model, "1.00", "2.00", 0, is_active=False)
    empty = product("Empty laptop", laptops, acme_model, "50.00", "80.00", 1)

    services.inflow_create(product=phone, quantity=10, supplier=supplier)
    services.inflow_create(product=laptop, quantity=6, supplier=supplier)
    services.outflow_create(product=phone, quantity=3)
    services.outflow_create(product=laptop, quantity=2)
    # The price changes after the first sale: its revenue must stay 45.00.
    Product.objects.filter(pk=phone.pk).update(
        cost_price=Decimal("12.00"), sell_price=Decimal("20.00")
    )
    services.outflow_create(product=phone, quantity=2)
    received = services.inflow_create(product=phone, quantity=1, supplier=supplier)
    services.movement_reverse(movement=received)
    return {"phone": phone, "laptop": laptop, "old": old, "empty": empty}


def test_product_metrics_match_hand_computed_values(shop):
    product = metrics.compute()["product"]
    assert product == {
        "products": 4,
        "active_products": 3,
        "stock_units": 9,  # phone 5 + laptop 4
        "stock_value_cost": "460.00",  # 5 x 12 + 4 x 100
        "stock_value_sell": "700.00",  # 5 x 20 + 4 x 150
        "potential_profit": "240.00",
        "low_stock": 2,  # laptop (4 <= 5) and empty (0 <= 1); old is inactive
        "computed_at": product["computed_at"],
        "schema": metrics.SCHEMA,
    }


def test_sales_use_price_snapshots_and_exclude_corrections(shop):
    sales = metrics.compute()["sales"]
    expected = {
        "count": 3,  # the correction outflow is not a sale
        "units": 7,  # 3 + 2 phones, 2 laptops
        "revenue": "385.00",  # 3 x 15 (old price) + 2 x 20 (new price) + 2 x 150
        "cost": "254.00",  # 3 x 10 + 2 x 12 + 2 x 100
        "profit": "131.00",
        "margin_pct": 34.0,  # 131 / 385
    }
    assert sales["today"] == expected
    assert sales["7d"] == expected
    assert sales["30d"] == expected


def test_a_price_change_does_not_change_past_revenue(shop):
    before = metrics.compute(["sales"])["sales"]["30d"]
    phone = shop["phone"]
    Product.objects.filter(pk=phone.pk).update(
        cost_price=Decimal("1.00"), sell_price=Decimal("999.00")
    )
    after = metrics.compute(["sales"])["sales"]["30d"]
    assert after == before
    assert after["revenue"] == "385.00"


def test_flows_count_every_movement_and_daily_sales_only_sales(shop):
    documents = metrics.compute()
    flows, daily = documents["flows"], documents["daily_sales"]
    today = timezone.localdate().isoformat()
    assert flows["labels"][-1] == today == daily["labels"][-1]
    assert len(flows["labels"]) == 30
    assert flows["inflow_units"][-1] == 17  # 10 + 6 + 1
    assert flows["outflow_units"][-1] == 8  # 3 + 2 + 2 sales + 1 correction
    assert daily["units"][-1] == 7
    assert daily["count"][-1] == 3
    assert daily["revenue"][-1] == "385.00"
    assert daily["profit"][-1] == "131.00"
    assert sum(daily["units"][:-1]) == 0


def test_stock_value_by_category_and_by_brand(shop):
    documents = metrics.compute()
    assert documents["stock_by_category"]["rows"] == [
        {
            "name": "Laptops",
            "products": 2,
            "units": 4,
            "value_cost": "400.00",
            "value_sell": "600.00",
        },
        {
            "name": "Phones",
            "products": 2,
            "units": 5,
            "value_cost": "60.00",
            "value_sell": "100.00",
        },
    ]
    assert documents["stock_by_brand"]["rows"] == [
        {"name": "Zen", "products": 2, "units": 4, "value_cost": "400.00", "value_sell": "600.00"},
        {"name": "Acme", "products": 2, "units": 5, "value_cost": "60.00", "value_sell": "100.00"},
    ]


def test_top_products_by_revenue(shop):
    rows = metrics.compute()["top_products"]["rows"]
    assert [(row["title"], row["units"], row["revenue"], row["profit"]) for row in rows] == [
        ("Laptop", 2, "300.00", "100.00"),
        ("Phone", 5, "85.00", "31.00"),
    ]


def test_top_products_keeps_the_ten_best(stocked_product):
    products = [stocked_product(quantity=20, sell_price=Decimal("10.00")) for _ in range(12)]
    for units, product in enumerate(products, start=1):
        services.outflow_create(product=product, quantity=units)
    rows = metrics.compute()["top_products"]["rows"]
    assert [row["units"] for row in rows] == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    assert rows[0]["revenue"] == "120.00"


def test_low_stock_list_with_days_of_stock_left(shop, stocked_product):
    # Stock 3, reorder 4, no sales: no estimate, listed after the others.
    idle = stocked_product(quantity=3, reorder_level=4, title="Idle")
    rows = metrics.compute()["low_stock"]["rows"]
    assert [row["title"] for row in rows] == ["Empty laptop", "Laptop", "Idle"]
    empty, laptop, idle_row = rows
    assert empty["days_left"] == 0.0
    # 4 in stock, 2 sold in 30 days: 2 / 30 a day, so 60 days left.
    assert laptop["quantity"] == 4 and laptop["reorder_level"] == 5
    assert laptop["sold_30d"] == 2
    assert laptop["avg_daily_units"] == 0.07
    assert laptop["days_left"] == 60.0
    assert idle_row["id"] == idle.pk and idle_row["days_left"] is None


@pytest.mark.parametrize("zone", ["America/Sao_Paulo", "America/New_York", "UTC"])
def test_sales_windows_are_local_calendar_days(settings, stocked_product, zone):
    """Today, 7 and 30 days end at local midnights, whatever the time zone."""
    settings.TIME_ZONE = zone
    product = stocked_product(quantity=100)
    tz = timezone.get_default_timezone()
    today = timezone.localdate()

    def noon(days_ago):
        return datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=tz)

    midnight = datetime.combine(today, time.min, tzinfo=tz)
    moments = {
        1: timezone.now(),  # today
        2: midnight - timedelta(seconds=1),  # yesterday, last second
        4: noon(6),  # the oldest day of the 7
        8: noon(7),  # outside the 7 days, inside the 30
        16: noon(29),  # the oldest day of the 30
        32: noon(30),  # outside the 30 days
    }
    for units, moment in moments.items():
        # Dated movements cannot go through the service (it stamps "now");
        # sales metrics read only the outflow rows.
        Outflow.objects.create(
            product=product,
            quantity=units,
            unit_price=Decimal("10.00"),
            unit_cost=Decimal("6.00"),
            created_at=moment,
        )
    documents = metrics.compute()
    sales = documents["sales"]
    assert sales["today"]["units"] == 1
    assert sales["7d"]["units"] == 1 + 2 + 4
    assert sales["30d"]["units"] == 1 + 2 + 4 + 8 + 16
    assert sales["30d"]["revenue"] == "310.00"
    units = documents["daily_sales"]["units"]
    assert (units[-1], units[-2], units[-7], units[-8], units[0]) == (1, 2, 4, 8, 16)
    assert sum(units) == 31


def test_refresh_query_count_does_not_grow_with_data(stocked_product):
    def add(n):
        for number in range(n):
            product = stocked_product(
                quantity=5, category=CategoryFactory(name=f"Category {number % 4}")
            )
            services.outflow_create(product=product, quantity=1 + number % 3)

    add(2)
    # The day's first refresh also closes yesterday (once a day, a few
    # queries more); the count compared is the one of every other refresh.
    metrics.metrics_refresh()
    with CaptureQueriesContext(connection) as few:
        metrics.metrics_refresh()
    add(40)
    with CaptureQueriesContext(connection) as many:
        metrics.metrics_refresh()
    assert len(many) == len(few)
    assert len(few) <= 12


def test_each_key_holds_json_with_computed_at(shop):
    documents = metrics.metrics_refresh().documents
    assert set(documents) == set(metrics.METRIC_NAMES)
    assert set(metrics.CACHE_KEYS) >= {"metrics:product", "metrics:sales"}
    for name in metrics.METRIC_NAMES:
        raw = cache.get(f"metrics:{name}")
        assert isinstance(raw, str)
        document = json.loads(raw)
        assert document == documents[name]
        assert datetime.fromisoformat(document["computed_at"]) <= timezone.now()


def test_metrics_get_computes_only_what_is_missing(shop):
    metrics.metrics_refresh()
    cache.delete("metrics:low_stock")
    with CaptureQueriesContext(connection) as queries:
        found = metrics.metrics_get().documents
    sql = " ".join(query["sql"] for query in queries)
    assert "movements_inflow" not in sql  # the ledger series were cached
    assert found["low_stock"]["rows"]
    assert cache.get("metrics:low_stock") is not None
    with CaptureQueriesContext(connection) as queries:
        assert metrics.metrics_get() == (found, "cache")
    assert len(queries) == 0


def test_documents_of_another_schema_are_recomputed(shop):
    metrics.metrics_refresh()
    old = {"stock_units": 1, "computed_at": timezone.now().isoformat()}  # no "schema"
    cache.set("metrics:product", json.dumps(old))
    assert metrics.metrics_get().documents["product"]["stock_units"] == 9
    assert json.loads(cache.get("metrics:product"))["schema"] == metrics.SCHEMA


def test_metrics_get_computes_live_when_the_cache_is_down(shop, redis_down):
    found, source = metrics.metrics_get()
    assert found["sales"]["30d"]["revenue"] == "385.00"
    assert source == "live"
    documents, stored = metrics.metrics_refresh()
    assert stored is False and documents["product"]["stock_units"] == 9
