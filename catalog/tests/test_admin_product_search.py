"""The product admin's search: a whole SKU, a word, their order and count (issue 13).

Plans at a million rows are checked in test_admin_product_list_scale.py;
these run on any database.
"""

import pytest
from django.db import connection

from catalog.tests.factories import ProductFactory

URL = "/admin/catalog/product/"


def _skus(response) -> list[str]:
    return [product.serial_number for product in response.context["cl"].result_list]


@pytest.mark.django_db
def test_a_whole_sku_finds_that_product_alone(admin_client):
    ProductFactory(serial_number="AB-1", title="Drill")
    ProductFactory(serial_number="AB-10", title="Saw")
    ProductFactory(serial_number="XY-2", title="Kit for AB-1 drills")

    response = admin_client.get(URL, {"q": " AB-1 "})

    assert _skus(response) == ["AB-1"]
    assert response.context["cl"].result_count == 1


@pytest.mark.django_db
def test_a_whole_sku_typed_in_lower_case_finds_it(admin_client):
    ProductFactory(serial_number="AB-1")
    ProductFactory(serial_number="AB-10")

    assert _skus(admin_client.get(URL, {"q": "ab-1"})) == ["AB-1"]


@pytest.mark.django_db
def test_a_whole_sku_search_keeps_the_lists_filters(admin_client):
    ProductFactory(serial_number="AB-1", is_active=False)
    ProductFactory(serial_number="AB-10", is_active=True)

    response = admin_client.get(URL, {"q": "AB-1", "is_active": "1"})

    assert _skus(response) == []


@pytest.mark.django_db
def test_part_of_a_sku_finds_every_product_that_contains_it(admin_client):
    ProductFactory(serial_number="AB-10")
    ProductFactory(serial_number="AB-11")
    ProductFactory(serial_number="CD-10")

    assert sorted(_skus(admin_client.get(URL, {"q": "ab-1"}))) == ["AB-10", "AB-11"]


@pytest.mark.django_db
def test_a_word_search_lists_the_newest_first(admin_client):
    old = ProductFactory(title="Acme drill")
    ProductFactory(title="Other saw")
    new = ProductFactory(title="Zeta drill")
    newest = ProductFactory(title="Beta DRILL kit")

    response = admin_client.get(URL, {"q": "drill"})

    assert [p.pk for p in response.context["cl"].result_list] == [newest.pk, new.pk, old.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(("order", "expected"), [("1", "ABC"), ("-1", "CBA")])
def test_a_search_sorted_by_the_title_header_is_in_title_order(admin_client, order, expected):
    for letter in "BCA":
        ProductFactory(title=f"{letter} drill")

    response = admin_client.get(URL, {"q": "drill", "o": order})

    assert "".join(p.title[0] for p in response.context["cl"].result_list) == expected


@pytest.mark.django_db
def test_a_list_without_a_search_stays_in_title_order(admin_client):
    for letter in "BCA":
        ProductFactory(title=f"{letter} drill")

    response = admin_client.get(URL)

    assert "".join(p.title[0] for p in response.context["cl"].result_list) == "ABC"


@pytest.mark.postgresql_only
@pytest.mark.django_db
def test_a_search_counts_exactly_only_up_to_its_own_limit(admin_client, settings):
    settings.ADMIN_EXACT_COUNT_LIMIT = 10_000
    settings.ADMIN_SEARCH_EXACT_COUNT_LIMIT = 2
    ProductFactory.create_batch(3, title="Drill")

    listed = admin_client.get(URL).context["cl"]
    searched = admin_client.get(URL, {"q": "drill"}).context["cl"]

    assert not listed.paginator.count_is_estimate
    assert listed.result_count == 3
    assert searched.paginator.count_is_estimate


def test_a_searchs_exact_count_limit_is_four_pages_and_a_setting(settings):
    from project.admin_pagination import search_exact_count_limit

    assert search_exact_count_limit() == 200
    settings.ADMIN_SEARCH_EXACT_COUNT_LIMIT = 50
    assert search_exact_count_limit() == 50


@pytest.mark.django_db
def test_a_product_picker_lists_few_matches_by_title_and_many_newest_first(
    admin_client, monkeypatch
):
    """The movement forms' product picker (issue 13).

    By title a person finds an exact title first; but for a common word at a
    million products title order made PostgreSQL walk the title index through
    most of the table (0.9-1.1 s a keystroke), so past a few thousand
    estimated matches the picker lists the newest first (10-20 ms).
    """
    from catalog import admin as catalog_admin

    older = ProductFactory(title="Alpha drill", serial_number="AL-1")
    newer = ProductFactory(title="Alpha saw", serial_number="AL-2")
    ProductFactory(title="Beta", serial_number="BE-1")
    picker = "/admin/autocomplete/"
    params = {"app_label": "movements", "model_name": "inflow", "field_name": "product"}

    def ids(term):
        found = admin_client.get(picker, {**params, "term": term}).json()["results"]
        return [int(row["id"]) for row in found]

    assert ids("alpha") == [older.pk, newer.pk]  # by title: drill, saw
    assert ids("al-2") == [newer.pk]  # a whole SKU
    if connection.vendor == "postgresql":  # the estimate is PostgreSQL's planner's
        monkeypatch.setattr(catalog_admin, "PICKER_TITLE_ORDER_LIMIT", 0)
        assert ids("alpha") == [newer.pk, older.pk]  # "many": the newest first
