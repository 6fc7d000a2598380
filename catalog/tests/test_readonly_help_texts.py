"""Help texts say how to fill a field: left out on read-only pages (issue 14)."""

import pytest
from django.test import Client
from django.urls import reverse

from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
HELP = "Unique code that identifies the product (SKU)."


def _product_page(user, product) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_editable_product_page_shows_help_texts(role_user):
    assert HELP in _product_page(role_user("Manager"), ProductFactory())


def test_a_read_only_product_page_leaves_them_out(role_user):
    html = _product_page(role_user("Operator"), ProductFactory())
    assert HELP not in html
    assert "serial number" in html.lower()  # the field itself is still shown
