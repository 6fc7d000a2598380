"""The purchasing admin: draft with inline lines, send, receive page, suggestions, reversal."""

import pytest
from django.urls import reverse

from catalog.tests.factories import ProductFactory, SupplierFactory
from movements.models import Inflow, Outflow
from purchasing.models import PurchaseOrder, Receipt
from purchasing.tests.factories import SupplierProductFactory

pytestmark = pytest.mark.django_db
State = PurchaseOrder.State


def _logged_in(client, user):
    client.force_login(user)
    return client


def _add_order(client, supplier, product, quantity=10):
    prefix = "lines"
    return client.post(
        reverse("admin:purchasing_purchaseorder_add"),
        {
            "supplier": supplier.pk,
            "note": "admin",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-product": product.pk,
            f"{prefix}-0-quantity": quantity,
            f"{prefix}-0-unit_cost": "3.00",
        },
    )


def test_manager_drafts_and_sends_operator_receives_part_in_the_admin(client, role_user):
    manager, operator = role_user("Manager"), role_user("Operator")
    supplier, product = SupplierFactory(), ProductFactory()
    response = _add_order(_logged_in(client, manager), supplier, product)
    assert response.status_code == 302, response.content.decode()[:2000]
    order = PurchaseOrder.objects.get()
    assert order.created_by == manager and order.lines.get().quantity == 10
    send = reverse("admin:purchasing_purchaseorder_send_detail", args=[order.pk])
    client.post(send)
    order.refresh_from_db()
    assert order.state == State.SENT and order.sent_by == manager
    # A sent order's lines are read-only: its page has no line inputs.
    page = client.get(reverse("admin:purchasing_purchaseorder_change", args=[order.pk]))
    assert 'name="lines-0-quantity"' not in page.content.decode()

    _logged_in(client, operator)
    receive = reverse("admin:purchasing_purchaseorder_receive_detail", args=[order.pk])
    line = order.lines.get()
    form = client.get(receive)
    assert form.status_code == 200 and f'name="quantity_{line.pk}"' in form.content.decode()
    client.post(receive, {f"quantity_{line.pk}": "4", "note": "NF 1"})
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.state == State.PARTIALLY_RECEIVED and line.to_receive == 6
    assert Inflow.objects.get().quantity == 4
    # Over-receipt without a reason: refused, nothing written.
    page = client.post(receive, {f"quantity_{line.pk}": "7"})
    assert page.status_code == 200 and Inflow.objects.count() == 1


def test_an_analyst_cannot_receive(client, role_user):
    order_owner = role_user("Manager")
    supplier, product = SupplierFactory(), ProductFactory()
    _add_order(_logged_in(client, order_owner), supplier, product)
    order = PurchaseOrder.objects.get()
    client.post(reverse("admin:purchasing_purchaseorder_send_detail", args=[order.pk]))
    _logged_in(client, role_user("Analyst"))
    receive = reverse("admin:purchasing_purchaseorder_receive_detail", args=[order.pk])
    response = client.post(receive, {f"quantity_{order.lines.get().pk}": "1"})
    assert response.status_code in (302, 403)
    assert not Inflow.objects.exists()


def test_suggestions_page_turns_a_supplier_into_a_draft(client, role_user):
    product = ProductFactory(reorder_level=3)
    link = SupplierProductFactory(product=product, pack_size=5)
    _logged_in(client, role_user("Manager"))
    url = reverse("admin:purchasing_purchaseorder_suggestions")
    page = client.get(url)
    assert page.status_code == 200 and product.serial_number in page.content.decode()
    response = client.post(url, {"supplier": link.supplier_id})
    order = PurchaseOrder.objects.get()
    assert response.status_code == 302 and order.state == State.DRAFT
    assert order.lines.get().quantity == 5


def test_reversing_a_receipt_in_the_admin_reopens_the_line(client, role_user):
    manager = role_user("Manager")
    _add_order(_logged_in(client, manager), SupplierFactory(), ProductFactory(), quantity=2)
    order = PurchaseOrder.objects.get()
    client.post(reverse("admin:purchasing_purchaseorder_send_detail", args=[order.pk]))
    _logged_in(client, role_user("Operator"))
    line = order.lines.get()
    client.post(
        reverse("admin:purchasing_purchaseorder_receive_detail", args=[order.pk]),
        {f"quantity_{line.pk}": "2"},
    )
    receipt = Receipt.objects.get()
    client.post(reverse("admin:purchasing_receipt_reverse_detail", args=[receipt.pk]))
    line.refresh_from_db()
    assert line.to_receive == 2 and Outflow.objects.get().reverses_id == receipt.inflow_id


def test_cancel_lines_page_cancels_lines_with_nothing_received(client, role_user):
    manager = role_user("Manager")
    _add_order(_logged_in(client, manager), SupplierFactory(), ProductFactory())
    order = PurchaseOrder.objects.get()
    client.post(reverse("admin:purchasing_purchaseorder_send_detail", args=[order.pk]))
    url = reverse("admin:purchasing_purchaseorder_cancel_lines_detail", args=[order.pk])
    line = order.lines.get()
    assert f'value="{line.pk}"' in client.get(url).content.decode()
    client.post(url, {"line": [str(line.pk)]})
    order.refresh_from_db()
    assert order.lines.get().is_cancelled and order.state == State.CANCELLED


def test_admin_marks_another_supplier_preferred_in_one_step(client, role_user):
    old = SupplierProductFactory(is_preferred=True)
    supplier = SupplierFactory()
    _logged_in(client, role_user("Manager"))
    response = client.post(
        reverse("admin:purchasing_supplierproduct_add"),
        {
            "supplier": supplier.pk,
            "product": old.product_id,
            "supplier_code": "",
            "pack_size": 6,
            "lead_time_days": 2,
            "is_preferred": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    old.refresh_from_db()
    assert not old.is_preferred
    assert old.product.supplier_links.get(is_preferred=True).supplier == supplier


def test_a_sent_order_cannot_be_deleted_but_a_draft_can(client, role_user):
    _logged_in(client, role_user("Manager"))
    _add_order(client, SupplierFactory(), ProductFactory())
    order = PurchaseOrder.objects.get()
    delete = reverse("admin:purchasing_purchaseorder_delete", args=[order.pk])
    assert client.get(delete).status_code == 200
    client.post(reverse("admin:purchasing_purchaseorder_send_detail", args=[order.pk]))
    assert client.get(delete).status_code == 403


def test_a_receipt_still_deadlocked_after_its_retries_is_a_message_not_an_error_page(
    client, role_user, monkeypatch
):
    from project.tests.faults import aborted_by_database
    from purchasing import services

    supplier, product = SupplierFactory(), ProductFactory()
    _add_order(_logged_in(client, role_user("Manager")), supplier, product)
    order = PurchaseOrder.objects.get()
    client.post(reverse("admin:purchasing_purchaseorder_send_detail", args=[order.pk]))

    def deadlocked(**kwargs):
        raise aborted_by_database()

    monkeypatch.setattr(services, "order_receive", deadlocked)
    _logged_in(client, role_user("Operator"))
    receive = reverse("admin:purchasing_purchaseorder_receive_detail", args=[order.pk])
    page = client.post(receive, {f"quantity_{order.lines.get().pk}": "1"}, follow=True)
    assert page.status_code == 200
    assert "nothing was saved. Retry." in page.content.decode()
    assert not Inflow.objects.exists()
