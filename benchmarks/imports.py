"""Product import: the set-based path against django-import-export's default and COPY.

The figure is the whole import as the worker runs it, file to database: read
the CSV, every check of the preview (the Resource's widgets, foreign keys,
existing serial numbers, duplicates), then the write, in one transaction.
Measured for N new products and for an update of the same N products.
"""

import csv
import tempfile
import time
from pathlib import Path

from django.db import connection, transaction

from benchmarks._transfer_common import (
    catalog_base,
    copy_products,
    delete_bench_rows,
    in_child,
    machine,
)
from catalog.models import Product
from catalog.resources import ProductResource
from dataio import imports, registry

PREFIX = "BI-"
HEADER = [
    "serial_number",
    "title",
    "brand",
    "product_model",
    "category",
    "cost_price",
    "sell_price",
    "reorder_level",
    "is_active",
]


def _write_file(path: Path, rows: int, *, title: str, start: int = 0) -> None:
    models, categories = catalog_base()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(start, start + rows):
            brand, model, _pk = models[i % len(models)]
            writer.writerow(
                [
                    f"{PREFIX}{i:07d}",
                    f"{title} {i}",
                    brand,
                    model,
                    categories[i % len(categories)][0],
                    f"{10 + i % 90}.50",
                    f"{20 + i % 90}.99",
                    i % 5,
                    "1",
                ]
            )


def _import(path: str) -> dict:
    transfer = registry.get("catalog.product")
    started = time.perf_counter()
    with transaction.atomic():
        checker = imports.check_file(transfer, Path(path), "csv", lock=True)
        result = checker.result
        assert not result.invalid, result.errors[:3]
        checker.write(user=None)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": result.total,
        "new": result.new,
        "updated": result.updated,
    }


def _default_path(rows: int) -> float:
    """django-import-export's own import_data (row by row), rolled back."""
    import tablib

    models, categories = catalog_base()
    data = tablib.Dataset(headers=HEADER)
    for i in range(rows):
        brand, model, _pk = models[i % len(models)]
        data.append(
            [
                f"BD-{i:07d}",
                f"Default {i}",
                brand,
                model,
                categories[i % len(categories)][0],
                "10.50",
                "20.99",
                1,
                "1",
            ]
        )
    started = time.perf_counter()
    with transaction.atomic():
        result = ProductResource().import_data(data, dry_run=False, raise_errors=True)
        assert result.totals["new"] == rows
        transaction.set_rollback(True)
    return rows / (time.perf_counter() - started)


def _copy_baseline(rows: int) -> float:
    with transaction.atomic():
        seconds = copy_products("BC-", rows)
        transaction.set_rollback(True)
    return rows / seconds


def run(*, rows: int = 100_000, sample: int = 2_000, **_) -> dict:
    catalog_base()
    delete_bench_rows(PREFIX)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Product._meta.db_table}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    new_file = workdir / "new.csv"
    update_file = workdir / "update.csv"
    _write_file(new_file, rows, title="Imported")
    _write_file(update_file, rows, title="Updated")

    new, new_rss = in_child(_import, str(new_file))
    assert new["new"] == rows, new
    updated, update_rss = in_child(_import, str(update_file))
    assert updated["updated"] == rows, updated

    default_rate = _default_path(sample)
    copy_rate = _copy_baseline(rows)
    delete_bench_rows(PREFIX)
    for path in (new_file, update_file):
        path.unlink()
    workdir.rmdir()
    return {
        "benchmark": "import",
        "rows": rows,
        "rows_per_s": round(rows / new["seconds"]),
        "peak_rss_mb": new_rss,
        "update": {
            "rows": rows,
            "rows_per_s": round(rows / updated["seconds"]),
            "peak_rss_mb": update_rss,
        },
        "targets": {"new_rows_per_s": 20_000, "update_rows_per_s": 10_000},
        "baselines": {
            "import_export_default_rows_per_s": round(default_rate),
            "import_export_default_measured_on_rows": sample,
            "copy_rows_per_s": round(copy_rate),
        },
        "notes": (
            "rows_per_s = read CSV + every preview check + write (COPY / UPDATE FROM) in "
            f"one transaction. The django-import-export baseline is measured on {sample} "
            "rows (it is row by row and slow), the COPY baseline on all rows (no checks)."
        ),
        **machine(),
    }
