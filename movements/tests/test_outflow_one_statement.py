"""On PostgreSQL an outflow is one statement: one round trip when no transaction is open."""

import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from movements import rollups, services
from movements.models import Outflow

pytestmark = [pytest.mark.postgresql_only, pytest.mark.django_db(transaction=True)]


def test_an_outflow_outside_a_transaction_is_one_query(stocked_product):
    product = stocked_product(quantity=5)
    saved = []
    post_save.connect(
        lambda instance, created, **kw: saved.append((instance, created)),
        sender=Outflow,
        weak=False,
        dispatch_uid="test-one-statement",
    )
    try:
        with CaptureQueriesContext(connection) as queries:
            outflow = services.outflow_create(product=product.pk, quantity=2)
    finally:
        post_save.disconnect(sender=Outflow, dispatch_uid="test-one-statement")
    assert len(queries) == 1
    # The instance is as the ORM would return it: saved, with its product as locked.
    assert outflow.pk and not outflow._state.adding
    assert (outflow.unit_price, outflow.unit_cost) == (product.sell_price, product.cost_price)
    assert outflow.product.quantity == 3 and outflow.product.updated_at == outflow.created_at
    assert Outflow.objects.get(pk=outflow.pk).unit_price == product.sell_price
    assert saved == [(outflow, True)]  # the dashboard's receivers still hear of it
    product.refresh_from_db()
    assert product.quantity == 3
    assert rollups.rollup_differences() == []


def test_a_refused_outflow_costs_one_more_query_and_writes_nothing(stocked_product):
    product = stocked_product(quantity=5)
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(services.InsufficientStock) as refused,
    ):
        services.outflow_create(product=product.pk, quantity=6)
    assert len(queries) == 2
    assert (refused.value.requested, refused.value.available) == (6, 5)
    assert refused.value.product.pk == product.pk
    with pytest.raises(services.InvalidMovement, match="does not exist"):
        services.outflow_create(product=product.pk + 1000, quantity=1)
    assert not Outflow.objects.exists()
