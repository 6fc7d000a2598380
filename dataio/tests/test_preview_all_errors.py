"""A preview lists every error of every row at once, and does not look "Completed" (issue 14)."""

import pytest
from django.urls import reverse

from catalog.tests.factories import CategoryFactory, ProductModelFactory
from dataio.tests.helpers import preview

pytestmark = pytest.mark.django_db

HEADER = "serial_number,title,brand,product_model,category,cost_price,sell_price,reorder_level\n"


def test_a_row_with_bad_prices_and_an_unknown_category_shows_both(admin_client):
    model = ProductModelFactory()
    category = CategoryFactory()
    brand, name = model.brand.name, model.name
    content = (
        HEADER
        + f"OK-1,Fine,{brand},{name},{category.name},1.00,2.00,0\n"
        + f"BAD-1,Broken,{brand},{name},Gadgets,-10.00,abc,0\n"
        + f"BAD-2,Unknown only,{brand},{name},Gizmos,1.00,2.00,0\n"
    ).encode()
    checked = preview(admin_client, "admin:catalog_product_import", content)
    by_row = {}
    for error in checked.row_errors:
        by_row.setdefault(error["row"], []).append(error["column"])
    assert by_row == {3: ["cost_price", "sell_price", "category"], 4: ["category"]}
    assert (checked.new_rows, checked.invalid_rows) == (1, 2)

    assert checked.needs_fixing and checked.status_text == "Needs fixing"
    page = admin_client.get(reverse("dataio:import_preview", args=[checked.pk])).content.decode()
    assert '<strong id="import-status">Needs fixing</strong>' in page
    centre = admin_client.get(reverse("admin:dataio_tasknotification_changelist")).content
    assert b"Needs fixing" in centre


def test_a_clean_preview_is_completed(admin_client):
    model = ProductModelFactory()
    category = CategoryFactory()
    content = (
        HEADER + f"OK-1,Fine,{model.brand.name},{model.name},{category.name},1.00,2.00,0\n"
    ).encode()
    checked = preview(admin_client, "admin:catalog_product_import", content)
    assert not checked.needs_fixing and checked.status_text == "Completed"
