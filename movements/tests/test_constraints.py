"""The database itself backs the ledger's invariants."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from movements import services

pytestmark = pytest.mark.django_db


def _raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_negative_quantity_is_refused_by_the_named_constraint(stocked_product):
    product = stocked_product()
    with pytest.raises(IntegrityError, match="catalog_product_quantity_gte_0"):
        _raw("UPDATE catalog_product SET quantity = -1 WHERE id = %s", [product.pk])


@pytest.mark.parametrize(
    ("column", "constraint"),
    [
        ("cost_price", "catalog_product_cost_price_gte_0"),
        ("sell_price", "catalog_product_sell_price_gte_0"),
    ],
)
def test_negative_prices_are_refused_by_named_constraints(stocked_product, column, constraint):
    product = stocked_product()
    with pytest.raises(IntegrityError, match=constraint):
        _raw(f"UPDATE catalog_product SET {column} = -1 WHERE id = %s", [product.pk])


def test_duplicate_serial_number_is_refused(stocked_product):
    product = stocked_product()
    from catalog.tests.factories import ProductFactory

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(serial_number=product.serial_number)


def test_model_name_is_unique_per_brand():
    from catalog.tests.factories import BrandFactory, ProductModelFactory

    brand = BrandFactory()
    ProductModelFactory(brand=brand, name="X1")
    ProductModelFactory(brand=BrandFactory(), name="X1")  # another brand may reuse it
    with (
        pytest.raises(IntegrityError, match="catalog_productmodel_unique_name_per_brand"),
        transaction.atomic(),
    ):
        ProductModelFactory(brand=brand, name="X1")


def test_movement_quantity_must_be_positive(stocked_product, supplier):
    product = stocked_product()
    # Bypass the service: the check constraints must still refuse zero.
    with pytest.raises(IntegrityError, match="movements_inflow_quantity_gt_0"):
        _raw(
            "INSERT INTO movements_inflow (product_id, quantity, note, created_at, reason, "
            "supplier_id, unit_cost) VALUES (%s, 0, '', now(), 'purchase', %s, 0)",
            [product.pk, supplier.pk],
        )
    with pytest.raises(IntegrityError, match="movements_outflow_quantity_gt_0"):
        _raw(
            "INSERT INTO movements_outflow (product_id, quantity, note, created_at, reason, "
            "unit_price, unit_cost) VALUES (%s, 0, '', now(), 'sale', 0, 0)",
            [product.pk],
        )


def test_a_purchase_needs_a_supplier_in_the_database(stocked_product):
    product = stocked_product()
    with pytest.raises(IntegrityError, match="movements_inflow_purchase_has_supplier"):
        _raw(
            "INSERT INTO movements_inflow (product_id, quantity, note, created_at, reason, "
            "unit_cost) VALUES (%s, 1, '', now(), 'purchase', 0)",
            [product.pk],
        )


@pytest.mark.parametrize("table", ["movements_inflow", "movements_outflow"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET note = 'edited'", "DELETE FROM {table}"])
def test_movements_are_append_only_in_the_database(stocked_product, table, statement):
    product = stocked_product()
    services.outflow_create(product=product, quantity=1)
    with pytest.raises((IntegrityError, InternalError), match="append-only"):
        _raw(statement.format(table=table))
