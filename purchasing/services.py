"""Purchasing writes: supplier products, orders, lines, receipts.

Every change of a purchase order goes through here. Stock changes only
through the ledger service: a receipt is an inflow made by
``movements.services.inflow_create``, its reversal a correcting outflow made
by ``movements.services.movement_reverse``.

Lock order, everywhere: the order row, then its lines in primary-key order,
then the products (the ledger's ``lock_products``, in primary-key order).
Two receipts of the same order queue on the order row; receipts of
different orders that share products take the product locks in the same
order, so they cannot wait for each other in a cycle.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product, Supplier
from movements import services as ledger
from movements.models import Inflow
from project import timezones
from project.errors import UserFacingError
from project.transactions import retry_on_conflict
from purchasing.models import PurchaseOrder, PurchaseOrderLine, Receipt, SupplierProduct

State = PurchaseOrder.State


class PurchasingError(UserFacingError):
    """A purchasing change refused; ``field`` names the input it is about, if any."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.code = code


class StateRefused(PurchasingError):
    """The order's state does not allow this (a conflict with the current state)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, field=field, code="invalid_state")


@dataclass(frozen=True)
class LineInput:
    product: Product | int
    quantity: int
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class ReceiveInput:
    line: int
    quantity: int
    reason: str = ""
    # What the supplier invoiced per unit (an NF-e's cost, freight and taxes
    # included); None: the order line's cost.
    unit_cost: Decimal | None = None


def _check_quantity(quantity, field: str) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise PurchasingError(ledger.quantity_rule(), field=field)
    return quantity


def _check_cost(cost, field: str) -> Decimal | None:
    if cost is not None and Decimal(cost) < 0:
        raise PurchasingError(_("The unit cost cannot be negative."), field=field)
    return cost


def _lock_order(order: PurchaseOrder | int) -> PurchaseOrder:
    # The order row is the first lock every change of an order takes: two
    # receipts (or a receipt and a cancel) of one order run one after the other.
    order_id = order if isinstance(order, int) else order.pk
    locked = PurchaseOrder.objects.select_for_update().filter(pk=order_id).first()
    if locked is None:
        raise PurchasingError(_("The purchase order does not exist."), field="order")
    return locked


def _refuse_unless_draft(order: PurchaseOrder) -> None:
    if order.state != State.DRAFT:
        raise StateRefused(
            _("%(order)s is %(state)s: only a draft can be changed.")
            % {"order": order.number, "state": order.get_state_display()}
        )


def _default_cost(supplier_id: int, product: Product) -> Decimal:
    link = SupplierProduct.objects.filter(supplier_id=supplier_id, product=product).first()
    if link is not None and link.last_cost is not None:
        return link.last_cost
    return product.cost_price


def _make_line(order: PurchaseOrder, line: LineInput, index: int) -> PurchaseOrderLine:
    field = f"lines[{index}]"
    quantity = _check_quantity(line.quantity, f"{field}.quantity")
    _check_cost(line.unit_cost, f"{field}.unit_cost")
    product = line.product
    if isinstance(product, int):
        product = Product.objects.filter(pk=product).first()
        if product is None:
            raise PurchasingError(_("The product does not exist."), field=f"{field}.product")
    unit_cost = line.unit_cost
    if unit_cost is None:
        unit_cost = _default_cost(order.supplier_id, product)
    return PurchaseOrderLine(order=order, product=product, quantity=quantity, unit_cost=unit_cost)


def on_order_recount(product_ids: Iterable[int]) -> None:
    """Write ``Product.on_order`` of these products from their open lines.

    Called at the end of every change of lines or order states, in its
    transaction. The product rows are locked first (the ledger's lock, in
    its order): a concurrent change of another order with the same product
    waits, and its sum, read after our commit, counts our lines too. A
    plain UPDATE with the sum would not: PostgreSQL re-checks only the row,
    not the subquery, after waiting for a lock. ``updated_at`` moves, so an
    integrator syncing with ``updated_after`` sees the new figure.
    """
    from purchasing.selectors import on_order_subquery

    ids = sorted(set(product_ids))
    if not ids:
        return
    ledger.lock_products(ids)
    Product.objects.filter(pk__in=ids).update(
        on_order=on_order_subquery(), updated_at=timezone.now()
    )


def _product_ids(order: PurchaseOrder) -> list[int]:
    return list(order.lines.values_list("product_id", flat=True))


# --- supplier products -------------------------------------------------------
@transaction.atomic
def supplier_product_save(*, link: SupplierProduct) -> SupplierProduct:
    """Save a supplier product; marking it preferred unmarks the product's other one.

    One preferred supplier per product is a database constraint; switching
    suppliers is a single step for the person doing it.
    """
    if link.is_preferred:
        # Locks the product's current preferred link: two people switching the
        # preferred supplier at once queue here instead of one getting an error.
        SupplierProduct.objects.select_for_update().filter(
            product_id=link.product_id, is_preferred=True
        ).exclude(pk=link.pk).update(is_preferred=False)
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:
        raise PurchasingError(
            _("This supplier already has this product, or uses this code for another one."),
            code="conflict",
        ) from None
    return link


def supplier_product_delete(*, link: SupplierProduct) -> None:
    link.delete()


# --- orders ------------------------------------------------------------------
@transaction.atomic
def order_create(
    *, supplier: Supplier, user, lines: Iterable[LineInput] = (), note: str = ""
) -> PurchaseOrder:
    """A draft order to ``supplier``; a line's unit cost defaults to the last one paid."""
    order = PurchaseOrder.objects.create(supplier=supplier, note=note, created_by=user)
    created = PurchaseOrderLine.objects.bulk_create(
        [_make_line(order, line, index) for index, line in enumerate(lines)]
    )
    on_order_recount(line.product_id for line in created)
    return order


@transaction.atomic
def order_update(
    *,
    order: PurchaseOrder,
    supplier: Supplier | None = None,
    note: str | None = None,
    lines: Iterable[LineInput] | None = None,
) -> PurchaseOrder:
    """Change a draft: its supplier, note, or all its lines (replaced)."""
    locked = _lock_order(order)
    _refuse_unless_draft(locked)
    if supplier is not None:
        locked.supplier = supplier
    if note is not None:
        locked.note = note
    locked.save(update_fields=["supplier", "note"])
    if lines is not None:
        before = _product_ids(locked)
        locked.lines.all().delete()
        created = PurchaseOrderLine.objects.bulk_create(
            [_make_line(locked, line, index) for index, line in enumerate(lines)]
        )
        on_order_recount([*before, *(line.product_id for line in created)])
    return locked


@transaction.atomic
def order_delete(*, order: PurchaseOrder) -> None:
    """Delete a draft and its lines (a sent order is history: cancel it instead)."""
    locked = _lock_order(order)
    _refuse_unless_draft(locked)
    products = _product_ids(locked)
    locked.delete()
    on_order_recount(products)


@transaction.atomic
def order_line_save(*, line: PurchaseOrderLine) -> PurchaseOrderLine:
    """Add or change one line of a draft (the admin's inline rows)."""
    order = _lock_order(line.order_id)
    _refuse_unless_draft(order)
    _check_quantity(line.quantity, "quantity")
    _check_cost(line.unit_cost, "unit_cost")
    # A changed line may have changed product: the old one is recounted too.
    before = PurchaseOrderLine.objects.filter(pk=line.pk).values_list("product_id", flat=True)
    products = [*before, line.product_id] if line.pk else [line.product_id]
    line.received_quantity = 0
    line.is_cancelled = False
    line.save()
    on_order_recount(products)
    return line


@transaction.atomic
def order_line_delete(*, line: PurchaseOrderLine) -> None:
    order = _lock_order(line.order_id)
    _refuse_unless_draft(order)
    line.delete()
    on_order_recount([line.product_id])


@transaction.atomic
def order_send(*, order: PurchaseOrder, user) -> PurchaseOrder:
    """A draft with at least one line becomes sent: from now on it can be received."""
    locked = _lock_order(order)
    _refuse_unless_draft(locked)
    if not locked.lines.exists():
        raise PurchasingError(_("Add at least one line before sending the order."), field="lines")
    locked.state = State.SENT
    locked.sent_by = user
    locked.sent_at = timezone.now()
    locked.save(update_fields=["state", "sent_by", "sent_at"])
    return locked


@transaction.atomic
def order_cancel(*, order: PurchaseOrder, user) -> PurchaseOrder:
    """Cancel a draft or a sent order of which nothing was received."""
    locked = _lock_order(order)
    if locked.state not in (State.DRAFT, State.SENT):
        raise StateRefused(
            _(
                "%(order)s is %(state)s: an order with received units cannot be cancelled; "
                "cancel its open lines instead."
            )
            % {"order": locked.number, "state": locked.get_state_display()}
        )
    # A reversed receipt leaves nothing received, so a sent order may still have receipts.
    if locked.lines.filter(received_quantity__gt=0).exists():
        raise StateRefused(_("Units of this order were received: cancel its open lines instead."))
    locked.state = State.CANCELLED
    locked.cancelled_by = user
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["state", "cancelled_by", "cancelled_at"])
    on_order_recount(_product_ids(locked))
    return locked


def _settle_state(order: PurchaseOrder, user) -> None:
    """The order's state from its lines, after a receipt, a reversal or a line cancelled."""
    lines = list(order.lines.all())
    live = [line for line in lines if not line.is_cancelled]
    received_any = any(line.received_quantity > 0 for line in lines)
    if not live:
        state = State.CANCELLED
    elif all(line.received_quantity >= line.quantity for line in live):
        state = State.RECEIVED
    elif received_any:
        state = State.PARTIALLY_RECEIVED
    else:
        state = State.SENT
    if state == order.state:
        return
    order.state = state
    fields = ["state"]
    if state == State.CANCELLED:
        order.cancelled_by, order.cancelled_at = user, timezone.now()
        fields += ["cancelled_by", "cancelled_at"]
    order.save(update_fields=fields)


@transaction.atomic
def order_line_cancel(*, line: PurchaseOrderLine, user) -> PurchaseOrderLine:
    """Cancel a line of a sent order with nothing received; the order follows."""
    order = _lock_order(line.order_id)
    if order.state not in PurchaseOrder.RECEIVABLE_STATES:
        raise StateRefused(
            _("Lines of a %(state)s order cannot be cancelled.")
            % {"state": order.get_state_display()}
        )
    locked = PurchaseOrderLine.objects.select_for_update().get(pk=line.pk)
    if locked.received_quantity > 0:
        raise StateRefused(
            _("Units of this line were received: it cannot be cancelled."), field="line"
        )
    locked.is_cancelled = True
    locked.save(update_fields=["is_cancelled"])
    _settle_state(order, user)
    on_order_recount([locked.product_id])
    return locked


# --- receiving ---------------------------------------------------------------
@retry_on_conflict
@transaction.atomic
def order_receive(
    *, order: PurchaseOrder | int, user, lines: Sequence[ReceiveInput], note: str = ""
) -> list[Receipt]:
    """Receive units of an order's lines, all in one transaction.

    Each received quantity is an inflow through the ledger service (reason
    purchase, the order's supplier, a note naming the order) at the unit cost
    invoiced when the item gives one, else the line's; the supplier product's
    last cost follows it. More than a line still expects needs a reason.
    ``lines`` is a sequence, not an iterator: a transaction aborted to break a
    deadlock runs again with the same lines.
    """
    requested = [line for line in lines if line.quantity != 0]
    if not requested:
        raise PurchasingError(_("Give a quantity for at least one line."), field="lines")
    locked = _lock_order(order)
    if locked.state not in PurchaseOrder.RECEIVABLE_STATES:
        raise StateRefused(
            _("%(order)s is %(state)s: only a sent order can be received.")
            % {"order": locked.number, "state": locked.get_state_display()}
        )
    # Under the order lock nobody else changes these lines; locking them too
    # (in primary-key order) keeps a direct line change from slipping in.
    order_lines = {
        line.pk: line
        for line in PurchaseOrderLine.objects.select_for_update()
        .filter(order=locked)
        .order_by("pk")
    }
    seen: set[int] = set()
    for index, item in enumerate(requested):
        field = f"lines[{index}]"
        line = order_lines.get(item.line)
        if line is None:
            raise PurchasingError(
                _("Line %(line)s is not a line of %(order)s.")
                % {"line": item.line, "order": locked.number},
                field=f"{field}.line",
            )
        if line.pk in seen:
            raise PurchasingError(_("Each line may be given once."), field=f"{field}.line")
        seen.add(line.pk)
        _check_quantity(item.quantity, f"{field}.quantity")
        _check_cost(item.unit_cost, f"{field}.unit_cost")
        if line.is_cancelled:
            raise StateRefused(_("A cancelled line cannot be received."), field=f"{field}.line")
        if item.quantity > line.to_receive and not item.reason.strip():
            raise PurchasingError(
                _(
                    "%(product)s: %(quantity)s is more than the %(expected)s still expected; "
                    "give a reason to receive more than ordered."
                )
                % {"product": line.product, "quantity": item.quantity, "expected": line.to_receive},
                field=f"{field}.reason",
                code="over_receipt_needs_reason",
            )
    # The ledger locks each product; taking them all now, in its order,
    # keeps two receipts sharing products from deadlocking.
    ledger.lock_products(order_lines[item.line].product_id for item in requested)
    now = timezone.now()
    inflow_note = (
        _("Purchase order %(order)s") % {"order": locked.number} + (f" · {note}" if note else "")
    )[:255]
    receipts = []
    for item in requested:
        line = order_lines[item.line]
        cost = line.unit_cost if item.unit_cost is None else item.unit_cost
        inflow = ledger.inflow_create(
            product=line.product_id,
            quantity=item.quantity,
            user=user,
            supplier=locked.supplier,
            unit_cost=cost,
            note=inflow_note,
            reason=Inflow.Reason.PURCHASE,
        )
        over = item.quantity > line.to_receive
        receipts.append(
            Receipt(
                line=line,
                quantity=item.quantity,
                inflow=inflow,
                over_receipt_reason=item.reason.strip()[:255] if over else "",
                created_by=user,
                created_at=now,
            )
        )
        line.received_quantity += item.quantity
        line.save(update_fields=["received_quantity"])
        _remember_cost(supplier_id=locked.supplier_id, product_id=line.product_id, cost=cost)
    Receipt.objects.bulk_create(receipts)
    locked.received_by = user
    locked.received_at = now
    locked.save(update_fields=["received_by", "received_at"])
    _settle_state(locked, user)
    on_order_recount(order_lines[item.line].product_id for item in requested)
    return receipts


def _remember_cost(*, supplier_id: int, product_id: int, cost: Decimal) -> None:
    updated = SupplierProduct.objects.filter(supplier_id=supplier_id, product_id=product_id).update(
        last_cost=cost
    )
    if not updated:
        # The first purchase of this product from this supplier links them.
        try:
            with transaction.atomic():
                SupplierProduct.objects.create(
                    supplier_id=supplier_id, product_id=product_id, last_cost=cost
                )
        except IntegrityError:  # created meanwhile by a concurrent receipt
            SupplierProduct.objects.filter(supplier_id=supplier_id, product_id=product_id).update(
                last_cost=cost
            )


@transaction.atomic
def receipt_reverse(*, receipt: Receipt, user, note: str = "") -> Receipt:
    """Reverse a receipt's inflow through the ledger; the line expects those units again."""
    line = PurchaseOrderLine.objects.get(pk=receipt.line_id)
    order = _lock_order(line.order_id)
    line = PurchaseOrderLine.objects.select_for_update().get(pk=line.pk)
    locked = Receipt.objects.select_for_update().select_related("inflow").get(pk=receipt.pk)
    if locked.reversal_id is not None:
        raise StateRefused(_("This receipt was already reversed."))
    reversal = ledger.movement_reverse(
        movement=locked.inflow,
        by_owner=True,
        user=user,
        note=note or _("Reversal of a receipt of %(order)s") % {"order": order.number},
    )
    locked.reversal = reversal
    locked.reversed_by = user
    locked.reversed_at = timezone.now()
    locked.save(update_fields=["reversal", "reversed_by", "reversed_at"])
    line.received_quantity -= locked.quantity
    line.save(update_fields=["received_quantity"])
    _settle_state(order, user)
    on_order_recount([line.product_id])
    return locked


def receipt_reversal_refusal(movement) -> str | None:
    """Refuses reversing a receipt's inflow from the Inflows page (the ledger asks).

    Reversed there, the order line would not expect the units again; the
    receipt's own reversal (``receipt_reverse``) does both.
    """
    if not isinstance(movement, Inflow):
        return None
    receipt = Receipt.objects.filter(inflow=movement).select_related("line__order").first()
    if receipt is None:
        return None
    return _(
        "%(movement)s is a receipt of purchase order %(order)s: reverse it from the "
        "order's receipts (Purchasing > Receipts), so that the order expects the units again."
    ) % {"movement": movement, "order": receipt.line.order.number}


# --- suggestions -------------------------------------------------------------
@transaction.atomic
def order_create_from_suggestions(*, supplier: Supplier, user) -> PurchaseOrder | None:
    """A draft order to ``supplier`` holding today's reorder suggestions for it.

    None when there is nothing to suggest. The new lines count as on order,
    so the same suggestion does not come back tomorrow.
    """
    from purchasing.selectors import reorder_suggestions

    groups = reorder_suggestions(supplier_ids=[supplier.pk])
    lines = [line for group in groups if group.supplier_id == supplier.pk for line in group.lines]
    if not lines:
        return None
    return order_create(
        supplier=supplier,
        user=user,
        note=_("From the reorder suggestions of %(day)s")
        % {"day": timezones.shop_today().isoformat()},
        lines=[
            LineInput(product=line.product_id, quantity=line.quantity, unit_cost=line.unit_cost)
            for line in lines
        ],
    )


MANAGERS_GROUP = "Manager"


def reorder_suggestions_notify(*, today=None) -> int:
    """Tell every active Manager, in the notification centre, what is to order today.

    Returns the number of products suggested. Nothing is sent when there is
    nothing to order.
    """
    from django.contrib.auth import get_user_model
    from django.utils.translation import ngettext

    from dataio import notifications
    from dataio.models import TaskNotification
    from purchasing.selectors import reorder_suggestions

    groups = reorder_suggestions(today=today)
    count = sum(len(group.lines) for group in groups)
    if not count:
        return 0
    lines = [
        _("%(supplier)s: %(count)d product(s), %(total)s")
        % {
            "supplier": group.supplier_name or _("no preferred supplier"),
            "count": len(group.lines),
            "total": group.total_cost,
        }
        for group in groups
    ]
    message = (
        ngettext(
            "%(count)d product to reorder (Purchasing > Reorder suggestions):",
            "%(count)d products to reorder (Purchasing > Reorder suggestions):",
            count,
        )
        % {"count": count}
        + "\n"
        + "\n".join(lines)
    )
    managers = get_user_model().objects.filter(groups__name=MANAGERS_GROUP, is_active=True)
    notifications.notices_send(
        users=managers.distinct(),
        task_type=TaskNotification.TaskType.REORDER_SUGGESTIONS,
        status=TaskNotification.Status.COMPLETED,
        message=message,
        total_rows=count,
        parameters={"suppliers": [group.supplier_id for group in groups]},
    )
    return count
