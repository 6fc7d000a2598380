"""Writes to the catalog that carry a rule: products and deletions.

Stock (``Product.quantity``) is not written here: only the ledger service
(``movements.services``) changes it.
"""

from django.db import models, transaction
from django.utils.translation import gettext as _

from catalog.models import Brand, Category, Product, ProductModel, Supplier
from project.errors import UserFacingError

# What a client may set on a product; quantity is not among them. The one
# list of a product's writable fields: the admin form, the API serializer and
# the import columns each add read-only fields and keep an order of their own
# (form groups, JSON key order, the file's key column first), so they are
# written out there; catalog/tests/test_product_fields.py holds them to this.
PRODUCT_FIELDS = (
    "title",
    "serial_number",
    "product_model",
    "category",
    "cost_price",
    "sell_price",
    "reorder_level",
    "is_active",
    "description",
    "ean",
)


class CatalogError(UserFacingError):
    """A catalog write refused; ``message`` is for the user."""


class InUse(CatalogError):
    """The object is still referenced (a product by movements, a brand by models...)."""


def _refuse_unknown(fields: dict) -> None:
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise CatalogError(_("These fields cannot be set: %s.") % ", ".join(sorted(unknown)))


def product_create(**fields) -> Product:
    _refuse_unknown(fields)
    return Product.objects.create(**fields)


@transaction.atomic
def product_update(*, product: Product, **fields) -> Product:
    _refuse_unknown(fields)
    for name, value in fields.items():
        setattr(product, name, value)
    # Never save quantity from this (possibly stale) instance: the ledger owns it.
    product.save(update_fields=[*fields, "updated_at"])
    return product


def _delete(instance: models.Model, message: str) -> None:
    try:
        # A savepoint: the refused DELETE must not break an outer transaction.
        with transaction.atomic():
            instance.delete()
    except models.ProtectedError:
        raise InUse(message) from None


def product_delete(*, product: Product) -> None:
    """Delete a product nobody moved; refused while movements reference it."""
    _delete(
        product,
        _("%(product)s has stock movements; deactivate it instead of deleting it.")
        % {"product": product},
    )


def catalog_object_delete(*, instance: Brand | Category | Supplier | ProductModel) -> None:
    """Delete a brand, category, supplier or model that nothing references."""
    _delete(
        instance,
        _("%(object)s is still referenced and cannot be deleted.") % {"object": instance},
    )
