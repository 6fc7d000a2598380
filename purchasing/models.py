"""Purchasing: who sells what, purchase orders and their receipts.

Rows change only through ``purchasing.services``. Stock never changes here:
a receipt calls the ledger service (``movements.services.inflow_create``)
and keeps the inflow it created.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Product, Supplier
from movements.models import Inflow, Outflow


def _user(verbose_name):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


ONE_PREFERRED = "purchasing_supplierproduct_one_preferred"


class SupplierProduct(models.Model):
    """A product as one supplier sells it: their code, pack, last cost, lead time."""

    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.CASCADE,
        related_name="supplier_products",
        verbose_name=_("supplier"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="supplier_links",
        verbose_name=_("product"),
    )
    supplier_code = models.CharField(
        _("supplier's code"),
        max_length=60,
        blank=True,
        help_text=_("The code this supplier gives the product on its invoices."),
    )
    pack_size = models.PositiveIntegerField(
        _("pack size"),
        default=1,
        help_text=_("Units per purchase unit; suggestions are rounded up to whole packs."),
    )
    last_cost = models.DecimalField(
        _("last cost"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Unit cost of the last receipt from this supplier."),
    )
    lead_time_days = models.PositiveIntegerField(
        _("lead time (days)"), default=0, help_text=_("Days from order to delivery.")
    )
    is_preferred = models.BooleanField(
        _("preferred"),
        default=False,
        help_text=_("Reorder suggestions go to the preferred supplier; one per product."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["supplier__name", "product__title"]
        verbose_name = _("supplier product")
        verbose_name_plural = _("supplier products")
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "product"],
                name="purchasing_supplierproduct_supplier_product_uniq",
                violation_error_message=_("This supplier already has this product."),
            ),
            models.UniqueConstraint(
                fields=["supplier", "supplier_code"],
                condition=~Q(supplier_code=""),
                name="purchasing_supplierproduct_supplier_code_uniq",
                violation_error_message=_("This supplier already uses this code."),
            ),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(is_preferred=True),
                name=ONE_PREFERRED,
                violation_error_message=_("This product already has a preferred supplier."),
            ),
            models.CheckConstraint(
                condition=Q(pack_size__gt=0), name="purchasing_supplierproduct_pack_size_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(last_cost__isnull=True) | Q(last_cost__gte=0),
                name="purchasing_supplierproduct_last_cost_gte_0",
            ),
            models.CheckConstraint(
                condition=Q(lead_time_days__gte=0),
                name="purchasing_supplierproduct_lead_time_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.product}"

    def validate_constraints(self, exclude=None):
        # A form need not refuse a second preferred supplier: saving through
        # purchasing.services.supplier_product_save switches it in one step.
        exclude = set(exclude or ())
        others = [c for c in self._meta.constraints if c.name != ONE_PREFERRED]
        errors = {}
        for constraint in others:
            try:
                constraint.validate(self.__class__, self, exclude=exclude)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


class PurchaseOrder(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    # Lines count as "on order" while their order is in one of these states.
    OPEN_STATES = (State.DRAFT, State.SENT, State.PARTIALLY_RECEIVED)
    RECEIVABLE_STATES = (State.SENT, State.PARTIALLY_RECEIVED)

    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("supplier"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )
    note = models.TextField(_("note"), blank=True)
    created_by = _user(_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    sent_by = _user(_("sent by"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, editable=False)
    received_by = _user(_("last received by"))
    received_at = models.DateTimeField(_("last received at"), null=True, blank=True, editable=False)
    cancelled_by = _user(_("cancelled by"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        permissions = [("receive_purchaseorder", _("Can receive purchase orders"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=["draft", "sent", "partially_received", "received", "cancelled"]
                ),
                name="purchasing_purchaseorder_state_valid",
            ),
            # Who and when of each change: a state past draft says when it was sent.
            models.CheckConstraint(
                condition=Q(state__in=["draft", "cancelled"]) | Q(sent_at__isnull=False),
                name="purchasing_purchaseorder_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=~Q(state="cancelled") | Q(cancelled_at__isnull=False),
                name="purchasing_purchaseorder_cancelled_has_cancelled_at",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"PO-{self.pk:06d}" if self.pk else str(_("new purchase order"))

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="purchase_order_lines",
        verbose_name=_("product"),
    )
    quantity = models.PositiveIntegerField(_("quantity ordered"))
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    received_quantity = models.PositiveIntegerField(
        _("quantity received"), default=0, editable=False
    )
    is_cancelled = models.BooleanField(_("cancelled"), default=False, editable=False)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchasing_purchaseorderline_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="purchasing_purchaseorderline_unit_cost_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__gte=0),
                name="purchasing_purchaseorderline_received_gte_0",
            ),
            # Only a line with nothing received can be cancelled.
            models.CheckConstraint(
                condition=Q(is_cancelled=False) | Q(received_quantity=0),
                name="purchasing_purchaseorderline_cancelled_received_nothing",
            ),
        ]
        indexes = [
            # "On order" per product: the open lines of a product.
            models.Index(
                fields=["product"],
                condition=Q(is_cancelled=False) & Q(received_quantity__lt=F("quantity")),
                name="purchasing_line_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} x {self.quantity}" if self.product_id else str(self.quantity)

    @property
    def to_receive(self) -> int:
        """Units still expected: none on a cancelled line, none past the quantity ordered."""
        if self.is_cancelled:
            return 0
        return max(self.quantity - self.received_quantity, 0)


class Receipt(models.Model):
    """Units of one line received: the inflow that put them in stock, and its reversal."""

    line = models.ForeignKey(
        PurchaseOrderLine,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    inflow = models.OneToOneField(
        Inflow, on_delete=models.PROTECT, related_name="purchase_receipt", verbose_name=_("inflow")
    )
    over_receipt_reason = models.CharField(
        _("reason for receiving more than ordered"), max_length=255, blank=True
    )
    created_by = _user(_("received by"))
    created_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)
    reversal = models.OneToOneField(
        Outflow,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="purchase_receipt_reversed",
        verbose_name=_("reversal"),
    )
    reversed_by = _user(_("reversed by"))
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchasing_receipt_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(reversal__isnull=True) | Q(reversed_at__isnull=False),
                name="purchasing_receipt_reversal_has_reversed_at",
            ),
        ]

    def __str__(self) -> str:
        return _("Receipt #%(id)s: +%(quantity)s") % {"id": self.pk, "quantity": self.quantity}


class NFeReceipt(models.Model):
    """An NF-e (electronic invoice) received into stock, once: its access key is unique.

    Written by ``purchasing.nfe.services.nfe_receive`` in the transaction of
    the inflows it made; the unique access key is what makes a second
    receipt of the same note, even at the same moment, fail instead of
    counting the goods twice.
    """

    access_key = models.CharField(_("access key"), max_length=44)
    number = models.CharField(_("NF-e number"), max_length=9)
    series = models.CharField(_("series"), max_length=3, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        related_name="nfe_receipts",
        verbose_name=_("supplier"),
    )
    order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nfe_receipts",
        verbose_name=_("purchase order"),
    )
    total = models.DecimalField(_("note total"), max_digits=15, decimal_places=2)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    created_by = _user(_("received by"))
    created_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("NF-e receipt")
        verbose_name_plural = _("NF-e receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["access_key"],
                name="purchasing_nfereceipt_access_key_uniq",
                violation_error_message=_("This NF-e was already received."),
            ),
            models.CheckConstraint(
                condition=Q(access_key__regex=r"^[0-9]{44}$"),
                name="purchasing_nfereceipt_access_key_44_digits",
            ),
        ]

    def __str__(self) -> str:
        return _("NF-e %(number)s (%(supplier)s)") % {
            "number": self.number,
            "supplier": self.supplier,
        }


class NFeReceiptLine(models.Model):
    """One line (det) of a received NF-e: what it matched and the movement it made."""

    receipt = models.ForeignKey(
        NFeReceipt, on_delete=models.CASCADE, related_name="lines", verbose_name=_("NF-e receipt")
    )
    item = models.PositiveIntegerField(_("item"))
    supplier_code = models.CharField(_("supplier's code"), max_length=60, blank=True)
    ean = models.CharField(_("EAN/GTIN"), max_length=14, blank=True)
    description = models.CharField(_("description"), max_length=120, blank=True)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="nfe_lines", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("units received"))
    line_cost = models.DecimalField(
        _("line cost"),
        max_digits=15,
        decimal_places=2,
        help_text=_("The line's value with its share of freight, insurance, discounts and taxes."),
    )
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2)
    matched_by = models.CharField(_("matched by"), max_length=16)
    inflow = models.OneToOneField(
        Inflow,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nfe_line",
        verbose_name=_("inflow"),
    )
    # Several lines of one note may be one product of the order: one receipt of its line.
    order_receipt = models.ForeignKey(
        Receipt,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nfe_lines",
        verbose_name=_("order receipt"),
    )

    class Meta:
        ordering = ["receipt", "item"]
        verbose_name = _("NF-e receipt line")
        verbose_name_plural = _("NF-e receipt lines")
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "item"], name="purchasing_nfereceiptline_receipt_item_uniq"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="purchasing_nfereceiptline_quantity_gt_0"
            ),
        ]

    def __str__(self) -> str:
        if not self.product_id:
            return str(self.item)
        return f"{self.item}: {self.product} x {self.quantity}"
