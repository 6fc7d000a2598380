"""Issue 15: the dashboard's low-stock list shows the units on order and nets them out."""

import pytest
from django.urls import reverse

from catalog.models import Product
from dashboard import metrics, page
from dashboard.tests import scan_metrics

pytestmark = pytest.mark.django_db

INDEX = "/admin/"


def _on_order(product, units: int) -> None:
    # The purchasing services keep the column; here it is set as they would.
    Product.objects.filter(pk=product.pk).update(on_order=units)


@pytest.fixture
def ordered(stocked_product):
    """Four low products: two that orders lift above their reorder level, two still low."""
    covered = stocked_product(quantity=2, reorder_level=5, title="Covered")
    _on_order(covered, 4)  # 2 + 4 > 5: nothing to order
    empty_covered = stocked_product(quantity=0, reorder_level=3, title="Empty covered")
    _on_order(empty_covered, 10)
    short = stocked_product(quantity=2, reorder_level=5, title="Short")
    _on_order(short, 3)  # 2 + 3 = 5: still at the reorder level
    plain = stocked_product(quantity=0, reorder_level=1, title="Plain")
    return {"covered": covered, "empty_covered": empty_covered, "short": short, "plain": plain}


def test_units_on_order_are_netted_out_and_shown(ordered):
    rows = metrics.compute()["low_stock"]["rows"]
    assert [(row["title"], row["on_order"]) for row in rows] == [("Plain", 0), ("Short", 3)]
    # The figures are the stock's: units on order are not counted as stock.
    short = rows[1]
    assert short["quantity"] == 2 and short["reorder_level"] == 5


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_netted_list_equals_the_scan(settings, ordered, limit):
    settings.METRICS_LOW_STOCK_LIMIT = limit
    assert metrics.compute_low_stock() == scan_metrics.compute_low_stock()


def test_the_dashboard_table_has_an_on_order_column(admin_client, ordered):
    content = admin_client.get(INDEX).content.decode()
    low_stock = content[content.index('id="dashboard-low-stock"') :]
    assert "On order" in low_stock
    short_url = reverse("admin:catalog_product_change", args=[ordered["short"].pk])
    covered_url = reverse("admin:catalog_product_change", args=[ordered["covered"].pk])
    assert short_url in low_stock
    assert covered_url not in low_stock
    # Product, SKU, stock, on order, reorder level, ...
    table = page._low_stock_table(metrics.compute()["low_stock"], can_link=False)
    assert table["headers"][2:5] == ["Stock", "On order", "Reorder level"]
    short = next(row for row in table["rows"] if row[0] == "Short")
    assert short[2:5] == ["2", "3", "5"]
