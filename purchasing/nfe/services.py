"""NF-e receipts: the preview of a batch of notes, and receiving them (all or none, once).

The preview and the receipt run the same analysis (``_analyse``) on the
files themselves; the receipt never trusts what the preview found. Stock
moves only through the ledger: ``purchasing.services.order_receive`` when
a note is received against an open order (it keeps ``on order`` right),
``movements.services.inflow_create`` otherwise.

Idempotence: a note's 44-digit access key is unique on ``NFeReceipt``, and
the receipt row is inserted before any stock moves. Two people confirming
the same note at the same moment: the second insert waits on the unique
index for the first transaction, then fails, and everything of the second
rolls back.
"""

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.models import Supplier
from catalog.validators import normalize_cnpj
from movements import services as ledger
from movements.models import Inflow
from purchasing import services as purchasing
from purchasing.models import NFeReceipt, NFeReceiptLine, PurchaseOrder, SupplierProduct
from purchasing.nfe import matching
from purchasing.nfe.apportion import CENT, line_costs
from purchasing.nfe.parsing import MAX_FILE_BYTES, NFeError, Note, check_note, parse_note

logger = logging.getLogger(__name__)

# Notes in one upload: a day's deliveries, not an archive.
MAX_FILES = 50


@dataclass
class Document:
    name: str
    data: bytes


@dataclass
class AnalysedLine:
    line: object
    match: matching.Match
    cost: Decimal
    units: int | None
    error: str = ""

    @property
    def unit_cost(self) -> Decimal | None:
        return _per_unit(self.cost, self.units)


def _per_unit(cost: Decimal, units: int | None) -> Decimal | None:
    """A cost over its units, to the cent (never negative); None without units."""
    if not units:
        return None
    return max(cost / units, Decimal(0)).quantize(CENT)


@dataclass
class Analysed:
    name: str
    note: Note | None = None
    error: str = ""
    supplier: Supplier | None = None
    received: NFeReceipt | None = None
    order: PurchaseOrder | None = None
    orders: list = field(default_factory=list)
    lines: list[AnalysedLine] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return sum(1 for line in self.lines if line.error)


def _int_keys(mapping) -> dict[int, int]:
    out = {}
    for key, value in (mapping or {}).items():
        try:
            out[int(key)] = int(value)
        except (TypeError, ValueError):
            continue
    return out


def _analyse(
    documents: list[Document], *, picks: dict | None = None, orders: dict | None = None
) -> list[Analysed]:
    picks = picks or {}
    orders = orders or {}
    company = settings.INVENTORY_COMPANY_CNPJ
    analysed: list[Analysed] = []
    seen: set[str] = set()
    for document in documents:
        entry = Analysed(name=document.name)
        analysed.append(entry)
        try:
            note = parse_note(document.data)
            check_note(note, company_cnpj=company)
        except NFeError as error:
            entry.error = error.message
            continue
        entry.note = note
        if note.access_key in seen:
            entry.error = _("NF-e %(number)s is twice in this upload.") % {"number": note.number}
            continue
        seen.add(note.access_key)
    keys = [entry.note.access_key for entry in analysed if entry.note is not None]
    received = {r.access_key: r for r in NFeReceipt.objects.filter(access_key__in=keys)}
    for entry in analysed:
        note = entry.note
        if note is None or entry.error:
            continue
        entry.received = received.get(note.access_key)
        if entry.received is not None:
            entry.error = _(
                "NF-e %(number)s was already received on %(date)s: it is not received twice."
            ) % {
                "number": note.number,
                "date": timezone.localtime(entry.received.created_at).strftime("%Y-%m-%d %H:%M"),
            }
            continue
        entry.supplier = Supplier.objects.filter(cnpj=normalize_cnpj(note.issuer.cnpj)).first()
        supplier_id = entry.supplier.pk if entry.supplier else None
        if supplier_id is not None:
            entry.orders = list(
                PurchaseOrder.objects.filter(
                    supplier_id=supplier_id, state__in=PurchaseOrder.RECEIVABLE_STATES
                ).order_by("-created_at")[:50]
            )
            wanted = orders.get(note.access_key)
            if wanted:
                entry.order = next((o for o in entry.orders if str(o.pk) == str(wanted)), None)
                if entry.order is None:
                    entry.error = _(
                        "The purchase order chosen for NF-e %(number)s is not an open order "
                        "of %(supplier)s."
                    ) % {"number": note.number, "supplier": entry.supplier}
                    continue
        note_picks = _int_keys(picks.get(note.access_key))
        matches = matching.match_lines(note.lines, supplier_id=supplier_id, picks=note_picks)
        for line, match, cost in zip(note.lines, matches, line_costs(note), strict=True):
            units = matching.units(line.quantity, match.pack_size) if match.product else None
            error = ""
            if match.product is None:
                error = _("No product matches this line: pick one.")
            elif units is None:
                error = _("%(quantity)s x pack size %(pack)s is not a whole number of units.") % {
                    "quantity": line.quantity.normalize(),
                    "pack": match.pack_size,
                }
            entry.lines.append(AnalysedLine(line, match, cost, units, error))
    return analysed


def _json(entry: Analysed) -> dict:
    note = entry.note
    data = {"file": entry.name, "error": entry.error}
    if note is None:
        return data
    supplier = entry.supplier
    data.update(
        access_key=note.access_key,
        number=note.number,
        series=note.series,
        issued_at=note.issued_at.isoformat() if note.issued_at else "",
        total=str(note.totals.note),
        issuer={"cnpj": note.issuer.cnpj, "name": note.issuer.name},
        supplier={"id": supplier.pk, "name": supplier.name} if supplier else None,
        orders=[{"id": o.pk, "number": o.number} for o in entry.orders],
        order=entry.order.pk if entry.order else None,
        lines=[
            {
                "item": a.line.item,
                "code": a.line.code,
                "ean": ", ".join(a.line.eans),
                "description": a.line.description,
                "unit": a.line.unit,
                "quantity": str(a.line.quantity.normalize()),
                "value": str(a.line.value),
                "cost": str(a.cost),
                "product": a.match.product.pk if a.match.product else None,
                "product_label": str(a.match.product) if a.match.product else "",
                "matched_by": a.match.matched_by,
                "pack_size": a.match.pack_size,
                "units": a.units,
                "unit_cost": str(a.unit_cost) if a.unit_cost is not None else "",
                "error": a.error,
            }
            for a in entry.lines
        ],
    )
    return data


def nfe_preview(
    *, documents: list[Document], picks: dict | None = None, orders: dict | None = None
) -> dict:
    """What receiving ``documents`` would do, as JSON for the preview page; writes nothing.

    ``counts``: lines in all, lines ready, lines with a problem, lines of
    notes already received (or refused as a whole).
    """
    analysed = _analyse(documents, picks=picks, orders=orders)
    notes = [_json(entry) for entry in analysed]
    lines = sum(len(entry.lines) for entry in analysed)
    problems = sum(entry.problems for entry in analysed)
    refused = sum(1 for entry in analysed if entry.error)
    return {
        "notes": notes,
        "counts": {
            "lines": lines,
            "ready": lines - problems if not refused else 0,
            "problems": problems,
            "refused": refused,
        },
        "ready": bool(analysed) and not refused and not problems,
    }


# --- receiving ---------------------------------------------------------------
def _supplier_for(note: Note) -> Supplier:
    """The issuer as a supplier: found by CNPJ, or created from the note."""
    cnpj = normalize_cnpj(note.issuer.cnpj)
    found = Supplier.objects.filter(cnpj=cnpj).first()
    if found is not None:
        return found
    name = (note.issuer.name or cnpj)[:120]
    if Supplier.objects.filter(name=name).exists():
        name = f"{name[:100]} ({cnpj})"
    try:
        with transaction.atomic():
            return Supplier.objects.create(
                name=name,
                cnpj=cnpj,
                description=note.issuer.trade_name,
                address=note.issuer.address,
                phone=note.issuer.phone[:40],
            )
    except IntegrityError:
        # Created meanwhile by a concurrent receipt of another note of theirs.
        found = Supplier.objects.filter(cnpj=cnpj).first()
        if found is None:
            raise
        return found


def _refuse(analysed: list[Analysed]) -> None:
    if not analysed:
        raise NFeError(_("Upload at least one NF-e XML file."))
    for entry in analysed:
        if entry.error:
            raise NFeError(f"{entry.name}: {entry.error}")
        for line in entry.lines:
            if line.error:
                raise NFeError(
                    _("%(file)s, line %(item)s (%(description)s): %(error)s")
                    % {
                        "file": entry.name,
                        "item": line.line.item,
                        "description": line.line.description,
                        "error": line.error,
                    }
                )


def _remember_picks(supplier: Supplier, entry: Analysed) -> None:
    """A product picked by hand is found by the supplier's code next time."""
    for line in entry.lines:
        code = line.line.code
        if line.match.matched_by != matching.MANUAL or not code:
            continue
        product = line.match.product
        SupplierProduct.objects.filter(supplier=supplier, supplier_code=code).exclude(
            product=product
        ).update(supplier_code="")
        if not SupplierProduct.objects.filter(supplier=supplier, product=product).update(
            supplier_code=code
        ):
            SupplierProduct.objects.create(supplier=supplier, product=product, supplier_code=code)


def _invoiced_unit_costs(entry: Analysed) -> dict[int, Decimal]:
    """Each product's cost per unit on the note: its lines' costs (freight and
    taxes shared in) over their units; several lines of a product give their average."""
    totals: dict[int, tuple[Decimal, int]] = {}
    for line in entry.lines:
        cost, units = totals.get(line.match.product.pk, (Decimal(0), 0))
        totals[line.match.product.pk] = (cost + line.cost, units + (line.units or 0))
    return {
        product_id: _per_unit(cost, units) for product_id, (cost, units) in totals.items() if units
    }


def _remember_costs(supplier: Supplier, entry: Analysed) -> None:
    costs = _invoiced_unit_costs(entry)
    links = list(SupplierProduct.objects.filter(supplier=supplier, product_id__in=costs))
    for link in links:
        link.last_cost = costs[link.product_id]
    SupplierProduct.objects.bulk_update(links, ["last_cost"])
    linked = {link.product_id for link in links}
    SupplierProduct.objects.bulk_create(
        [
            SupplierProduct(supplier=supplier, product_id=product_id, last_cost=cost)
            for product_id, cost in costs.items()
            if product_id not in linked
        ],
        ignore_conflicts=True,
    )


def _note_text(note: Note) -> str:
    return _("NF-e %(number)s series %(series)s, key %(key)s") % {
        "number": note.number,
        "series": note.series,
        "key": note.access_key,
    }


def _receive_against_order(entry: Analysed, user) -> dict[int, object]:
    """The lines of products on the chosen order, received on it; returns product -> Receipt."""
    order = entry.order
    open_lines: dict[int, tuple[int, int]] = {}
    for line in order.lines.filter(is_cancelled=False).order_by("pk"):
        # The first line of a product still expecting units, else its first line.
        if line.product_id not in open_lines or (
            line.to_receive > 0 and open_lines[line.product_id][1] == 0
        ):
            open_lines[line.product_id] = (line.pk, line.to_receive)
    wanted: dict[int, int] = {}
    for line in entry.lines:
        product_id = line.match.product.pk
        if product_id in open_lines:
            wanted[product_id] = wanted.get(product_id, 0) + line.units
    if not wanted:
        return {}
    reason = _("Invoiced on NF-e %(number)s") % {"number": entry.note.number}
    # The stock is valued at what the note charged (its share of freight and
    # taxes included), as a receipt without an order is, not at the price the
    # order expected.
    invoiced = _invoiced_unit_costs(entry)
    inputs = [
        purchasing.ReceiveInput(
            line=open_lines[product_id][0],
            quantity=quantity,
            reason=reason,
            unit_cost=invoiced[product_id],
        )
        for product_id, quantity in wanted.items()
    ]
    receipts = purchasing.order_receive(
        order=order.pk, user=user, lines=inputs, note=_note_text(entry.note)
    )
    return dict(zip(wanted, receipts, strict=True))


@transaction.atomic
def nfe_receive(
    *,
    documents: list[Document],
    user,
    picks: dict | None = None,
    orders: dict | None = None,
) -> list[NFeReceipt]:
    """Receive every note of ``documents`` into stock, or none of them.

    ``picks``: {access key: {item: product id}} chosen by hand in the
    preview; ``orders``: {access key: purchase order id} to receive against.
    Each note must pass every check again; a note already received, or one
    being received at this moment by someone else, stops the whole batch.
    """
    analysed = _analyse(documents, picks=picks, orders=orders)
    _refuse(analysed)
    receipts = []
    for entry in analysed:
        note = entry.note
        supplier = entry.supplier or _supplier_for(note)
        try:
            # First, before any stock moves: the unique key is the lock a
            # concurrent receipt of the same note waits on, then fails at.
            with transaction.atomic():
                receipt = NFeReceipt.objects.create(
                    access_key=note.access_key,
                    number=note.number[:9],
                    series=note.series[:3],
                    issued_at=note.issued_at,
                    supplier=supplier,
                    order=entry.order,
                    total=note.totals.note,
                    file_name=entry.name[:255],
                    created_by=user,
                )
        except IntegrityError:
            raise NFeError(
                _("NF-e %(number)s was received by someone else at the same time: not twice.")
                % {"number": note.number}
            ) from None
        _remember_picks(supplier, entry)
        on_order = _receive_against_order(entry, user) if entry.order is not None else {}
        rest = [line for line in entry.lines if line.match.product.pk not in on_order]
        # The ledger locks each product; taking them all now, in its order,
        # keeps two receipts that share products from deadlocking.
        ledger.lock_products(line.match.product.pk for line in rest)
        text = _note_text(note)[:255]
        rows = []
        for line in entry.lines:
            product_id = line.match.product.pk
            inflow = None
            if product_id not in on_order:
                inflow = ledger.inflow_create(
                    product=product_id,
                    quantity=line.units,
                    user=user,
                    supplier=supplier,
                    unit_cost=line.unit_cost,
                    note=text,
                    reason=Inflow.Reason.PURCHASE,
                )
            rows.append(
                NFeReceiptLine(
                    receipt=receipt,
                    item=line.line.item,
                    supplier_code=line.line.code[:60],
                    ean=(line.line.eans or [""])[0][:14],
                    description=line.line.description[:120],
                    product_id=product_id,
                    quantity=line.units,
                    line_cost=line.cost,
                    unit_cost=line.unit_cost,
                    matched_by=line.match.matched_by,
                    inflow=inflow,
                    order_receipt=on_order.get(product_id),
                )
            )
        NFeReceiptLine.objects.bulk_create(rows)
        _remember_costs(supplier, entry)
        receipts.append(receipt)
    return receipts


# --- the jobs ----------------------------------------------------------------
# A job as dataio records imports: Pending, its task published after the
# commit (a refusing broker fails it at once), re-sent by the sweep if the
# queue lost it; the NF-e tasks are registered with dataio (PurchasingConfig).


@transaction.atomic
def nfe_upload(*, user, uploads) -> object:
    """Store the uploaded XML files and queue their preview; returns the job's notification."""
    from dataio import files, notifications
    from dataio.models import TaskNotification

    uploads = list(uploads)
    if not uploads:
        raise NFeError(_("Choose at least one NF-e XML file."))
    if len(uploads) > MAX_FILES:
        raise NFeError(
            _("At most %(limit)d files at a time; this upload has %(count)d.")
            % {"limit": MAX_FILES, "count": len(uploads)}
        )
    for upload in uploads:
        if upload.size > MAX_FILE_BYTES:
            raise NFeError(
                _("%(file)s is %(size)d KB; an NF-e XML is at most %(limit)d KB.")
                % {
                    "file": upload.name,
                    "size": upload.size // 1024,
                    "limit": MAX_FILE_BYTES // 1024,
                }
            )
    stored = [
        {"path": files.save_upload(files.UPLOADS, "xml", upload), "name": upload.name[:255]}
        for upload in uploads
    ]
    return notifications.notification_create(
        user=user, task_type=TaskNotification.TaskType.NFE_PREVIEW, parameters={"files": stored}
    )


@transaction.atomic
def nfe_confirm(*, preview, user, picks: dict, orders: dict) -> object:
    """Queue the receipt of a previewed upload, with the products picked and orders chosen."""
    from dataio import notifications
    from dataio.models import TaskNotification

    if (
        preview.task_type != TaskNotification.TaskType.NFE_PREVIEW
        or preview.status != TaskNotification.Status.COMPLETED
    ):
        raise NFeError(_("This upload is not checked yet."))
    return notifications.notification_create(
        user=user,
        task_type=TaskNotification.TaskType.NFE_RECEIVE,
        parameters={
            "files": preview.parameters.get("files", []),
            "picks": picks,
            "orders": orders,
            "preview_id": preview.pk,
        },
        total_rows=preview.total_rows,
    )


def summary(receipts: list[NFeReceipt], lines: int) -> str:
    return ngettext(
        "%(count)d NF-e received (%(lines)d lines).",
        "%(count)d NF-e received (%(lines)d lines).",
        len(receipts),
    ) % {"count": len(receipts), "lines": lines}
