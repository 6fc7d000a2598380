"""Receiving a purchase order: inflows through the ledger, one transaction, states, reversal."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from movements import services as ledger
from movements.models import Inflow, Outflow
from project.tests.concurrency import at_once
from purchasing import services
from purchasing.models import PurchaseOrder, PurchaseOrderLine, Receipt, SupplierProduct
from purchasing.services import LineInput, PurchasingError, ReceiveInput, StateRefused

pytestmark = pytest.mark.django_db
State = PurchaseOrder.State


def _lines(order):
    return list(order.lines.order_by("pk"))


def test_receiving_everything_makes_purchase_inflows_and_keeps_the_ledger(sent_order):
    order = sent_order()
    first, second = _lines(order)
    services.order_receive(
        order=order,
        user=order.created_by,
        lines=[ReceiveInput(first.pk, 10), ReceiveInput(second.pk, 4)],
        note="NF 123",
    )
    order.refresh_from_db()
    assert order.state == State.RECEIVED and order.received_at is not None
    inflows = {inflow.product_id: inflow for inflow in Inflow.objects.all()}
    assert inflows[first.product_id].quantity == 10
    assert inflows[first.product_id].unit_cost == Decimal("7.50")
    assert inflows[first.product_id].supplier_id == order.supplier_id
    assert inflows[first.product_id].reason == Inflow.Reason.PURCHASE
    assert (
        order.number in inflows[first.product_id].note
        and "NF 123" in inflows[first.product_id].note
    )
    first.product.refresh_from_db()
    assert first.product.quantity == 10
    # The supplier product learns the last cost (and is created by the first purchase).
    link = SupplierProduct.objects.get(supplier=order.supplier, product=first.product)
    assert link.last_cost == Decimal("7.50")
    call_command("check_ledger")


def test_an_invoiced_cost_given_with_the_item_values_the_inflow(sent_order):
    order = sent_order(quantities=(10,))
    (line,) = _lines(order)
    with pytest.raises(PurchasingError) as refused:
        services.order_receive(
            order=order, user=None, lines=[ReceiveInput(line.pk, 2, unit_cost=Decimal("-1"))]
        )
    assert refused.value.field == "lines[0].unit_cost"
    assert not Inflow.objects.exists()
    services.order_receive(
        order=order, user=None, lines=[ReceiveInput(line.pk, 2, unit_cost=Decimal("8.25"))]
    )
    assert Inflow.objects.get().unit_cost == Decimal("8.25")
    link = SupplierProduct.objects.get(supplier=order.supplier, product=line.product)
    assert link.last_cost == Decimal("8.25")


def test_partial_receipts_move_to_partially_received_then_received(sent_order):
    order = sent_order(quantities=(10,))
    (line,) = _lines(order)
    services.order_receive(order=order, user=None, lines=[ReceiveInput(line.pk, 6)])
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.state == State.PARTIALLY_RECEIVED
    assert (line.received_quantity, line.to_receive) == (6, 4)
    services.order_receive(order=order, user=None, lines=[ReceiveInput(line.pk, 4)])
    order.refresh_from_db()
    assert order.state == State.RECEIVED
    assert Receipt.objects.filter(line=line).count() == 2
    call_command("check_ledger")


def test_over_receipt_needs_a_reason_and_writes_nothing_without_one(sent_order):
    order = sent_order()
    first, second = _lines(order)
    with pytest.raises(PurchasingError) as refused:
        services.order_receive(
            order=order,
            user=None,
            lines=[ReceiveInput(second.pk, 4), ReceiveInput(first.pk, 11)],
        )
    assert refused.value.code == "over_receipt_needs_reason"
    assert refused.value.field == "lines[1].reason"
    # One transaction: the valid line was not received either.
    assert not Inflow.objects.exists() and not Receipt.objects.exists()
    services.order_receive(
        order=order, user=None, lines=[ReceiveInput(first.pk, 11, reason="bonus unit")]
    )
    receipt = Receipt.objects.get()
    assert receipt.over_receipt_reason == "bonus unit"
    first.refresh_from_db()
    assert (first.received_quantity, first.to_receive) == (11, 0)


def test_a_draft_or_cancelled_order_cannot_be_received(sent_order, django_user_model):
    order = sent_order()
    line = _lines(order)[0]
    draft = services.order_create(
        supplier=order.supplier, user=None, lines=[LineInput(product=line.product, quantity=1)]
    )
    with pytest.raises(StateRefused):
        services.order_receive(
            order=draft, user=None, lines=[ReceiveInput(draft.lines.get().pk, 1)]
        )
    services.order_cancel(order=order, user=None)
    with pytest.raises(StateRefused):
        services.order_receive(order=order, user=None, lines=[ReceiveInput(line.pk, 1)])
    assert not Inflow.objects.exists()


def test_a_line_of_another_order_is_refused(sent_order):
    order, other = sent_order(), sent_order(user=None)
    with pytest.raises(PurchasingError) as refused:
        services.order_receive(order=order, user=None, lines=[ReceiveInput(_lines(other)[0].pk, 1)])
    assert refused.value.field == "lines[0].line"


def test_reversing_a_receipt_reverses_its_inflow_and_reopens_the_line(sent_order):
    order = sent_order(quantities=(10,))
    (line,) = _lines(order)
    (receipt,) = services.order_receive(order=order, user=None, lines=[ReceiveInput(line.pk, 10)])
    order.refresh_from_db()
    assert order.state == State.RECEIVED
    services.receipt_reverse(receipt=receipt, user=None)
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.received_quantity, line.to_receive) == (0, 10)
    assert order.state == State.SENT
    reversal = Outflow.objects.get()
    assert (
        reversal.reverses_id == receipt.inflow_id and reversal.reason == Outflow.Reason.CORRECTION
    )
    line.product.refresh_from_db()
    assert line.product.quantity == 0
    with pytest.raises(StateRefused):
        services.receipt_reverse(receipt=receipt, user=None)
    # Reopened: it can be received again.
    services.order_receive(order=order, user=None, lines=[ReceiveInput(line.pk, 10)])
    call_command("check_ledger")


def test_a_receipt_s_inflow_is_reversed_only_through_its_receipt(sent_order, admin_client):
    """From the Inflows page the order would not follow: refused, and not offered."""
    order = sent_order(quantities=(10,))
    (line,) = _lines(order)
    (receipt,) = services.order_receive(order=order, user=None, lines=[ReceiveInput(line.pk, 4)])
    with pytest.raises(ledger.ReversalRefused, match=f"receipt of purchase order {order.number}"):
        ledger.movement_reverse(movement=receipt.inflow)
    assert not Outflow.objects.exists()
    page = admin_client.get(
        f"/admin/movements/inflow/{receipt.inflow_id}/change/", HTTP_HOST="localhost"
    )
    assert page.status_code == 200 and "/reverse/" not in page.content.decode()
    refused = admin_client.post(
        f"/admin/movements/inflow/{receipt.inflow_id}/reverse/", HTTP_HOST="localhost", follow=True
    )
    assert "Purchasing &gt; Receipts" in refused.content.decode()
    # An inflow typed by hand is still reversed from its page.
    typed = ledger.inflow_create(product=line.product_id, quantity=2, supplier=order.supplier)
    page = admin_client.get(f"/admin/movements/inflow/{typed.pk}/change/", HTTP_HOST="localhost")
    assert "/reverse/" in page.content.decode()
    services.receipt_reverse(receipt=receipt, user=None)
    line.refresh_from_db()
    assert line.received_quantity == 0


def test_only_a_line_with_nothing_received_can_be_cancelled(sent_order):
    order = sent_order()
    first, second = _lines(order)
    services.order_receive(order=order, user=None, lines=[ReceiveInput(first.pk, 10)])
    with pytest.raises(StateRefused):
        services.order_line_cancel(line=first, user=None)
    services.order_line_cancel(line=second, user=None)
    order.refresh_from_db()
    # The one live line is fully received.
    assert order.state == State.RECEIVED
    with pytest.raises(StateRefused):
        services.order_cancel(order=order, user=None)


def test_only_a_draft_is_editable(sent_order):
    order = sent_order()
    with pytest.raises(StateRefused):
        services.order_update(order=order, note="changed")
    line = _lines(order)[0]
    line.quantity = 99
    with pytest.raises(StateRefused):
        services.order_line_save(line=line)
    with pytest.raises(StateRefused):
        services.order_line_delete(line=line)
    assert PurchaseOrderLine.objects.get(pk=line.pk).quantity == 10


def test_an_empty_draft_cannot_be_sent(supplier):
    order = services.order_create(supplier=supplier, user=None)
    with pytest.raises(PurchasingError):
        services.order_send(order=order, user=None)


def test_database_refuses_what_the_services_refuse(sent_order):
    order = sent_order()
    line = _lines(order)[0]
    checks = [
        lambda: PurchaseOrderLine.objects.filter(pk=line.pk).update(quantity=0),
        lambda: PurchaseOrderLine.objects.filter(pk=line.pk).update(unit_cost=Decimal("-1")),
        lambda: PurchaseOrderLine.objects.filter(pk=line.pk).update(
            received_quantity=3, is_cancelled=True
        ),
        lambda: PurchaseOrder.objects.filter(pk=order.pk).update(state="lost"),
        lambda: PurchaseOrder.objects.filter(pk=order.pk).update(state="cancelled"),
    ]
    for check in checks:
        with pytest.raises(IntegrityError), transaction.atomic():
            check()


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_of_one_line_receive_it_once(sent_order):
    """Eight people receive the whole line at once: one succeeds, the rest are over-receipts."""
    # A second line keeps the order open (partially received), so the others
    # are refused by the line's own rule, not by the order's state.
    order = sent_order(quantities=(10, 4))
    line = _lines(order)[0]

    def receive(_):
        try:
            services.order_receive(order=order.pk, user=None, lines=[ReceiveInput(line.pk, 10)])
        except PurchasingError as exc:
            return exc.code
        return "received"

    outcomes = at_once(receive, 8)
    assert sorted(outcomes) == ["over_receipt_needs_reason"] * 7 + ["received"]
    line.refresh_from_db()
    assert line.received_quantity == 10
    assert Inflow.objects.filter(product=line.product).count() == 1
    line.product.refresh_from_db()
    assert line.product.quantity == 10
    call_command("check_ledger")
