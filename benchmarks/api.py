"""The JWT API under load: gunicorn (2 workers) on loopback, wrk as the client.

A Celery worker runs beside it, as in production (see ``_celery_worker``).

Measures ``GET /api/v1/products/?page_size=50`` (100,000 products) and
``POST /api/v1/outflows/`` with a valid token at 16 connections, and, in the
same run and the same server, a bare Django view returning a constant JSON:
the ceiling of this machine. Needs ``wrk`` (Debian: ``apt-get install wrk``);
the benchmark installs nothing.
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.contrib.auth import get_user_model
from django.db import connection

from benchmarks._cpu import cpu_per_request
from benchmarks._demo_data import ensure_demo_data
from benchmarks.api_settings import CELERY_TASK_DEFAULT_QUEUE as BENCH_QUEUE
from catalog.models import Product
from movements import services
from movements.models import Outflow

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 16
SELLABLE = 500  # products that get plenty of stock for the outflow run

# wrk's Lua hooks: pick a random product per request and report percentiles
# as one JSON line.
LUA = """
local ids = {%(ids)s}
local token = "%(token)s"
local mode = "%(mode)s"
math.randomseed(os.time())
request = function()
  local headers = {["Authorization"] = "Bearer " .. token}
  if mode == "post" then
    headers["Content-Type"] = "application/json"
    local body = '{"product": ' .. ids[math.random(#ids)] .. ', "quantity": 1}'
    return wrk.format("POST", nil, headers, body)
  end
  return wrk.format("GET", nil, headers, nil)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"errors": %%d, "non_2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stock_for_outflows() -> list[int]:
    ids = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:SELLABLE])
    for product_id in ids:
        services.inflow_create(
            product=product_id, quantity=1_000_000, reason="correction", note="bench api"
        )
    return ids


def _token() -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    user = get_user_model().objects.get(username="demo_operator")
    return str(AccessToken.for_user(user))


def database_url() -> str:
    """``DATABASE_URL`` naming the database this process uses (a test run's test database too)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


def _server_env() -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.api_settings",
        "DATABASE_URL": database_url(),
    }


@contextmanager
def _celery_worker():
    """A Celery worker beside gunicorn, as production runs one.

    Each sale schedules the dashboard's debounced refresh; the worker runs it
    and clears the "refresh pending" flag, so a web process asks the cache
    about once per countdown. Without a worker the flag goes stale and every
    sale asks (a round trip per request that production does not make).
    It consumes only the benchmark's own queue (``benchmarks.api_settings``),
    so nothing of a back office sharing the broker is taken; the flag an
    earlier run may have left (under the benchmark's cache prefix) is
    cleared first.
    """
    from dashboard.refresh import clear_pending_refresh

    clear_pending_refresh()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "project",
            "worker",
            f"--queues={BENCH_QUEUE}",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=warning",
        ],
        cwd=ROOT,
        env=_server_env(),
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _start_server(port: int, workers: int, worker_class: str, threads: int):
    env = _server_env()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "project.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--worker-class={worker_class}",
            f"--threads={threads}",
            "--keep-alive=30",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            url = f"http://127.0.0.1:{port}/bench/ceiling/"
            with urllib.request.urlopen(url, timeout=5):
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)


def _wrk(url: str, script: Path, seconds: int) -> dict:
    wrk = shutil.which("wrk")
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    )
    line = [row for row in result.stdout.splitlines() if row.startswith("{")][-1]
    figures = json.loads(line)
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def _measure(
    url: str, token: str, ids: list[int], mode: str, seconds: int, tmp: Path, server
) -> dict:
    script = tmp / f"{mode}-{random.random()}.lua"
    script.write_text(LUA % {"ids": ", ".join(map(str, ids)), "token": token, "mode": mode})
    _wrk(url, script, max(2, seconds // 4))  # warm-up: connections, caches, plans
    figures = {}
    with cpu_per_request(server.pid, figures) as cpu:
        figures.update(_wrk(url, script, seconds))
    figures["cpu_per_request"] = cpu.as_dict()
    if figures["errors"] or figures["non_2xx"]:
        raise RuntimeError(f"{url}: {figures['errors']} errors, {figures['non_2xx']} non-2xx")
    return figures


def run(
    *,
    products: int = 100_000,
    movements: int = 200_000,
    seconds: int = 10,
    workers: int = 2,
    # As docker/gunicorn.conf.py runs it in production: sync workers, one
    # request at a time each, closing the connection after the response.
    # Measured against gthread (4 threads, keep-alive): there one worker
    # often holds all 16 keep-alive connections while the other idles (3
    # trials in 4, seen with `ss`), so list runs swung between 470 and 950
    # rps; sync workers take turns at accept() and gave 910-980 rps with a
    # p99 of 23-28 ms instead of 40-107 ms.
    worker_class: str = "sync",
    threads: int = 1,
    **_,
) -> dict:
    if shutil.which("wrk") is None:
        raise RuntimeError("bench api needs wrk: apt-get install wrk")
    ensure_demo_data(products=products, movements=movements)
    listing, create, ceiling = _serve_and_measure(
        seconds=seconds, workers=workers, worker_class=worker_class, threads=threads, full=True
    )
    details = {
        "products": Product.objects.count(),
        "connections": CONNECTIONS,
        "server": f"gunicorn {workers} workers ({worker_class}, {threads} threads)",
        "outflows_written": create["outflows_written"],
        "list_to_ceiling": round(listing["rps"] / ceiling["rps"], 3),
        # CPU ms per request (gunicorn workers, PostgreSQL backends, wrk): see benchmarks/_cpu.py.
        "cpu_per_request": {
            "ceiling": ceiling["cpu_per_request"],
            "list": listing["cpu_per_request"],
            "outflow_create": create["cpu_per_request"],
        },
        "targets": "list >= 800 rps and >= 0.15 x ceiling, p99 < 100 ms; outflows >= 300 rps",
    }
    # The last line of the command is the result; the context goes to stderr.
    print(json.dumps({"api_bench_details": details}), file=sys.stderr)
    return {
        "benchmark": "api",
        "products_list_rps": round(listing["rps"]),
        "products_list_p50_ms": round(listing["p50_us"] / 1000, 2),
        "products_list_p99_ms": round(listing["p99_us"] / 1000, 2),
        "outflow_create_rps": round(create["rps"]),
        "ceiling_rps": round(ceiling["rps"]),
    }


def measure_outflow_create(
    *, seconds: int = 10, workers: int = 2, worker_class: str = "sync", threads: int = 1
) -> dict:
    """``POST /api/v1/outflows/`` alone, on the data the database holds (the scale benchmark).

    Needs the demo users and products (seed_demo); like ``run`` it gives 500
    products plenty of stock first (an inflow each), then sells one unit per request.
    """
    if shutil.which("wrk") is None:
        raise RuntimeError("the API benchmark needs wrk: apt-get install wrk")
    _, create, _ = _serve_and_measure(
        seconds=seconds, workers=workers, worker_class=worker_class, threads=threads, full=False
    )
    return {
        "outflow_create_rps": round(create["rps"]),
        "outflow_create_p99_ms": round(create["p99_us"] / 1000, 2),
        "outflows_written": create["outflows_written"],
        "outflow_cpu_per_request": create["cpu_per_request"],
    }


def _serve_and_measure(*, seconds, workers, worker_class, threads, full: bool):
    """Start gunicorn, measure (the ceiling and the list too when ``full``), stop it."""
    ids = _stock_for_outflows()
    token = _token()
    outflows_before = Outflow.objects.count()
    connection.close()  # the server processes use their own connections

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _celery_worker():
        server = _start_server(port, workers, worker_class, threads)
        ceiling, listing, create = _measure_all(base, token, ids, seconds, server, full)
    create["outflows_written"] = Outflow.objects.count() - outflows_before
    return listing, create, ceiling


def _measure_all(base, token, ids, seconds, server, full):
    ceiling = listing = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            if full:
                ceiling = _measure(
                    f"{base}/bench/ceiling/", token, ids, "get", seconds, tmp, server
                )
                listing = _measure(
                    f"{base}/api/v1/products/?page_size=50", token, ids, "get", seconds, tmp, server
                )
            create = _measure(f"{base}/api/v1/outflows/", token, ids, "post", seconds, tmp, server)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return ceiling, listing, create
