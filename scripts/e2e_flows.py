"""Feature checks of `make e2e`, run through nginx against the native stack."""

import contextlib
import json
import os
import re
import signal
import time

import requests


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=20)
    assert page.status_code == 200, (url, page.status_code)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def export_flow(base, admin: requests.Session, other: requests.Session, step, manage) -> None:
    url = f"{base}/admin/catalog/product/export/"
    response = admin.post(
        url,
        data={"csrfmiddlewaretoken": _csrf(admin, url), "format": "1", "resource": "0"},
        headers={"Referer": url},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, (response.status_code, response.text[:300])
    step("request an XLSX export of the products from the admin")

    def latest() -> dict:
        return json.loads(
            manage(
                "shell",
                "-c",
                "import json; from dataio.models import TaskNotification as T;"
                "n = T.objects.latest('pk');"
                "print(json.dumps({'id': n.pk, 'status': n.status, 'file': n.result_file,"
                " 'rows': n.total_rows, 'error': n.error_message}))",
            )
            .strip()
            .splitlines()[-1]
        )

    deadline = time.monotonic() + 90
    notification = latest()
    while notification["status"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(1)
        notification = latest()
    assert notification["status"] == "completed", notification
    step(f"the worker completed the export ({notification['rows']} rows)")

    download = f"{base}/reports/notifications/{notification['id']}/download/"
    response = admin.get(download, timeout=30)
    assert response.status_code == 200, response.status_code
    assert response.content[:2] == b"PK", response.content[:20]  # an XLSX is a zip
    assert "attachment" in response.headers.get("Content-Disposition", "")
    assert "X-Accel-Redirect" not in response.headers  # nginx consumed it
    assert "private" in response.headers.get("Cache-Control", "")  # set by /protected/
    # nginx drops the upstream's headers on X-Accel-Redirect; /protected/ sets
    # them itself, exactly once.
    for name, value in (
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("X-Content-Type-Options", "nosniff"),
    ):
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    step("download it: Django checks the owner, nginx sends the file (X-Accel-Redirect)")
    step("the private file keeps X-Frame-Options, Referrer-Policy and nosniff, each once")

    assert other.get(download, timeout=30).status_code == 404
    step("the same download as another user is refused (404)")

    relative = notification["file"]
    for prefix in ("/media/", "/protected/", "/media-not-public/", "/static/", "/"):
        guess = requests.get(f"{base}{prefix}{relative}", timeout=10)
        assert guess.status_code == 404, (prefix, guess.status_code)
    step("guessing the file's path under any public prefix gives 404")


def api_flow(base: str, credentials: tuple[str, str], step) -> None:
    username, password = credentials
    response = requests.post(
        f"{base}/api/v1/token/", json={"username": username, "password": password}, timeout=20
    )
    assert response.status_code == 200, response.text
    access = response.json()["access"]
    products = requests.get(
        f"{base}/api/v1/products/",
        headers={"Authorization": f"Bearer {access}"},
        timeout=20,
    )
    assert products.status_code == 200, products.text
    assert products.json()["results"], products.text
    step("a JWT token from /api/v1/token/ lists products through nginx")


def _token(base: str, credentials: tuple[str, str]) -> str:
    username, password = credentials
    response = requests.post(
        f"{base}/api/v1/token/", json={"username": username, "password": password}, timeout=20
    )
    assert response.status_code == 200, response.text
    return response.json()["access"]


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def hung_redis_flow(base, admin: requests.Session, credentials, step, redis_pid: int) -> None:
    """Redis frozen (SIGSTOP: it accepts connections, never answers): bounded, site serves."""
    access = _token(base, credentials)
    os.kill(redis_pid, signal.SIGSTOP)
    try:
        health, took = _timed(lambda: requests.get(f"{base}/health/", timeout=30))
        assert health.status_code == 503, (health.status_code, health.text[:200])
        assert took < 3, f"/health/ took {took:.1f} s with Redis frozen"
        step(f"Redis frozen (SIGSTOP): /health/ answers 503 in {took:.1f} s ({health.text})")
        page, page_took = _timed(lambda: admin.get(f"{base}/admin/catalog/product/", timeout=30))
        assert page.status_code == 200, page.status_code
        api, api_took = _timed(
            lambda: requests.get(
                f"{base}/api/v1/products/",
                headers={"Authorization": f"Bearer {access}"},
                timeout=30,
            )
        )
        assert api.status_code == 200, (api.status_code, api.text[:200])
        assert page_took < 10 and api_took < 10, (page_took, api_took)
        step(
            f"Redis frozen: the admin product list ({page_took:.1f} s) and an API GET with a "
            f"JWT ({api_took:.1f} s) keep serving through nginx"
        )
    finally:
        os.kill(redis_pid, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if requests.get(f"{base}/health/", timeout=10).status_code == 200:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("/health/ did not come back to 200 after SIGCONT")
    step("Redis resumed (SIGCONT): /health/ back to 200")


# An import applies about 250 rows a second: this one runs ~12 s, long enough
# to be killed in the middle.
IMPORT_ROWS = 3000


def killed_worker_flow(stack, step) -> None:
    """The worker SIGKILLed during an import: done or failed within 2 minutes, all or none."""
    import psycopg

    def query(sql_text: str, *args):
        with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
            return conn.execute(sql_text, args).fetchone()

    def wait_status(pk: int, wanted: tuple[str, ...], timeout: float, every: float = 0.5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = query("SELECT status FROM reports_tasknotification WHERE id = %s", pk)[0]
            if status in wanted:
                return status
            time.sleep(every)
        return status

    # An upload of many inflows, queued as the admin's Import button does.
    preview_id = int(
        stack.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User;"
            "from catalog.models import Product;"
            "from dataio import notifications;"
            "from dataio.models import TaskNotification as T;"
            "from dataio import files;"
            "from catalog.models import Supplier;"
            "serials = list(Product.objects.values_list('serial_number', flat=True));"
            "supplier = Supplier.objects.order_by('pk').first().name;"
            "name = files.new_name(files.UPLOADS, 'csv');"
            "rows = ['product,quantity,supplier,note'] + [f'{serials[i % len(serials)]},1,"
            f"{{supplier}},e2e kill {{i}}' for i in range({IMPORT_ROWS})];"
            "files.absolute(name).write_text(chr(10).join(rows) + chr(10));"
            "n = notifications.notification_create(user=User.objects.get(username='e2e_admin'),"
            " task_type=T.TaskType.IMPORT_PREVIEW, model='movements.inflow', file_format='csv',"
            " source_file=name, original_name='kill.csv');"
            "print(n.pk)",
        )
        .strip()
        .splitlines()[-1]
    )
    assert wait_status(preview_id, ("completed", "failed"), 90) == "completed", preview_id
    invalid = query(
        "SELECT invalid_rows, error_message FROM reports_tasknotification WHERE id = %s",
        preview_id,
    )
    assert invalid[0] == 0, invalid
    before = query("SELECT count(*) FROM movements_inflow")[0]
    import_id = int(
        stack.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User;"
            "from dataio import notifications;"
            "from dataio.models import TaskNotification as T;"
            f"p = T.objects.get(pk={preview_id});"
            "u = User.objects.get(username='e2e_admin');"
            "n = notifications.import_confirm(preview=p, user=u);"
            "print(n.pk)",
        )
        .strip()
        .splitlines()[-1]
    )
    assert wait_status(import_id, ("processing",), 60, every=0.05) == "processing", import_id
    time.sleep(0.5)  # into the import's transaction
    worker = stack.worker
    os.kill(worker.pid, signal.SIGKILL)
    killed = time.monotonic()
    # What a container restart does next: the rest of the worker's processes
    # go too, and a new worker starts.
    time.sleep(1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    stack.start_worker()
    status = wait_status(import_id, ("completed", "failed"), 120)
    took = time.monotonic() - killed
    after = query("SELECT count(*) FROM movements_inflow")[0]
    retry = query(
        "SELECT error_message, attempts FROM reports_tasknotification WHERE id = %s", import_id
    )
    assert status in ("completed", "failed"), (
        f"import still {status} {took:.0f} s after the worker was killed ({retry})"
    )
    assert after - before in (0, IMPORT_ROWS), (before, after)
    step(
        f"worker SIGKILLed mid-import ({IMPORT_ROWS} rows): the job is {status} "
        f"{took:.0f} s later, {after - before} rows written (all or none)"
    )
    stack.manage("check_ledger")
    step("check_ledger passes after the killed import")
