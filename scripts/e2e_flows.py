"""Feature checks of `make e2e`, run through nginx against the native stack."""

import json
import re
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
                "import json; from reports.models import TaskNotification as T;"
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
    step("download it: Django checks the owner, nginx sends the file (X-Accel-Redirect)")

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
