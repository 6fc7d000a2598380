from decimal import Decimal

import factory

from catalog.models import Brand, Category, Product, ProductModel, Supplier


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Brand {n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Supplier {n}")


class ProductModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductModel

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Model {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with no stock: stock only arrives through the ledger service."""

    class Meta:
        model = Product

    title = factory.Sequence(lambda n: f"Product {n}")
    serial_number = factory.Sequence(lambda n: f"SKU-{n:06d}")
    product_model = factory.SubFactory(ProductModelFactory)
    category = factory.SubFactory(CategoryFactory)
    cost_price = Decimal("10.00")
    sell_price = Decimal("15.00")
    reorder_level = 2
