"""Deterministic demo data: a catalog and a consistent ledger, written in bulk.

This is the one writer of stock besides the ledger service, and it keeps the
same invariants by construction: each product's movements are generated in
time order, an outflow never takes more than is in stock at that moment, and
the product's quantity is the running total at the end. ``check_ledger``
verifies it afterwards. On PostgreSQL the rows go in with ``COPY`` (a million
movements in seconds); other databases use ``bulk_create``.
"""

import io
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from catalog.models import Brand, Category, Product, ProductModel, Supplier
from movements.demo_catalog import CATALOG, DEMO_USERS, SUPPLIERS, VARIANTS
from movements.models import Inflow, Outflow

DAY = 86400
HISTORY_DAYS = 90


@dataclass
class DemoResult:
    products: int
    inflows: int
    outflows: int
    seconds: float


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _ensure_named(model, names: list[str], **extra_by_name) -> dict[str, int]:
    model.objects.bulk_create(
        [model(name=name, **extra_by_name.get(name, {})) for name in names],
        ignore_conflicts=True,
    )
    return dict(model.objects.filter(name__in=names).values_list("name", "id"))


def _ensure_users(password: str) -> dict[str, int]:
    user_model = get_user_model()
    ids = {}
    for username, role in DEMO_USERS.items():
        user, _ = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        ids[role] = user.pk
    return ids


def _ensure_catalog(rng: random.Random) -> list[tuple]:
    """Create categories, brands, models, suppliers; return the model choices."""
    category_ids = _ensure_named(Category, list(CATALOG))
    brand_names = sorted({brand for _, brands in CATALOG.values() for brand in brands})
    brand_ids = _ensure_named(Brand, brand_names)
    supplier_extra = {
        name: {
            "tax_id": f"{rng.randrange(10**8):08d}/0001-{rng.randrange(100):02d}",
            "email": f"vendas@{re.sub(r'[^a-z]', '', name.lower())[:20]}.com.br",
        }
        for name in SUPPLIERS
    }
    _ensure_named(Supplier, SUPPLIERS, **supplier_extra)
    ProductModel.objects.bulk_create(
        [
            ProductModel(brand_id=brand_ids[brand], name=model)
            for _, brands in CATALOG.values()
            for brand, models in brands.items()
            for model in models
        ],
        ignore_conflicts=True,
    )
    model_ids = {
        (brand, name): pk
        for brand, name, pk in ProductModel.objects.values_list("brand__name", "name", "id")
    }
    return [
        (model_ids[(brand, model)], brand, model, category_ids[category], low, high)
        for category, ((low, high), brands) in CATALOG.items()
        for brand, models in brands.items()
        for model in models
    ]


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


class _Ledger:
    """Generates movements in time order, keeping each product's stock >= 0."""

    def __init__(self, rng, users, supplier_ids, start: datetime):
        self.rng = rng
        self.users = users
        self.supplier_ids = supplier_ids
        self.start_ts = start.timestamp()
        self.inflows: list[tuple] = []
        self.outflows: list[tuple] = []
        self.next_inflow = _next_id(Inflow)
        self.next_outflow = _next_id(Outflow)

    def _when(self, offset: float) -> str:
        moment = datetime.fromtimestamp(self.start_ts + offset, UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S+00")

    def product_history(self, product_id: int, count: int, cost: int, price: int) -> int:
        """Append ``count`` movements of one product; return its final stock."""
        rng = self.rng
        offsets = sorted(rng.random() * HISTORY_DAYS * DAY for _ in range(count))
        stock = 0
        returnable: list[tuple[int, int, int]] = []  # (outflow id, quantity, unit price)
        operator, admin = self.users["Operator"], self.users["Admin"]
        for position, offset in enumerate(offsets):
            when = self._when(offset)
            roll = rng.random()
            # Like a shop: buy when stock runs low (and now and then anyway),
            # sell otherwise, and take a sale back once in a while.
            restock = not position or not stock or (stock <= 8 and roll < 0.5) or roll > 0.97
            if not restock and not (returnable and roll < 0.03):
                quantity = min(stock, rng.randint(1, 6))
                # Occasional discount: the snapshot, not today's price, is the revenue.
                unit_price = price if rng.random() < 0.85 else price * rng.randint(85, 99) // 100
                outflow_id = self.next_outflow
                self.next_outflow += 1
                self.outflows.append(
                    (
                        outflow_id,
                        product_id,
                        quantity,
                        f"Order {rng.randrange(10**6):06d}",
                        operator,
                        when,
                        "sale",
                        _money(unit_price),
                        _money(cost),
                        None,
                    )
                )
                returnable.append((outflow_id, quantity, unit_price))
                stock -= quantity
            elif not restock:
                outflow_id, quantity, _ = returnable.pop(rng.randrange(len(returnable)))
                self.inflows.append(
                    (
                        self.next_inflow,
                        product_id,
                        quantity,
                        f"Return of outflow #{outflow_id}",
                        admin,
                        when,
                        "correction",
                        None,
                        _money(cost),
                        outflow_id,
                    )
                )
                self.next_inflow += 1
                stock += quantity
            else:
                quantity = rng.randint(10, 60) if position else rng.randint(20, 120)
                unit_cost = cost * rng.randint(95, 105) // 100
                self.inflows.append(
                    (
                        self.next_inflow,
                        product_id,
                        quantity,
                        f"NF-e {rng.randrange(10**6):06d}",
                        operator,
                        when,
                        "purchase",
                        rng.choice(self.supplier_ids),
                        _money(unit_cost),
                        None,
                    )
                )
                self.next_inflow += 1
                stock += quantity
        return stock


PRODUCT_COLUMNS = (
    "id",
    "title",
    "serial_number",
    "product_model_id",
    "category_id",
    "cost_price",
    "sell_price",
    "quantity",
    "reorder_level",
    "is_active",
    "description",
    "created_at",
    "updated_at",
)
INFLOW_COLUMNS = (
    "id",
    "product_id",
    "quantity",
    "note",
    "created_by_id",
    "created_at",
    "reason",
    "supplier_id",
    "unit_cost",
    "reverses_id",
)
OUTFLOW_COLUMNS = (
    "id",
    "product_id",
    "quantity",
    "note",
    "created_by_id",
    "created_at",
    "reason",
    "unit_price",
    "unit_cost",
    "reverses_id",
)


def _copy(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """PostgreSQL COPY in text format, fed in chunks to keep memory flat."""

    def cell(value) -> str:
        if value is None:
            return "\\N"
        if value is True:
            return "t"
        if value is False:
            return "f"
        return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")

    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for start in range(0, len(rows), 50_000):
            buffer = io.StringIO()
            for row in rows[start : start + 50_000]:
                buffer.write("\t".join(map(cell, row)))
                buffer.write("\n")
            copy.write(buffer.getvalue())


def _bulk_create(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    model.objects.bulk_create(
        (model(**dict(zip(columns, row, strict=True))) for row in rows), batch_size=2000
    )


def _reset_sequences() -> None:
    with connection.cursor() as cursor:
        for model in (Product, Inflow, Outflow):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )


def reset_demo_tables() -> None:
    """Empty the catalog and the ledger (PostgreSQL TRUNCATE)."""
    tables = [
        model._meta.db_table
        for model in (Inflow, Outflow, Product, ProductModel, Brand, Category, Supplier)
    ]
    with connection.cursor() as cursor:
        # Run deferred foreign-key checks now: TRUNCATE refuses to run while
        # the transaction has pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def seed_demo(
    *,
    products: int,
    movements: int,
    seed: int,
    password: str,
    now: datetime | None = None,
    use_copy: bool | None = None,
) -> DemoResult:
    """Write the demo data; ``use_copy`` defaults to True on PostgreSQL."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=HISTORY_DAYS)
    postgres = connection.vendor == "postgresql"
    use_copy = postgres if use_copy is None else use_copy and postgres

    with transaction.atomic():
        users = _ensure_users(password)
        models = _ensure_catalog(rng)
        supplier_ids = sorted(
            Supplier.objects.filter(name__in=SUPPLIERS).values_list("id", flat=True)
        )
        ledger = _Ledger(rng, users, supplier_ids, start)

        counts = [movements // products] * products if products else []
        for index in rng.sample(range(products), movements % products) if products else []:
            counts[index] += 1

        first_id = _next_id(Product)
        stamp = now.strftime("%Y-%m-%d %H:%M:%S+00")
        product_rows = []
        for number in range(products):
            product_id = first_id + number
            model_id, brand, model, category_id, low, high = models[rng.randrange(len(models))]
            cost = rng.randint(low * 100, high * 100)
            price = cost * rng.randint(120, 190) // 100
            stock = ledger.product_history(product_id, counts[number], cost, price)
            code = re.sub(r"[^A-Z0-9]", "", brand.upper())[:4]
            product_rows.append(
                (
                    product_id,
                    f"{brand} {model} {rng.choice(VARIANTS)}",
                    f"{code}-{product_id:07d}",
                    model_id,
                    category_id,
                    _money(cost),
                    _money(price),
                    stock,
                    rng.randint(3, 25),
                    rng.random() > 0.03,
                    "",
                    stamp,
                    stamp,
                )
            )

        for model, columns, rows in (
            (Product, PRODUCT_COLUMNS, product_rows),
            (Outflow, OUTFLOW_COLUMNS, ledger.outflows),
            (Inflow, INFLOW_COLUMNS, ledger.inflows),
        ):
            if use_copy:
                _copy(model._meta.db_table, columns, rows)
            else:
                _bulk_create(model, columns, rows)
        if postgres:
            _reset_sequences()

    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE catalog_product, movements_inflow, movements_outflow")
    return DemoResult(
        products=len(product_rows),
        inflows=len(ledger.inflows),
        outflows=len(ledger.outflows),
        seconds=time.perf_counter() - started,
    )
