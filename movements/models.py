"""The stock ledger: inflows and outflows, append-only.

Rows are only ever inserted, by ``movements.services``. The database refuses
UPDATE and DELETE on both tables (triggers in migration 0002); a mistake is
corrected by a new movement that references the one it reverses.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Product, Supplier


class Movement(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="%(class)ss", verbose_name=_("product")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    note = models.CharField(
        _("note"), max_length=255, blank=True, help_text=_("Invoice number or a short reason.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, editable=False, db_index=True
    )

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def is_correction(self) -> bool:
        return self.reason == self.Reason.CORRECTION

    @property
    def is_reversed(self) -> bool:
        return hasattr(self, "reversed_by")


class Inflow(Movement):
    class Reason(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        CORRECTION = "correction", _("Correction")

    reason = models.CharField(
        _("reason"), max_length=16, choices=Reason.choices, default=Reason.PURCHASE
    )
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inflows",
        verbose_name=_("supplier"),
    )
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    reverses = models.OneToOneField(
        "movements.Outflow",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses outflow"),
    )

    class Meta(Movement.Meta):
        verbose_name = _("inflow")
        verbose_name_plural = _("inflows")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="movements_inflow_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="movements_inflow_unit_cost_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(reason="correction") | Q(supplier__isnull=False),
                name="movements_inflow_purchase_has_supplier",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(reason="correction"),
                name="movements_inflow_reversal_is_correction",
            ),
        ]
        indexes = [models.Index(fields=["product", "-created_at"], name="movements_in_product_idx")]

    def __str__(self) -> str:
        return _("Inflow #%(id)s: +%(quantity)s %(product)s") % {
            "id": self.pk,
            "quantity": self.quantity,
            "product": self.product.serial_number if self.product_id else "",
        }

    @property
    def total_cost(self) -> Decimal:
        return self.unit_cost * self.quantity


class Outflow(Movement):
    class Reason(models.TextChoices):
        SALE = "sale", _("Sale")
        CORRECTION = "correction", _("Correction")

    reason = models.CharField(
        _("reason"), max_length=16, choices=Reason.choices, default=Reason.SALE
    )
    # Snapshots taken when the movement is recorded: past sales keep their
    # value when product prices change later.
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    reverses = models.OneToOneField(
        Inflow,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses inflow"),
    )

    class Meta(Movement.Meta):
        verbose_name = _("outflow")
        verbose_name_plural = _("outflows")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="movements_outflow_quantity_gt_0"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="movements_outflow_unit_price_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="movements_outflow_unit_cost_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(reason="correction"),
                name="movements_outflow_reversal_is_correction",
            ),
        ]
        indexes = [
            models.Index(fields=["product", "-created_at"], name="movements_out_product_idx"),
            models.Index(fields=["reason", "created_at"], name="movements_out_reason_date_idx"),
        ]

    def __str__(self) -> str:
        return _("Outflow #%(id)s: -%(quantity)s %(product)s") % {
            "id": self.pk,
            "quantity": self.quantity,
            "product": self.product.serial_number if self.product_id else "",
        }

    @property
    def total_price(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def profit(self) -> Decimal:
        return (self.unit_price - self.unit_cost) * self.quantity


class IdempotencyKey(models.Model):
    """An API client's ``Idempotency-Key`` and the response its request got.

    The unique constraint is what makes two concurrent requests with the same
    key write once (see ``movements.idempotency``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    key = models.CharField(_("key"), max_length=255)
    path = models.CharField(_("path"), max_length=255)
    # sha256 of method, path and body: the same key with another body is refused.
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True)
    response_body = models.JSONField(_("response body"), null=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="movements_idempotencykey_unique_per_user"
            ),
        ]

    def __str__(self) -> str:
        return self.key
