"""Only the ledger writes Product.quantity: product edits never undo a sale.

Before the guard, the product admin saved the whole row it had loaded when
the request began, so a sale committed in between was written over: 60 sales
beside 120 admin saves left 16 units too many and ``check_ledger`` failed.
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import Product, StockWriteRefused
from catalog.tests.factories import ProductFactory
from movements import services as ledger
from movements.models import Outflow

SELLERS, SALES_EACH = 4, 15
EDITORS, SAVES_EACH = 4, 30


def _change_form(product: Product, title: str) -> dict:
    return {
        "title": title,
        "serial_number": product.serial_number,
        "product_model": product.product_model_id,
        "category": product.category_id,
        "cost_price": "10.00",
        "sell_price": "15.00",
        "reorder_level": "2",
        "is_active": "on",
        "description": "",
    }


@pytest.mark.django_db(transaction=True)
def test_admin_product_saves_beside_sales_lose_no_unit(stocked_product):
    product = stocked_product(quantity=SELLERS * SALES_EACH + 40)
    admin = get_user_model().objects.create_superuser("boss", "b@example.com", "x-pass-123456")
    change_url = reverse("admin:catalog_product_change", args=[product.pk])
    sale_url = reverse("admin:movements_outflow_add")
    barrier = threading.Barrier(SELLERS + EDITORS)
    failures: list[str] = []

    def run(work):
        client = Client()
        client.force_login(admin)
        try:
            barrier.wait()
            work(client)
        except Exception as error:  # reported below; a thread must not die silently
            failures.append(repr(error))
        finally:
            connection.close()  # each thread had its own connection

    def sell(client):
        for _ in range(SALES_EACH):
            response = client.post(
                sale_url, {"product": product.pk, "quantity": 1, "reason": "sale"}
            )
            if response.status_code != 302:
                failures.append(f"sale answered {response.status_code}")

    def edit(client):
        for number in range(SAVES_EACH):
            response = client.post(change_url, _change_form(product, f"Edited {number}"))
            if response.status_code != 302:
                failures.append(f"product save answered {response.status_code}")

    threads = [threading.Thread(target=run, args=(sell,)) for _ in range(SELLERS)]
    threads += [threading.Thread(target=run, args=(edit,)) for _ in range(EDITORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert Outflow.objects.filter(product=product).count() == SELLERS * SALES_EACH
    product.refresh_from_db()
    assert product.quantity == 40
    assert product.title.startswith("Edited")
    call_command("check_ledger")  # raises CommandError if any product differs


@pytest.mark.django_db
def test_saving_a_stale_product_keeps_the_stock_the_ledger_moved(stocked_product):
    product = stocked_product(quantity=10)
    stale = Product.objects.get(pk=product.pk)
    ledger.outflow_create(product=product.pk, quantity=3)

    stale.title = "Renamed"
    stale.save()

    product.refresh_from_db()
    assert (product.title, product.quantity) == ("Renamed", 7)
    call_command("check_ledger")


@pytest.mark.django_db
def test_product_update_service_writes_only_the_fields_it_is_given(stocked_product):
    product = stocked_product(quantity=10)
    stale = Product.objects.get(pk=product.pk)
    Product.objects.filter(pk=product.pk).update(description="written by someone else")
    ledger.outflow_create(product=product.pk, quantity=4)

    services.product_update(product=stale, title="Renamed")

    product.refresh_from_db()
    assert product.title == "Renamed"
    assert product.description == "written by someone else"
    assert product.quantity == 6


@pytest.mark.django_db
def test_no_write_of_quantity_outside_the_ledger(stocked_product):
    product = stocked_product(quantity=5)
    with pytest.raises(StockWriteRefused):
        Product.objects.filter(pk=product.pk).update(quantity=50)
    with pytest.raises(StockWriteRefused):
        product.save(update_fields=["quantity"])
    product.quantity = 50
    with pytest.raises(StockWriteRefused):
        Product.objects.bulk_update([product], ["quantity"])
    product.refresh_from_db()
    assert product.quantity == 5


@pytest.mark.django_db
def test_a_new_product_starts_with_no_stock():
    with pytest.raises(StockWriteRefused):
        ProductFactory(quantity=5)
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_an_explicit_primary_key_never_overwrites_a_stocked_product(stocked_product):
    product = stocked_product(quantity=5)
    clone = Product(
        pk=product.pk,
        title="Impostor",
        serial_number="OTHER-1",
        product_model=product.product_model,
        category=product.category,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    stored = Product.objects.get(pk=product.pk)
    assert (stored.title, stored.quantity) == (product.title, 5)
