"""Product export: the streaming writer per format, against django-import-export and COPY TO.

Each format runs in a child process of its own (its peak RSS is the figure),
exporting the same queryset the admin's "Export" would: every product, in
the admin's order. A second pass at ``memory_rows`` (1,000,000 by default)
checks that memory stays flat as the row count grows.
"""

import tempfile
import time
from pathlib import Path

from django.db import connection

from benchmarks._transfer_common import copy_products, delete_bench_rows, in_child, machine
from catalog.models import Product
from catalog.resources import ProductResource
from dataio import exports

PREFIX = "BX-"


def _queryset():
    return Product.objects.filter(serial_number__startswith=PREFIX).order_by("title")


def _export(file_format: str, path: str) -> dict:
    started = time.perf_counter()
    count = exports.export_queryset(ProductResource(), _queryset(), file_format, Path(path))
    seconds = time.perf_counter() - started
    size = Path(path).stat().st_size
    Path(path).unlink()
    return {"rows": count, "seconds": seconds, "mb": round(size / 1024 / 1024, 1)}


def _default_path(file_format: str, rows: int) -> float:
    """django-import-export's resource.export + tablib, on a sample."""
    started = time.perf_counter()
    queryset = _queryset().select_related("product_model__brand", "category")
    dataset = ProductResource().export(queryset[:rows])
    data = dataset.export(file_format)
    assert data
    return rows / (time.perf_counter() - started)


def _copy_to(path: str) -> float:
    sql = (
        "COPY (SELECT p.serial_number, p.title, b.name, m.name, c.name, p.cost_price, "
        "p.sell_price, p.reorder_level, p.is_active, p.quantity, p.description "
        f"FROM {Product._meta.db_table} p JOIN catalog_productmodel m ON m.id = p.product_model_id "
        "JOIN catalog_brand b ON b.id = m.brand_id JOIN catalog_category c ON c.id = p.category_id "
        f"WHERE p.serial_number LIKE '{PREFIX}%%' ORDER BY p.title) TO STDOUT WITH (FORMAT csv)"
    )
    started = time.perf_counter()
    with (
        open(path, "wb") as handle,
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        for block in copy:
            handle.write(block)
    return time.perf_counter() - started


def _ensure_rows(rows: int) -> None:
    if _queryset().count() == rows:
        return
    delete_bench_rows(PREFIX)
    copy_products(PREFIX, rows)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Product._meta.db_table}")


def _measure(rows: int, workdir: Path) -> dict:
    _ensure_rows(rows)
    formats = {}
    for file_format in ("csv", "xlsx", "json"):
        result, rss = in_child(_export, file_format, str(workdir / f"export.{file_format}"))
        assert result["rows"] == rows, result
        formats[file_format] = {
            "rows": rows,
            "rows_per_s": round(rows / result["seconds"]),
            "peak_rss_mb": rss,
            "file_mb": result["mb"],
        }
    return formats


def run(*, rows: int = 100_000, memory_rows: int = 1_000_000, sample: int = 10_000, **_) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    formats = _measure(rows, workdir)
    copy_seconds = _copy_to(str(workdir / "copy.csv"))
    (workdir / "copy.csv").unlink()
    sample = min(sample, rows)
    baselines = {
        "import_export_default_rows_per_s": {
            fmt: round(_default_path(fmt, sample)) for fmt in ("csv", "xlsx", "json")
        },
        "import_export_default_measured_on_rows": sample,
        "copy_rows_per_s": round(rows / copy_seconds),
    }
    for fmt, figures in formats.items():
        figures["baselines"] = {
            "import_export_default_rows_per_s": baselines["import_export_default_rows_per_s"][fmt],
            "copy_rows_per_s": baselines["copy_rows_per_s"],
        }
    memory = {}
    if memory_rows and memory_rows > rows:
        memory = {
            fmt: {"rows": memory_rows, "peak_rss_mb": figures["peak_rss_mb"]}
            | {"rows_per_s": figures["rows_per_s"]}
            for fmt, figures in _measure(memory_rows, workdir).items()
        }
        # Leave the table at the size of the speed run for the next time.
        delete_bench_rows(PREFIX)
    workdir.rmdir()
    return {
        "benchmark": "export",
        "rows": rows,
        "rows_per_s": formats["csv"]["rows_per_s"],
        "peak_rss_mb": max(figures["peak_rss_mb"] for figures in formats.values()),
        "formats": formats,
        "memory_at_rows": memory,
        "targets": {"csv_rows_per_s": 100_000, "xlsx_rows_per_s": 25_000, "peak_rss_mb": 200},
        "baselines": baselines,
        "notes": (
            f"django-import-export's default export (resource.export + tablib) is measured "
            f"on {sample} rows; COPY TO is the same columns and joins written by PostgreSQL."
        ),
        **machine(),
    }
