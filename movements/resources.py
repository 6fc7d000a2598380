"""Import/export columns of the ledger: inflows and outflows.

These Resources define columns and their rules only. Movements are
append-only, so an import only adds rows, and it adds them one way: the
set-based import (``movements.imports.MovementImport``) calls the
ledger service (``movements.services``) per row, after the preview, so stock
can never go negative through an import either. Export-only columns (id,
date, author) are ``readonly``.
"""

from django.contrib.auth import get_user_model
from import_export import fields, widgets

from catalog.models import Product, Supplier
from dataio.resources import (
    ChoiceWidget,
    MoneyWidget,
    NameForeignKeyWidget,
    TextWidget,
    TransferResource,
    WholeNumberWidget,
)
from movements.imports import MovementImport
from movements.models import Inflow, Outflow


class MovementResource(TransferResource):
    """Columns both movements share; saving goes through the ledger service."""

    importer = MovementImport
    # An outflow takes units out: the file is checked against the stock.
    takes_stock = False

    id = fields.Field(
        attribute="id", column_name="id", widget=widgets.IntegerWidget(), readonly=True
    )
    created_at = fields.Field(
        attribute="created_at",
        column_name="created_at",
        widget=widgets.DateTimeWidget(),
        readonly=True,
    )
    product = fields.Field(
        attribute="product",
        column_name="product",
        widget=NameForeignKeyWidget(Product, "serial_number"),
    )
    quantity = fields.Field(
        attribute="quantity",
        column_name="quantity",
        widget=WholeNumberWidget(minimum=1, required=True),
    )
    note = fields.Field(attribute="note", column_name="note", widget=TextWidget(max_length=255))
    created_by = fields.Field(
        attribute="created_by",
        column_name="created_by",
        widget=widgets.ForeignKeyWidget(get_user_model(), "username"),
        readonly=True,
    )

    def import_data(self, *args, **kwargs):
        # django-import-export's row-by-row save would insert movements
        # without going through the ledger service, so stock would not move.
        raise NotImplementedError(
            "Movements are imported by movements.imports.MovementImport only."
        )


class InflowResource(MovementResource):
    supplier = fields.Field(
        attribute="supplier",
        column_name="supplier",
        widget=NameForeignKeyWidget(Supplier, required=False),
    )
    unit_cost = fields.Field(
        attribute="unit_cost", column_name="unit_cost", widget=MoneyWidget(default=None)
    )
    reason = fields.Field(
        attribute="reason",
        column_name="reason",
        widget=ChoiceWidget(Inflow.Reason, default=Inflow.Reason.PURCHASE),
    )

    class Meta:
        model = Inflow
        fields = (
            "id",
            "created_at",
            "product",
            "quantity",
            "supplier",
            "unit_cost",
            "reason",
            "note",
            "created_by",
        )
        import_id_fields = ()


class OutflowResource(MovementResource):
    takes_stock = True
    unit_price = fields.Field(
        attribute="unit_price", column_name="unit_price", widget=MoneyWidget(default=None)
    )
    unit_cost = fields.Field(
        attribute="unit_cost", column_name="unit_cost", widget=MoneyWidget(default=None)
    )
    reason = fields.Field(
        attribute="reason",
        column_name="reason",
        widget=ChoiceWidget(Outflow.Reason, default=Outflow.Reason.SALE),
    )

    class Meta:
        model = Outflow
        fields = (
            "id",
            "created_at",
            "product",
            "quantity",
            "unit_price",
            "unit_cost",
            "reason",
            "note",
            "created_by",
        )
        import_id_fields = ()
