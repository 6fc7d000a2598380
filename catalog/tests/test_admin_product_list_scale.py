"""The product list and search at scale (issue 13): plans, counts, pages, results."""

import pytest
from django.db import connection
from django.db.models import F

from catalog.models import Product
from catalog.tests import scale_data
from project.admin_pagination import planner_row_estimate

URL = "/admin/catalog/product/"
PER_PAGE = 50
PRODUCT_TABLES = ("catalog_product",)


@pytest.fixture(scope="module")
def big_catalog(django_db_setup, django_db_blocker):
    """60,000 products, committed and analyzed, for the module's plan tests."""
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    with django_db_blocker.unblock(), scale_data.filled(outflows=False):
        yield


def _page_ids(response) -> list[int]:
    return [product.pk for product in response.context["cl"].result_list]


# --- plans: no page reads the whole product table --------------------------


@pytest.mark.postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="list"),
        pytest.param({"q": scale_data.RARE_WORD}, id="search-title-word"),
        pytest.param({"q": scale_data.sku(31_337)}, id="search-exact-sku"),
        pytest.param({"p": 1_000}, id="deep-page"),
    ],
)
def test_product_pages_read_no_whole_table(big_catalog, admin_client, params):
    plans = scale_data.page_plans(admin_client, URL, params)

    assert any("catalog_product" in plan for plan in plans)
    assert scale_data.seq_scans(plans, PRODUCT_TABLES) == []


def _page_plan(plans: list[str]) -> str:
    return next(plan for plan in plans if "LIMIT 50" in plan.split("\n", 1)[0])


@pytest.mark.postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize("word", [scale_data.BRAND_WORD, scale_data.RARE_WORD])
def test_word_search_page_never_walks_the_title_index(big_catalog, admin_client, word):
    # Newest first: the primary key walked backwards (a common word) or the
    # trigram index's matches sorted (a rare one); never the title index
    # until 50 rows match, which for a word clustered in title order (a
    # brand) reads most rows.
    page = _page_plan(scale_data.page_plans(admin_client, URL, {"q": word}))

    assert "catalog_product_title_id_idx" not in page
    assert "catalog_product_pkey" in page or "catalog_product_title_trgm" in page


@pytest.mark.postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize("order", ["1", "-1"])
def test_word_search_sorted_by_title_sorts_the_trigram_matches(big_catalog, admin_client, order):
    plans = scale_data.page_plans(admin_client, URL, {"q": scale_data.BRAND_WORD, "o": order})

    page = _page_plan(plans)
    assert "Bitmap Index Scan on catalog_product_title_trgm" in page
    assert "catalog_product_title_id_idx" not in page
    assert scale_data.seq_scans(plans, PRODUCT_TABLES) == []


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_exact_sku_search_reads_the_serial_number_btree_only(big_catalog, admin_client):
    plans = scale_data.page_plans(admin_client, URL, {"q": scale_data.sku(31_337).lower()})

    product_plans = [
        plan for plan in plans if "catalog_product " in plan or 'catalog_product"' in plan
    ]
    assert product_plans
    assert not any("_trgm" in plan for plan in plans)
    assert all("catalog_product_serial_number" in plan for plan in product_plans)


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_deep_page_reads_its_ids_from_the_title_index_alone(big_catalog, admin_client):
    plans = scale_data.page_plans(admin_client, URL, {"p": 1_000})

    assert any("Index Only Scan using catalog_product_title_id_idx" in plan for plan in plans)


# --- results: right rows, right order, the page count shown ----------------


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_title_search_finds_every_product_with_the_word_newest_first(
    big_catalog, admin_client, settings
):
    settings.ADMIN_SEARCH_EXACT_COUNT_LIMIT = 1_000
    response = admin_client.get(URL, {"q": scale_data.RARE_WORD.lower()})

    expected = Product.objects.filter(title__icontains=scale_data.RARE_WORD).order_by("-pk")
    cl = response.context["cl"]
    assert cl.result_count == scale_data.PRODUCTS // scale_data.RARE_EVERY
    assert not cl.paginator.count_is_estimate  # under the search's limit: counted exactly
    assert _page_ids(response) == list(expected.values_list("pk", flat=True)[:PER_PAGE])


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_a_search_past_its_count_limit_shows_an_estimate(big_catalog, admin_client, settings):
    # 3,000 titles open with the brand word; a search's matches are read
    # and rechecked to be counted, so its limit is lower than a list's.
    settings.ADMIN_SEARCH_EXACT_COUNT_LIMIT = 1_000
    response = admin_client.get(URL, {"q": scale_data.BRAND_WORD})

    cl = response.context["cl"]
    assert cl.paginator.count_is_estimate
    assert cl.result_count > 1_000
    assert f"about {cl.result_count:,}" in response.content.decode()


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_exact_sku_search_finds_that_product(big_catalog, admin_client):
    response = admin_client.get(URL, {"q": scale_data.sku(31_337)})

    assert [p.serial_number for p in response.context["cl"].result_list] == [scale_data.sku(31_337)]


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_big_list_shows_the_estimated_count_and_its_pages(big_catalog, admin_client):
    response = admin_client.get(URL)

    cl = response.context["cl"]
    estimate = planner_row_estimate(Product.objects.all())
    assert cl.paginator.count_is_estimate
    assert cl.result_count == estimate
    # VACUUM ANALYZE counted the table: the estimate is the row count.
    assert abs(estimate - scale_data.PRODUCTS) <= scale_data.PRODUCTS // 100
    assert cl.paginator.num_pages == -(-estimate // PER_PAGE)
    content = response.content.decode()
    assert f"about {estimate:,}" in content
    assert f">{cl.paginator.num_pages}</a>" in content  # the last page's link


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_a_filter_the_planner_overestimates_still_counts_exactly(big_catalog, admin_client):
    # quantity <= reorder_level: the planner guesses a third of the table
    # (20,000 rows); 9,000 match, under the exact-count limit.
    response = admin_client.get(URL, {"stock": "low"})

    cl = response.context["cl"]
    low = Product.objects.filter(quantity__lte=F("reorder_level"))
    assert planner_row_estimate(low) > 10_000
    assert cl.result_count == low.count() == 9_000
    assert not cl.paginator.count_is_estimate


@pytest.mark.postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize("page", [11, 600, 1_000])
def test_deep_pages_show_the_same_rows_as_an_offset_would(big_catalog, admin_client, page):
    response = admin_client.get(URL, {"p": page})

    offset = (page - 1) * PER_PAGE
    expected = Product.objects.order_by("title", "-pk").values_list("pk", flat=True)
    assert _page_ids(response) == list(expected[offset : offset + PER_PAGE])
