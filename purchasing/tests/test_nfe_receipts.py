"""Receiving NF-e notes: matching, pack sizes, costs, orders, idempotence, all or none."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from catalog.models import Supplier
from catalog.tests.factories import ProductFactory, SupplierFactory
from movements.models import Inflow
from purchasing import services as purchasing
from purchasing.models import NFeReceipt, NFeReceiptLine, PurchaseOrder, SupplierProduct
from purchasing.nfe import services
from purchasing.nfe.parsing import NFeError
from purchasing.nfe.services import Document
from purchasing.tests.factories import SupplierProductFactory
from purchasing.tests.nfe_factory import ISSUER_CNPJ, OUR_CNPJ, XLine, access_key, nfe_xml

pytestmark = pytest.mark.django_db

EAN = "7891234567895"


@pytest.fixture(autouse=True)
def _our_cnpj(settings):
    settings.INVENTORY_COMPANY_CNPJ = OUR_CNPJ


@pytest.fixture
def issuer():
    return SupplierFactory(name="Fornecedor", cnpj=ISSUER_CNPJ)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("operator", password="x")


def doc(data: bytes, name: str = "nota.xml") -> list[Document]:
    return [Document(name=name, data=data)]


def writes_nothing():
    assert not NFeReceipt.objects.exists()
    assert not NFeReceiptLine.objects.exists()
    assert not Inflow.objects.exists()


def test_lines_match_by_ean_then_by_supplier_code(issuer, user):
    by_ean = ProductFactory(ean=EAN)
    by_code = ProductFactory()
    SupplierProductFactory(supplier=issuer, product=by_code, supplier_code="X-9", pack_size=1)
    data = nfe_xml([XLine("A-1", ean=EAN, value="20.00"), XLine("X-9", value="5.00")])
    preview = services.nfe_preview(documents=doc(data))
    lines = preview["notes"][0]["lines"]
    assert [(line["product"], line["matched_by"]) for line in lines] == [
        (by_ean.pk, "ean"),
        (by_code.pk, "code"),
    ]
    assert preview["ready"] is True
    writes_nothing()

    (receipt,) = services.nfe_receive(documents=doc(data), user=user)
    by_ean.refresh_from_db()
    by_code.refresh_from_db()
    assert (by_ean.quantity, by_code.quantity) == (1, 1)
    inflow = Inflow.objects.get(product=by_ean)
    assert inflow.supplier == issuer
    assert inflow.reason == Inflow.Reason.PURCHASE
    assert inflow.unit_cost == Decimal("20.00")
    assert "NF-e 1001" in inflow.note
    assert receipt.access_key == access_key(1001)
    call_command("check_ledger")


def test_ean_written_with_leading_zeros_matches(issuer, user):
    product = ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean="0" + EAN)])
    assert services.nfe_preview(documents=doc(data))["notes"][0]["lines"][0]["product"] == (
        product.pk
    )


def test_sem_gtin_is_not_an_ean(issuer):
    ProductFactory(ean="")
    data = nfe_xml([XLine("A", ean="SEM GTIN")])
    line = services.nfe_preview(documents=doc(data))["notes"][0]["lines"][0]
    assert line["product"] is None and line["error"]


def test_unmatched_line_blocks_the_receipt_and_writes_nothing(issuer, user):
    data = nfe_xml([XLine("UNKNOWN")])
    preview = services.nfe_preview(documents=doc(data))
    assert preview["ready"] is False
    assert preview["counts"]["problems"] == 1
    with pytest.raises(NFeError, match="No product matches"):
        services.nfe_receive(documents=doc(data), user=user)
    writes_nothing()


def test_a_match_by_hand_is_remembered_for_the_next_note(issuer, user):
    product = ProductFactory()
    first = nfe_xml([XLine("NEW-7", value="12.00")], number=1)
    key = access_key(1)
    services.nfe_receive(documents=doc(first), user=user, picks={key: {"1": product.pk}})
    link = SupplierProduct.objects.get(supplier=issuer, product=product)
    assert link.supplier_code == "NEW-7"
    assert link.last_cost == Decimal("12.00")

    second = nfe_xml([XLine("NEW-7", value="13.00")], number=2)
    line = services.nfe_preview(documents=doc(second))["notes"][0]["lines"][0]
    assert (line["product"], line["matched_by"]) == (product.pk, "code")


def test_a_hand_match_moves_the_code_from_another_product(issuer, user):
    old = ProductFactory()
    new = ProductFactory()
    SupplierProductFactory(supplier=issuer, product=old, supplier_code="C-1")
    data = nfe_xml([XLine("C-1")])
    services.nfe_receive(documents=doc(data), user=user, picks={access_key(1001): {"1": new.pk}})
    assert SupplierProduct.objects.get(supplier=issuer, product=old).supplier_code == ""
    assert SupplierProduct.objects.get(supplier=issuer, product=new).supplier_code == "C-1"
    new.refresh_from_db()
    assert new.quantity == 1


def test_units_are_converted_by_the_pack_size(issuer, user):
    product = ProductFactory()
    SupplierProductFactory(supplier=issuer, product=product, supplier_code="BOX", pack_size=12)
    data = nfe_xml([XLine("BOX", quantity="3.0000", value="72.00")], freight="3.60")
    services.nfe_receive(documents=doc(data), user=user)
    product.refresh_from_db()
    assert product.quantity == 36
    inflow = Inflow.objects.get(product=product)
    assert (inflow.quantity, inflow.unit_cost) == (36, Decimal("2.10"))  # (72 + 3.60) / 36


def test_a_quantity_that_is_not_whole_units_is_refused(issuer, user):
    product = ProductFactory()
    SupplierProductFactory(supplier=issuer, product=product, supplier_code="KG", pack_size=1)
    data = nfe_xml([XLine("KG", quantity="1.5000")])
    with pytest.raises(NFeError, match="whole number"):
        services.nfe_receive(documents=doc(data), user=user)
    writes_nothing()


def test_costs_carry_their_share_of_freight_and_discount(issuer, user):
    a, b = ProductFactory(), ProductFactory()
    SupplierProductFactory(supplier=issuer, product=a, supplier_code="A")
    SupplierProductFactory(supplier=issuer, product=b, supplier_code="B", is_preferred=False)
    data = nfe_xml(
        [XLine("A", value="30.00"), XLine("B", quantity="2.0000", value="70.00")],
        freight="10.00",
        discount="5.00",
    )
    (receipt,) = services.nfe_receive(documents=doc(data), user=user)
    lines = list(receipt.lines.order_by("item"))
    assert [line.line_cost for line in lines] == [Decimal("31.50"), Decimal("73.50")]
    assert sum(line.line_cost for line in lines) == receipt.total == Decimal("105.00")
    assert [line.unit_cost for line in lines] == [Decimal("31.50"), Decimal("36.75")]


def test_the_supplier_is_created_from_the_note_when_unknown(user):
    product = ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean=EAN)], issuer_name="NOVO FORNECEDOR SA")
    preview = services.nfe_preview(documents=doc(data))
    assert preview["notes"][0]["supplier"] is None
    assert not Supplier.objects.exists()
    services.nfe_receive(documents=doc(data), user=user)
    supplier = Supplier.objects.get(cnpj=ISSUER_CNPJ)
    assert supplier.name == "NOVO FORNECEDOR SA"
    assert "SAO PAULO" in supplier.address
    assert SupplierProduct.objects.filter(supplier=supplier, product=product).exists()


def test_the_same_note_twice_is_received_once(issuer, user):
    ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean=EAN)])
    services.nfe_receive(documents=doc(data), user=user)
    preview = services.nfe_preview(documents=doc(data))
    assert "already received" in preview["notes"][0]["error"]
    with pytest.raises(NFeError, match="already received"):
        services.nfe_receive(documents=doc(data), user=user)
    assert NFeReceipt.objects.count() == 1
    assert Inflow.objects.count() == 1


def test_the_same_note_twice_in_one_upload_is_refused(issuer, user):
    ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean=EAN)])
    with pytest.raises(NFeError, match="twice"):
        services.nfe_receive(documents=doc(data) + doc(data, "copy.xml"), user=user)
    writes_nothing()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"environment": "2"},
        {"status": "101"},
        {"status": "110"},
        {"recipient_cnpj": "11222333000181"},
    ],
    ids=["homologation", "cancelled", "denied", "other-cnpj"],
)
def test_bad_notes_write_nothing(issuer, user, kwargs):
    ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean=EAN)], **kwargs)
    assert services.nfe_preview(documents=doc(data))["notes"][0]["error"]
    with pytest.raises(NFeError):
        services.nfe_receive(documents=doc(data), user=user)
    writes_nothing()
    assert Supplier.objects.count() == 1


def test_one_bad_note_in_a_batch_receives_none(issuer, user):
    ProductFactory(ean=EAN)
    good = nfe_xml([XLine("A", ean=EAN)], number=1)
    bad = nfe_xml([XLine("A", ean=EAN)], number=2, environment="2")
    with pytest.raises(NFeError, match="homologation"):
        services.nfe_receive(documents=doc(good) + doc(bad, "b.xml"), user=user)
    writes_nothing()


def test_a_hostile_file_in_a_batch_writes_nothing(issuer, user):
    from purchasing.tests.test_nfe_parsing import BILLION_LAUGHS

    ProductFactory(ean=EAN)
    with pytest.raises(NFeError, match="DTD"):
        services.nfe_receive(
            documents=doc(nfe_xml([XLine("A", ean=EAN)])) + doc(BILLION_LAUGHS, "x.xml"), user=user
        )
    writes_nothing()


def test_a_note_received_against_an_open_order_receives_its_lines(issuer, user):
    on_order, extra = ProductFactory(ean=EAN), ProductFactory()
    SupplierProductFactory(supplier=issuer, product=extra, supplier_code="EXTRA")
    order = purchasing.order_create(
        supplier=issuer,
        user=user,
        lines=[purchasing.LineInput(product=on_order, quantity=10, unit_cost=Decimal("4.00"))],
    )
    purchasing.order_send(order=order, user=user)
    on_order.refresh_from_db()
    assert on_order.on_order == 10
    data = nfe_xml(
        [XLine("A", ean=EAN, quantity="4.0000", value="16.00"), XLine("EXTRA", value="3.00")]
    )
    preview = services.nfe_preview(documents=doc(data))
    assert preview["notes"][0]["orders"] == [{"id": order.pk, "number": order.number}]
    (receipt,) = services.nfe_receive(
        documents=doc(data), user=user, orders={access_key(1001): order.pk}
    )
    order.refresh_from_db()
    on_order.refresh_from_db()
    extra.refresh_from_db()
    assert order.state == PurchaseOrder.State.PARTIALLY_RECEIVED
    assert (on_order.quantity, on_order.on_order, extra.quantity) == (4, 6, 1)
    line = receipt.lines.get(product=on_order)
    assert line.order_receipt is not None and line.inflow is None
    assert receipt.lines.get(product=extra).inflow is not None
    assert receipt.order == order
    call_command("check_ledger")


def test_a_note_received_against_an_order_values_the_stock_at_the_notes_cost(issuer, user):
    """The order expected 4.00 a unit; the note charged more (and freight): the
    inflow, the order's receipt and the supplier's last cost say what was paid."""
    product = ProductFactory(ean=EAN, cost_price=Decimal("3.00"))
    order = purchasing.order_create(
        supplier=issuer,
        user=user,
        lines=[purchasing.LineInput(product=product, quantity=10, unit_cost=Decimal("4.00"))],
    )
    purchasing.order_send(order=order, user=user)
    # Two lines of the product: 4 for 18.00 and 2 for 10.00, plus 2.00 freight.
    data = nfe_xml(
        [
            XLine("A", ean=EAN, quantity="4.0000", value="18.00"),
            XLine("A", ean=EAN, quantity="2.0000", value="10.00"),
        ],
        freight="2.00",
    )
    preview = services.nfe_preview(documents=doc(data))
    shown = [Decimal(line["unit_cost"]) for line in preview["notes"][0]["lines"]]
    (receipt,) = services.nfe_receive(
        documents=doc(data), user=user, orders={access_key(1001): order.pk}
    )
    (inflow,) = Inflow.objects.filter(product=product)
    # 30.00 for 6 units.
    assert inflow.unit_cost == Decimal("5.00")
    assert sum(line.line_cost for line in receipt.lines.all()) == Decimal("30.00")
    assert sorted(shown) == sorted(line.unit_cost for line in receipt.lines.all())
    # The supplier's last cost is what the stock was valued at, not the last line's.
    link = SupplierProduct.objects.get(supplier=issuer, product=product)
    assert link.last_cost == Decimal("5.00")
    order.refresh_from_db()
    assert order.lines.get().received_quantity == 6
    call_command("check_ledger")


def test_an_order_of_another_supplier_is_refused(issuer, user):
    ProductFactory(ean=EAN)
    other = SupplierFactory()
    order = purchasing.order_create(
        supplier=other,
        user=user,
        lines=[purchasing.LineInput(product=ProductFactory(), quantity=1)],
    )
    purchasing.order_send(order=order, user=user)
    data = nfe_xml([XLine("A", ean=EAN)])
    with pytest.raises(NFeError, match="not an open order"):
        services.nfe_receive(documents=doc(data), user=user, orders={access_key(1001): order.pk})
    writes_nothing()


def test_matching_queries_do_not_grow_with_the_lines(issuer, django_assert_max_num_queries):
    products = [ProductFactory() for _ in range(30)]
    for index, product in enumerate(products):
        SupplierProductFactory(
            supplier=issuer, product=product, supplier_code=f"C{index}", is_preferred=False
        )
    data = nfe_xml([XLine(f"C{index}", ean="SEM GTIN") for index in range(30)])
    with django_assert_max_num_queries(8):
        preview = services.nfe_preview(documents=doc(data))
    assert preview["counts"]["ready"] == 30


def test_a_real_note_shipped_with_nfelib_is_received_to_the_cent(settings, user):
    from purchasing.nfe.parsing import parse_note
    from purchasing.tests.test_nfe_parsing import SAMPLES

    path = SAMPLES / "leiauteNFe" / "26180875335849000115550010000016871192213331-nfe.xml"
    data = path.read_bytes()
    note = parse_note(data)
    settings.INVENTORY_COMPANY_CNPJ = note.recipient_cnpj
    products = [ProductFactory() for _ in note.lines]
    picks = {
        note.access_key: {
            str(line.item): p.pk for line, p in zip(note.lines, products, strict=True)
        }
    }
    (receipt,) = services.nfe_receive(documents=doc(data), user=user, picks=picks)
    assert receipt.total == Decimal("5780.00")
    assert sum(line.line_cost for line in receipt.lines.all()) == Decimal("5780.00")
    assert Supplier.objects.get(cnpj=note.issuer.cnpj) == receipt.supplier
    for line, product in zip(note.lines, products, strict=True):
        product.refresh_from_db()
        assert product.quantity == int(line.quantity)
    call_command("check_ledger")
