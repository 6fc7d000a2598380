"""A price of "-0.00" is 0.00: stored, echoed and listed without the sign.

Before: the API accepted "-0.00" (it passes min_value=0) and echoed it back
as "-0.00" from the object in memory, while PostgreSQL stored 0.00; the
admin form and the import store 0.00 too (numeric has no negative zero).
"""

from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from movements.models import Inflow, Outflow
from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)

pytestmark = pytest.mark.django_db
ZERO = "-0.00"


def _signless(value: Decimal) -> bool:
    return value == 0 and not value.is_signed()


def test_product_prices_of_minus_zero_come_back_zero(role_user):
    api = client_for(role_user("Admin"))
    template = ProductFactory()
    body = {
        "title": "Free sample",
        "serial_number": "FREE-0001",
        "product_model": template.product_model_id,
        "category": template.category_id,
        "cost_price": ZERO,
        "sell_price": ZERO,
    }
    created = api.post(f"{API}products/", body)
    assert created.status_code == 201, created.content
    assert (created.json()["cost_price"], created.json()["sell_price"]) == ("0.00", "0.00")

    url = f"{API}products/{created.json()['id']}/"
    api.patch(url, {"cost_price": "1.00", "sell_price": "1.00"})
    patched = api.patch(url, {"cost_price": ZERO, "sell_price": "-0"})
    assert patched.status_code == 200, patched.content
    assert (patched.json()["cost_price"], patched.json()["sell_price"]) == ("0.00", "0.00")
    assert api.get(url).json()["sell_price"] == "0.00"

    product = Product.objects.get(pk=created.json()["id"])
    assert _signless(product.cost_price) and _signless(product.sell_price)


def test_movement_prices_of_minus_zero_come_back_zero(role_user, stocked_product, supplier):
    api = client_for(role_user("Operator"))
    product = stocked_product(quantity=5)
    inflow = api.post(
        f"{API}inflows/",
        {"product": product.pk, "quantity": 1, "supplier": supplier.pk, "unit_cost": ZERO},
    )
    assert inflow.status_code == 201, inflow.content
    assert inflow.json()["unit_cost"] == "0.00"
    assert _signless(Inflow.objects.get(pk=inflow.json()["id"]).unit_cost)

    outflow = api.post(
        f"{API}outflows/", {"product": product.pk, "quantity": 1, "unit_price": ZERO}
    )
    assert outflow.status_code == 201, outflow.content
    assert outflow.json()["unit_price"] == "0.00"
    assert _signless(Outflow.objects.get(pk=outflow.json()["id"]).unit_price)
    assert api.get(f"{API}outflows/{outflow.json()['id']}/").json()["unit_price"] == "0.00"


def test_a_negative_price_is_still_refused(role_user):
    api = client_for(role_user("Admin"))
    product = ProductFactory()
    response = api.patch(f"{API}products/{product.pk}/", {"sell_price": "-0.01"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"sell_price"}
