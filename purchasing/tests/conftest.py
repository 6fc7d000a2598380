from decimal import Decimal

import pytest

from catalog.tests.factories import ProductFactory, SupplierFactory
from purchasing import services
from purchasing.services import LineInput


@pytest.fixture
def sent_order(db, django_user_model):
    """A sent order of two products: 10 of the first at 7.50, 4 of the second at 2.00."""

    def make(supplier=None, quantities=(10, 4), user=None):
        supplier = supplier or SupplierFactory()
        user = user or django_user_model.objects.get_or_create(username="buyer")[0]
        costs = (Decimal("7.50"), Decimal("2.00"), Decimal("1.00"))
        order = services.order_create(
            supplier=supplier,
            user=user,
            lines=[
                LineInput(product=ProductFactory(), quantity=quantity, unit_cost=costs[index])
                for index, quantity in enumerate(quantities)
            ],
        )
        return services.order_send(order=order, user=user)

    return make
