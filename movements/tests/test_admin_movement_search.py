"""The movement lists' search: products first, then their movements (issue 13)."""

import pytest

from movements import services
from movements.models import Inflow, Outflow


@pytest.fixture
def ledger(stocked_product, supplier, admin_user):
    drill = stocked_product(quantity=10, title="Cordless drill", serial_number="DRL-0001")
    saw = stocked_product(quantity=10, title="Circular saw", serial_number="SAW-0001")
    for product in (drill, saw, drill):
        services.outflow_create(product=product, quantity=1, user=admin_user, note="NF-42")
    return drill, saw


def _listed(admin_client, url, q):
    response = admin_client.get(url, {"q": q})
    assert response.status_code == 200
    return [movement.pk for movement in response.context["cl"].result_list]


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["drl-0001", "CORDLESS", "drill", '"cordless drill"', "dril 000"])
def test_outflow_search_finds_the_products_outflows_newest_first(admin_client, ledger, q):
    drill, _ = ledger

    expected = Outflow.objects.filter(product=drill).order_by("-created_at", "-pk")
    assert _listed(admin_client, "/admin/movements/outflow/", q) == list(
        expected.values_list("pk", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["drill saw", "nothing-like-this", "NF-42"])
def test_every_word_must_match_a_product_field(admin_client, ledger, q):
    # "NF-42" is in every outflow's note: the note is not searched (see
    # MovementAdmin.search_fields).
    assert _listed(admin_client, "/admin/movements/outflow/", q) == []


@pytest.mark.django_db
def test_inflow_search_goes_through_the_products_too(admin_client, ledger):
    _, saw = ledger

    expected = Inflow.objects.filter(product=saw).order_by("-created_at", "-pk")
    assert _listed(admin_client, "/admin/movements/inflow/", "SAW-0001") == list(
        expected.values_list("pk", flat=True)
    )
