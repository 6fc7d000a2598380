"""From a low stock to a received order, in chromium, in English and in pt-BR (issue 15).

A Manager sees the low stock on the dashboard, opens the reorder
suggestions from the sidebar, turns the supplier's suggestions into a
draft order and sends it; an Operator receives part of it, and the stock
rises. Every click is one the pages offer. The same checks as every flow
(flow.py): no console error, no failed request, no English in pt-BR.
"""

import shutil
from decimal import Decimal

import pytest

from backoffice.tests.browser.conftest import LANGUAGES, PASSWORD
from catalog.models import Product
from movements import services as ledger
from project.tests.processes import CHROMIUM
from purchasing.models import PurchaseOrder, SupplierProduct

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.parametrize("language", LANGUAGES),
]

SAYS = {
    "en": {"low": "Low stock", "sent": "sent", "received": "unit(s) received into stock"},
    "pt-br": {"low": "Estoque baixo", "sent": "enviado", "received": "unidade(s) recebida(s)"},
}


def test_from_low_stock_to_a_received_order(open_flow, staff, shop, language):
    supplier = shop["supplier"]
    product = shop["products"][0]  # 10 in stock
    # Only this product is low: the others' reorder level is below their stock or they are inactive.
    Product.objects.exclude(pk=product.pk).update(is_active=False)
    Product.objects.filter(pk=product.pk).update(reorder_level=12)
    SupplierProduct.objects.update_or_create(
        supplier=supplier,
        product=product,
        defaults={"supplier_code": "DS-Z9-1", "pack_size": 6, "lead_time_days": 5},
    )
    SupplierProduct.objects.filter(product=product).update(is_preferred=True)
    ledger.outflow_create(product=product, quantity=3)  # 7 left, 3 sold in 30 days
    from dashboard.metrics import metrics_refresh

    metrics_refresh()

    staff("gerente", "Manager")
    manager = open_flow("manager")
    manager.login("gerente", PASSWORD)
    manager.step("dashboard with the low stock")
    assert product.title in manager.text(), manager.text()

    with manager.page.expect_navigation():
        manager.page.click("a[href$='/admin/purchasing/purchaseorder/suggestions/']")
    manager.step("reorder suggestions")
    section = f"#suggestions-{supplier.pk}"
    # reorder level 12 + 5 days x 0.1 sold a day - 7 in stock = 5.5, in packs of 6: 6.
    assert product.title in manager.text(section)
    with manager.page.expect_navigation():
        manager.page.click(f"{section} button[type=submit]")
    manager.step("the draft order")
    order = PurchaseOrder.objects.get()
    assert order.state == PurchaseOrder.State.DRAFT
    assert list(order.lines.values_list("product_id", "quantity")) == [(product.pk, 6)]
    assert order.number in manager.text()

    with manager.page.expect_navigation():
        manager.page.click(f"a[href$='/purchaseorder/{order.pk}/send/']")
    manager.step("send: asked first")
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.DRAFT  # a link click alone changes nothing
    with manager.page.expect_navigation():
        manager.page.click("#content form button[type=submit]")
    manager.step("the order sent")
    order.refresh_from_db()
    assert order.state == PurchaseOrder.State.SENT
    assert f"{order.number} {SAYS[language]['sent']}." in manager.text()
    # What is on order no longer counts as to order.
    product.refresh_from_db()
    assert product.on_order == 6
    manager.finish()

    staff("operador", "Operator")
    operator = open_flow("operator")
    operator.login("operador", PASSWORD, next_path="/admin/purchasing/purchaseorder/")
    operator.step("purchase orders")
    with operator.page.expect_navigation():
        operator.page.click(f"a[href$='/purchaseorder/{order.pk}/change/']")
    operator.step("the sent order")
    with operator.page.expect_navigation():
        operator.page.click(f"a[href$='/purchaseorder/{order.pk}/receive/']")
    operator.step("receive form")
    line = order.lines.get()
    operator.page.fill(f"input[name=quantity_{line.pk}]", "4")
    with operator.page.expect_navigation():
        operator.page.click("#content form button[type=submit]")
    operator.step("part received")
    assert SAYS[language]["received"] in operator.text()
    order.refresh_from_db()
    product.refresh_from_db()
    assert order.state == PurchaseOrder.State.PARTIALLY_RECEIVED
    assert (product.quantity, product.on_order) == (7 + 4, 2)
    operator.goto(f"/admin/catalog/product/{product.pk}/change/")
    operator.step("the product's stock rose")
    assert "11" in operator.text("#content")
    operator.finish()


def test_an_nfe_file_becomes_stock(flow, staff, shop, flow_worker, settings, language):
    """An Operator uploads the supplier's NF-e XML, checks the preview, picks the line
    that matched nothing, confirms, and the units are in stock."""
    from purchasing.tests.nfe_factory import XLine, nfe_xml

    settings.INVENTORY_COMPANY_CNPJ = ""
    matched, picked = shop["products"][0], shop["products"][1]  # 10 in stock each
    Product.objects.filter(pk=matched.pk).update(ean="7891234567895")
    xml = nfe_xml(
        [
            XLine("FS-1", ean="7891234567895", quantity="5.0000", value="500.00"),
            XLine("FS-2", quantity="2.0000", value="200.00", description="CELULAR Z9 DOIS"),
        ],
        freight="14.00",
    )
    staff("operador", "Operator")
    flow.login("operador", PASSWORD, next_path="/admin/")
    with flow.page.expect_navigation():
        flow.page.click("a[href$='/admin/purchasing/nfereceipt/']")
    flow.step("NF-e receipts")
    with flow.page.expect_navigation():
        flow.page.click("a[href$='/admin/purchasing/nfereceipt/import/']")
    flow.step("upload form")
    flow.page.set_input_files(
        "input[name=files]", {"name": "nota.xml", "mimeType": "text/xml", "buffer": xml}
    )
    with flow.page.expect_navigation():
        flow.page.click("#content form button[type=submit]")
    flow.page.wait_for_selector("#nfe-confirm", timeout=30_000)  # the page refreshes itself
    flow.step("preview")
    preview = flow.text("#nfe-job")
    assert "FS-1" in preview and "FS-2" in preview, preview
    assert matched.title in preview  # matched by its EAN
    # Money as the language writes it: 500 + its 10 of the freight.
    assert ("R$\xa0510,00" if language == "pt-br" else "R$\xa0510.00") in preview, preview
    flow.page.fill("input[name^=pick_][name$=_2]", picked.serial_number)
    with flow.page.expect_navigation():
        flow.page.click("#nfe-confirm")
    flow.page.wait_for_selector("#nfe-received", timeout=30_000)
    flow.step("received")
    matched.refresh_from_db()
    picked.refresh_from_db()
    assert (matched.quantity, picked.quantity) == (15, 12)
    # The freight is in the costs: 500 + 200 + 14 over 7 units.
    costs = sorted(
        (inflow.quantity, inflow.unit_cost)
        for inflow in matched.inflows.filter(note__contains="NF-e")
    )
    assert costs == [(5, Decimal("102.00"))], costs
    flow.finish()
