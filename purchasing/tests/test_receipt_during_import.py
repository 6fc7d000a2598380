"""A receipt and an import that lock the same products in opposite orders both land.

An import locks its products batch by batch as it reads the file; a receipt
locks all of its products at once, in primary-key order. With the file naming
the products in the opposite order, each holds the lock the other needs next:
a real deadlock, which PostgreSQL breaks by aborting one of them. The aborted
one runs again (project.transactions) and nothing is lost.
"""

import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from dataio import imports, pipeline
from dataio.models import TaskNotification
from dataio.tests.helpers import preview
from movements.imports import MovementImport
from purchasing import services
from purchasing.models import PurchaseOrder

pytestmark = [pytest.mark.postgresql_only, pytest.mark.django_db(transaction=True)]
INFLOWS = "admin:movements_inflow_import"


def test_a_receipt_deadlocked_with_an_import_runs_again_and_both_land(
    admin_client, sent_order, supplier, monkeypatch
):
    order = sent_order(quantities=(10, 4))
    first, second = order.lines.order_by("product_id")
    low, high = first.product, second.product
    # The file names the higher key first, in a batch of its own.
    content = f"product,quantity,supplier\n{high.serial_number},3,{supplier.name}\n"
    content += f"{low.serial_number},5,{supplier.name}\n"
    checked = preview(admin_client, INFLOWS, content.encode())
    admin_client.post(reverse("dataio:import_confirm", args=[checked.pk]))
    confirmed = TaskNotification.objects.latest("pk")
    assert confirmed.pk != checked.pk

    monkeypatch.setattr(imports, "BATCH_ROWS", 1)
    import_holds_high = threading.Event()
    real_check_batch = MovementImport.check_batch

    def check_batch(self, records):
        real_check_batch(self, records)
        if self.lock and not import_holds_high.is_set():
            import_holds_high.set()
            time.sleep(0.5)  # the receipt now holds `low` and waits for `high`

    monkeypatch.setattr(MovementImport, "check_batch", check_batch)
    outcomes, errors = {}, []

    def run(name, work):
        try:
            outcomes[name] = work()
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    def receive():
        assert import_holds_high.wait(10)
        return services.order_receive(
            order=order.pk,
            user=None,
            lines=[services.ReceiveInput(first.pk, 10), services.ReceiveInput(second.pk, 4)],
        )

    threads = [
        threading.Thread(
            target=run, args=("import", lambda: pipeline.run_import_apply(confirmed.pk))
        ),
        threading.Thread(target=run, args=("receipt", receive)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    confirmed.refresh_from_db()
    assert confirmed.status == TaskNotification.Status.COMPLETED, confirmed.error_message
    assert len(outcomes["receipt"]) == 2
    low.refresh_from_db()
    high.refresh_from_db()
    assert (low.quantity, high.quantity) == (5 + 10, 3 + 4)
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.RECEIVED
    call_command("check_ledger")
