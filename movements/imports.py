"""Movement files: inflows or outflows, checked as a set and recorded through the ledger.

The generic steps (columns, widgets, foreign keys) are ``dataio.imports``;
this adds what only movements have: rows that carry an exported movement's
id, the stock rules of the ledger checked for the whole file before anything
is written (with the products locked on the real run), the stock picture the
preview shows, and the write through ``movements.services`` row by row.
"""

import hashlib
import json
from dataclasses import dataclass

from django.utils.translation import gettext as _

from dataio import staging
from dataio.imports import Checker, ImportAborted
from movements import services as ledger


def _whole_number(cell) -> int | None:
    """A cell as a positive whole number (``12``, ``12.0``, ``"12"``), else None."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, float):
        number = int(cell) if cell.is_integer() else None
    else:
        text = str(cell).strip()
        number = int(text) if text.isascii() and text.isdigit() else None
    return number if number is not None and 0 < number < 2**63 else None


@dataclass
class StockChange:
    """What a movement file does to one product's stock."""

    product_id: int
    serial_number: str
    title: str
    before: int
    after: int
    reorder_level: int

    @property
    def level(self) -> str:
        """ "out" at zero, "low" at or below the reorder level, else "ok"."""
        if self.after <= 0:
            return "out"
        return "low" if self.after <= self.reorder_level else "ok"

    def as_dict(self) -> dict:
        return {
            "product_id": self.product_id,
            "serial_number": self.serial_number,
            "title": self.title,
            "before": self.before,
            "after": self.after,
            "reorder_level": self.reorder_level,
            "level": self.level,
        }


class MovementImport(Checker):
    """Inflows or outflows, appended through the ledger service.

    Checked batch by batch like every import; the valid rows are staged
    (``dataio.staging``) and replayed through the ledger at ``write``. The
    stock each product had when the file first named it, and the stock after
    the file's earlier rows, are kept per product (not per row).
    """

    raw_columns = ("id",)
    # Movements are only ever added.
    updates_rows = False

    def start(self) -> None:
        self.slot = {column.attname: column.slot for column in self.writable}
        self.attnames = [column.attname for column in self.writable]
        self.rows = staging.Rows(self.model, self.attnames, payload=True)
        # {product pk: (quantity, serial number, title, reorder level)}
        self.products: dict[int, tuple] = {}
        self.before: dict[int, int] = {}
        self.stock: dict[int, int] = {}

    def check_batch(self, records: list[tuple[int, list]]) -> None:
        records = self.skip_recorded(records)
        product_slot = self.slot["product_id"]
        wanted = {values[product_slot] for _n, values in records} - self.products.keys()
        if wanted and self.lock:
            # Locks the batch's products, in primary-key order, for the rest
            # of the import's transaction: the stock checked below is the
            # stock the service then changes.
            found = {
                pk: (p.quantity, p.serial_number, p.title, p.reorder_level)
                for pk, p in ledger.lock_products(wanted).items()
            }
        elif wanted:
            found = {
                pk: tuple(details)
                for pk, *details in self.product_model.objects.filter(
                    pk__in=list(wanted)
                ).values_list("pk", "quantity", "serial_number", "title", "reorder_level")
            }
        else:
            found = {}
        self.products.update(found)
        for pk, details in found.items():
            self.before[pk] = self.stock[pk] = details[0]
        records = self.stock_rules(records)
        self.rows.add([[number, _payload(values)] for number, values in records])
        self.result.new += len(records)

    def finish(self) -> None:
        self.stock_changes = self._stock_changes(self.before, self.stock)
        self.stock_digest = stock_digest(self.before)

    @property
    def product_model(self):
        return self.model._meta.get_field("product").related_model

    def skip_recorded(self, records: list[tuple[int, list]]) -> list[tuple[int, list]]:
        """Rows that carry a movement id: already recorded, or refused; never doubled.

        An export of movements carries each one's id. Read back, such a row
        is that movement again, not a new one: it is skipped when the
        movement here has the same product and quantity, and refused when it
        does not (movements are never edited) or does not exist.
        """
        ids = self.raw.get("id")
        if not ids:
            return records
        wanted: dict[int, int] = {}
        kept = []
        for number, values in records:
            cell = ids.get(number)
            if cell is None:
                kept.append((number, values))
                continue
            movement_id = _whole_number(cell)
            if movement_id is None:
                self.error(
                    number,
                    "id",
                    _(
                        "“%(value)s” is not a movement number. Leave the id empty to record "
                        "the row as a new movement."
                    )
                    % {"value": str(cell)[:40]},
                )
                self.result.invalid += 1
                continue
            wanted[number] = movement_id
            kept.append((number, values))
        found = {
            pk: (product_id, quantity)
            for pk, product_id, quantity in self.model.objects.filter(
                pk__in=list(wanted.values())
            ).values_list("pk", "product_id", "quantity")
        }
        records = []
        product_slot, quantity_slot = self.slot["product_id"], self.slot["quantity"]
        for number, values in kept:
            movement_id = wanted.get(number)
            if movement_id is None:
                records.append((number, values))
                continue
            recorded = found.get(movement_id)
            if recorded == (values[product_slot], values[quantity_slot]):
                self.result.unchanged += 1
                continue
            message = (
                _(
                    "Movement %(id)d is already recorded with another product or quantity, "
                    "and movements cannot be changed. Reverse it in the admin, or leave the "
                    "id empty to record this row as a new movement."
                )
                if recorded
                else _(
                    "There is no movement %(id)d here. Leave the id empty to record the row "
                    "as a new movement."
                )
            )
            self.error(number, "id", message % {"id": movement_id})
            self.result.invalid += 1
        return records

    def stock_rules(self, records: list[tuple[int, list]]) -> list[tuple[int, list]]:
        """The ledger's rules, row after row, on the stock the earlier rows left."""
        stock = self.stock
        kept = []
        outflow = self.resource.takes_stock
        product_slot = self.slot["product_id"]
        quantity_slot = self.slot.get("quantity")
        supplier_slot = self.slot.get("supplier_id")
        reason_slot = self.slot.get("reason")
        reason_default = self.resource.fields["reason"].widget.default

        def serial(product):
            return self.products[product][1] if product in self.products else None

        for number, values in records:
            product = values[product_slot]
            quantity = values[quantity_slot]
            reason = values[reason_slot] if reason_slot is not None else reason_default
            available = stock.get(product, 0)
            if outflow:
                if quantity > available:
                    self.error(
                        number,
                        "quantity",
                        _(
                            "Not enough stock of %(product)s: %(asked)d asked, %(available)d "
                            "available (after the earlier rows of this file)."
                        )
                        % {"product": serial(product), "asked": quantity, "available": available},
                    )
                    self.result.invalid += 1
                    continue
                stock[product] = available - quantity
            else:
                if reason == "purchase" and (
                    supplier_slot is None or values[supplier_slot] is None
                ):
                    self.error(number, "supplier", _("A purchase needs a supplier."))
                    self.result.invalid += 1
                    continue
                # The ledger's own ceiling, checked here so that the preview
                # refuses what the import would.
                if quantity > ledger.MAX_STOCK - available:
                    self.error(
                        number,
                        "quantity",
                        _(
                            "%(product)s cannot hold more than %(max)s units in stock "
                            "(%(available)d already, after the earlier rows of this file)."
                        )
                        % {
                            "product": serial(product),
                            "max": ledger.MAX_STOCK,
                            "available": available,
                        },
                    )
                    self.result.invalid += 1
                    continue
                stock[product] = available + quantity
            kept.append((number, values))
        return kept

    def _stock_changes(self, before: dict[int, int], after: dict[int, int]) -> list[StockChange]:
        changes = [
            StockChange(pk, *self.products[pk][1:3], before[pk], after[pk], self.products[pk][3])
            for pk in after
            if after[pk] != before.get(pk) and pk in self.products
        ]
        # The products the file leaves empty or low first: those need a look.
        order = {"out": 0, "low": 1, "ok": 2}
        changes.sort(key=lambda change: (order[change.level], change.serial_number))
        return changes

    def stock_impact(self) -> dict:
        """The picture of what the file does to stock, stored with the preview."""
        changes = self.stock_changes
        return {
            "digest": self.stock_digest,
            "count": len(changes),
            "out": sum(1 for change in changes if change.level == "out"),
            "low": sum(1 for change in changes if change.level == "low"),
            "products": [change.as_dict() for change in changes],
        }

    def stock_moved(self, preview: dict) -> list[str]:
        if not preview or self.stock_digest == preview.get("digest"):
            return []
        now = {change.product_id: change.before for change in self.stock_changes}
        lines = [
            _("%(product)s: %(then)d at the preview, %(now)d now")
            % {
                "product": item["serial_number"],
                "then": item["before"],
                "now": now[item["product_id"]],
            }
            for item in preview.get("products", [])
            if item["product_id"] in now and now[item["product_id"]] != item["before"]
        ]
        return lines or [_("The products of the file changed since the preview.")]

    def write(self, *, user) -> None:
        create = ledger.outflow_create if self.resource.takes_stock else ledger.inflow_create
        attnames = self.attnames
        fields = [self.model._meta.get_field(attname) for attname in attnames]
        for number, payload in self.rows.payloads():
            values = [
                field.to_python(value)
                for field, value in zip(fields, json.loads(payload), strict=True)
            ]
            data = dict(zip(attnames, values, strict=True))
            kwargs = {
                "product": data.pop("product_id"),
                "quantity": data.pop("quantity"),
                "user": user,
            }
            if "supplier_id" in data:
                supplier_id = data.pop("supplier_id")
                kwargs["supplier"] = (
                    None
                    if supplier_id is None
                    else self.model._meta.get_field("supplier").related_model(pk=supplier_id)
                )
            kwargs.update(data)
            try:
                create(**kwargs)
            except ledger.LedgerError as error:
                raise ImportAborted(
                    _("Row %(row)d: %(message)s Nothing was imported.")
                    % {"row": number, "message": error.message}
                ) from None


def _payload(values: list) -> str:
    """A checked row as JSON text; decimals as text, read back exactly by the field."""
    return json.dumps(values, default=str)


def stock_digest(stock: dict[int, int]) -> str:
    """A fingerprint of the stock a movement file was checked against."""
    text = ";".join(f"{pk}:{quantity}" for pk, quantity in sorted(stock.items()))
    return hashlib.sha256(text.encode()).hexdigest()
