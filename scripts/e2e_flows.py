"""Feature checks of `make e2e`, run through nginx against the native stack."""

import requests


def export_flow(base: str, admin: requests.Session, other: requests.Session, step) -> None:
    for prefix in ("/media/", "/protected/", "/media-not-public/", "/static/../var/media/"):
        response = requests.get(f"{base}{prefix}exports/anything.csv", timeout=10)
        assert response.status_code == 404, (prefix, response.status_code)
    step("guessing a private file under a public prefix gives 404")


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
