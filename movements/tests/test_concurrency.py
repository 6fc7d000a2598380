import pytest
from django.core.management import call_command

from movements import services
from movements.models import Outflow
from project.tests.concurrency import at_once

THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_outflows_never_oversell(stocked_product):
    product = stocked_product(quantity=10)

    def take_one(_):  # all threads hit the service at the same moment
        try:
            services.outflow_create(product=product.pk, quantity=1)
        except services.InsufficientStock:
            return "refused"
        return "sold"

    outcomes = at_once(take_one, THREADS)
    assert sorted(outcomes) == ["refused"] * 10 + ["sold"] * 10
    assert Outflow.objects.filter(product=product).count() == 10
    product.refresh_from_db()
    assert product.quantity == 0
    call_command("check_ledger")  # raises CommandError if inconsistent
