"""seed_demo writes in batches: the ledger's invariants hold, memory does not grow with the size.

The COPY path runs on PostgreSQL only; the bulk_create path is the embedded
SQLite default's and runs on both (this file passes on SQLite with
``-m "not postgresql_only"``).
"""

import tracemalloc
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from catalog.models import Product
from movements.demo import seed_demo
from movements.models import Inflow, Outflow

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
PATHS = [
    pytest.param(True, marks=pytest.mark.postgresql_only, id="copy"),
    pytest.param(False, id="bulk_create"),
]


def _seed(**options):
    defaults = {"seed": 5, "password": "demo-pass-2024", "now": NOW}
    return seed_demo(**{**defaults, **options})


def _ledger_rows():
    """Every movement as (product, time, signed quantity, kind, id), in time order."""
    rows = [
        (product, at, quantity, "in", pk)
        for pk, product, at, quantity in Inflow.objects.values_list(
            "pk", "product_id", "created_at", "quantity"
        )
    ] + [
        (product, at, -quantity, "out", pk)
        for pk, product, at, quantity in Outflow.objects.values_list(
            "pk", "product_id", "created_at", "quantity"
        )
    ]
    return sorted(rows)


@pytest.mark.django_db
@pytest.mark.parametrize("use_copy", PATHS)
def test_seeded_ledger_keeps_its_invariants_across_batches(use_copy, capsys):
    # Batches of ~300 movements: the 60 products span several of them.
    result = _seed(products=60, movements=1500, use_copy=use_copy, batch_movements=300)
    assert (result.products, result.inflows + result.outflows) == (60, 1500)
    _assert_ledger_invariants(products=60, movements=1500, capsys=capsys)


@pytest.mark.postgresql_only  # COPY
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("connections", [1, 2, 3])
def test_outside_a_transaction_writers_commit_batches_on_their_own_connections(connections, capsys):
    result = _seed(products=60, movements=1500, batch_movements=200, copy_connections=connections)
    assert (result.products, result.inflows + result.outflows) == (60, 1500)
    _assert_ledger_invariants(products=60, movements=1500, capsys=capsys)
    # The ids came from the generator; the sequence continues after them.
    last = Product.objects.order_by("pk").last()
    after = Product.objects.create(
        title="After",
        serial_number="AFTER-1",
        product_model_id=last.product_model_id,
        category_id=last.category_id,
    )
    assert after.pk == last.pk + 1


def _assert_ledger_invariants(*, products, movements, capsys):
    assert Inflow.objects.count() + Outflow.objects.count() == movements

    stock, last_time, sold = {}, {}, {}
    for product, at, delta, kind, pk in _ledger_rows():
        # One time order per product: no two of its movements share a moment.
        assert last_time.get(product) is None or at > last_time[product]
        last_time[product] = at
        stock[product] = stock.get(product, 0) + delta
        assert stock[product] >= 0, f"product {product} below zero at {at}"
        if kind == "out":
            sold[pk] = (product, at, -delta)
        assert at < NOW
    assert dict(Product.objects.values_list("pk", "quantity")) == stock

    returns = Inflow.objects.filter(reverses__isnull=False)
    assert returns.exists()
    for inflow in returns:
        product, sold_at, quantity = sold[inflow.reverses_id]
        # A return takes back an earlier sale of the same product, all of it.
        assert (inflow.product_id, inflow.quantity, inflow.reason) == (
            product,
            quantity,
            "correction",
        )
        assert inflow.created_at > sold_at

    call_command("check_ledger")
    assert f"Ledger consistent: {products} product(s)" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize("use_copy", PATHS)
def test_batch_size_does_not_change_the_data(use_copy):
    def seed_and_snapshot(batch_movements):
        # Seeded twice into the same tables (SQLite cannot empty the
        # append-only ones): compare products by rank, movements by product rank.
        first = Product.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        _seed(products=30, movements=400, use_copy=use_copy, batch_movements=batch_movements)
        products = Product.objects.filter(pk__gt=first).order_by("pk")
        movements = [
            sorted(
                (product_id - first, at, quantity, reason)
                for product_id, at, quantity, reason in model.objects.filter(
                    product_id__gt=first
                ).values_list("product_id", "created_at", "quantity", "reason")
            )
            for model in (Inflow, Outflow)
        ]
        return list(products.values_list("title", "quantity", "sell_price")), movements

    in_one_batch = seed_and_snapshot(batch_movements=100_000)
    assert seed_and_snapshot(batch_movements=50) == in_one_batch


@pytest.mark.django_db
@pytest.mark.parametrize("use_copy", PATHS)
def test_memory_stays_flat_when_the_data_grows(use_copy):
    def peak_kib(products, movements):
        tracemalloc.start()
        try:
            _seed(products=products, movements=movements, use_copy=use_copy, batch_movements=300)
            return tracemalloc.get_traced_memory()[1] / 1024
        finally:
            tracemalloc.stop()

    peak_kib(5, 50)  # once for what the first seed loads and caches
    small = peak_kib(150, 1_500)
    large = peak_kib(750, 7_500)
    # Five times the rows, about the same peak: only a batch or two is held.
    # Holding every row until the end, as before, the peak grew with the size.
    print(f"peak KiB {small:.0f} -> {large:.0f}")
    assert large < small * 1.5, (small, large)


@pytest.mark.postgresql_only  # --reset is PostgreSQL's TRUNCATE
@pytest.mark.django_db
def test_reseeding_with_reset_leaves_a_consistent_ledger(capsys):
    # --reset empties what derives from the movements too (the daily rollups,
    # which no foreign key cascades to), or check_ledger would find the old sums.
    call_command("seed_demo", products=20, movements=300, seed=1)
    call_command("seed_demo", products=25, movements=200, seed=2, reset=True)
    capsys.readouterr()
    call_command("check_ledger")
    assert "Ledger consistent: 25 product(s)" in capsys.readouterr().out
