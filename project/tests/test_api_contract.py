"""The API as an integrator meets it: a client generated from /api/v1/schema/.

openapi-python-client writes a typed client from the schema (no warnings
allowed); the test then runs an integration's whole flow through it against
a live server and checks that every answer, errors included, parses into
its declared type. openapi-spec-validator checks the schema itself.
"""

import importlib
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from catalog.tests.factories import ProductFactory
from movements import services

VENV_BIN = Path(sys.executable).parent
PACKAGE = "inventory_contract_client"
PASSWORD = "contract-test-password-1"


@pytest.fixture(scope="module")
def schema_json(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    assert 'filename="schema.json"' in response["Content-Disposition"]
    return response.content


def test_the_schema_is_a_valid_openapi_document(schema_json):
    import json

    validate(json.loads(schema_json))


@pytest.fixture(scope="module")
def generated(schema_json, tmp_path_factory):
    root = tmp_path_factory.mktemp("client")
    (root / "schema.json").write_bytes(schema_json)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            str(VENV_BIN / "openapi-python-client"),
            "generate",
            "--path",
            "schema.json",
            "--output-path",
            PACKAGE,
            "--meta",
            "none",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
            del sys.modules[name]


def _module(package, name):
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.mark.postgresql_only
def test_an_integration_runs_through_the_generated_client(
    generated, live_server, transactional_db, django_user_model
):
    api = lambda name: _module(generated, f"api.{name}")  # noqa: E731
    models = _module(generated, "models")
    types = _module(generated, "types")
    django_user_model.objects.create_superuser("erp", "erp@example.com", PASSWORD)
    products = ProductFactory.create_batch(3, is_active=True)
    for product in products:
        services.inflow_create(product=product, quantity=5, reason="correction")

    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    pair = api("auth.token_create").sync(
        client=anonymous,
        body=models.TokenPairRequest(username="erp", password=PASSWORD),
    )
    assert isinstance(pair, models.TokenPair)
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=pair.access, raise_on_unexpected_status=True
    )

    # A filtered list, paged by the number the server hands back.
    seen, page = [], 1
    while page is not None:
        listing = api("products.products_list").sync(
            client=client,
            is_active=True,
            ordering=[models.ProductsListOrderingItem("-quantity")],
            page=page,
            page_size=2,
        )
        assert isinstance(listing, models.PaginatedProductList)
        seen += [row.id for row in listing.results]
        assert all(isinstance(row.cost_price, str) for row in listing.results)
        page = listing.next_page
    assert sorted(seen) == sorted(product.pk for product in products)

    # A naive datetime is refused with a typed error, not read in São Paulo time.
    naive = api("products.products_list").sync(client=client, updated_after=_naive_datetime())
    assert isinstance(naive, models.Error)
    assert naive.code == "invalid"
    assert "offset" in str(naive.errors.to_dict()["updated_after"])

    created = api("products.products_create").sync(
        client=client,
        body=models.ProductRequest(
            title="Contract phone",
            serial_number="CONTRACT-1",
            product_model=products[0].product_model_id,
            category=products[0].category_id,
            cost_price="10.00",
            sell_price="15.00",
        ),
    )
    assert isinstance(created, models.Product)
    assert created.quantity == 0 and created.is_active is True

    # Movements with an idempotency key: the replay is the first answer, flagged.
    inflow_body = models.InflowCreateRequest(
        product=created.id, quantity=4, reason=models.InflowReasonEnum("correction")
    )
    first = api("inflows.inflows_create").sync_detailed(
        client=client, body=inflow_body, idempotency_key="contract-inflow-1"
    )
    replay = api("inflows.inflows_create").sync_detailed(
        client=client, body=inflow_body, idempotency_key="contract-inflow-1"
    )
    assert first.status_code == replay.status_code == 201
    assert isinstance(replay.parsed, models.Inflow)
    assert replay.parsed.id == first.parsed.id
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert first.parsed.created_by == "erp"

    sale = api("outflows.outflows_create").sync(
        client=client,
        body=models.OutflowCreateRequest(product=created.id, quantity=3),
        idempotency_key="contract-sale-1",
    )
    assert isinstance(sale, models.Outflow)
    assert Decimal(sale.unit_price) == Decimal("15.00")

    oversell = api("outflows.outflows_create").sync_detailed(
        client=client, body=models.OutflowCreateRequest(product=created.id, quantity=2)
    )
    assert oversell.status_code == 409
    assert isinstance(oversell.parsed, models.InsufficientStockError)
    assert (oversell.parsed.requested, oversell.parsed.available) == (2, 1)

    ledger = api("products.products_movements_list").sync(client=client, id=created.id)
    assert isinstance(ledger, models.PaginatedLedgerEntryList)
    assert [(row.kind, row.delta, row.created_by) for row in ledger.results] == [
        (models.LedgerEntryKindEnum("outflow"), -3, "erp"),
        (models.LedgerEntryKindEnum("inflow"), 4, "erp"),
    ]

    refreshed = api("auth.token_refresh_create").sync(
        client=anonymous, body=models.RefreshRequest(refresh=pair.refresh)
    )
    assert isinstance(refreshed, models.RefreshResponse)
    verified = api("auth.token_verify_create").sync_detailed(
        client=anonymous, body=models.VerifyRequest(token=refreshed.access)
    )
    assert verified.status_code == 200
    logout = api("auth.token_logout_create").sync_detailed(
        client=anonymous, body=models.LogoutRequest(refresh=refreshed.refresh)
    )
    assert logout.status_code == 204
    again = api("auth.token_refresh_create").sync_detailed(
        client=generated.Client(base_url=live_server.url),
        body=models.RefreshRequest(refresh=refreshed.refresh),
    )
    assert again.status_code == 401
    assert isinstance(again.parsed, models.Error)
    assert types.Response  # the generated package is complete


def _naive_datetime():
    from datetime import datetime

    return datetime(2026, 11, 30, 15, 43, 58)
