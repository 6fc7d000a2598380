"""Two people receiving the same NF-e at the same moment: it is received once."""

import pytest
from django.core.management import call_command

from catalog.tests.factories import ProductFactory, SupplierFactory
from movements.models import Inflow
from project.tests.concurrency import at_once
from purchasing.models import NFeReceipt
from purchasing.nfe import services
from purchasing.nfe.parsing import NFeError
from purchasing.tests.nfe_factory import ISSUER_CNPJ, XLine, nfe_xml

EAN = "7891234567895"


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("supplier_known", [True, False], ids=["known", "new-supplier"])
def test_the_same_note_sent_twice_at_once_is_received_once(supplier_known):
    if supplier_known:
        SupplierFactory(name="Fornecedor", cnpj=ISSUER_CNPJ)
    product = ProductFactory(ean=EAN)
    data = nfe_xml([XLine("A", ean=EAN, quantity="5.0000", value="50.00")])
    threads_count = 4

    def receive(_):  # everyone confirms at the same moment
        try:
            services.nfe_receive(documents=[services.Document(name="n.xml", data=data)], user=None)
        except NFeError as error:
            return "refused" if "twice" in error.message else error.message
        return "received"

    outcomes = at_once(receive, threads_count)
    assert sorted(outcomes) == ["received"] + ["refused"] * (threads_count - 1)
    assert NFeReceipt.objects.count() == 1
    assert Inflow.objects.filter(product=product).count() == 1
    product.refresh_from_db()
    assert product.quantity == 5
    call_command("check_ledger")
