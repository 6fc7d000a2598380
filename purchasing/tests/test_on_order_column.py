"""``Product.on_order`` is kept by every purchasing service and never drifts from the open lines."""

import pytest

from catalog.models import Product
from catalog.tests.factories import ProductFactory, SupplierFactory
from project.tests.concurrency import at_once
from purchasing import services
from purchasing.selectors import on_order_by_product
from purchasing.services import LineInput, ReceiveInput

pytestmark = pytest.mark.django_db


def _assert_column_matches_the_lines(*products):
    counted = on_order_by_product(product.pk for product in products)
    stored = dict(
        Product.objects.filter(pk__in=[product.pk for product in products]).values_list(
            "pk", "on_order"
        )
    )
    assert stored == {product.pk: counted.get(product.pk, 0) for product in products}
    return stored


def test_every_change_of_an_order_keeps_on_order_right(django_user_model):
    user = django_user_model.objects.create(username="buyer")
    first, second, third = ProductFactory(), ProductFactory(), ProductFactory()
    order = services.order_create(
        supplier=SupplierFactory(),
        user=user,
        lines=[LineInput(product=first, quantity=10), LineInput(product=second, quantity=4)],
    )
    assert _assert_column_matches_the_lines(first, second, third) == {
        first.pk: 10,
        second.pk: 4,
        third.pk: 0,
    }
    # The admin's inline: a line changed to another product, then one deleted.
    line = order.lines.get(product=second)
    line.product, line.quantity = third, 6
    services.order_line_save(line=line)
    assert _assert_column_matches_the_lines(first, second, third)[second.pk] == 0
    services.order_update(order=order, lines=[LineInput(product=first, quantity=7)])
    assert _assert_column_matches_the_lines(first, second, third) == {
        first.pk: 7,
        second.pk: 0,
        third.pk: 0,
    }
    services.order_update(
        order=order,
        lines=[LineInput(product=first, quantity=7), LineInput(product=second, quantity=5)],
    )
    services.order_send(order=order, user=user)
    first_line, second_line = order.lines.order_by("pk")
    services.order_receive(order=order, user=user, lines=[ReceiveInput(first_line.pk, 3)])
    assert _assert_column_matches_the_lines(first, second)[first.pk] == 4
    services.order_line_cancel(line=second_line, user=user)
    assert _assert_column_matches_the_lines(first, second)[second.pk] == 0
    # More than ordered: nothing left on order, never below zero.
    receipts = services.order_receive(
        order=order, user=user, lines=[ReceiveInput(first_line.pk, 9, reason="bonus")]
    )
    assert _assert_column_matches_the_lines(first)[first.pk] == 0
    services.receipt_reverse(receipt=receipts[0], user=user)
    assert _assert_column_matches_the_lines(first)[first.pk] == 4


def test_deleting_or_cancelling_an_order_takes_its_units_off_order(django_user_model):
    user = django_user_model.objects.create(username="buyer")
    product = ProductFactory()
    draft = services.order_create(
        supplier=SupplierFactory(), user=user, lines=[LineInput(product=product, quantity=3)]
    )
    sent = services.order_create(
        supplier=SupplierFactory(), user=user, lines=[LineInput(product=product, quantity=5)]
    )
    services.order_send(order=sent, user=user)
    assert _assert_column_matches_the_lines(product)[product.pk] == 8
    services.order_delete(order=draft)
    assert _assert_column_matches_the_lines(product)[product.pk] == 5
    services.order_cancel(order=sent, user=user)
    assert _assert_column_matches_the_lines(product)[product.pk] == 0


def test_a_sent_order_cannot_be_deleted():
    product = ProductFactory()
    order = services.order_create(
        supplier=SupplierFactory(), user=None, lines=[LineInput(product=product, quantity=3)]
    )
    services.order_send(order=order, user=None)
    with pytest.raises(services.StateRefused):
        services.order_delete(order=order)
    assert _assert_column_matches_the_lines(product)[product.pk] == 3


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_of_one_product_are_all_counted():
    """Eight people order the same product at once: every unit is on order, none lost."""
    product = ProductFactory()
    suppliers = [SupplierFactory() for _ in range(8)]

    def order(index):
        services.order_create(
            supplier=suppliers[index], user=None, lines=[LineInput(product=product.pk, quantity=2)]
        )

    at_once(order, len(suppliers))
    assert _assert_column_matches_the_lines(product)[product.pk] == 16
