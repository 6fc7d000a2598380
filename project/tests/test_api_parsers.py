"""Request bodies the JSON decoder chokes on are clear 4xx, never a 500."""

import pytest

from movements.models import Outflow
from project.api.testing import (  # noqa: F401 - fixtures
    API,
    client_for,
    fast_password_hasher,
    fresh_api_user_cache,
    reset_token_throttle,
)

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


def _post(client, path, body: str):
    return client.post(f"{API}{path}", data=body, content_type="application/json")


def test_a_body_nested_too_deeply_is_a_400_on_the_public_token_endpoint():
    reset_token_throttle()
    response = _post(client_for(), "token/", '{"username": ' + DEEP + "}")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_nested_too_deeply_writes_nothing(role_user, stocked_product):
    product = stocked_product(quantity=5)
    client = client_for(role_user("Operator"))
    response = _post(client, "outflows/", f'{{"product": {product.pk}, "quantity": {DEEP}}}')
    assert response.status_code == 400
    assert not Outflow.objects.exists()


def test_a_body_over_the_size_limit_is_a_413(settings, role_user, stocked_product):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    product = stocked_product(quantity=5)
    client = client_for(role_user("Operator"))
    body = f'{{"product": {product.pk}, "quantity": 1, "note": "{"x" * 2000}"}}'
    response = _post(client, "outflows/", body)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Outflow.objects.exists()
    # Under the limit the same request goes through.
    response = _post(client, "outflows/", f'{{"product": {product.pk}, "quantity": 1}}')
    assert response.status_code == 201


@pytest.mark.parametrize("body", [b'{"product": ', b"not json", b'{"quantity": NaN}', b"\xff\xfe"])
def test_malformed_json_is_a_400_parse_error(role_user, body):
    response = _post(client_for(role_user("Operator")), "outflows/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize("charset", ["rot13", "hex", "base64"])
def test_a_charset_that_is_not_a_text_encoding_is_a_400(charset):
    reset_token_throttle()
    response = client_for().post(
        f"{API}token/",
        data=b'{"username": "a", "password": "b"}',
        content_type=f"application/json; charset={charset}",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
