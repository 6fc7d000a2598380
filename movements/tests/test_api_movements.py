import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from movements import services
from movements.models import IdempotencyKey, Inflow, Outflow
from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_api(role_user):
    return client_for(role_user("Operator"))


def test_inflow_create_goes_through_the_ledger(operator_api, stocked_product, supplier):
    product = stocked_product(quantity=2)
    response = operator_api.post(
        f"{API}inflows/",
        {"product": product.pk, "quantity": 5, "supplier": supplier.pk, "note": "NF 1"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["quantity"] == 5
    assert body["unit_cost"] == "10.00"  # the product's cost price, snapshotted
    assert body["reason"] == "purchase"
    product.refresh_from_db()
    assert product.quantity == 7
    assert Inflow.objects.get(pk=body["id"]).created_by.username == "operator-user"
    assert body == operator_api.get(f"{API}inflows/{body['id']}/").json()
    call_command("check_ledger")


def test_outflow_create_and_oversell_is_409_naming_product_asked_and_available(
    operator_api, stocked_product
):
    product = stocked_product(quantity=3)
    sold = operator_api.post(f"{API}outflows/", {"product": product.pk, "quantity": 2})
    assert sold.status_code == 201
    assert sold.json()["unit_price"] == "15.00"
    assert sold.json() == operator_api.get(f"{API}outflows/{sold.json()['id']}/").json()
    priced = operator_api.post(
        f"{API}outflows/", {"product": product.pk, "quantity": 1, "unit_price": "3.5"}
    )
    assert priced.json()["unit_price"] == "3.50"
    assert priced.json() == operator_api.get(f"{API}outflows/{priced.json()['id']}/").json()

    refused = operator_api.post(f"{API}outflows/", {"product": product.pk, "quantity": 5})
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "insufficient_stock"
    assert body["product"] == {
        "id": product.pk,
        "serial_number": product.serial_number,
        "title": product.title,
    }
    assert (body["requested"], body["available"]) == (5, 0)
    assert product.serial_number in body["detail"]
    product.refresh_from_db()
    assert product.quantity == 0
    assert Outflow.objects.filter(product=product).count() == 2


def test_movement_input_errors_are_400_on_the_field(operator_api, stocked_product):
    product = stocked_product(quantity=1)
    no_supplier = operator_api.post(f"{API}inflows/", {"product": product.pk, "quantity": 1})
    assert no_supplier.status_code == 400
    assert "supplier" in no_supplier.json()["errors"]
    zero = operator_api.post(f"{API}outflows/", {"product": product.pk, "quantity": 0})
    assert "quantity" in zero.json()["errors"]
    unknown = operator_api.post(f"{API}outflows/", {"product": 987654, "quantity": 1})
    assert "product" in unknown.json()["errors"]


def test_stock_beyond_the_column_range_is_a_clear_400_not_a_500(
    operator_api, stocked_product, supplier
):
    product = stocked_product(quantity=1)
    body = {"product": product.pk, "quantity": 2**31 - 1, "supplier": supplier.pk}
    response = operator_api.post(f"{API}inflows/", body)
    assert response.status_code == 400
    assert "cannot hold more than" in str(response.json())
    product.refresh_from_db()
    assert product.quantity == 1


def test_movements_are_never_updated_or_deleted(role_user, stocked_product):
    admin = client_for(role_user("Admin"))
    product = stocked_product(quantity=1)
    inflow = Inflow.objects.get(product=product)
    url = f"{API}inflows/{inflow.pk}/"
    assert admin.put(url, {"quantity": 9}).status_code == 405
    assert admin.patch(url, {"quantity": 9}).status_code == 405
    assert admin.delete(url).status_code == 405
    assert admin.delete(url).json()["code"] == "method_not_allowed"


def test_movement_list_row_equals_detail(operator_api, stocked_product):
    product = stocked_product(quantity=4)
    services.outflow_create(product=product, quantity=1, note="x")
    for kind in ("inflows", "outflows"):
        row = operator_api.get(f"{API}{kind}/").json()["results"][0]
        assert row == operator_api.get(f"{API}{kind}/{row['id']}/").json()


def test_product_movements_newest_first(operator_api, stocked_product):
    product = stocked_product(quantity=4)
    services.outflow_create(product=product, quantity=1)
    ledger = operator_api.get(f"{API}products/{product.pk}/movements/").json()["results"]
    assert [(row["kind"], row["delta"]) for row in ledger] == [("outflow", -1), ("inflow", 4)]
    assert operator_api.get(f"{API}products/987654/movements/").status_code == 404


def test_same_idempotency_key_and_body_replays_without_writing(operator_api, stocked_product):
    product = stocked_product(quantity=5)
    body = {"product": product.pk, "quantity": 1}
    first = operator_api.post(f"{API}outflows/", body, HTTP_IDEMPOTENCY_KEY="order-1")
    again = operator_api.post(f"{API}outflows/", body, HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Outflow.objects.filter(product=product).count() == 1
    product.refresh_from_db()
    assert product.quantity == 4

    other = operator_api.post(
        f"{API}outflows/", {**body, "quantity": 2}, HTTP_IDEMPOTENCY_KEY="order-1"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Outflow.objects.filter(product=product).count() == 1


def test_a_refused_request_does_not_spend_its_idempotency_key(operator_api, stocked_product):
    product = stocked_product(quantity=1)
    body = {"product": product.pk, "quantity": 3}
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-me"}
    assert operator_api.post(f"{API}outflows/", body, **headers).status_code == 409
    assert not IdempotencyKey.objects.exists()
    services.inflow_create(product=product, quantity=5, reason="correction")
    assert operator_api.post(f"{API}outflows/", body, **headers).status_code == 201


def test_idempotency_keys_are_per_user_and_validated(role_user, stocked_product):
    product = stocked_product(quantity=5)
    body = {"product": product.pk, "quantity": 1}
    one, two = client_for(role_user("Operator")), client_for(role_user("Admin"))
    assert one.post(f"{API}outflows/", body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert two.post(f"{API}outflows/", body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    bad = one.post(f"{API}outflows/", body, HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert bad.status_code == 400
    assert "Idempotency-Key" in bad.json()["errors"]


@pytest.fixture
def analyst_api(role_user):
    return client_for(role_user("Analyst"))


def test_metrics_returns_the_dashboard_metrics(analyst_api, monkeypatch):
    import dashboard.api
    import dashboard.metrics

    found = dashboard.metrics.MetricsRead({"product": {"x": 1}}, "cache")
    monkeypatch.setattr(dashboard.api, "metrics_get", lambda: found)
    response = analyst_api.get(f"{API}metrics/")
    assert response.status_code == 200
    assert response.json() == {"product": {"x": 1}}


def test_metrics_are_not_for_operators(operator_api):
    response = operator_api.get(f"{API}metrics/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# --- query counts: the same for 1 row and for 500 ------------------------------
def _queries(client, url) -> tuple[int, int]:
    client.get(url, {"page_size": 500})  # compiled SQL and caches warm, as in production
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": 500})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize("kind", ["inflows", "outflows", "ledger", "inflows-filtered"])
def test_movement_list_queries_do_not_grow_with_rows(role_user, stocked_product, supplier, kind):
    client = client_for(role_user("Analyst"))
    product = stocked_product(quantity=0)
    url = {
        "inflows": f"{API}inflows/",
        "outflows": f"{API}outflows/",
        "ledger": f"{API}products/{product.pk}/movements/",
        "inflows-filtered": f"{API}inflows/?product={product.pk}&ordering=-quantity",
    }[kind]

    def add(count):
        # Rows inserted in bulk (the ledger's consistency is not what this
        # test measures, and 500 service calls would be slow).
        model, extra = (Outflow, {}) if kind == "outflows" else (Inflow, {"supplier": supplier})
        model.objects.bulk_create(model(product=product, quantity=1, **extra) for _ in range(count))

    add(1)
    one, rows = _queries(client, url)
    add(499)
    many, more = _queries(client, url)
    assert one == many
    assert (rows, more) == (1, 500)


def test_old_idempotency_keys_are_purged(operator_api, stocked_product):
    from datetime import timedelta

    from django.utils import timezone

    from movements.idempotency import idempotency_keys_purge

    product = stocked_product(quantity=5)
    for key in ("old", "new"):
        operator_api.post(
            f"{API}outflows/", {"product": product.pk, "quantity": 1}, HTTP_IDEMPOTENCY_KEY=key
        )
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=2))
    assert idempotency_keys_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
