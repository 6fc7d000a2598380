"""The contract points an integrator's generated client depends on, one by one."""

import re

import pytest
from django.test import Client

from catalog.tests.factories import ProductFactory
from movements import services
from project.api.testing import client_for, fresh_api_user_cache  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(admin_user):
    return client_for(admin_user)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", {"format": "json"})
    return response.json()


def test_fields_the_server_always_sends_are_required(schema):
    components = schema["components"]["schemas"]
    product = components["Product"]
    assert set(product["required"]) == set(product["properties"])
    for name in ("Supplier", "Brand", "Inflow", "Outflow", "LedgerEntry", "TokenPair"):
        assert set(components[name]["required"]) == set(components[name]["properties"]), name
    # errors comes only with invalid input.
    assert "errors" not in components["Error"]["required"]


def test_money_cannot_be_negative_in_the_schema(schema):
    pattern = schema["components"]["schemas"]["ProductRequest"]["properties"]["cost_price"][
        "pattern"
    ]
    assert re.match(pattern, "10.50")
    assert not re.match(pattern, "-1.00")


def test_ordering_lists_its_allowed_terms(schema):
    parameters = schema["paths"]["/api/v1/products/"]["get"]["parameters"]
    ordering = next(p for p in parameters if p["name"] == "ordering")
    terms = ordering["schema"]["items"]["enum"]
    assert {"title", "-title", "quantity", "-updated_at"} <= set(terms)
    assert "password" not in terms


def test_the_ledger_reason_is_an_enum_and_created_by_a_username_everywhere(schema):
    components = schema["components"]["schemas"]
    reason = components["LedgerEntry"]["properties"]["reason"]
    assert "enum" in reason or "$ref" in reason or "allOf" in reason
    for name in ("Inflow", "Outflow", "LedgerEntry"):
        assert components[name]["properties"]["created_by"]["type"] == "string", name


def test_response_headers_are_declared(schema):
    created = schema["paths"]["/api/v1/outflows/"]["post"]["responses"]["201"]
    assert "Idempotent-Replayed" in created["headers"]
    throttled = schema["paths"]["/api/v1/token/"]["post"]["responses"]["429"]
    assert "Retry-After" in throttled["headers"]


def test_every_outflow_409_body_has_its_type(schema):
    conflict = schema["paths"]["/api/v1/outflows/"]["post"]["responses"]["409"]
    ref = conflict["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    union = schema["components"]["schemas"][ref]
    assert union["discriminator"]["propertyName"] == "code"
    assert set(union["discriminator"]["mapping"]) == {
        "insufficient_stock",
        "conflict",
        "out_of_range",
    }


def test_token_verify_declares_its_body(schema):
    ok = schema["paths"]["/api/v1/token/verify/"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["type"] == "object"


def test_schema_downloads_are_named_by_their_format():
    json_answer = Client().get("/api/v1/schema/", {"format": "json"})
    yaml_answer = Client().get("/api/v1/schema/")
    assert 'filename="schema.json"' in json_answer["Content-Disposition"]
    assert 'filename="schema.yaml"' in yaml_answer["Content-Disposition"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/products/", "updated_after"),
        ("/api/v1/outflows/", "created_after"),
        ("/api/v1/inflows/", "created_before"),
    ],
)
@pytest.mark.parametrize("written", ["2026-11-30T15:43:58", "2026-11-30"])
def test_a_datetime_without_offset_is_refused(admin_api, path, name, written):
    response = admin_api.get(path, {name: written})
    assert response.status_code == 400, response.content
    assert "offset" in response.json()["errors"][name][0]


@pytest.mark.parametrize("written", ["2026-11-30T15:43:58Z", "2026-11-30T12:43:58-03:00"])
def test_a_datetime_with_offset_is_read_as_written(admin_api, written):
    response = admin_api.get("/api/v1/products/", {"updated_after": written})
    assert response.status_code == 200


def test_pages_give_the_number_to_pass_back(admin_api):
    ProductFactory.create_batch(3)
    first = admin_api.get("/api/v1/products/", {"page_size": 2}).json()
    assert (first["next_page"], first["previous_page"]) == (2, None)
    second = admin_api.get("/api/v1/products/", {"page_size": 2, "page": 2}).json()
    assert (second["next_page"], second["previous_page"]) == (None, 1)


def test_movements_name_their_author_by_username(admin_api, admin_user):
    product = ProductFactory()
    created = admin_api.post(
        "/api/v1/inflows/",
        {"product": product.pk, "quantity": 2, "reason": "correction"},
        format="json",
    )
    assert created.json()["created_by"] == admin_user.username
    services.outflow_create(product=product.pk, quantity=1, user=admin_user)
    listed = admin_api.get("/api/v1/outflows/").json()["results"]
    assert listed[0]["created_by"] == admin_user.username
    detail = admin_api.get(f"/api/v1/inflows/{created.json()['id']}/").json()
    assert detail == created.json()


def test_rate_limit_headers_are_declared_where_a_token_is_taken(schema):
    products = schema["paths"]["/api/v1/products/"]["get"]["responses"]["200"]
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(
        products["headers"]
    )
    token = schema["paths"]["/api/v1/token/"]["post"]["responses"]["200"]
    assert "X-RateLimit-Limit" not in token.get("headers", {})
