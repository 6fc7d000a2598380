import pytest
from django.urls import reverse

from catalog.models import Product
from movements import services
from movements.models import Inflow, Outflow

pytestmark = pytest.mark.django_db


def test_outflow_above_stock_is_a_form_error_and_writes_nothing(admin_client, stocked_product):
    product = stocked_product(quantity=3)
    response = admin_client.post(
        reverse("admin:movements_outflow_add"),
        {"product": product.pk, "quantity": 5, "reason": "sale", "note": ""},
    )
    assert response.status_code == 200  # the form again, not a 500 nor a redirect
    errors = response.context["adminform"].form.errors
    assert "Not enough stock" in errors["quantity"][0]
    assert "5 asked, 3 available" in errors["quantity"][0]
    assert not Outflow.objects.exists()
    product.refresh_from_db()
    assert product.quantity == 3


def test_outflow_added_in_the_admin_goes_through_the_ledger(admin_client, stocked_product):
    product = stocked_product(quantity=3)
    response = admin_client.post(
        reverse("admin:movements_outflow_add"),
        {"product": product.pk, "quantity": 2, "reason": "sale", "note": "Order 1"},
    )
    assert response.status_code == 302
    outflow = Outflow.objects.get()
    assert outflow.unit_price == product.sell_price
    assert outflow.created_by.username == "admin"
    product.refresh_from_db()
    assert product.quantity == 1


def test_inflow_added_in_the_admin_raises_stock(admin_client, stocked_product, supplier):
    product = stocked_product(quantity=0)
    response = admin_client.post(
        reverse("admin:movements_inflow_add"),
        {
            "product": product.pk,
            "quantity": 8,
            "supplier": supplier.pk,
            "unit_cost": "",
            "reason": "purchase",
            "note": "NF-e 1",
        },
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.quantity == 8
    assert Inflow.objects.get().unit_cost == product.cost_price


def test_purchase_without_supplier_is_a_form_error(admin_client, stocked_product):
    product = stocked_product(quantity=0)
    response = admin_client.post(
        reverse("admin:movements_inflow_add"),
        {"product": product.pk, "quantity": 8, "reason": "purchase"},
    )
    assert response.status_code == 200
    assert "supplier" in response.context["adminform"].form.errors
    assert not Inflow.objects.filter(product=product).exists()


@pytest.mark.parametrize("model", ["inflow", "outflow"])
def test_movements_cannot_be_changed_or_deleted_in_the_admin(admin_client, stocked_product, model):
    product = stocked_product(quantity=5)
    movement = services.outflow_create(product=product, quantity=1)
    if model == "inflow":
        movement = Inflow.objects.filter(product=product).first()
    change_url = reverse(f"admin:movements_{model}_change", args=[movement.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200  # readable
    assert b'name="_save"' not in page.content
    response = admin_client.post(change_url, {"quantity": 99, "note": "edited"})
    assert response.status_code == 403
    delete_url = reverse(f"admin:movements_{model}_delete", args=[movement.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    movement.refresh_from_db()
    assert movement.quantity != 99 and movement.note != "edited"


def test_reverse_action_records_the_correcting_movement(admin_client, stocked_product):
    product = stocked_product(quantity=5)
    sale = services.outflow_create(product=product, quantity=2)
    response = admin_client.post(
        reverse("admin:movements_outflow_changelist"),
        {"action": "reverse_selected", "_selected_action": [sale.pk]},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.quantity == 5
    assert Inflow.objects.get(reverses=sale).quantity == 2


def test_reverse_detail_action_confirms_then_reverses(admin_client, stocked_product):
    product = stocked_product(quantity=5)
    sale = services.outflow_create(product=product, quantity=2)
    url = reverse("admin:movements_outflow_reverse_detail", args=[sale.pk])
    confirm = admin_client.get(url)
    assert confirm.status_code == 200 and b"Yes, reverse it" in confirm.content
    assert not Inflow.objects.filter(reverses=sale).exists()  # GET changes nothing
    response = admin_client.post(url)
    assert response.status_code == 302
    assert Inflow.objects.filter(reverses=sale).exists()
    # A second reversal is refused with a message, not an error page.
    again = admin_client.post(url, follow=True)
    assert again.status_code == 200
    assert b"already reversed" in again.content
    assert Product.objects.get(pk=product.pk).quantity == 5


def test_reversing_a_missing_movement_is_404(admin_client):
    url = reverse("admin:movements_outflow_reverse_detail", args=[424242])
    assert admin_client.post(url).status_code == 404


def test_product_page_shows_latest_movements(admin_client, stocked_product):
    product = stocked_product(quantity=5)
    services.outflow_create(product=product, quantity=2, note="Order <b>42</b>")
    response = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    content = response.content.decode()
    assert "Order &lt;b&gt;42&lt;/b&gt;" in content  # escaped, not rendered
    assert "-2" in content and "+5" in content


def test_record_outflow_button_prefills_the_product(admin_client, stocked_product):
    product = stocked_product()
    url = reverse("admin:catalog_product_record_outflow", args=[product.pk])
    response = admin_client.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/movements/outflow/add/?product={product.pk}")


def test_product_page_shows_its_movements_times_in_the_person_s_zone(admin_client, stocked_product):
    """Not in UTC: 3:30 p.m. UTC is 12:30 p.m. in São Paulo (TIME_ZONE), 11:30 a.m. in Manaus."""
    from datetime import UTC, datetime
    from unittest import mock

    product = stocked_product(quantity=5)
    at = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=at):
        services.outflow_create(product=product, quantity=1)
    url = reverse("admin:catalog_product_change", args=[product.pk])
    content = admin_client.get(url).content.decode()
    assert "12:30 p.m." in content and "3:30 p.m." not in content
    admin_client.cookies["backoffice_tz"] = "America/Manaus"
    content = admin_client.get(url).content.decode()
    assert "11:30 a.m." in content and "3:30 p.m." not in content
