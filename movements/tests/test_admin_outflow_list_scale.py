"""The outflow list and its search by product at scale (issue 13): plans and results."""

import pytest
from django.db import connection

from catalog.models import Product
from catalog.tests import scale_data
from movements.models import Outflow

URL = "/admin/movements/outflow/"
PER_PAGE = 50
TABLES = ("catalog_product", "movements_outflow")


@pytest.fixture(scope="module")
def big_ledger(django_db_setup, django_db_blocker):
    """60,000 products and 300,000 outflows, committed and analyzed."""
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    with django_db_blocker.unblock(), scale_data.filled(outflows=True):
        yield


@pytest.mark.postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="list"),
        pytest.param({"q": scale_data.sku(31_337)}, id="search-exact-sku"),
        pytest.param({"q": scale_data.RARE_WORD}, id="search-title-word"),
    ],
)
def test_outflow_pages_read_no_whole_table(big_ledger, admin_client, params):
    plans = scale_data.page_plans(admin_client, URL, params)

    assert any("movements_outflow" in plan for plan in plans)
    assert scale_data.seq_scans(plans, TABLES) == []


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_sku_search_reaches_the_outflows_through_the_product_index(big_ledger, admin_client):
    plans = scale_data.page_plans(admin_client, URL, {"q": scale_data.sku(31_337)})

    ordered = 'ORDER BY "movements_outflow"."created_at" DESC'
    page = next(plan for plan in plans if ordered in plan.split("\n", 1)[0])
    assert "catalog_product_sku_trgm" in page
    # Then the outflows of that product by an index on product_id.
    assert "on movements_outflow" in page
    assert "Index Cond: (product_id = catalog_product.id)" in page


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_sku_search_lists_that_products_outflows_newest_first(big_ledger, admin_client):
    product = Product.objects.get(serial_number=scale_data.sku(31_337))

    response = admin_client.get(URL, {"q": product.serial_number.lower()})

    cl = response.context["cl"]
    expected = Outflow.objects.filter(product=product).order_by("-created_at", "-pk")
    assert cl.result_count == expected.count() > 0
    assert not cl.paginator.count_is_estimate
    assert [o.pk for o in cl.result_list] == list(expected.values_list("pk", flat=True))


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_title_search_pages_like_the_plain_filter(big_ledger, admin_client):
    response = admin_client.get(URL, {"q": scale_data.RARE_WORD, "p": 2})

    expected = Outflow.objects.filter(product__title__icontains=scale_data.RARE_WORD).order_by(
        "-created_at", "-pk"
    )
    cl = response.context["cl"]
    assert cl.result_count == expected.count()
    assert [o.pk for o in cl.result_list] == list(
        expected.values_list("pk", flat=True)[PER_PAGE : 2 * PER_PAGE]
    )


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_big_outflow_list_shows_an_estimated_count(big_ledger, admin_client):
    response = admin_client.get(URL)

    cl = response.context["cl"]
    assert cl.paginator.count_is_estimate
    assert abs(cl.result_count - scale_data.OUTFLOWS) <= scale_data.OUTFLOWS // 100
    assert f"about {cl.result_count:,}" in response.content.decode()
    newest = Outflow.objects.order_by("-created_at", "-pk").values_list("pk", flat=True)
    assert [o.pk for o in cl.result_list] == list(newest[:PER_PAGE])
