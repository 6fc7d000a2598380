"""XLSX writers side by side: our streaming SpreadsheetML writer against xlsxwriter.

Issue 12 keeps ``dataio.xlsx`` only if it is at least twice as fast as
xlsxwriter's ``constant_memory`` mode writing the same cells. Both writers get
the same rows (the shape of a product export: text, some of it formula-like,
money as Decimal, whole numbers, a flag, an aware datetime), the same quote
rule (``dataio.spreadsheet.quote``), a bold header, local date cells.

The runs alternate a/b/a/b, each in a forked child (its peak RSS is a
figure too), so both writers see the same load on a shared machine; the
medians of wall time and of the child's CPU time (less sensitive to other
processes than wall time) are reported with the load average around each run.
The rows are a pool cycled by index, so producing them costs next to nothing.
"""

import os
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from benchmarks._transfer_common import in_child, machine
from dataio.spreadsheet import quote

# (header, kind) as dataio.exports.export_columns gives them.
COLUMNS = [
    ("serial_number", "text"),
    ("title", "text"),
    ("brand", "text"),
    ("product_model", "text"),
    ("category", "text"),
    ("cost_price", "number"),
    ("sell_price", "number"),
    ("reorder_level", "number"),
    ("is_active", "bool"),
    ("description", "text"),
    ("quantity", "number"),
    ("created_at", "datetime"),
]
POOL = 10_007  # distinct rows, cycled
FORMULA_LIKE = ["=SUM(A1:A9)", "+1 555 0100", "-5% promo", "@cmd", "'quoted"]


def _pool() -> list[tuple]:
    start = datetime(2025, 1, 1, 9, 30, tzinfo=UTC)
    rows = []
    for i in range(POOL):
        title = f"Bench product {i}"
        if i % 100 == 0:  # 1% of titles a spreadsheet could run
            title = FORMULA_LIKE[i // 100 % len(FORMULA_LIKE)] + f" {i}"
        rows.append(
            (
                f"BX-{i:07d}",
                title,
                f"Bench brand {i % 20}",
                f"Bench model {i % 10}",
                f"Bench category {i % 20}",
                Decimal(10 + i % 90) + Decimal("0.50"),
                Decimal(20 + i % 90) + Decimal("0.99"),
                i % 5,
                i % 7 != 0,
                "" if i % 3 else f"Notes & <details> for item {i}",
                i % 250,
                start + timedelta(minutes=i),
            )
        )
    return rows


def _rows(count: int):
    pool = _pool()
    size = len(pool)
    for i in range(count):
        yield pool[i % size]


def _ours(path: Path, rows) -> int:
    """``dataio.xlsx.StreamingSheet`` driven as ``dataio.exports.write_xlsx`` drives it."""
    from dataio.xlsx import StreamingSheet

    with StreamingSheet(path, _("Export"), zone=timezone.get_default_timezone()) as sheet:
        sheet.header([header for header, _kind in COLUMNS])
        return sheet.rows(
            rows, [kind for _h, kind in COLUMNS], transform=quote, tick=lambda n: None
        )


def _xlsxwriter(path: Path, rows) -> int:
    """xlsxwriter's constant_memory mode writing the same cells."""
    import xlsxwriter

    zone = timezone.get_default_timezone()
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet(_("Export")[:31])
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for column, (header, _kind) in enumerate(COLUMNS):
        sheet.write_string(0, column, header, bold)
    kinds = list(enumerate(kind for _h, kind in COLUMNS))
    write_string, write_number = sheet.write_string, sheet.write_number
    write_boolean, write_datetime = sheet.write_boolean, sheet.write_datetime
    count = 0
    for number, row in enumerate(rows, start=1):
        for (column, kind), value in zip(kinds, row, strict=True):
            if value is None or value == "":
                continue
            if kind == "number":
                write_number(number, column, value)
            elif kind == "bool":
                write_boolean(number, column, value)
            elif kind == "datetime":
                local = value.astimezone(zone).replace(tzinfo=None)
                write_datetime(number, column, local, date_format)
            else:
                write_string(number, column, quote(value if type(value) is str else str(value)))
        count += 1
    workbook.close()
    return count


WRITERS = {"ours": _ours, "xlsxwriter": _xlsxwriter}


def _timed(name: str, rows: int, path: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    count = WRITERS[name](Path(path), _rows(rows))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    size = Path(path).stat().st_size
    Path(path).unlink()
    assert count == rows, (name, count, rows)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "file_mb": round(size / 1024 / 1024, 1)}


def _compare(rows: int, repeats: int, workdir: Path) -> dict:
    runs: dict[str, list[dict]] = {name: [] for name in WRITERS}
    for _round in range(repeats):
        for name in WRITERS:  # a, b, a, b, ...
            load = os.getloadavg()[0]
            result, rss = in_child(_timed, name, rows, str(workdir / f"{name}.xlsx"))
            result |= {"peak_rss_mb": rss, "load_1m_before": round(load, 2)}
            runs[name].append(result)
    summary = {}
    for name, results in runs.items():
        wall = statistics.median(r["wall_s"] for r in results)
        summary[name] = {
            "median_wall_s": round(wall, 2),
            "median_cpu_s": round(statistics.median(r["cpu_s"] for r in results), 2),
            "rows_per_s": round(rows / wall),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "file_mb": results[0]["file_mb"],
            "loads_1m_before": [r["load_1m_before"] for r in results],
            "wall_s_each": [round(r["wall_s"], 2) for r in results],
            "cpu_s_each": [round(r["cpu_s"], 2) for r in results],
        }
    ours, theirs = summary["ours"], summary["xlsxwriter"]
    return summary | {
        "speedup_wall": round(theirs["median_wall_s"] / ours["median_wall_s"], 2),
        "speedup_cpu": round(theirs["median_cpu_s"] / ours["median_cpu_s"], 2),
    }


def run(*, rows: int | None = None, repeats: int = 3, **_) -> dict:
    sizes = [rows] if rows else [200_000, 1_000_000]
    workdir = Path(tempfile.mkdtemp(prefix="bench-xlsx-"))
    load_start = os.getloadavg()
    results = {str(size): _compare(size, repeats, workdir) for size in sizes}
    workdir.rmdir()
    return {
        "benchmark": "xlsx",
        "columns": len(COLUMNS),
        "repeats": repeats,
        "results": results,
        "rule": "keep dataio.xlsx if speedup >= 2 (issue 12, item 4)",
        "load_avg_at_start": [round(value, 2) for value in load_start],
        **machine(),
    }
