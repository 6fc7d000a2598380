"""The catalog lists' row checkbox: unfold's markup, rendered once per language."""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.utils import translation
from unfold.admin import checkbox

from catalog.models import Product
from catalog.tests.factories import ProductFactory


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_row_checkbox_is_unfolds_markup_with_the_rows_pk(language):
    products = ProductFactory.create_batch(2)
    model_admin = admin.site._registry[Product]

    with translation.override(language):
        rendered = [model_admin.action_checkbox(product) for product in products]
        expected = [checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(p.pk)) for p in products]

    assert rendered == expected


@pytest.mark.django_db
def test_product_list_rows_carry_their_checkbox_and_the_header_selects_all(admin_client):
    products = ProductFactory.create_batch(3)

    content = admin_client.get("/admin/catalog/product/").content.decode()

    assert 'id="action-toggle"' in content or 'name="action_toggle_all"' in content
    for product in products:
        assert f'name="_selected_action" value="{product.pk}"' in content
