"""Issue 13's table: every path at 1,000,000 products / 10,000,000 movements, and at a tenth.

``make bench BENCH=scale`` seeds two databases once (``seed_demo``) and reuses
them while they hold the data (products counted exactly, movements at least):

- ``BENCH_SCALE_DATABASE`` (default ``inventory_scale``): 1,000,000 products
  and 10,000,000 movements, the table's size;
- ``BENCH_SCALE_SMALL_DATABASE`` (default ``inventory_scale_small``): 100,000
  and 1,000,000, the first wave's size, so that each figure's growth shows.

Each database is created and migrated when missing, on the server of
``DATABASE_URL``, and measured by a child process of its own (``python -m
benchmarks.scale measure``) pointed at it. Per database:

- ``seed_demo_s`` / ``seed_demo_peak_rss_mb``: ``manage.py seed_demo --reset``
  in a grandchild, its wall time and peak resident memory (``wait4``). When the
  database is reused, the figure is the last one measured there, kept in
  ``var/bench/seed-<database>.json``; ``seed_source`` says which;
- ``dashboard_refresh_s``: the metrics refresh as ``bench dashboard`` times it
  (median of 3 after a warm-up);
- the six admin pages of ``benchmarks.admin_lists`` (median of 3);
- ``product_import_s`` / ``product_import_peak_rss_mb``: an import of as many
  new products as the database has (1,000,000 at full size), through
  ``benchmarks.imports.time_product_import``, rows deleted after;
- ``api_outflow_create_rps``: ``POST /api/v1/outflows/`` under wrk, as ``bench api``.

The result is one JSON line: per figure its value at full size, its target,
whether it is met, the value at a tenth and the growth factor. A figure that
cannot be measured here (no import entry point, no wrk) is reported as
"not available" with the reason, never left out.
"""

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
FULL = (1_000_000, 10_000_000)

# figure -> (comparison, target), issue 13's table
TARGETS = {
    "dashboard_refresh_s": ("<=", 1.0),
    "seed_demo_s": ("<=", 240),
    "seed_demo_peak_rss_mb": ("<=", 1024),
    "admin_product_list_ms": ("<=", 150),
    "admin_product_search_word_ms": ("<=", 150),
    "admin_product_search_sku_ms": ("<=", 50),
    "admin_product_page_5000_ms": ("<=", 300),
    "admin_outflow_list_ms": ("<=", 150),
    "admin_outflow_search_sku_ms": ("<=", 200),
    "product_import_s": ("<=", 60),
    "product_import_peak_rss_mb": ("<=", 400),
    "api_outflow_create_rps": (">=", 1000),
}
# benchmarks.admin_lists' names -> ours
ADMIN_PAGES = {
    "product_list_ms": "admin_product_list_ms",
    "product_search_word_ms": "admin_product_search_word_ms",
    "product_search_sku_ms": "admin_product_search_sku_ms",
    "product_page_5000_ms": "admin_product_page_5000_ms",
    "outflow_list_ms": "admin_outflow_list_ms",
    "outflow_search_sku_ms": "admin_outflow_search_sku_ms",
}
NOT_AVAILABLE = "not available"


def run(
    *,
    products: int = FULL[0],
    movements: int = FULL[1],
    api_seconds: int = 10,
    **_,
) -> dict:
    """Measure both databases (the small one first: it is quicker) and combine."""
    large_db = os.environ.get("BENCH_SCALE_DATABASE", "inventory_scale")
    small_db = os.environ.get("BENCH_SCALE_SMALL_DATABASE", "inventory_scale_small")
    small_size = (max(products // 10, 1), max(movements // 10, 1))
    small = _measure_in_child(small_db, *small_size, api_seconds=api_seconds)
    large = _measure_in_child(large_db, products, movements, api_seconds=api_seconds)
    return combine(large, small)


def combine(large: dict, small: dict) -> dict:
    """One result: each figure at full size with its target, and at a tenth for the growth."""
    figures = {}
    for name, (comparison, target) in TARGETS.items():
        value, before = large["figures"][name], small["figures"][name]
        numeric = isinstance(value, int | float)
        met = None
        if numeric:
            met = value <= target if comparison == "<=" else value >= target
        growth = None
        if numeric and isinstance(before, int | float) and before:
            growth = round(value / before, 1)
        figures[name] = {
            "value": value,
            "target": f"{comparison} {target}",
            "met": met,
            "at_tenth": before,
            "growth": growth,
        }
    return {
        "benchmark": "scale",
        "sizes": {"full": large["size"], "tenth": small["size"]},
        "figures": figures,
        "all_met": all(figure["met"] for figure in figures.values()),
        "notes": {"full": large["notes"], "tenth": small["notes"]},
    }


def database_url(name: str) -> str:
    """``DATABASE_URL`` with another database name: same server, same credentials."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + name))


def _ensure_database(name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url("postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _measure_in_child(database: str, products: int, movements: int, *, api_seconds: int) -> dict:
    """Create and migrate ``database`` if needed, then measure it in a process pointed at it."""
    _ensure_database(database)
    env = {**os.environ, "DATABASE_URL": database_url(database)}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    done = subprocess.run(  # noqa: S603 - our interpreter, our module
        [
            sys.executable,
            "-m",
            "benchmarks.scale",
            "measure",
            f"--products={products}",
            f"--movements={movements}",
            f"--api-seconds={api_seconds}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed_file(database: str) -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "bench" / f"seed-{database}.json"


def measure(
    *,
    products: int,
    movements: int,
    api_seconds: int = 10,
    import_rows: int | None = None,
    seed_figures: Path | None = None,
) -> dict:
    """Every figure on the database this process uses, seeded first unless it holds the data."""
    from django.db import connection

    database = connection.settings_dict["NAME"]
    seed_figures = seed_figures or seed_file(database)
    figures, notes = {}, {}
    seed = ensure_seeded(products=products, movements=movements, record=seed_figures)
    figures["seed_demo_s"] = seed.get("seconds", NOT_AVAILABLE)
    figures["seed_demo_peak_rss_mb"] = seed.get("peak_rss_mb", NOT_AVAILABLE)
    notes["seed_source"] = seed["source"]

    figures["dashboard_refresh_s"] = _dashboard_refresh_s()
    admin, notes["admin_pages"] = _admin_pages()
    figures.update(admin)
    rows = import_rows or products
    imported, notes["product_import"] = _product_import(rows)
    figures.update(imported)
    figures["api_outflow_create_rps"], notes["api"] = _api_outflow_create(api_seconds)
    return {
        "database": database,
        "size": {"products": products, "movements": movements, "import_rows": rows},
        "figures": figures,
        "notes": notes,
    }


def ensure_seeded(*, products: int, movements: int, record: Path) -> dict:
    """Seed in a child process unless the database holds the data; return the seed's figures."""
    from django.db import connection

    from benchmarks._demo_data import demo_data_present

    if demo_data_present(products=products, movements=movements):
        try:
            figures = json.loads(record.read_text())
        except (OSError, ValueError):
            return {"source": f"database reused; no seed figure recorded in {record}"}
        figures["source"] = f"database reused; last seed measured {figures['measured_at']}"
        return figures

    connection.close()  # the child TRUNCATEs: no session of ours may hold a lock
    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "seed_demo",
        f"--products={products}",
        f"--movements={movements}",
        "--reset",
        "--password=bench-demo-pass",
    ]
    env = {**os.environ, "DATABASE_URL": database_url(connection.settings_dict["NAME"])}
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output)  # noqa: S603
        # wait4: this child's own resource usage, its peak resident set among it.
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        # To stderr: this process's stdout carries only the result line.
        sys.stderr.write(output.read().decode())
    if child.returncode:
        raise RuntimeError(f"seed_demo failed with exit code {child.returncode}")
    figures = {
        "products": products,
        "movements": movements,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux: kilobytes
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(figures))
    with connection.cursor() as cursor:
        # As autovacuum would leave a table at rest: visibility map set (index-only
        # scans) and statistics current. Not part of the seed's figure.
        cursor.execute("VACUUM (ANALYZE)")
    return {**figures, "source": "measured in this run"}


def _dashboard_refresh_s() -> float:
    from benchmarks.dashboard import time_refresh

    return round(statistics.median(time_refresh(runs=3)), 3)


def _admin_pages() -> tuple[dict, str | dict]:
    if importlib.util.find_spec("benchmarks.admin_lists") is None:
        return dict.fromkeys(ADMIN_PAGES.values(), NOT_AVAILABLE), "benchmarks.admin_lists missing"
    result = importlib.import_module("benchmarks.admin_lists").run()
    figures = {ours: result[theirs] for theirs, ours in ADMIN_PAGES.items()}
    return figures, {key: result[key] for key in ("word", "sku", "outflow_sku", "deep_page")}


def _product_import(rows: int) -> tuple[dict, str | dict]:
    from benchmarks import imports

    timed = getattr(imports, "time_product_import", None)
    if timed is None:
        figures = {"product_import_s": NOT_AVAILABLE, "product_import_peak_rss_mb": NOT_AVAILABLE}
        return figures, "benchmarks.imports has no time_product_import"
    result = timed(rows=rows)
    figures = {
        "product_import_s": result["seconds"],
        "product_import_peak_rss_mb": result["peak_rss_mb"],
    }
    return figures, {"rows": result["rows"], "rows_per_s": result["rows_per_s"]}


def _api_outflow_create(seconds: int) -> tuple[float | str, str | dict]:
    from benchmarks.api import measure_outflow_create

    try:
        result = measure_outflow_create(seconds=seconds)
    except RuntimeError as error:  # no wrk, or the server would not start
        return NOT_AVAILABLE, str(error)
    return result["outflow_create_rps"], result


def _child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale")
    parser.add_argument("step", choices=["measure"])
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--movements", type=int, required=True)
    parser.add_argument("--api-seconds", type=int, default=10)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    result = measure(
        products=options.products,
        movements=options.movements,
        api_seconds=options.api_seconds,
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    _child_main(sys.argv[1:])
