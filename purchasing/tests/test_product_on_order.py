"""The product API shows units on order; its low-stock filter nets them out (issue 15, item 4)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.tests.factories import ProductFactory, SupplierFactory
from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)
from purchasing import services
from purchasing.services import LineInput, ReceiveInput

pytestmark = pytest.mark.django_db
PRODUCTS = f"{API}products/"


@pytest.fixture
def api(role_user):
    return client_for(role_user("Admin"))


def _order(product, quantity):
    order = services.order_create(
        supplier=SupplierFactory(), user=None, lines=[LineInput(product=product, quantity=quantity)]
    )
    return services.order_send(order=order, user=None)


def test_on_order_counts_open_lines_less_what_was_received(api):
    product = ProductFactory(reorder_level=10)
    order = _order(product, 8)
    services.order_receive(order=order, user=None, lines=[ReceiveInput(order.lines.get().pk, 3)])
    cancelled = services.order_create(
        supplier=SupplierFactory(), user=None, lines=[LineInput(product=product, quantity=50)]
    )
    services.order_cancel(order=cancelled, user=None)
    row = api.get(PRODUCTS).json()["results"][0]
    assert row["on_order"] == 5
    assert api.get(f"{PRODUCTS}{product.pk}/").json()["on_order"] == 5
    changed = api.patch(f"{PRODUCTS}{product.pk}/", {"title": "Renamed"}, format="json")
    assert changed.json()["on_order"] == 5


def test_low_stock_filter_nets_out_what_is_on_order(api):
    covered = ProductFactory(reorder_level=5)
    _order(covered, 6)
    short = ProductFactory(reorder_level=5)
    _order(short, 2)
    bare = ProductFactory(reorder_level=5)
    low = {row["id"] for row in api.get(PRODUCTS, {"low_stock": "true"}).json()["results"]}
    assert low == {short.pk, bare.pk}
    not_low = {row["id"] for row in api.get(PRODUCTS, {"low_stock": "false"}).json()["results"]}
    assert not_low == {covered.pk}


def test_product_list_query_count_stays_flat_with_on_order(api, monkeypatch):
    # The user's flags are re-read every second: on a slow machine that
    # second could end inside one count and add a query that is not the list's.
    monkeypatch.setattr("project.api.authentication.USER_RECHECK_SECONDS", 3600)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get(PRODUCTS, {"low_stock": "true"}).status_code == 200
            assert api.get(PRODUCTS).status_code == 200
        return len(queries)

    _order(ProductFactory(reorder_level=5), 1)
    count()  # the first request also loads the user (cached afterwards)
    few = count()
    for _ in range(10):
        _order(ProductFactory(reorder_level=5), 1)
    assert count() == few
