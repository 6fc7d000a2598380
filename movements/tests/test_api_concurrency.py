"""Concurrent requests over HTTP against a real gunicorn and PostgreSQL."""

import http.client
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from movements.models import IdempotencyKey, Outflow
from project.api.testing import (
    access_token,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)


def _post_all(base: str, token: str, bodies_and_headers: list[tuple[dict, dict]]):
    """POST every request at the same moment, each on its own connection."""
    url = urlsplit(base)
    barrier = threading.Barrier(len(bodies_and_headers))

    def post(item):
        body, headers = item
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        conn.connect()
        barrier.wait()  # every connection is open: fire together
        conn.request(
            "POST",
            "/api/v1/outflows/",
            body=json.dumps(body),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                **headers,
            },
        )
        response = conn.getresponse()
        result = response.status, json.loads(response.read() or b"null")
        conn.close()
        return result

    with ThreadPoolExecutor(len(bodies_and_headers)) as pool:
        return list(pool.map(post, bodies_and_headers))


@pytest.mark.django_db(transaction=True)
def test_50_concurrent_outflows_sell_exactly_the_stock(api_server, stocked_product, role_user):
    product = stocked_product(quantity=10)
    token = access_token(role_user("Operator"))
    body = {"product": product.pk, "quantity": 1}

    results = _post_all(api_server, token, [(body, {})] * 50)

    assert Counter(status for status, _ in results) == {201: 10, 409: 40}
    refusals = [body for status, body in results if status == 409]
    assert all(r["code"] == "insufficient_stock" and r["requested"] == 1 for r in refusals)
    product.refresh_from_db()
    assert product.quantity == 0
    assert Outflow.objects.filter(product=product).count() == 10
    call_command("check_ledger")  # raises CommandError if the ledger disagrees


@pytest.mark.django_db(transaction=True)
def test_the_same_idempotency_key_sent_concurrently_writes_once(
    api_server, stocked_product, role_user
):
    product = stocked_product(quantity=10)
    token = access_token(role_user("Operator"))
    body = {"product": product.pk, "quantity": 1}

    results = _post_all(api_server, token, [(body, {"Idempotency-Key": "order-42"})] * 8)

    assert [status for status, _ in results] == [201] * 8
    assert len({body["id"] for _, body in results}) == 1
    assert Outflow.objects.filter(product=product).count() == 1
    assert IdempotencyKey.objects.count() == 1
    product.refresh_from_db()
    assert product.quantity == 9
