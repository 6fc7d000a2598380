"""The ledger service: the only code that changes stock.

Every movement is inserted here, in the same transaction as the change to
``Product.quantity`` it causes, under a lock on the product row. Admin forms,
API views, imports and tasks call these functions; nothing else writes
``quantity`` or a movement.
"""

from collections.abc import Callable, Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Product, Supplier
from movements.models import Inflow, Outflow
from project.errors import UserFacingError


class LedgerError(UserFacingError):
    """A movement the ledger refuses.

    ``message`` is meant for the user; ``field`` names the input it is about,
    when there is one, so that forms and the API can attach it there.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class InsufficientStock(LedgerError):
    def __init__(self, *, product: Product, requested: int, available: int):
        self.product = product
        self.requested = requested
        self.available = available
        super().__init__(
            _("Not enough stock of %(product)s: %(requested)s asked, %(available)s available.")
            % {"product": product, "requested": requested, "available": available},
            field="quantity",
        )


class InvalidMovement(LedgerError):
    pass


class ReversalRefused(LedgerError):
    pass


def lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock product rows for the rest of the transaction, in primary-key order.

    Concurrent movements of one product queue on this lock, so the stock they
    check is the stock they update. Taking several locks always in the same
    (primary-key) order means two transactions never wait for each other in
    a cycle, so they cannot deadlock.
    """
    ids = sorted(set(product_ids))
    products = Product.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {product.pk: product for product in products}


# Product.quantity is a 32-bit integer column.
MAX_STOCK = 2_147_483_647


def _lock_product(product: Product | int) -> Product:
    product_id = product if isinstance(product, int) else product.pk
    locked = lock_products([product_id]).get(product_id)
    if locked is None:
        raise InvalidMovement(_("The product does not exist."), field="product")
    return locked


def _move_stock(locked: Product, delta: int) -> None:
    # updated_at moves too: a client syncing products by ``updated_at`` must
    # see stock changes.
    now = timezone.now()
    Product.objects.filter(pk=locked.pk).ledger_move_stock(delta=delta, now=now)
    locked.quantity += delta
    locked.updated_at = now


def quantity_rule() -> str:
    """The one wording of the quantity rule: the service, the admin form and the API say it."""
    return _("The quantity must be a whole number greater than zero.")


def _check_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidMovement(quantity_rule(), field="quantity")
    return quantity


def _check_amount(value: Decimal | None, field: str, label: str) -> None:
    if value is not None and value < 0:
        raise InvalidMovement(_("%(label)s cannot be negative.") % {"label": label}, field=field)


@transaction.atomic
def inflow_create(
    *,
    product: Product | int,
    quantity: int,
    user=None,
    supplier: Supplier | None = None,
    unit_cost: Decimal | None = None,
    note: str = "",
    reason: str = Inflow.Reason.PURCHASE,
    reverses: Outflow | None = None,
) -> Inflow:
    """Receive units into stock; the unit cost defaults to the product's cost price."""
    quantity = _check_quantity(quantity)
    _check_amount(unit_cost, "unit_cost", _("The unit cost"))
    if reason == Inflow.Reason.PURCHASE and supplier is None:
        raise InvalidMovement(_("A purchase needs a supplier."), field="supplier")
    locked = _lock_product(product)
    if quantity > MAX_STOCK - locked.quantity:
        raise InvalidMovement(
            _("%(product)s cannot hold more than %(max)s units in stock.")
            % {"product": locked, "max": MAX_STOCK},
            field="quantity",
        )
    inflow = Inflow.objects.create(
        product=locked,
        quantity=quantity,
        supplier=supplier,
        unit_cost=locked.cost_price if unit_cost is None else unit_cost,
        note=note,
        reason=reason,
        reverses=reverses,
        created_by=user,
    )
    _move_stock(locked, quantity)
    inflow.product = locked
    return inflow


def outflow_create(
    *,
    product: Product | int,
    quantity: int,
    user=None,
    unit_price: Decimal | None = None,
    unit_cost: Decimal | None = None,
    note: str = "",
    reason: str = Outflow.Reason.SALE,
    reverses: Inflow | None = None,
) -> Outflow:
    """Take units out of stock, refusing to go below zero.

    Prices default to the product's current sell and cost prices and are
    stored on the movement, so later price changes do not rewrite history.
    """
    quantity = _check_quantity(quantity)
    _check_amount(unit_price, "unit_price", _("The unit price"))
    _check_amount(unit_cost, "unit_cost", _("The unit cost"))
    if connection.vendor == "postgresql":
        return _outflow_create_in_one_statement(
            product_id=product if isinstance(product, int) else product.pk,
            quantity=quantity,
            user=user,
            unit_price=unit_price,
            unit_cost=unit_cost,
            note=note,
            reason=reason,
            reverses=reverses,
        )
    with transaction.atomic():
        locked = _lock_product(product)
        if locked.quantity < quantity:
            raise InsufficientStock(product=locked, requested=quantity, available=locked.quantity)
        outflow = Outflow.objects.create(
            product=locked,
            quantity=quantity,
            unit_price=locked.sell_price if unit_price is None else unit_price,
            unit_cost=locked.cost_price if unit_cost is None else unit_cost,
            note=note,
            reason=reason,
            reverses=reverses,
            created_by=user,
        )
        _move_stock(locked, -quantity)
    outflow.product = locked
    return outflow


_PRODUCT_FIELDS = list(Product._meta.concrete_fields)
_OUTFLOW_FIELDS = [field for field in Outflow._meta.concrete_fields if not field.primary_key]


def _outflow_values() -> str:
    """The INSERT's values: the product and default prices from the updated row, the rest given."""
    from_moved = {
        "product_id": "moved.id",
        "unit_price": "COALESCE(%(unit_price)s, moved.sell_price)",
        "unit_cost": "COALESCE(%(unit_cost)s, moved.cost_price)",
    }
    return ", ".join(from_moved.get(f.column, f"%({f.column})s") for f in _OUTFLOW_FIELDS)


# The whole outflow in one statement (PostgreSQL): the UPDATE takes the
# product's row lock and moves the stock only if enough is left (a
# concurrent outflow of the same product waits for that lock, then the
# condition is checked again on the row it committed: no oversell); the
# INSERT records the movement only if the UPDATE matched, with the prices
# the product has under that lock. Alone in autocommit it is one round
# trip, and its own transaction. The rollup trigger runs inside it.
_OUTFLOW_SQL = f"""
    WITH moved AS (
        UPDATE {Product._meta.db_table}
        SET quantity = quantity - %(quantity)s, updated_at = %(now)s
        WHERE id = %(product_id)s AND quantity >= %(quantity)s
        RETURNING {", ".join(field.column for field in _PRODUCT_FIELDS)}
    ), recorded AS (
        INSERT INTO {Outflow._meta.db_table} ({", ".join(f.column for f in _OUTFLOW_FIELDS)})
        SELECT {_outflow_values()}
        FROM moved
        RETURNING id, unit_price, unit_cost
    )
    SELECT recorded.id, recorded.unit_price, recorded.unit_cost, moved.*
    FROM recorded CROSS JOIN moved
"""


def _outflow_create_in_one_statement(
    *, product_id: int, quantity: int, user, unit_price, unit_cost, note, reason, reverses
) -> Outflow:
    now = timezone.now()
    outflow = Outflow(
        product_id=product_id,
        quantity=quantity,
        unit_price=unit_price,
        unit_cost=unit_cost,
        note=note,
        reason=reason,
        reverses=reverses,
        created_by=user,
        created_at=now,
    )
    params = {
        field.column: field.get_db_prep_save(getattr(outflow, field.attname), connection)
        for field in _OUTFLOW_FIELDS
    }
    params.update(quantity=quantity, now=now, product_id=product_id)
    pre_save.send(
        sender=Outflow, instance=outflow, raw=False, using=connection.alias, update_fields=None
    )
    # Inside a caller's transaction (an import, a reversal, an idempotent API
    # request) a savepoint keeps a failed statement from spoiling the rest.
    # Outside one, the statement is its own transaction.
    for _attempt in range(3):
        if connection.in_atomic_block:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_OUTFLOW_SQL, params)
                row = cursor.fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute(_OUTFLOW_SQL, params)
                row = cursor.fetchone()
        if row is not None:
            break
        # Nothing moved: say whether the product is missing or short.
        current = Product.objects.filter(pk=product_id).first()
        if current is None:
            raise InvalidMovement(_("The product does not exist."), field="product")
        if current.quantity < quantity:
            raise InsufficientStock(product=current, requested=quantity, available=current.quantity)
        # Units came in between the two reads: try again.
    else:
        raise InsufficientStock(product=current, requested=quantity, available=current.quantity)
    outflow.pk, outflow.unit_price, outflow.unit_cost = row[:3]
    outflow._state.adding = False
    outflow._state.db = connection.alias
    outflow.product = Product.from_db(
        connection.alias, [field.attname for field in _PRODUCT_FIELDS], row[3:]
    )
    post_save.send(
        sender=Outflow,
        instance=outflow,
        created=True,
        update_fields=None,
        raw=False,
        using=connection.alias,
    )
    return outflow


# Movements another app records for a document of its own (a purchase
# order's receipt). Reversed from the Inflows page, the document would not
# follow (the order would not expect the units again), so the app that owns
# such a movement registers here, in its AppConfig.ready(), a function that
# returns the message refusing a direct reversal; the app itself reverses
# with ``by_owner=True``. The ledger imports no app above it.
_owner_checks: list[Callable[[Inflow | Outflow], str | None]] = []


def movement_owner_register(check: Callable[[Inflow | Outflow], str | None]) -> None:
    if check not in _owner_checks:
        _owner_checks.append(check)


def movement_owner_refusal(movement: Inflow | Outflow) -> str | None:
    """Why ``movement`` may be reversed only through the app that recorded it, or None."""
    for check in _owner_checks:
        message = check(movement)
        if message:
            return message
    return None


@transaction.atomic
def movement_reverse(
    *, movement: Inflow | Outflow, user=None, note: str = "", by_owner: bool = False
) -> Inflow | Outflow:
    """Record the movement that cancels ``movement`` and return it.

    An inflow is reversed by a correcting outflow (refused if the units are
    no longer in stock), an outflow by a correcting inflow. A movement is
    reversed at most once, and a reversal is not itself reversed. A movement
    an app recorded for a document of its own is reversed by that app
    (``by_owner``), never directly.
    """
    if movement.reverses_id is not None:
        raise ReversalRefused(
            _("%(movement)s is itself a reversal; record a new movement instead.")
            % {"movement": movement}
        )
    if not by_owner and (refusal := movement_owner_refusal(movement)):
        raise ReversalRefused(refusal)
    # Taking the product lock first serialises concurrent reversals of the
    # same movement: the second one sees the first one's row below.
    _lock_product(movement.product_id)
    reversal_model = Outflow if isinstance(movement, Inflow) else Inflow
    if reversal_model.objects.filter(reverses=movement).exists():
        raise ReversalRefused(_("%(movement)s was already reversed.") % {"movement": movement})
    note = note or _("Reversal of %(movement)s") % {"movement": movement}
    if isinstance(movement, Inflow):
        return outflow_create(
            product=movement.product_id,
            quantity=movement.quantity,
            user=user,
            unit_price=movement.unit_cost,
            unit_cost=movement.unit_cost,
            note=note,
            reason=Outflow.Reason.CORRECTION,
            reverses=movement,
        )
    return inflow_create(
        product=movement.product_id,
        quantity=movement.quantity,
        user=user,
        unit_cost=movement.unit_cost,
        note=note,
        reason=Inflow.Reason.CORRECTION,
        reverses=movement,
    )
