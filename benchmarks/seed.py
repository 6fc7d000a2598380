"""seed_demo at full size (COPY) against the ORM's bulk_create on a sample."""

import time

from django.core.management import call_command

from catalog.models import Product
from movements.demo import reset_demo_tables, seed_demo

PASSWORD = "bench-demo-pass"  # noqa: S105 - demo users of a throwaway database


def _seed(products: int, movements: int, use_copy: bool, bulk_load: bool = True) -> float:
    reset_demo_tables()
    result = seed_demo(
        products=products,
        movements=movements,
        seed=42,
        password=PASSWORD,
        use_copy=use_copy,
        bulk_load=bulk_load,
    )
    return result.seconds


def run(*, products: int = 100_000, movements: int = 1_000_000, **_) -> dict:
    # Baselines, on a tenth: the same generator written with bulk_create, and
    # COPY into tables that keep their indexes and foreign keys during the load.
    sample = max(products // 10, 1), max(movements // 10, 1)
    baseline_s = _seed(*sample, use_copy=False)
    indexed_s = _seed(*sample, use_copy=True, bulk_load=False)
    seconds = _seed(products, movements, use_copy=True)
    started = time.perf_counter()
    call_command("check_ledger", stdout=open("/dev/null", "w"))  # noqa: SIM115
    check_s = time.perf_counter() - started
    rows = products + movements
    return {
        "benchmark": "seed",
        "products": Product.objects.count(),
        "movements": movements,
        "seconds": round(seconds, 2),
        "target_s": 120,
        "rows_per_s": round(rows / seconds),
        "check_ledger_s": round(check_s, 2),
        "baselines": {
            "bulk_create_rows_per_s": round(sum(sample) / baseline_s),
            "copy_indexes_kept_rows_per_s": round(sum(sample) / indexed_s),
        },
    }
