from decimal import Decimal

import factory

from catalog.tests.factories import ProductFactory, SupplierFactory
from purchasing.models import SupplierProduct


class SupplierProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProduct

    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory(ProductFactory)
    pack_size = 1
    lead_time_days = 0
    last_cost = Decimal("8.00")
    is_preferred = True
