from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.validators import normalize_cnpj, validate_cnpj, validate_gtin


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class NamedModel(TimeStampedModel):
    """Brand, Category and Supplier: a unique name and a description."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Brand(NamedModel):
    class Meta(NamedModel.Meta):
        verbose_name = _("brand")
        verbose_name_plural = _("brands")


class Category(NamedModel):
    class Meta(NamedModel.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")


class CNPJField(models.CharField):
    """A CNPJ, typed with or without punctuation, stored as its 14 characters.

    Room for the punctuated form (18 characters) so that a form or the API
    accepts what people copy from an invoice; the stored value is normalized.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 18)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_cnpj(value) if value else value

    def pre_save(self, model_instance, add):
        value = normalize_cnpj(getattr(model_instance, self.attname) or "")
        setattr(model_instance, self.attname, value)
        return value


class Supplier(NamedModel):
    tax_id = models.CharField(
        _("tax id"), max_length=32, blank=True, help_text=_("CNPJ, CPF or another tax id.")
    )
    # Matched against an NF-e issuer's CNPJ: unique when set.
    cnpj = CNPJField(
        _("CNPJ"),
        blank=True,
        validators=[validate_cnpj],
        help_text=_("Numeric or alphanumeric (from July 2026); punctuation optional."),
    )
    contact_name = models.CharField(_("contact name"), max_length=120, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.TextField(_("address"), blank=True)

    class Meta(NamedModel.Meta):
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        constraints = [
            models.UniqueConstraint(
                fields=["cnpj"],
                condition=~Q(cnpj=""),
                name="catalog_supplier_cnpj_uniq",
                violation_error_message=_("Another supplier has this CNPJ."),
            ),
            models.CheckConstraint(
                condition=Q(cnpj="") | Q(cnpj__regex=r"^[0-9A-Z]{12}[0-9]{2}$"),
                name="catalog_supplier_cnpj_format",
                violation_error_message=_(
                    "Enter a valid CNPJ (14 characters, check digits included)."
                ),
            ),
        ]


class ProductModel(TimeStampedModel):
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="product_models", verbose_name=_("brand")
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["brand__name", "name"]
        verbose_name = _("product model")
        verbose_name_plural = _("product models")
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "name"],
                name="catalog_productmodel_unique_name_per_brand",
                violation_error_message=_("This brand already has a model with this name."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.name}" if self.brand_id else self.name


class StockWriteRefused(Exception):
    """A write of ``Product.quantity`` outside the ledger service (a programming error)."""


class ProductQuerySet(models.QuerySet):
    """Refuses writes of ``quantity`` except the ledger's own ``ledger_move_stock``.

    Stock changes only with a movement, in the ledger service, under the row
    lock; any other write of the column (a stale form, a bulk update) would
    make it differ from the movements or lose a concurrent sale.
    """

    def update(self, **kwargs):
        if "quantity" in kwargs:
            raise StockWriteRefused("Product.quantity is written only by movements.services.")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        if "quantity" in fields:
            raise StockWriteRefused("Product.quantity is written only by movements.services.")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def ledger_move_stock(self, *, delta: int, now) -> int:
        """Add ``delta`` to the stock in SQL (``F()``); for ``movements.services`` only."""
        return super().update(quantity=models.F("quantity") + delta, updated_at=now)


class Product(TimeStampedModel):
    title = models.CharField(_("title"), max_length=200)
    serial_number = models.CharField(
        _("serial number (SKU)"),
        max_length=64,
        unique=True,
        help_text=_("Unique code that identifies the product (SKU)."),
    )
    product_model = models.ForeignKey(
        ProductModel,
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("product model"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    cost_price = models.DecimalField(
        _("cost price"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    sell_price = models.DecimalField(
        _("sell price"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    # Only the ledger service (movements.services) changes this column; it is
    # never editable in forms, the admin or the API.
    quantity = models.IntegerField(_("quantity in stock"), default=0, editable=False)
    reorder_level = models.PositiveIntegerField(
        _("reorder level"),
        default=0,
        help_text=_("At or below this quantity the product counts as low stock."),
    )
    # Units on open purchase orders, not yet received: kept by the
    # purchasing services in the transaction that changes an order line
    # (purchasing.services.on_order_recount), so that lists and the low-stock
    # filter read a column instead of summing order lines per row. A default
    # in the database too: bulk loads (COPY in seed_demo) leave it out.
    on_order = models.PositiveIntegerField(
        _("on order"),
        default=0,
        db_default=0,
        editable=False,
        help_text=_("Units on open purchase orders (drafts included), not yet received."),
    )
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    description = models.TextField(_("description"), blank=True)
    ean = models.CharField(
        _("EAN/GTIN"),
        max_length=14,
        blank=True,
        validators=[validate_gtin],
        help_text=_("Bar code number (8, 12, 13 or 14 digits); unique when set."),
    )

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=0),
                name="catalog_product_quantity_gte_0",
                violation_error_message=_("Stock cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(cost_price__gte=0),
                name="catalog_product_cost_price_gte_0",
                violation_error_message=_("The cost price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(sell_price__gte=0),
                name="catalog_product_sell_price_gte_0",
                violation_error_message=_("The sell price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(reorder_level__gte=0),
                name="catalog_product_reorder_level_gte_0",
                violation_error_message=_("The reorder level cannot be negative."),
            ),
            # An NF-e line is matched to its product by this code: one product each.
            models.UniqueConstraint(
                fields=["ean"],
                condition=~Q(ean=""),
                name="catalog_product_ean_uniq",
                violation_error_message=_("Another product has this EAN/GTIN."),
            ),
            models.CheckConstraint(
                condition=Q(ean="") | Q(ean__regex=r"^([0-9]{8}|[0-9]{12,14})$"),
                name="catalog_product_ean_digits",
                violation_error_message=_("An EAN/GTIN has 8, 12, 13 or 14 digits."),
            ),
        ]
        indexes = [
            # The list's order (title, then newest id first, which the admin
            # adds to make it total): a page's ids come from this index alone.
            models.Index(fields=["title", "-id"], name="catalog_product_title_id_idx"),
            # Not listed: the trigram GIN indexes on UPPER(title) and
            # UPPER(serial_number) that serve the admin's icontains search on
            # PostgreSQL. Migration 0002 creates them there only; in the model
            # state SQLite would try to build them whenever it rebuilds the
            # table (any later AddField or AlterField).
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.serial_number})"

    def save(self, *args, **kwargs):
        """Save the product's details; never its stock.

        This instance's ``quantity`` may be stale: sales recorded since it was
        loaded moved the row with the ledger's ``F()`` update. Writing it back
        (Django saves every column by default) would undo them, so an existing
        product saves every column but ``quantity``, and a new one starts at 0.
        """
        update_fields = kwargs.get("update_fields")
        if self._state.adding:
            if self.quantity != 0:
                raise StockWriteRefused("A new product starts with no stock; record an inflow.")
            # An explicit pk must never turn this into an UPDATE of a stocked row.
            kwargs.setdefault("force_insert", not kwargs.get("force_update"))
        elif update_fields is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "quantity"
            ]
        elif "quantity" in update_fields:
            raise StockWriteRefused("Product.quantity is written only by movements.services.")
        super().save(*args, **kwargs)

    @property
    def is_low_stock(self) -> bool:
        return self.quantity <= self.reorder_level
