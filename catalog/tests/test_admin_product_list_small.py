"""The product list on a small table: exact counts, Django's pages, flat query counts.

The big-table side (estimates, plans) is in test_admin_product_list_scale.py.
"""

import pytest

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from project.admin_pagination import EstimatedCountPaginator

URL = "/admin/catalog/product/"


@pytest.mark.django_db
def test_small_list_counts_exactly(admin_client):
    ProductFactory.create_batch(3)

    response = admin_client.get(URL)

    cl = response.context["cl"]
    assert cl.result_count == 3
    assert not cl.paginator.count_is_estimate
    assert "about" not in response.content.decode()


@pytest.mark.django_db
def test_paginator_pages_by_deferred_join_past_the_offset(settings):
    ProductFactory.create_batch(7)
    settings.ADMIN_DEFERRED_JOIN_OFFSET = 0
    queryset = Product.objects.order_by("title", "-pk")

    pages = [EstimatedCountPaginator(queryset, 3).page(n) for n in (1, 2, 3)]

    assert [[p.pk for p in page.object_list] for page in pages] == [
        list(queryset.values_list("pk", flat=True)[bottom : bottom + 3]) for bottom in (0, 3, 6)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("products", [3, 120])
def test_product_list_query_count_does_not_grow_with_rows(
    admin_client, django_assert_num_queries, products
):
    ProductFactory.create_batch(products)
    admin_client.get(URL)  # the session and the user, loaded once

    # Session, user, the count, the page, the filters' choices (and
    # notifications): as many for one page of 3 rows as for 3 pages.
    with django_assert_num_queries(7):
        admin_client.get(URL)
