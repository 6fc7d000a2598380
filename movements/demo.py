"""Deterministic demo data: a catalog and a consistent ledger, written in bulk.

This is the one writer of stock besides the ledger service, and it keeps the
same invariants by construction: each product's movements are generated in
time order (strictly increasing timestamps, ids in the same order), an
outflow never takes more than is in stock at that moment, a return reverses
one earlier sale of the same product, and the product's quantity is the
running total at the end. ``check_ledger`` verifies it afterwards.

Rows are generated and written in batches of whole products (a product and
all of its movements in the same batch), so memory stays flat whatever the
size: 1,000,000 products and 10,000,000 movements are never held at once.
On PostgreSQL each batch goes in with ``COPY`` (psycopg's ``cursor.copy()``)
from writer threads while the next batch is generated; other databases (the
embedded SQLite default) use ``bulk_create`` per batch. Into empty tables
(``seed_demo --reset``, a new database) PostgreSQL loads them without their
secondary indexes and foreign keys, built again once at the end (see
``_BULK_TABLES``).
"""

import json
import queue
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction

from catalog.models import Brand, Category, Product, ProductModel, Supplier
from movements.demo_catalog import CATALOG, DEMO_USERS, SUPPLIERS, VARIANTS
from movements.models import DailyRollup, Inflow, Outflow

DAY = 86400
HISTORY_DAYS = 90
HISTORY_SECONDS = HISTORY_DAYS * DAY
# Movements per batch: big enough that COPY's per-statement cost (and the
# statement-level triggers on the movement tables) is spread over many rows,
# small enough that two batches in flight stay a few tens of MB.
BATCH_MOVEMENTS = 50_000
# COPY writers, each with its own connection and server process: this
# machine's two cores (more processes than cores only take turns).
COPY_CONNECTIONS = 2


@dataclass
class DemoResult:
    products: int
    inflows: int
    outflows: int
    seconds: float


@dataclass
class _Batch:
    products: list[tuple] = field(default_factory=list)
    inflows: list[tuple] = field(default_factory=list)
    outflows: list[tuple] = field(default_factory=list)


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


@dataclass(frozen=True)
class _ModelChoice:
    model_id: int
    brand: str
    model: str
    code: str  # SKU prefix
    category_id: int
    low: int  # cost range, BRL
    high: int


def _ensure_catalog(rng: random.Random) -> list[_ModelChoice]:
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
        _ModelChoice(
            model_ids[(brand, model)],
            brand,
            model,
            re.sub(r"[^A-Z0-9]", "", brand.upper())[:4],
            category_ids[category],
            low,
            high,
        )
        for category, ((low, high), brands) in CATALOG.items()
        for brand, models in brands.items()
        for model in models
    ]


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


class _Clock:
    """Writes "start + offset seconds" as a timestamp literal, without a datetime per row.

    ``datetime.fromtimestamp().strftime()`` for each of 10,000,000 movements
    cost more than the rest of a movement's generation; the text of each day
    and of each minute of a day is computed once instead (a few thousand
    strings, whatever the number of movements).
    """

    def __init__(self, start: datetime):
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        self.since_midnight = int((start - midnight).total_seconds())
        days = HISTORY_DAYS + 2
        self.days = [(midnight + timedelta(days=d)).strftime("%Y-%m-%d ") for d in range(days)]
        self.minutes = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(24 * 60)]

    def __call__(self, offset: int) -> str:
        day, second = divmod(self.since_midnight + offset, DAY)
        minute, second = divmod(second, 60)
        return f"{self.days[day]}{self.minutes[minute]}{second:02d}+00"


class _Ledger:
    """Generates products and their movements in time order, keeping each stock >= 0.

    Draws use ``rng.random()`` scaled to a range rather than ``randint`` and
    ``choice``: the same seed still gives the same data, at a third of the cost.
    """

    def __init__(self, rng, users, supplier_ids, models, start: datetime, stamp: str):
        self.random = rng.random
        self.operator, self.admin = users["Operator"], users["Admin"]
        self.supplier_ids = supplier_ids
        self.models = models
        self.when = _Clock(start)
        self.stamp = stamp
        self.next_product = _next_id(Product)
        self.next_inflow = _next_id(Inflow)
        self.next_outflow = _next_id(Outflow)

    def product(self, batch: _Batch, count: int) -> None:
        """Append one product and its ``count`` movements to ``batch``."""
        random = self.random
        product_id = self.next_product
        self.next_product += 1
        choice = self.models[int(random() * len(self.models))]
        cost = choice.low * 100 + int(random() * ((choice.high - choice.low) * 100 + 1))
        price = cost * (120 + int(random() * 71)) // 100
        title = f"{choice.brand} {choice.model} {VARIANTS[int(random() * len(VARIANTS))]}"
        stock = self._history(batch, product_id, count, cost, price)
        batch.products.append(
            (
                product_id,
                title,
                f"{choice.code}-{product_id:07d}",
                choice.model_id,
                choice.category_id,
                _money(cost),
                _money(price),
                stock,
                3 + int(random() * 23),
                random() > 0.03,
                "",  # description
                "",  # EAN: none (unique when set; the demo makes none up)
                self.stamp,
                self.stamp,
            )
        )

    def _history(self, batch: _Batch, product_id: int, count: int, cost: int, price: int) -> int:
        random = self.random
        # Sorted draws plus their rank: strictly increasing whole seconds, so
        # time order is one order (no two movements of a product share a
        # timestamp) and the last is still before the end of the history.
        span = HISTORY_SECONDS - count
        offsets = sorted(int(random() * span) for _ in range(count))
        stock = 0
        returnable: list[tuple[int, int]] = []  # (outflow id, quantity)
        inflows, outflows = batch.inflows, batch.outflows
        operator, admin = self.operator, self.admin
        for position, offset in enumerate(offsets):
            when = self.when(offset + position)
            roll = random()
            # Like a shop: buy when stock runs low (and now and then anyway),
            # sell otherwise, and take a sale back once in a while.
            restock = not position or not stock or (stock <= 8 and roll < 0.5) or roll > 0.97
            if not restock and not (returnable and roll < 0.03):
                quantity = min(stock, 1 + int(random() * 6))
                # Occasional discount: the snapshot, not today's price, is the revenue.
                unit_price = price if random() < 0.85 else price * (85 + int(random() * 15)) // 100
                outflow_id = self.next_outflow
                self.next_outflow += 1
                outflows.append(
                    (
                        outflow_id,
                        product_id,
                        quantity,
                        f"Order {int(random() * 1_000_000):06d}",
                        operator,
                        when,
                        "sale",
                        _money(unit_price),
                        _money(cost),
                        None,
                    )
                )
                returnable.append((outflow_id, quantity))
                stock -= quantity
            elif not restock:
                outflow_id, quantity = returnable.pop(int(random() * len(returnable)))
                inflows.append(
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
                quantity = 10 + int(random() * 51) if position else 20 + int(random() * 101)
                unit_cost = cost * (95 + int(random() * 11)) // 100
                inflows.append(
                    (
                        self.next_inflow,
                        product_id,
                        quantity,
                        f"NF-e {int(random() * 1_000_000):06d}",
                        operator,
                        when,
                        "purchase",
                        self.supplier_ids[int(random() * len(self.supplier_ids))],
                        _money(unit_cost),
                        None,
                    )
                )
                self.next_inflow += 1
                stock += quantity
        return stock

    def batches(self, products: int, movements: int, batch_movements: int) -> Iterator[_Batch]:
        """Yield batches of whole products, ``movements`` spread over ``products``.

        Each product gets ``movements // products`` movements and the
        remainder goes one each to products picked by selection sampling
        (Knuth's algorithm S): exactly that many, without a list of a million
        counts in memory.
        """
        base, extra = divmod(movements, products) if products else (0, 0)
        per_batch = max(1, batch_movements // max(base, 1))
        batch = _Batch()
        for number in range(products):
            count = base
            if extra and self.random() * (products - number) < extra:
                count += 1
                extra -= 1
            self.product(batch, count)
            if len(batch.products) >= per_batch:
                yield batch
                batch = _Batch()
        if batch.products:
            yield batch


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
    "ean",
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


def _text(value: str) -> str:
    """A text cell of COPY's text format (backslash, tab and line ends escaped)."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


# COPY text format, one formatter per table: a generic per-cell function cost
# four times as much on 10,000,000 rows. Only the titles come from outside
# this module's control (the catalog), so only they are escaped; the notes
# are written by the generator above and contain no tab or backslash.
def _product_lines(rows: list[tuple]) -> str:
    return "".join(
        f"{pk}\t{_text(title)}\t{_text(sku)}\t{model}\t{category}\t{cost}\t{price}\t{qty}\t"
        f"{reorder}\t{'t' if active else 'f'}\t{_text(description)}\t{_text(ean)}\t"
        f"{created}\t{updated}\n"
        for (
            pk,
            title,
            sku,
            model,
            category,
            cost,
            price,
            qty,
            reorder,
            active,
            description,
            ean,
            created,
            updated,
        ) in rows
    )


def _inflow_lines(rows: list[tuple]) -> str:
    return "".join(
        f"{pk}\t{product}\t{qty}\t{note}\t{user}\t{when}\t{reason}\t"
        f"{'\\N' if supplier is None else supplier}\t{cost}\t"
        f"{'\\N' if reverses is None else reverses}\n"
        for pk, product, qty, note, user, when, reason, supplier, cost, reverses in rows
    )


def _outflow_lines(rows: list[tuple]) -> str:
    return "".join(
        f"{pk}\t{product}\t{qty}\t{note}\t{user}\t{when}\t{reason}\t{price}\t{cost}\t"
        f"{'\\N' if reverses is None else reverses}\n"
        for pk, product, qty, note, user, when, reason, price, cost, reverses in rows
    )


_TABLES = (
    # Products first: with the foreign keys checked at once (see _copy_batches)
    # the movements' products must already be there.
    (Product, PRODUCT_COLUMNS, "products", _product_lines),
    (Outflow, OUTFLOW_COLUMNS, "outflows", _outflow_lines),
    (Inflow, INFLOW_COLUMNS, "inflows", _inflow_lines),
)


def _copy_sql(model, columns: tuple[str, ...]) -> str:
    return f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"


# The API's change feed (integrations/changefeed.py) skips a transaction that
# sets this: a demo's millions of rows are read by a first full sync, not
# followed one by one.
FEED_OFF = "SET LOCAL inventory.change_feed = 'off'"
FEED_ON = "SET LOCAL inventory.change_feed = 'on'"


def _write_batch(pg, item: list[tuple[str, str]]) -> None:
    with pg.cursor() as raw:
        raw.execute(FEED_OFF)
        for sql, text in item:
            if text:
                with raw.copy(sql) as copy:
                    copy.write(text)


def _copy_batches(batches: Iterator[_Batch], *, connections: int) -> None:
    """COPY the batches from writer threads while this thread generates the next ones.

    Outside a transaction, ``connections`` writers each have their own
    connection and commit each batch (a batch holds whole products, so every
    commit leaves a consistent ledger): PostgreSQL's work per row (indexes,
    foreign-key checks, the movement tables' triggers) costs several times
    Python's, and one server process per writer puts both cores to it.
    Inside the caller's transaction there is one writer, on this
    transaction's connection (psycopg connections may be shared between
    threads; this thread sends nothing on it until the writer is done), still
    overlapping generation with the server's work.

    The queue holds at most two batches per writer: memory stays flat.
    """
    shared = connection.in_atomic_block
    writers = 1 if shared else max(1, connections)
    texts: queue.Queue = queue.Queue(maxsize=2 * writers)
    failure: list[BaseException] = []

    def drain(write) -> None:
        while (item := texts.get()) is not None:
            if failure:
                continue  # drain so the producer never blocks; it stops at its next put
            try:
                write(item)
            except BaseException as error:  # re-raised in the caller's thread
                failure.append(error)

    def own_connection_writer() -> None:
        # This thread's own Django connection (connections are per thread).
        try:

            def write(item):
                with transaction.atomic(), connection.cursor() as cursor:
                    # A batch lost to a server crash is redone by the next
                    # --reset: no need to wait for each commit's WAL flush.
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    _write_batch(cursor.connection, item)

            drain(write)
        finally:
            connection.close()

    deferred = ""
    if shared:
        with connection.cursor() as cursor:
            deferred = _deferred_foreign_keys(cursor)
            # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: left
            # so, every movement's checks would queue in the server until
            # COMMIT and run there, after generation, instead of beside it.
            if deferred:
                cursor.execute(f"SET CONSTRAINTS {deferred} IMMEDIATE")
            pg = cursor.connection
        targets = [lambda: drain(lambda item: _write_batch(pg, item))]
    else:
        targets = [own_connection_writer] * writers
    threads = [
        threading.Thread(target=target, name=f"seed-demo-copy-{number}", daemon=True)
        for number, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    try:
        for batch in batches:
            if failure:
                break
            texts.put(
                [
                    (_copy_sql(model, columns), lines(getattr(batch, rows)))
                    for model, columns, rows, lines in _TABLES
                ]
            )
    finally:
        for _ in threads:
            texts.put(None)
        for thread in threads:
            thread.join()
    if failure:
        raise failure[0]
    if shared:
        with connection.cursor() as cursor:
            # The rest of the caller's transaction is followed by the feed again.
            cursor.execute(FEED_ON)
            if deferred:
                # Back to their declared mode for the rest of the caller's transaction.
                cursor.execute(f"SET CONSTRAINTS {deferred} DEFERRED")


def _deferred_foreign_keys(cursor) -> str:
    """The initially deferred foreign keys of the tables written here, quoted and joined."""
    cursor.execute(
        "SELECT string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.conname), ', ') "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE c.contype = 'f' AND c.condeferred AND c.conrelid = ANY(%s::regclass[])",
        [[model._meta.db_table for model, *_ in _TABLES]],
    )
    return cursor.fetchone()[0] or ""


def _bulk_create_batches(batches: Iterator[_Batch]) -> None:
    for batch in batches:
        for model, columns, rows, _lines in _TABLES:
            model.objects.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in getattr(batch, rows)],
                batch_size=2000,
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
    # DailyRollup: sums of the movements kept by triggers, with no database
    # foreign key (CASCADE does not reach it): left, it would count the old ledger.
    models = (DailyRollup, Inflow, Outflow, Product, ProductModel, Brand, Category, Supplier)
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cursor:
        # Run deferred foreign-key checks now: TRUNCATE refuses to run while
        # the transaction has pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


# Bulk load into empty tables, as PostgreSQL's "Populating a Database"
# advises: the secondary indexes and the foreign keys of the tables a seed
# fills are dropped before the load and built again after it, once over the
# full tables (an index write or a key lookup per row, 11,000,000 times,
# cost more than the rest of the load). What is set aside is read from the
# database's own catalog, not from the models: the product search's trigram
# indexes exist only in the database (catalog migration 0002), and the
# definitions pg_get_indexdef / pg_get_constraintdef give back recreate each
# one exactly (name, operator class, expression, DEFERRABLE INITIALLY
# DEFERRED). Kept: primary keys, unique constraints a foreign key points to,
# CHECK constraints (cheap per row), and the daily rollups' unique
# constraint, the rollup triggers' ON CONFLICT target. The rollup triggers
# stay on: they sum each COPY batch (one statement of whole products) in the
# writers' server processes, in parallel; summing the 10,000,000 movements
# again afterwards (the rebuild's one INSERT ... SELECT ... GROUP BY) took
# longer than that, on one core.
_BULK_TABLES = (Product, Inflow, Outflow, DailyRollup)
_KEEP_UNIQUE = (DailyRollup,)

_SET_ASIDE_SQL = """
    SELECT c.conrelid::regclass::text, quote_ident(c.conname), c.contype::text,
           CASE WHEN c.contype = 'u' THEN pg_get_indexdef(c.conindid) END,
           pg_get_constraintdef(c.oid), c.condeferrable, c.condeferred
    FROM pg_constraint c
    WHERE c.conrelid = ANY(%(tables)s::regclass[])
      AND (c.contype = 'f' OR (
          c.contype = 'u' AND NOT c.conrelid = ANY(%(keep_unique)s::regclass[])
          AND NOT EXISTS (
              SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)))
    UNION ALL
    SELECT x.indrelid::regclass::text, x.indexrelid::regclass::text, 'i',
           pg_get_indexdef(x.indexrelid), NULL, false, false
    FROM pg_index x
    WHERE x.indrelid = ANY(%(tables)s::regclass[]) AND NOT x.indisprimary
      AND NOT EXISTS (
          SELECT 1 FROM pg_constraint k
          WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype <> 'f')
    ORDER BY 1, 2
"""
# The record of what is set aside, in each table's comment, written in the
# transaction that drops: a load killed before the end (SIGKILL, a lost
# connection) leaves the record with the missing indexes, and the next
# seed_demo builds them before anything else.
_MARK = "seed_demo set aside: "


@dataclass(frozen=True)
class _SetAside:
    """A secondary index, unique constraint or foreign key dropped for a bulk load."""

    table: str
    name: str  # quoted as needed
    kind: str  # "i" index, "u" unique constraint, "f" foreign key
    index: str | None  # CREATE [UNIQUE] INDEX ... (indexes, unique constraints)
    constraint: str | None  # UNIQUE (...) / FOREIGN KEY ... REFERENCES ...
    deferrable: bool
    deferred: bool

    @property
    def drop_sql(self) -> str:
        if self.kind == "i":
            return f"DROP INDEX {self.name}"
        return f"ALTER TABLE {self.table} DROP CONSTRAINT {self.name}"


def _table_names(models) -> list[str]:
    return [model._meta.db_table for model in models]


def _set_aside_now(cursor) -> list[_SetAside]:
    cursor.execute(
        _SET_ASIDE_SQL,
        {"tables": _table_names(_BULK_TABLES), "keep_unique": _table_names(_KEEP_UNIQUE)},
    )
    return [_SetAside(*row) for row in cursor.fetchall()]


def _bulk_tables_empty() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "
            + " AND ".join(f"NOT EXISTS (SELECT 1 FROM {t})" for t in _table_names(_BULK_TABLES))
        )
        return cursor.fetchone()[0]


def _records(cursor) -> dict[str, dict]:
    """The set-aside records left in the tables' comments, by table."""
    cursor.execute(
        "SELECT t, obj_description(t::regclass, 'pg_class') FROM unnest(%s::text[]) t",
        [_table_names(_BULK_TABLES)],
    )
    return {
        table: json.loads(comment.removeprefix(_MARK))
        for table, comment in cursor.fetchall()
        if comment and comment.startswith(_MARK)
    }


def _comment_on(cursor, table: str, comment: str | None) -> None:
    # COMMENT takes no parameters: the server quotes the text (NULL removes it).
    cursor.execute("SELECT quote_nullable(%s::text)", [comment])
    cursor.execute(f"COMMENT ON TABLE {table} IS {cursor.fetchone()[0]}")


def _set_aside() -> None:
    """Drop the bulk tables' secondary indexes and foreign keys, recording them first."""
    with transaction.atomic(), connection.cursor() as cursor:
        items = _set_aside_now(cursor)
        if not items:
            return
        cursor.execute(
            "SELECT t, obj_description(t::regclass, 'pg_class') FROM unnest(%s::text[]) t",
            [_table_names(_BULK_TABLES)],
        )
        comments = dict(cursor.fetchall())
        for table, comment in comments.items():
            record = {
                "comment": comment,
                "items": [vars(item) for item in items if item.table == table],
            }
            _comment_on(cursor, table, _MARK + json.dumps(record))
        # Foreign keys first: a unique constraint goes once nothing refers to it.
        for item in sorted(items, key=lambda item: item.kind != "f"):
            cursor.execute(item.drop_sql)


def _run_in_parallel(statements: list[str], workers: int) -> None:
    """Each statement on its own, from ``workers`` connections (a core each for the server)."""
    work: queue.Queue = queue.Queue()
    for sql in statements:
        work.put(sql)
    failure: list[BaseException] = []

    def worker() -> None:
        try:
            with connection.cursor() as cursor:
                # Sorts of millions of keys in memory rather than in temporary
                # files; a foreign key's validating join uses it too. For this
                # connection only, closed below.
                cursor.execute("SET maintenance_work_mem = '256MB'")
                while not failure:
                    try:
                        sql = work.get_nowait()
                    except queue.Empty:
                        return
                    cursor.execute(sql)
        except BaseException as error:  # re-raised in the caller's thread
            failure.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, name=f"seed-demo-index-{n}") for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failure:
        raise failure[0]


def _restore_set_aside(*, workers: int = COPY_CONNECTIONS) -> None:
    """Build again whatever a record lists and is missing, then drop the records.

    Indexes first (unique ones included), from ``workers`` connections (a
    CREATE INDEX takes a SHARE lock: two build on one table at once). Then each unique
    constraint takes its built index (ADD CONSTRAINT ... USING INDEX) and
    each foreign key comes back NOT VALID, instantly; the keys are then
    validated from the parallel connections too (VALIDATE CONSTRAINT, one
    join each, blocks neither reads nor the other validations).
    """
    with connection.cursor() as cursor:
        records = _records(cursor)
    if not records:
        return
    items = [_SetAside(**item) for record in records.values() for item in record["items"]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(relname) FROM pg_class WHERE relkind = 'i' "
            "AND relnamespace = current_schema()::regnamespace"
        )
        indexes = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), convalidated "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])",
            [list(records)],
        )
        constraints = {(table, name): valid for table, name, valid in cursor.fetchall()}
    # The biggest tables first, so the last builds are short ones.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t, pg_relation_size(t::regclass) FROM unnest(%s::text[]) t", [list(records)]
        )
        sizes = dict(cursor.fetchall())
    builds = sorted(
        (
            item
            for item in items
            if item.kind in ("i", "u")
            and item.name not in indexes
            and (item.table, item.name) not in constraints
        ),
        key=lambda item: (-sizes[item.table], "USING gin" not in item.index, item.name),
    )
    _run_in_parallel([item.index for item in builds], workers)
    # Statistics before the validating joins: without them the planner
    # guesses the freshly loaded tables' sizes and picks poor join plans.
    _run_in_parallel([f"ANALYZE {table}" for table in records], workers)
    with transaction.atomic(), connection.cursor() as cursor:
        for item in items:
            if item.kind == "i" or (item.table, item.name) in constraints:
                continue
            timing = (" DEFERRABLE" if item.deferrable else "") + (
                " INITIALLY DEFERRED" if item.deferred else ""
            )
            if item.kind == "u":
                definition = f"UNIQUE USING INDEX {item.name}{timing}"
            else:  # the definition already carries DEFERRABLE ...
                definition = f"{item.constraint} NOT VALID"
            cursor.execute(f"ALTER TABLE {item.table} ADD CONSTRAINT {item.name} {definition}")
    _run_in_parallel(
        [
            f"ALTER TABLE {item.table} VALIDATE CONSTRAINT {item.name}"
            for item in items
            if item.kind == "f" and constraints.get((item.table, item.name)) is not True
        ],
        workers,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for table, record in records.items():
            _comment_on(cursor, table, record["comment"])


class _Counter:
    """Counts what passes through, for the result, without holding it."""

    def __init__(self, batches: Iterator[_Batch]):
        self.batches = batches
        self.products = self.inflows = self.outflows = 0

    def __iter__(self) -> Iterator[_Batch]:
        for batch in self.batches:
            self.products += len(batch.products)
            self.inflows += len(batch.inflows)
            self.outflows += len(batch.outflows)
            yield batch


def seed_demo(
    *,
    products: int,
    movements: int,
    seed: int,
    password: str,
    now: datetime | None = None,
    use_copy: bool | None = None,
    batch_movements: int = BATCH_MOVEMENTS,
    copy_connections: int = COPY_CONNECTIONS,
    bulk_load: bool = True,
) -> DemoResult:
    """Write the demo data; ``use_copy`` defaults to True on PostgreSQL.

    With COPY and no transaction open, the data is committed batch by batch
    from ``copy_connections`` connections (a failure leaves whole products
    only; ``seed_demo --reset`` starts over); if the tables were empty, their
    secondary indexes and foreign keys are dropped first and built again at
    the end, also after a failure (``bulk_load=False``: not, as a benchmark's
    baseline). Otherwise everything happens in one transaction, the
    caller's if there is one, with every index in place.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    now = now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=HISTORY_DAYS)
    postgres = connection.vendor == "postgresql"
    use_copy = postgres if use_copy is None else use_copy and postgres

    def prepare() -> _Counter:
        users = _ensure_users(password)
        models = _ensure_catalog(rng)
        supplier_ids = sorted(
            Supplier.objects.filter(name__in=SUPPLIERS).values_list("id", flat=True)
        )
        stamp = now.strftime("%Y-%m-%d %H:%M:%S+00")
        ledger = _Ledger(rng, users, supplier_ids, models, start, stamp)
        return _Counter(ledger.batches(products, movements, batch_movements))

    bulk = False
    if use_copy and not connection.in_atomic_block:
        # A load killed half way left its indexes out: back first.
        _restore_set_aside(workers=copy_connections)
        with transaction.atomic():
            counted = prepare()
        bulk = bulk_load and _bulk_tables_empty()
        if bulk:
            _set_aside()
        try:
            # Users and catalog committed: the writers' own connections see them.
            _copy_batches(iter(counted), connections=copy_connections)
        finally:
            if bulk:
                _restore_set_aside(workers=copy_connections)
    else:
        with transaction.atomic():
            counted = prepare()
            if use_copy:
                _copy_batches(iter(counted), connections=1)
            else:
                _bulk_create_batches(iter(counted))
    if postgres:
        # After the last write, outside it: the ids were given by the generator.
        _reset_sequences()
        if not bulk:  # the bulk load's indexes were built after an ANALYZE
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE catalog_product, movements_inflow, movements_outflow")
    return DemoResult(
        products=counted.products,
        inflows=counted.inflows,
        outflows=counted.outflows,
        seconds=time.perf_counter() - started,
    )
