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
    # No index of its own: each movement table's (product, -created_at) index
    # serves the lookups by product, and one index less is one write less
    # per movement (10,000,000 of them at scale).
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="%(class)ss",
        verbose_name=_("product"),
        db_index=False,
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
    # Indexed by (created_at DESC, id DESC) with the lists' order (Meta of each
    # table), which serves date ranges too.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

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
        indexes = [
            models.Index(fields=["product", "-created_at"], name="movements_in_product_idx"),
            # The admin list's order (Meta.ordering) read straight off the
            # index: a page of the newest rows without sorting 10 million.
            models.Index(fields=["-created_at", "-id"], name="movements_in_created_id_idx"),
        ]

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
            # As for inflows: the admin list's (-created_at, -id) order.
            models.Index(fields=["-created_at", "-id"], name="movements_out_created_id_idx"),
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


class DailyRollup(models.Model):
    """One product's movements of one local business day, summed.

    Written only by database triggers (migration 0004), in the same
    transaction as the movements they sum, whatever inserts them: the ledger
    service, imports, ``COPY``. ``day`` is the calendar day in
    ``settings.TIME_ZONE``, as the dashboard counts days. Outflows are summed
    twice: all reasons (``out_*``) and sales only (``sale_*``); corrections
    are the difference. ``rebuild_rollups`` recomputes the table and
    ``check_ledger`` compares it with the movements.
    """

    # No database foreign key: the rollups are derived from movements, whose
    # own PROTECT keys already keep their product; the trigger's upsert and
    # the 10-million-movement backfill skip a check per row. DO_NOTHING: the
    # admin's delete page lists the movements that protect a product, not
    # these rows.
    product = models.ForeignKey(
        Product,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        verbose_name=_("product"),
    )
    day = models.DateField(_("day"))
    in_count = models.BigIntegerField(_("inflows"), default=0)
    in_units = models.BigIntegerField(_("units in"), default=0)
    in_cost = models.DecimalField(
        _("cost value in"), max_digits=20, decimal_places=2, default=Decimal("0.00")
    )
    out_count = models.BigIntegerField(_("outflows"), default=0)
    out_units = models.BigIntegerField(_("units out"), default=0)
    out_revenue = models.DecimalField(
        _("price value out"), max_digits=20, decimal_places=2, default=Decimal("0.00")
    )
    out_cost = models.DecimalField(
        _("cost value out"), max_digits=20, decimal_places=2, default=Decimal("0.00")
    )
    sale_count = models.BigIntegerField(_("sales"), default=0)
    sale_units = models.BigIntegerField(_("units sold"), default=0)
    sale_revenue = models.DecimalField(
        _("revenue"), max_digits=20, decimal_places=2, default=Decimal("0.00")
    )
    sale_cost = models.DecimalField(
        _("cost of goods sold"), max_digits=20, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        default_permissions = ()
        constraints = [
            # The triggers' upsert target (ON CONFLICT (product_id, day)); its
            # index also serves one product's days (low stock, top products).
            models.UniqueConstraint(
                fields=["product", "day"], name="movements_dailyrollup_product_day_uniq"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="movements_dailyrollup_day_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} {self.day}"


def _rollup_money(name):
    return models.DecimalField(name, max_digits=20, decimal_places=2, default=Decimal("0.00"))


class DayTotal(models.Model):
    """Every product's rollups of one closed local day, summed (``movements.rollups``).

    Only days up to the latest row's day are "closed": ``close_days`` adds
    them once they are over, and from then on the rollup triggers add any
    movement dated on a closed day to its row, in the movement's transaction.
    Today's movements never touch this table, so sales wait on no shared row.
    """

    day = models.DateField(_("day"), primary_key=True)
    in_count = models.BigIntegerField(_("inflows"), default=0)
    in_units = models.BigIntegerField(_("units in"), default=0)
    in_cost = _rollup_money(_("cost value in"))
    out_count = models.BigIntegerField(_("outflows"), default=0)
    out_units = models.BigIntegerField(_("units out"), default=0)
    out_revenue = _rollup_money(_("price value out"))
    out_cost = _rollup_money(_("cost value out"))
    sale_count = models.BigIntegerField(_("sales"), default=0)
    sale_units = models.BigIntegerField(_("units sold"), default=0)
    sale_revenue = _rollup_money(_("revenue"))
    sale_cost = _rollup_money(_("cost of goods sold"))

    class Meta:
        verbose_name = _("day total")
        verbose_name_plural = _("day totals")
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.day)


class SaleWindow(models.Model):
    """One product's sales over the closed days of the dashboard's 30-day window.

    The 29 days before the last closed day and that day (``movements.rollups``):
    with today's rollup it is the product's 30-day revenue, ranked through the
    revenue index. Only products with a sale in those days have a row.
    """

    product = models.OneToOneField(
        Product,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
        verbose_name=_("product"),
    )
    sale_count = models.BigIntegerField(_("sales"), default=0)
    sale_revenue = _rollup_money(_("revenue"))

    class Meta:
        verbose_name = _("sales window")
        verbose_name_plural = _("sales windows")
        default_permissions = ()
        indexes = [models.Index(fields=["sale_revenue"], name="movements_salewindow_rev_idx")]

    def __str__(self) -> str:
        return str(self.product_id)


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
