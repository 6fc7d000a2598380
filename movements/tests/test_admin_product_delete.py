"""A product with movements is never deleted: the admin says why, offers "mark inactive"."""

import pytest
from django.urls import reverse

from catalog.models import Product
from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_page_of_a_moved_product_offers_mark_inactive_not_delete(admin_client, stocked_product):
    product = stocked_product(quantity=4)  # one inflow
    html = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content
    assert reverse("admin:catalog_product_delete", args=[product.pk]).encode() not in html
    assert b"/mark-inactive/" in html

    response = admin_client.post(
        reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"}, follow=True
    )
    assert b"has 1 stock movement, so it cannot be deleted" in response.content
    assert b"doesn't have permission" not in response.content
    assert Product.objects.filter(pk=product.pk).exists()

    url = reverse("admin:catalog_product_mark_inactive_detail", args=[product.pk])
    assert b"Yes, mark it inactive" in admin_client.get(url).content
    assert Product.objects.get(pk=product.pk).is_active  # a GET changes nothing
    admin_client.post(url)
    assert not Product.objects.get(pk=product.pk).is_active
    html = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content
    assert b"/mark-inactive/" not in html  # already inactive


def test_a_product_nobody_moved_is_deleted_as_usual(admin_client):
    product = ProductFactory()
    html = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk])).content
    assert reverse("admin:catalog_product_delete", args=[product.pk]).encode() in html
    admin_client.post(reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"})
    assert not Product.objects.filter(pk=product.pk).exists()


def test_bulk_delete_refuses_moved_products_and_names_them(admin_client, stocked_product):
    moved = stocked_product(quantity=2, serial_number="MOVED-1")
    untouched = ProductFactory()
    changelist = reverse("admin:catalog_product_changelist")
    response = admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [moved.pk, untouched.pk], "post": "yes"},
        follow=True,
    )
    assert b"MOVED-1" in response.content
    assert b"cannot be deleted" in response.content
    assert Product.objects.filter(pk__in=[moved.pk, untouched.pk]).count() == 2

    confirm = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [untouched.pk]}
    )
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [untouched.pk], "post": "yes"},
    )
    assert not Product.objects.filter(pk=untouched.pk).exists()


def test_bulk_mark_inactive(admin_client, stocked_product):
    products = [stocked_product(quantity=1), stocked_product(quantity=1)]
    admin_client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "mark_inactive", "_selected_action": [p.pk for p in products]},
    )
    assert not Product.objects.filter(pk__in=[p.pk for p in products], is_active=True).exists()
