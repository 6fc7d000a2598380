"""Product import: the set-based path against django-import-export's default and COPY.

The figure is the whole import as the worker runs it, file to database: read
the CSV, every check of the preview (the Resource's widgets, foreign keys,
existing serial numbers, duplicates), then the write, in one transaction.
Measured for N new products and for an update of the same N products, with
the peak memory of the process that ran it; ``--rows 1000000`` is the streaming
import's target (<= 60 s, <= 400 MB). With ``IMPORT_BENCH_BEFORE`` naming a git
worktree of the code before streaming imports, that code runs first, at a size
it accepts (100,000 rows), and both figures print in one JSON line.
``time_product_import`` is the entry point for other benchmarks.
"""

import csv
import functools
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from django.db import connection, connections, transaction

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
SCALE_PREFIX = "BIS-"
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


def _write_file(path: Path, rows: int, *, title: str, start: int = 0, prefix=PREFIX) -> None:
    models, categories = catalog_base()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(start, start + rows):
            brand, model, _pk = models[i % len(models)]
            writer.writerow(
                [
                    f"{prefix}{i:07d}",
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


def _import(path: str, file_format: str = "csv", *, keep: bool = True) -> dict:
    """The import as the worker's confirm runs it: check, stage and write, one transaction.

    ``keep=False`` rolls the transaction back once the rows are written (and
    timed): the database is left as it was, with nothing to delete.
    """
    transfer = registry.get("catalog.product")
    started = time.perf_counter()
    cpu = time.process_time()
    with transaction.atomic():
        checker = imports.check_file(transfer, Path(path), file_format, lock=True)
        try:
            result = checker.result
            assert not result.invalid, result.errors[:3]
            checker.write(user=None)
        finally:
            checker.close()
        seconds = time.perf_counter() - started
        transaction.set_rollback(not keep)
    return {
        "seconds": seconds,
        # This process's CPU time (the database's is not in it): less
        # sensitive than wall time to the other work on a shared machine.
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "rows": result.total,
        "new": result.new,
        "updated": result.updated,
    }


def _write_xlsx(path: Path, rows: int, *, title: str, prefix=PREFIX) -> None:
    import xlsxwriter

    models, categories = catalog_base()
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADER)
    for i in range(rows):
        brand, model, _pk = models[i % len(models)]
        sheet.write_row(
            i + 1,
            0,
            [
                f"{prefix}{i:07d}",
                f"{title} {i}",
                brand,
                model,
                categories[i % len(categories)][0],
                10.5 + i % 90,
                20.99 + i % 90,
                i % 5,
                1,
            ],
        )
    workbook.close()


def time_product_import(rows: int = 1_000_000, file_format: str = "csv") -> dict:
    """Time an import of ``rows`` new products, the file built first.

    For other benchmarks (the scale benchmark): the import runs in a forked
    child, so ``peak_rss_mb`` is that process's peak resident memory (the
    Django process it forks from included). Its transaction is rolled back
    after the write: a seeded database stays as it was (the time is every
    check, the staging and the INSERT, not the COMMIT). ``file_format`` is
    "csv" or "xlsx".
    """
    catalog_base()
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    path = workdir / f"new.{file_format}"
    try:
        # Serial numbers of their own, new whatever the database holds.
        if file_format == "xlsx":
            _write_xlsx(path, rows, title="Imported", prefix=SCALE_PREFIX)
        else:
            _write_file(path, rows, title="Imported", prefix=SCALE_PREFIX)
        done, peak = in_child(functools.partial(_import, keep=False), str(path), file_format)
        assert done["new"] == rows, done
    finally:
        path.unlink(missing_ok=True)
        workdir.rmdir()
    return {
        "rows": rows,
        "format": file_format,
        "seconds": round(done["seconds"], 1),
        "cpu_seconds": done["cpu_seconds"],
        "rows_per_s": round(rows / done["seconds"]),
        "peak_rss_mb": peak,
        "targets": {"seconds": 60, "peak_rss_mb": 400} if rows == 1_000_000 else {},
    }


def _before(rows: int) -> dict | None:
    """The same benchmark run by the code before streaming imports, in a git worktree.

    ``IMPORT_BENCH_BEFORE`` names the worktree (``git worktree add <dir> <commit>``
    with ``<dir>/.venv`` linked to this checkout's); same database, same sitting.
    """
    tree = os.environ.get("IMPORT_BENCH_BEFORE")
    if not tree:
        return None
    connections.close_all()
    # Our own interpreter and a fixed module name, in a directory the operator named.
    done = subprocess.run(  # noqa: S603
        [f"{tree}/.venv/bin/python", "-m", "benchmarks", "import", "--rows", str(rows)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    commit = subprocess.run(  # noqa: S603
        ["git", "-C", tree, "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "commit": commit,
        "rows": figures["rows"],
        "seconds": round(figures["rows"] / figures["rows_per_s"], 1),
        "rows_per_s": figures["rows_per_s"],
        "peak_rss_mb": figures["peak_rss_mb"],
        "update": figures["update"],
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
    # The code before streaming imports refuses more than 200,000 rows: it
    # is compared at 100,000 rows, and so are we, in the same run.
    compared = min(rows, 100_000)
    before = _before(compared)
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    new_file = workdir / "new.csv"
    update_file = workdir / "update.csv"
    _write_file(new_file, rows, title="Imported")
    _write_file(update_file, rows, title="Updated")

    new, new_rss = in_child(_import, str(new_file))
    assert new["new"] == rows, new
    updated, update_rss = in_child(_import, str(update_file))
    assert updated["updated"] == rows, updated
    delete_bench_rows(PREFIX)
    ours_compared = None
    if compared != rows:
        _write_file(new_file, compared, title="Imported")
        ours_compared, compared_rss = in_child(_import, str(new_file))
        ours_compared = {
            "rows": compared,
            "seconds": round(ours_compared["seconds"], 1),
            "rows_per_s": round(compared / ours_compared["seconds"]),
            "peak_rss_mb": compared_rss,
        }
        delete_bench_rows(PREFIX)

    default_rate = _default_path(sample)
    copy_rate = _copy_baseline(compared)
    for path in (new_file, update_file):
        path.unlink()
    workdir.rmdir()
    return {
        "benchmark": "import",
        "rows": rows,
        "format": "csv",
        "seconds": round(new["seconds"], 1),
        "rows_per_s": round(rows / new["seconds"]),
        "peak_rss_mb": new_rss,
        "update": {
            "rows": rows,
            "seconds": round(updated["seconds"], 1),
            "rows_per_s": round(rows / updated["seconds"]),
            "peak_rss_mb": update_rss,
        },
        "targets": {
            "new_rows_per_s": 20_000,
            "update_rows_per_s": 10_000,
            "million_rows_seconds": 60,
            "million_rows_peak_rss_mb": 400,
        },
        "ours_at_compared_size": ours_compared,
        "before": before,
        "baselines": {
            "import_export_default_rows_per_s": round(default_rate),
            "import_export_default_measured_on_rows": sample,
            "copy_rows_per_s": round(copy_rate),
            "copy_measured_on_rows": compared,
        },
        "notes": (
            "seconds / rows_per_s = read CSV + every preview check + stage + write in one "
            "transaction; peak_rss_mb = peak resident memory of the forked process that ran "
            "the import. 'before' is the code before streaming imports (IMPORT_BENCH_BEFORE, "
            f"a git worktree), at {compared} rows, run first in this same sitting. The "
            f"django-import-export baseline is measured on {sample} rows (it is row by row "
            "and slow), the COPY baseline on the compared size (no checks)."
        ),
        **machine(),
    }
