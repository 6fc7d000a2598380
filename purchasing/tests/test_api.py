"""Purchasing over the API: orders, receiving with an Idempotency-Key, suggestions, roles."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.tests.factories import ProductFactory, SupplierFactory
from movements.models import Inflow
from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)
from purchasing.models import PurchaseOrder, SupplierProduct
from purchasing.tests.factories import SupplierProductFactory

pytestmark = pytest.mark.django_db
ORDERS = f"{API}purchase-orders/"


@pytest.fixture
def api_as(role_user):
    clients = {}

    def client(role):
        if role not in clients:
            clients[role] = client_for(role_user(role, username=f"{role.lower()}-api"))
        return clients[role]

    return client


def _create_and_send(api, supplier, *products, quantity=10):
    body = {
        "supplier": supplier.pk,
        "note": "weekly",
        "lines": [
            {"product": product.pk, "quantity": quantity, "unit_cost": "4.20"}
            for product in products
        ],
    }
    created = api.post(ORDERS, body, format="json")
    assert created.status_code == 201, created.content
    order = created.json()
    assert order["state"] == "draft" and order["number"].startswith("PO-")
    sent = api.post(f"{ORDERS}{order['id']}/send/")
    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == "sent" and sent.json()["sent_by"] == "manager-api"
    return sent.json()


def test_manager_orders_and_operator_receives_once_per_idempotency_key(api_as):
    manager, operator = api_as("Manager"), api_as("Operator")
    supplier, product = SupplierFactory(), ProductFactory()
    order = _create_and_send(manager, supplier, product)
    line = order["lines"][0]
    assert (line["quantity"], line["to_receive"], line["unit_cost"]) == (10, 10, "4.20")
    url = f"{ORDERS}{order['id']}/receive/"
    body = {"lines": [{"line": line["id"], "quantity": 4}], "note": "NF 77"}
    first = operator.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="receipt-1")
    again = operator.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="receipt-1")
    assert first.status_code == again.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert first.json()["order"]["state"] == "partially_received"
    assert first.json()["order"]["lines"][0]["to_receive"] == 6
    assert Inflow.objects.filter(product=product).count() == 1
    product.refresh_from_db()
    assert product.quantity == 4
    reused = operator.post(
        url,
        {"lines": [{"line": line["id"], "quantity": 5}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="receipt-1",
    )
    assert reused.status_code == 422


def test_over_receipt_without_reason_is_a_400_on_its_field(api_as):
    manager, operator = api_as("Manager"), api_as("Operator")
    order = _create_and_send(manager, SupplierFactory(), ProductFactory(), quantity=2)
    url = f"{ORDERS}{order['id']}/receive/"
    line = order["lines"][0]["id"]
    refused = operator.post(url, {"lines": [{"line": line, "quantity": 3}]}, format="json")
    assert refused.status_code == 400, refused.content
    assert refused.json()["code"] == "invalid"
    assert "lines[0].reason" in refused.json()["errors"]
    assert not Inflow.objects.exists()
    taken = operator.post(
        url, {"lines": [{"line": line, "quantity": 3, "reason": "free unit"}]}, format="json"
    )
    assert taken.status_code == 201, taken.content
    assert taken.json()["receipts"][0]["over_receipt_reason"] == "free unit"


def test_receiving_a_draft_is_a_409(api_as):
    manager = api_as("Manager")
    created = manager.post(
        ORDERS,
        {
            "supplier": SupplierFactory().pk,
            "lines": [{"product": ProductFactory().pk, "quantity": 1}],
        },
        format="json",
    ).json()
    response = api_as("Admin").post(
        f"{ORDERS}{created['id']}/receive/",
        {"lines": [{"line": created["lines"][0]["id"], "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "invalid_state"


def test_roles_managers_and_admins_order_operators_receive_analysts_read(api_as):
    supplier, product = SupplierFactory(), ProductFactory()
    body = {"supplier": supplier.pk, "lines": [{"product": product.pk, "quantity": 1}]}
    for role in ("Manager", "Admin"):
        assert api_as(role).post(ORDERS, body, format="json").status_code == 201, role
    for role in ("Operator", "Analyst"):
        assert api_as(role).post(ORDERS, body, format="json").status_code == 403, role
    draft = PurchaseOrder.objects.first()
    for role in ("Analyst", "Operator", "Manager"):
        assert api_as(role).get(ORDERS).status_code == 200, role
        assert api_as(role).get(f"{API}reorder-suggestions/").status_code == 200, role
    receive = {"lines": [{"line": draft.lines.get().pk, "quantity": 1}]}
    url = f"{ORDERS}{draft.pk}/receive/"
    assert api_as("Analyst").post(url, receive, format="json").status_code == 403
    # Operators may receive: the draft's state refuses it, not the permission.
    assert api_as("Operator").post(url, receive, format="json").status_code == 409


def test_order_list_query_count_is_flat(api_as):
    manager = api_as("Manager")
    supplier = SupplierFactory()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert manager.get(ORDERS).status_code == 200
        return len(queries)

    _create_and_send(manager, supplier, ProductFactory(), ProductFactory())
    few = count()
    for _ in range(5):
        _create_and_send(manager, supplier, ProductFactory(), ProductFactory(), ProductFactory())
    assert count() == few


def test_supplier_products_and_suggestions(api_as):
    manager = api_as("Manager")
    supplier, product = SupplierFactory(), ProductFactory(reorder_level=5)
    created = manager.post(
        f"{API}supplier-products/",
        {
            "supplier": supplier.pk,
            "product": product.pk,
            "pack_size": 4,
            "is_preferred": True,
            "supplier_code": "X-1",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    twice = manager.post(
        f"{API}supplier-products/",
        {
            "supplier": supplier.pk,
            "product": ProductFactory(reorder_level=0).pk,
            "supplier_code": "X-1",
        },
        format="json",
    )
    assert twice.status_code == 400, twice.content
    suggestions = manager.get(f"{API}reorder-suggestions/").json()
    assert suggestions == [
        {
            "supplier": supplier.pk,
            "supplier_name": supplier.name,
            "lines": [
                {
                    "product": product.pk,
                    "serial_number": product.serial_number,
                    "title": product.title,
                    "stock": 0,
                    "reorder_level": 5,
                    "on_order": 0,
                    "sold_30_days": 0,
                    "lead_time_days": 0,
                    "pack_size": 4,
                    "supplier_code": "X-1",
                    "unit_cost": str(product.cost_price),
                    "quantity": 8,
                }
            ],
        }
    ]
    assert SupplierProduct.objects.get().last_cost is None
    SupplierProductFactory(last_cost=Decimal("1.00"))
    listing = manager.get(f"{API}supplier-products/?supplier={supplier.pk}").json()
    assert [row["supplier_code"] for row in listing["results"]] == ["X-1"]


def test_a_line_with_nothing_received_is_cancelled_over_the_api(api_as):
    manager, operator = api_as("Manager"), api_as("Operator")
    order = _create_and_send(manager, SupplierFactory(), ProductFactory(), ProductFactory())
    first, second = (line["id"] for line in order["lines"])
    operator.post(
        f"{ORDERS}{order['id']}/receive/",
        {"lines": [{"line": first, "quantity": 10}]},
        format="json",
    )
    url = f"{ORDERS}{order['id']}/cancel-line/"
    refused = manager.post(url, {"line": first}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_state"
    done = manager.post(url, {"line": second}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "received"
    assert [line["is_cancelled"] for line in done.json()["lines"]] == [False, True]
    assert manager.post(url, {"line": 10**9}, format="json").status_code == 400


def test_marking_another_supplier_preferred_switches_in_one_step(api_as):
    manager = api_as("Manager")
    product = ProductFactory()
    old = SupplierProductFactory(product=product, is_preferred=True)
    response = manager.post(
        f"{API}supplier-products/",
        {"supplier": SupplierFactory().pk, "product": product.pk, "is_preferred": True},
        format="json",
    )
    assert response.status_code == 201, response.content
    old.refresh_from_db()
    assert not old.is_preferred
    assert (
        SupplierProduct.objects.get(product=product, is_preferred=True).pk == response.json()["id"]
    )


def test_errors_in_lines_are_named_by_line_in_the_usual_error_body(api_as):
    manager = api_as("Manager")
    response = manager.post(
        ORDERS,
        {
            "supplier": SupplierFactory().pk,
            "lines": [{"product": ProductFactory().pk, "quantity": 0}],
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"lines[0].quantity"}
    assert all(isinstance(messages, list) for messages in body["errors"].values())
    empty = manager.post(ORDERS, {"supplier": SupplierFactory().pk, "lines": []}, format="json")
    assert empty.status_code == 400 and list(empty.json()["errors"]) == ["lines"]
