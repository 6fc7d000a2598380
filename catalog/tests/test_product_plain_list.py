"""The plain product list runs the selector's SQL, and gives what the ORM's list gives.

``?ordering=`` with the view's default asks for the same order through the ORM (django-filter,
the ordering filter, the compiled queryset), so both must list the same
rows with the same text, page after page.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory, force_authenticate

from catalog.api import ProductViewSet
from catalog.models import Product
from catalog.tests.factories import ProductModelFactory
from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql_only]
PRODUCTS = f"{API}products/"
PLAIN_SELECT = ProductViewSet.list_plain_sql.split(" LIMIT ")[0]
DEFAULT = ",".join(ProductViewSet.ordering)  # the same order, asked of the ORM


@pytest.fixture
def api(role_user):
    return client_for(role_user("Admin"))


@pytest.fixture
def varied_products(stocked_product):
    """Products whose every listed value differs in a way the text could get wrong."""
    other_model = ProductModelFactory()
    products = [
        stocked_product(quantity=3, reorder_level=5, cost_price=Decimal("1234567890.1")),
        stocked_product(quantity=0, is_active=False, description='Ação, 50% off; "quoted"'),
        stocked_product(quantity=7, product_model=other_model, sell_price=Decimal(0)),
        stocked_product(quantity=2, ean="7891234567895"),
        stocked_product(quantity=9, reorder_level=9),
    ]
    moments = [
        datetime(2026, 11, 30, 18, 0, 0, tzinfo=UTC),  # a whole second: no fraction
        datetime(2026, 11, 30, 18, 0, 0, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for product, moment in zip(products, moments, strict=False):
        Product.objects.filter(pk=product.pk).update(created_at=moment, updated_at=moment)
    return products


def _plain(api, **params):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(PRODUCTS, params)
    assert [q["sql"] for q in queries if q["sql"].startswith(PLAIN_SELECT)], "the ORM ran instead"
    return response


@pytest.mark.parametrize("page_size", [1, 2, 3, 50])
def test_every_page_of_the_plain_list_is_the_orm_page(api, varied_products, page_size):
    page = 1
    while True:
        plain = _plain(api, page=page, page_size=page_size)
        ordered = api.get(PRODUCTS, {"page": page, "page_size": page_size, "ordering": DEFAULT})
        assert plain.status_code == ordered.status_code == 200
        plain, ordered = plain.json(), ordered.json()
        assert plain["results"] == ordered["results"]
        assert (plain["next_page"], plain["previous_page"]) == (
            ordered["next_page"],
            ordered["previous_page"],
        )
        if plain["next_page"] is None:
            break
        page += 1
    assert page == -(-len(varied_products) // page_size)
    past = _plain(api, page=page + 1, page_size=page_size)
    assert past.status_code == 404


def test_the_plain_list_row_is_the_detail(api, varied_products):
    rows = _plain(api).json()["results"]
    assert [row["id"] for row in rows] == sorted(p.pk for p in varied_products)
    for row in rows:
        assert row == api.get(f"{PRODUCTS}{row['id']}/").json()
    assert rows[0]["created_at"] == "2026-11-30T18:00:00Z"
    assert rows[1]["created_at"] == "2026-11-30T18:00:00.000001Z"
    # Money as DRF writes it: the column's two places, also on a whole or zero amount.
    assert rows[0]["cost_price"] == "1234567890.10"
    assert rows[2]["sell_price"] == "0.00"


@pytest.mark.parametrize(
    "params",
    [
        {"search": "x"},
        {"ordering": "-id"},
        {"is_active": "true"},
        {"page": 1, "low_stock": "true"},
        {"anything": "else"},  # unknown to the list: still not the plain page
    ],
)
def test_any_other_parameter_goes_through_the_orm(api, varied_products, params):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(PRODUCTS, params)
    assert response.status_code == 200
    assert not [q for q in queries if q["sql"].startswith(PLAIN_SELECT)]


def test_rows_written_since_the_last_page_show(api, stocked_product):
    first = stocked_product(quantity=1)
    assert [row["id"] for row in _plain(api).json()["results"]] == [first.pk]
    second = stocked_product(quantity=1)
    assert [row["id"] for row in _plain(api).json()["results"]] == [first.pk, second.pk]


def test_a_subclass_does_not_inherit_the_plain_sql(role_user, stocked_product):
    class ActiveProducts(ProductViewSet):
        queryset = Product.objects.filter(is_active=True)

    active = stocked_product(quantity=1)
    stocked_product(quantity=1, is_active=False)
    request = APIRequestFactory().get(PRODUCTS)
    force_authenticate(request, user=role_user("Admin"))
    response = ActiveProducts.as_view({"get": "list"})(request)
    assert [row["id"] for row in response.data["results"]] == [active.pk]
    assert ActiveProducts.list_plain_sql is None
