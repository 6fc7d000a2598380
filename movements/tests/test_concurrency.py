import threading

import pytest
from django.core.management import call_command
from django.db import connection

from movements import services
from movements.models import Outflow

THREADS = 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_outflows_never_oversell(stocked_product):
    product = stocked_product(quantity=10)
    barrier = threading.Barrier(THREADS)
    outcomes = []
    lock = threading.Lock()

    def take_one():
        try:
            barrier.wait()  # all threads hit the service at the same moment
            try:
                services.outflow_create(product=product.pk, quantity=1)
                outcome = "sold"
            except services.InsufficientStock:
                outcome = "refused"
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=take_one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["refused"] * 10 + ["sold"] * 10
    assert Outflow.objects.filter(product=product).count() == 10
    product.refresh_from_db()
    assert product.quantity == 0
    call_command("check_ledger")  # raises CommandError if inconsistent
