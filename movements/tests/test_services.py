from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory
from movements import services
from movements.models import Inflow, Outflow

pytestmark = pytest.mark.django_db


def test_inflow_adds_to_stock_and_snapshots_cost(stocked_product, supplier):
    product = stocked_product(quantity=0, cost_price=Decimal("7.50"))
    inflow = services.inflow_create(product=product, quantity=4, supplier=supplier)
    product.refresh_from_db()
    assert product.quantity == 4
    assert inflow.unit_cost == Decimal("7.50")


def test_outflow_snapshots_prices_that_later_price_changes_do_not_touch(stocked_product):
    product = stocked_product(cost_price=Decimal("10.00"), sell_price=Decimal("15.00"))
    outflow = services.outflow_create(product=product, quantity=3)
    product.sell_price = Decimal("99.00")
    product.cost_price = Decimal("50.00")
    product.save()
    outflow.refresh_from_db()
    assert (outflow.unit_price, outflow.unit_cost) == (Decimal("15.00"), Decimal("10.00"))
    assert outflow.total_price == Decimal("45.00")
    assert outflow.profit == Decimal("15.00")


def test_outflow_rejects_quantity_above_stock_and_writes_nothing(stocked_product):
    product = stocked_product(quantity=5)
    with pytest.raises(services.InsufficientStock) as refused:
        services.outflow_create(product=product, quantity=6)
    error = refused.value
    assert (error.requested, error.available, error.product.pk) == (6, 5, product.pk)
    assert product.serial_number in error.message
    assert "6" in error.message and "5" in error.message
    product.refresh_from_db()
    assert product.quantity == 5
    assert not Outflow.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True])
def test_movements_refuse_quantities_that_are_not_positive_whole_numbers(stocked_product, quantity):
    product = stocked_product()
    with pytest.raises(services.InvalidMovement):
        services.outflow_create(product=product, quantity=quantity)
    with pytest.raises(services.InvalidMovement):
        services.inflow_create(product=product, quantity=quantity, supplier=None)


def test_purchase_without_supplier_is_refused(stocked_product):
    product = stocked_product(quantity=0)
    with pytest.raises(services.InvalidMovement) as refused:
        services.inflow_create(product=product, quantity=1)
    assert refused.value.field == "supplier"


def test_negative_prices_are_refused(stocked_product, supplier):
    product = stocked_product()
    with pytest.raises(services.InvalidMovement):
        services.outflow_create(product=product, quantity=1, unit_price=Decimal("-1"))
    with pytest.raises(services.InvalidMovement):
        services.inflow_create(
            product=product, quantity=1, supplier=supplier, unit_cost=Decimal("-0.01")
        )


def test_reversing_an_outflow_restores_the_quantity(stocked_product):
    product = stocked_product(quantity=10)
    sale = services.outflow_create(product=product, quantity=4)
    reversal = services.movement_reverse(movement=sale)
    product.refresh_from_db()
    assert product.quantity == 10
    assert isinstance(reversal, Inflow)
    assert reversal.reverses == sale
    assert reversal.reason == Inflow.Reason.CORRECTION
    assert reversal.unit_cost == sale.unit_cost


def test_reversing_an_inflow_takes_its_units_back_out(stocked_product, supplier):
    product = stocked_product(quantity=0)
    inflow = services.inflow_create(product=product, quantity=7, supplier=supplier)
    reversal = services.movement_reverse(movement=inflow)
    product.refresh_from_db()
    assert product.quantity == 0
    assert isinstance(reversal, Outflow)
    assert reversal.reason == Outflow.Reason.CORRECTION


def test_an_inflow_whose_units_were_sold_cannot_be_reversed(stocked_product, supplier):
    product = stocked_product(quantity=0)
    inflow = services.inflow_create(product=product, quantity=5, supplier=supplier)
    services.outflow_create(product=product, quantity=3)
    with pytest.raises(services.InsufficientStock):
        services.movement_reverse(movement=inflow)
    product.refresh_from_db()
    assert product.quantity == 2


def test_a_movement_is_reversed_only_once(stocked_product):
    product = stocked_product()
    sale = services.outflow_create(product=product, quantity=1)
    services.movement_reverse(movement=sale)
    with pytest.raises(services.ReversalRefused):
        services.movement_reverse(movement=sale)
    product.refresh_from_db()
    assert product.quantity == 10


def test_a_reversal_is_not_itself_reversed(stocked_product):
    product = stocked_product()
    sale = services.outflow_create(product=product, quantity=1)
    reversal = services.movement_reverse(movement=sale)
    with pytest.raises(services.ReversalRefused):
        services.movement_reverse(movement=reversal)


def test_unknown_product_is_a_clear_error():
    with pytest.raises(services.InvalidMovement) as refused:
        services.outflow_create(product=987654, quantity=1)
    assert refused.value.field == "product"


def test_an_inflow_that_would_overflow_the_stock_column_is_refused(stocked_product, supplier):
    product = stocked_product(quantity=10)
    with pytest.raises(services.InvalidMovement) as refused:
        services.inflow_create(product=product, quantity=services.MAX_STOCK - 5, supplier=supplier)
    assert refused.value.field == "quantity"
    product.refresh_from_db()
    assert product.quantity == 10


def test_product_ledger_lists_both_kinds_newest_first(stocked_product, supplier):
    from movements.selectors import product_ledger

    product = stocked_product(quantity=0)
    services.inflow_create(product=product, quantity=5, supplier=supplier)
    services.outflow_create(product=product, quantity=2)
    other = ProductFactory()
    services.inflow_create(product=other, quantity=1, supplier=supplier)
    entries = list(product_ledger(product.pk))
    assert [(e["kind"], e["delta"]) for e in entries] == [("outflow", -2), ("inflow", 5)]
