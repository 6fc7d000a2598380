"""API clients: a secret exchanged for scoped tokens, their own limits, instant revocation."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.tests.factories import ProductFactory
from integrations import services
from integrations.models import ApiClient
from integrations.throttling import cache_key
from movements import services as ledger
from movements.models import Outflow
from project.api.testing import (  # noqa: F401 - fixtures
    client_for,
    fast_password_hasher,
    fresh_api_user_cache,
    reset_token_throttle,
)
from project.api.throttling import forget

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/clients/token/"
PRODUCTS = "/api/v1/products/"
OUTFLOWS = "/api/v1/outflows/"


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    settings.API_CLIENT_USAGE_FLUSH_SECONDS = 0  # write every request's count at once
    reset_token_throttle()
    reset_token_throttle("10.1.2.3")
    yield
    for pk, rate in ApiClient.objects.values_list("pk", "rate_limit"):
        forget(cache_key(pk), rate)


def _client(scopes, **options):
    client, secret = services.api_client_create(
        name=options.pop("name", "ERP sync"), scopes=scopes, **options
    )
    forget(cache_key(client.pk), client.rate_limit)
    return client, secret


def _bearer(client, secret, address="127.0.0.1") -> APIClient:
    answer = APIClient(REMOTE_ADDR=address).post(
        TOKEN, {"client_id": client.client_id, "client_secret": secret}, format="json"
    )
    assert answer.status_code == 200, answer.content
    api = APIClient(REMOTE_ADDR=address)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    return api


def test_the_secret_is_shown_once_and_stored_hashed():
    client, secret = _client(["catalog:read"])
    assert secret.startswith("sec_") and secret not in client.secret_hash
    assert client.user.username == "api-erp-sync"
    assert not client.user.has_usable_password()


def test_a_token_reaches_only_the_scopes_of_its_client():
    ProductFactory()
    client, secret = _client(["catalog:read"])
    api = _bearer(client, secret)
    assert api.get(PRODUCTS).status_code == 200
    refused = api.post(PRODUCTS, {"title": "x"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "missing_scope"
    assert "catalog:write" in refused.json()["detail"]
    assert api.get(OUTFLOWS).json()["code"] == "missing_scope"
    assert api.get("/api/v1/metrics/").status_code == 403


def test_movements_recorded_by_a_client_name_it_as_author():
    product = ProductFactory()
    ledger.inflow_create(product=product, quantity=5, reason="correction")
    client, secret = _client(["movements:write", "movements:read"])
    api = _bearer(client, secret)
    created = api.post(OUTFLOWS, {"product": product.pk, "quantity": 2}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["created_by"] == "api-erp-sync"
    assert Outflow.objects.get().created_by == client.user


def test_wrong_secret_unknown_id_and_a_rotated_secret_are_refused():
    client, secret = _client(["catalog:read"])
    anonymous = APIClient()
    wrong = anonymous.post(TOKEN, {"client_id": client.client_id, "client_secret": "sec_x"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "client_refused"
    unknown = anonymous.post(TOKEN, {"client_id": "cli_nobody", "client_secret": secret})
    assert unknown.status_code == 401
    new_secret = services.api_client_rotate_secret(client=client)
    old = anonymous.post(TOKEN, {"client_id": client.client_id, "client_secret": secret})
    assert old.status_code == 401
    assert _bearer(client, new_secret).get(PRODUCTS).status_code == 200


def test_revocation_refuses_the_next_request_of_a_token_already_issued():
    client, secret = _client(["catalog:read"])
    api = _bearer(client, secret)
    assert api.get(PRODUCTS).status_code == 200
    services.api_client_revoke(client=client)
    refused = api.get(PRODUCTS)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    again = APIClient().post(TOKEN, {"client_id": client.client_id, "client_secret": secret})
    assert again.status_code == 401


def test_an_expired_client_is_refused_and_tokens_never_outlive_it():
    soon = timezone.now() + timedelta(minutes=2)
    client, secret = _client(["catalog:read"], expires_at=soon)
    answer = APIClient().post(TOKEN, {"client_id": client.client_id, "client_secret": secret})
    assert answer.json()["expires_in"] <= 120
    services.api_client_update(client=client, expires_at=timezone.now() - timedelta(seconds=1))
    refused = APIClient().post(TOKEN, {"client_id": client.client_id, "client_secret": secret})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_allowed_addresses_limit_where_a_client_may_call_from():
    client, secret = _client(["catalog:read"], allowed_addresses="10.0.0.0/8\n192.0.2.7")
    outside = APIClient(REMOTE_ADDR="127.0.0.1").post(
        TOKEN, {"client_id": client.client_id, "client_secret": secret}
    )
    assert outside.status_code == 401
    api = _bearer(client, secret, address="10.1.2.3")
    assert api.get(PRODUCTS).status_code == 200
    # The same token from another address is refused too.
    stolen = APIClient(REMOTE_ADDR="127.0.0.1")
    stolen.credentials(HTTP_AUTHORIZATION=api._credentials["HTTP_AUTHORIZATION"])
    assert stolen.get(PRODUCTS).status_code == 401


def test_each_client_has_its_own_rate_limit_with_headers():
    client, secret = _client(["catalog:read"], rate_limit="3/minute")
    other, other_secret = _client(["catalog:read"], name="Shop site", rate_limit="100/minute")
    api = _bearer(client, secret)
    remaining = [api.get(PRODUCTS)["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = api.get(PRODUCTS)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited["X-RateLimit-Limit"] == "3"
    # Another client is not slowed down by the first one.
    assert _bearer(other, other_secret).get(PRODUCTS).status_code == 200


def test_people_are_not_limited_by_client_rates(admin_user):
    response = client_for(admin_user).get(PRODUCTS)
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response


def test_requests_and_last_use_are_counted():
    client, secret = _client(["catalog:read"])
    api = _bearer(client, secret)
    for _ in range(3):
        api.get(PRODUCTS)
    client.refresh_from_db()
    assert client.request_count == 3
    assert client.last_used_at is not None


def test_scopes_set_the_service_users_permissions():
    client, _secret = _client(["catalog:read", "movements:write"])
    user = type(client.user).objects.get(pk=client.user.pk)
    assert user.has_perm("catalog.view_product")
    assert user.has_perm("movements.add_outflow")
    assert not user.has_perm("catalog.change_product")
    services.api_client_update(client=client, scopes=["catalog:write"])
    user = type(client.user).objects.get(pk=client.user.pk)
    assert user.has_perm("catalog.change_product")
    assert not user.has_perm("movements.add_outflow")


def test_bad_settings_are_refused_with_clear_messages():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.api_client_create(
            name="Bad",
            scopes=["catalog:read", "root"],
            rate_limit="fast",
            allowed_addresses="not-an-ip",
        )
    messages = error.value.message_dict
    assert set(messages) == {"scopes", "rate_limit", "allowed_addresses"}
    assert not ApiClient.objects.exists()


def test_the_admin_creates_a_client_and_shows_its_secret_once(admin_client):
    response = admin_client.post(
        "/admin/integrations/apiclient/add/",
        {
            "name": "Marketplace",
            "scopes": ["catalog:read", "movements:read"],
            "rate_limit": "120/minute",
            "allowed_addresses": "",
            "expires_at": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    client = ApiClient.objects.get(name="Marketplace")
    page = response.content.decode()
    assert client.client_id in page and "sec_" in page
    listing = admin_client.get("/admin/integrations/apiclient/")
    assert "sec_" not in listing.content.decode()
    assert client.client_id in listing.content.decode()
    assert admin_client.get(f"/admin/integrations/apiclient/{client.pk}/delete/").status_code == 403
