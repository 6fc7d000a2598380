"""One quantity rule with one message, and an empty shelf that looks empty (issue 14)."""

import re

import pytest
from django.urls import reverse

from movements.models import Inflow, Outflow
from movements.services import quantity_rule

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["inflow", "outflow"])
@pytest.mark.parametrize("quantity", ["-5", "0", "1.5", "abc"])
def test_a_quantity_below_one_gets_the_one_rule(
    admin_client, stocked_product, supplier, model, quantity
):
    product = stocked_product(quantity=10)
    before = Inflow.objects.count(), Outflow.objects.count()
    data = {"product": product.pk, "quantity": quantity, "note": ""}
    if model == "inflow":
        data.update(reason="purchase", supplier=supplier.pk)
    else:
        data.update(reason="sale")
    response = admin_client.post(reverse(f"admin:movements_{model}_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["quantity"] == [quantity_rule()]
    assert (Inflow.objects.count(), Outflow.objects.count()) == before


@pytest.mark.parametrize("model", ["inflow", "outflow"])
def test_the_quantity_input_starts_at_one(admin_client, model):
    html = admin_client.get(reverse(f"admin:movements_{model}_add")).content.decode()
    field = re.search(r'<input[^>]*name="quantity"[^>]*>', html).group(0)
    assert 'min="1"' in field


def test_an_empty_shelf_shows_a_red_zero_in_the_product_list(admin_client, stocked_product):
    stocked_product(quantity=0, serial_number="EMPTY-1")
    html = admin_client.get(reverse("admin:catalog_product_changelist")).content.decode()
    row = html[html.index("EMPTY-1") :]
    row = row[: row.index("</tr>")]
    cell = re.search(r'<td class="field-stock[^"]*"[^>]*>(.*?)</td>', row, re.S).group(1)
    assert re.search(r">\s*0\s*<", cell), cell
    assert "red" in cell  # unfold's "danger" label


def _reverse_button(html: str) -> bool:
    return "/reverse/" in html


def test_reverse_is_offered_only_on_a_movement_that_can_be_reversed(admin_client, stocked_product):
    from movements import services

    product = stocked_product(quantity=5)
    sale = services.outflow_create(product=product, quantity=2)
    page = admin_client.get(reverse("admin:movements_outflow_change", args=[sale.pk]))
    assert _reverse_button(page.content.decode())
    assert "reversed by" not in page.content.decode()

    correction = services.movement_reverse(movement=sale)
    sale_page = admin_client.get(reverse("admin:movements_outflow_change", args=[sale.pk]))
    html = sale_page.content.decode()
    assert not _reverse_button(html)
    link = reverse("admin:movements_inflow_change", args=[correction.pk])
    assert f'reversed by <a href="{link}">' in html

    reversal_page = admin_client.get(reverse("admin:movements_inflow_change", args=[correction.pk]))
    html = reversal_page.content.decode()
    assert not _reverse_button(html)
    assert (
        f'reverses <a href="{reverse("admin:movements_outflow_change", args=[sale.pk])}">' in html
    )
