"""List pages are built per request, from that request's queryset.

The plain list (no filter, search or ordering) used to reuse SQL compiled
by the first request of the process and kept on the view class: a
queryset that depends on the user would have shown the first user's rows
to everyone.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import resolve
from rest_framework.permissions import IsAuthenticated
from rest_framework.test import APIRequestFactory, force_authenticate

from catalog.models import Brand
from project.api.fields import UTCDateTimeField

pytestmark = pytest.mark.django_db


def _own_products_view():
    # Imported here: the API modules load in the URLconf's order (importing
    # catalog.api first runs into DRF's settings importing our parsers).
    ProductViewSet = resolve("/api/v1/products/").func.cls

    class OwnProductsViewSet(ProductViewSet):
        """Products whose title starts with the user's name: a queryset per user."""

        permission_classes = (IsAuthenticated,)

        def get_queryset(self):
            return super().get_queryset().filter(title__startswith=self.request.user.username)

    return OwnProductsViewSet.as_view({"get": "list"})


def _list(user, view=None) -> list[dict]:
    request = APIRequestFactory().get("/api/v1/products/")
    force_authenticate(request, user=user)
    response = (view or _own_products_view())(request)
    assert response.status_code == 200, response.data
    return json.loads(response.render().content)["results"]


def test_each_request_lists_its_own_queryset(django_user_model, stocked_product):
    ann, bob = (django_user_model.objects.create_user(username=name) for name in ("ann", "bob"))
    prices = {"cost_price": Decimal(10), "sell_price": Decimal("0.5")}
    stocked_product(title="ann's", quantity=5, reorder_level=5, **prices)
    prices = {"cost_price": Decimal("1234567890.1"), "sell_price": Decimal(0)}
    stocked_product(title="bob's", quantity=6, reorder_level=5, **prices)

    view = _own_products_view()  # one class, as in a running process
    first, second = _list(ann, view), _list(bob, view)

    assert [row["title"] for row in first] == ["ann's"]
    assert [row["title"] for row in second] == ["bob's"]
    # Money as the serializer writes it, whatever the scale it was saved with.
    assert (first[0]["cost_price"], first[0]["sell_price"]) == ("10.00", "0.50")
    assert (second[0]["cost_price"], second[0]["sell_price"]) == ("1234567890.10", "0.00")
    # Product.is_low_stock's rule: at or below the reorder level.
    assert (first[0]["is_low_stock"], second[0]["is_low_stock"]) == (True, False)
    assert _list(ann, view) == first


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 30, 18, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 18, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 30, 18, 0, 0, 500000, tzinfo=UTC),
        datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 1, 2, 3, 40, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
)
def test_utc_text_is_what_the_serializer_writes(moment):
    resolve("/api/v1/")
    from project.api.views import UTCText

    brand = Brand.objects.create(name="Any")
    Brand.objects.filter(pk=brand.pk).update(created_at=moment)
    text = Brand.objects.filter(pk=brand.pk).values_list(UTCText("created_at"), flat=True).get()
    assert text == UTCDateTimeField().to_representation(moment)


def _products_view_class():
    return resolve("/api/v1/products/").func.cls


def test_the_columns_declared_with_the_class_never_hold_rows(django_user_model, stocked_product):
    """Each request clones the declared queryset: rows written since show, nothing is cached."""
    ProductViewSet = _products_view_class()
    view = ProductViewSet.as_view({"get": "list"})
    user = django_user_model.objects.create_superuser(username="root-user")
    stocked_product(title="first", quantity=1)
    assert [row["title"] for row in _list(user, view)] == ["first"]
    stocked_product(title="second", quantity=1)
    assert [row["title"] for row in _list(user, view)] == ["first", "second"]
    assert ProductViewSet.list_base._result_cache is None  # never evaluated itself
    assert ProductViewSet.queryset._result_cache is None


def test_a_view_with_its_own_get_queryset_resolves_its_columns_per_request(
    django_user_model, stocked_product, monkeypatch
):
    calls = []
    ProductViewSet = _products_view_class()
    original = ProductViewSet.list_columns.__func__

    def counting(cls, queryset):
        calls.append(queryset)
        return original(cls, queryset)

    monkeypatch.setattr(ProductViewSet, "list_columns", classmethod(counting))
    ann = django_user_model.objects.create_user(username="ann")
    stocked_product(title="ann's", quantity=1)
    own = _own_products_view()  # declared now: its class resolves once, here
    declared = len(calls)
    assert [row["title"] for row in _list(ann, own)] == ["ann's"]
    assert len(calls) == declared + 1  # per request, from its get_queryset
    plain = ProductViewSet.as_view({"get": "list"})
    superuser = django_user_model.objects.create_superuser(username="root-user")
    _list(superuser, plain)
    assert len(calls) == declared + 1  # the declared columns, cloned
