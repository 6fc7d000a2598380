"""Reorder suggestions at full size (issue 15): 100,000 products, 1,000,000 movements.

Seeds the demo catalog and ledger (movements.demo, reused when present),
gives 80% of the products a preferred supplier (pack sizes 1-24, lead times
0-20 days) and puts a tenth of them on open orders, then measures, in the
same run:

- ``suggestions_s``: ``reorder_suggestions()`` (median of 3 after a warm-up),
  target at most 5 s;
- ``low_stock_s``: the baseline, reading the same products' plain low-stock
  rows (active, at or below the reorder level) with no sales, no on-order
  and no supplier columns;
- ``suggested_products`` and ``low_products``: how many rows each gave.
"""

import random
import statistics
import time

from django.db.models import F

from benchmarks._demo_data import ensure_demo_data
from catalog.models import Product, Supplier
from purchasing.models import PurchaseOrder, PurchaseOrderLine, SupplierProduct
from purchasing.selectors import reorder_suggestions


def _ensure_purchasing_data(seed: int = 15) -> None:
    if SupplierProduct.objects.exists():
        return
    rng = random.Random(seed)
    suppliers = list(Supplier.objects.values_list("pk", flat=True)) or [
        Supplier.objects.create(name="Bench supplier").pk
    ]
    product_ids = list(Product.objects.values_list("pk", flat=True))
    links = [
        SupplierProduct(
            supplier_id=rng.choice(suppliers),
            product_id=pk,
            pack_size=rng.choice((1, 1, 6, 12, 24)),
            lead_time_days=rng.randint(0, 20),
            is_preferred=True,
        )
        for pk in product_ids
        if rng.random() < 0.8
    ]
    SupplierProduct.objects.bulk_create(links, batch_size=5000)
    order = PurchaseOrder.objects.create(supplier_id=suppliers[0])
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(order=order, product_id=pk, quantity=rng.randint(1, 30))
            for pk in rng.sample(product_ids, len(product_ids) // 10)
        ],
        batch_size=5000,
    )


def _timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def _low_stock_rows():
    return list(
        Product.objects.filter(is_active=True, quantity__lte=F("reorder_level")).values_list(
            "pk", "serial_number", "title", "quantity", "reorder_level"
        )
    )


def run(*, products: int = 100_000, movements: int = 1_000_000) -> dict:
    ensure_demo_data(products=products, movements=movements)
    _ensure_purchasing_data()
    _timed(reorder_suggestions)  # warm-up
    suggestion_runs = [_timed(reorder_suggestions) for _ in range(3)]
    baseline_runs = [_timed(_low_stock_rows) for _ in range(3)]
    suggestions_s = statistics.median(t for t, _ in suggestion_runs)
    return {
        "benchmark": "purchasing_suggestions",
        "products": products,
        "movements": movements,
        "suggestions_s": round(suggestions_s, 3),
        "target_s": 5.0,
        "low_stock_s": round(statistics.median(t for t, _ in baseline_runs), 3),
        "suggested_products": sum(len(g.lines) for g in suggestion_runs[0][1]),
        "low_products": len(baseline_runs[0][1]),
        "ok": suggestions_s <= 5.0,
    }
