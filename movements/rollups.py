"""Daily rollups: the triggers that keep ``DailyRollup`` current, their rebuild and their check.

Movements are append-only, so a rollup only ever grows: an AFTER INSERT
trigger on each movement table adds the new rows to their (product, local
day) row, in the inserting transaction.

- PostgreSQL: one trigger per *statement* (``REFERENCING NEW TABLE``), doing
  one grouped ``INSERT ... ON CONFLICT DO UPDATE``: a ``COPY`` or a bulk
  insert of a million rows costs one upsert per product-day, not per row.
  The zone of ``settings.TIME_ZONE`` is written into the trigger functions;
  ``rebuild_rollups`` writes them again (after a change of ``TIME_ZONE``).
- SQLite: a trigger per row with an upsert; the local day comes from
  ``movements_local_day()`` (``movements.dbfunctions``).

Two smaller tables serve the dashboard's 30-day figures without grouping
millions of product-days (``DayTotal``, ``SaleWindow``). They hold *closed*
days only: every day up to the latest ``DayTotal`` row (``closed``). Once a
day is over, :func:`close_days` sums its rollups into them; from then on the
same triggers add a movement dated on a closed day to them. Today's
movements (the usual case) touch neither, so concurrent sales share no row.
``SaleWindow`` is each product's sales over the 29 closed days of the window
(``closed - 28`` to ``closed``): with today's rollups, its 30-day revenue.

A movement dated on a day being closed must be in the close's sums or in the
triggers' update, never neither nor both. Closing holds no lock a sale of
today asks for: it waits for the writers in flight when it starts, and a
movement dated before the database's today takes an advisory lock the close
holds (``close_days``, ``_hold_off_movements``).

Only a movement's product holds its rollup row's lock, and every movement
already locks its product row first (``movements.services``), so the rollups
add no waiting between sales of different products.
"""

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.signals import setting_changed
from django.db import OperationalError, connections, transaction
from django.db import connection as default_connection

from movements.dbfunctions import LOCAL_DAY
from project import timezones

logger = logging.getLogger(__name__)

TABLE = "movements_dailyrollup"
DAY_TOTALS = "movements_daytotal"
SALE_WINDOW = "movements_salewindow"
# The dashboard's window: today and the 29 days before it, so the closed
# part of it is the 29 days up to the last closed day.
WINDOW_DAYS = 30
CLOSED_WINDOW_DAYS = WINDOW_DAYS - 1
# close_days waits this long for a lock, then gives up until the next
# refresh: a queued lock request holds up everyone who asks after it (every
# sale for the movement tables' lock, only backdated movements for
# BACKDATED_LOCK).
CLOSE_LOCK_TIMEOUT = "200ms"
# Advisory locks, as two int4 keys (LOCK_CLASS, which). CLOSE_LOCK: one
# close at a time (a second one gives up at once; backfill_totals waits).
# BACKDATED_LOCK: the trigger takes it shared for a movement dated before
# the database clock's today; a close holds it exclusively while it sums.
LOCK_CLASS = 0x726F6C6C  # "roll"
CLOSE_LOCK = 1
BACKDATED_LOCK = 2
# close_days waits this long for the movements being written when it starts
# to commit, then gives up until the next refresh (nobody waits for it).
CLOSE_WAIT_SECONDS = 2.0
# A caller whose clock runs ahead of the database's asks to close a day the
# database says is not over. Up to this far ahead it is a clock's skew: the
# close waits for the database's midnight. Further ahead (tests that close
# days to come) the close keeps every movement out while it runs.
CLOCK_SKEW_SECONDS = 10.0
INFLOWS = "movements_inflow"
OUTFLOWS = "movements_outflow"
SALE = "sale"
COLUMNS = (
    "in_count",
    "in_units",
    "in_cost",
    "out_count",
    "out_units",
    "out_revenue",
    "out_cost",
    "sale_count",
    "sale_units",
    "sale_revenue",
    "sale_cost",
)


def _terms(table: str, row: str = "") -> dict[str, str]:
    """Each rollup column's contribution of one movement row (``row`` prefixes its columns)."""
    quantity = f"{row}quantity"
    zero = dict.fromkeys(COLUMNS, "0")
    if table == INFLOWS:
        return {
            **zero,
            "in_count": "1",
            "in_units": quantity,
            "in_cost": f"{quantity} * {row}unit_cost",
        }
    is_sale = f"{row}reason = '{SALE}'"
    return {
        **zero,
        "out_count": "1",
        "out_units": quantity,
        "out_revenue": f"{quantity} * {row}unit_price",
        "out_cost": f"{quantity} * {row}unit_cost",
        "sale_count": f"CASE WHEN {is_sale} THEN 1 ELSE 0 END",
        "sale_units": f"CASE WHEN {is_sale} THEN {quantity} ELSE 0 END",
        "sale_revenue": f"CASE WHEN {is_sale} THEN {quantity} * {row}unit_price ELSE 0 END",
        "sale_cost": f"CASE WHEN {is_sale} THEN {quantity} * {row}unit_cost ELSE 0 END",
    }


def _zone_literal() -> str:
    name = settings.TIME_ZONE
    ZoneInfo(name)  # refuses a name that is not a zone (and so any quote)
    return "'" + name.replace("'", "''") + "'"


def _pg_day(column: str = "created_at") -> str:
    return f"({column} AT TIME ZONE {_zone_literal()})::date"


def _pg_grouped(table: str, source: str) -> str:
    """SELECT product_id, day, <sums> FROM source GROUP BY product_id, day."""
    sums = ", ".join(f"SUM({term})" for term in _terms(table).values())
    return f"SELECT product_id, {_pg_day()} AS day, {sums} FROM {source} GROUP BY 1, 2"


def _upsert_set(target: str, excluded: str) -> str:
    return ", ".join(f"{c} = {target}{c} + {excluded}.{c}" for c in COLUMNS)


def _pg_totals_sql(table: str) -> str:
    """The trigger's part for the closed days: nothing happens for today's movements."""
    dated = f"(SELECT *, {_pg_day()} AS day FROM new_rows) n"
    sums = ", ".join(f"SUM({term})" for term in _terms(table).values())
    statements = [
        f"""INSERT INTO {DAY_TOTALS} AS t (day, {", ".join(COLUMNS)})
            SELECT day, {sums} FROM {dated} WHERE day <= closed
            GROUP BY 1 ORDER BY 1
            ON CONFLICT (day) DO UPDATE SET {_upsert_set("t.", "EXCLUDED")}"""
    ]
    if table == OUTFLOWS:
        statements.append(
            f"""INSERT INTO {SALE_WINDOW} AS w (product_id, sale_count, sale_revenue)
            SELECT product_id, COUNT(*), SUM(quantity * unit_price) FROM {dated}
            WHERE reason = '{SALE}' AND day BETWEEN closed - {CLOSED_WINDOW_DAYS - 1} AND closed
            GROUP BY 1 ORDER BY 1
            ON CONFLICT (product_id) DO UPDATE SET
                sale_count = w.sale_count + EXCLUDED.sale_count,
                sale_revenue = w.sale_revenue + EXCLUDED.sale_revenue"""
        )
    body = ";\n".join(statements)
    return f"""
            SELECT MAX(day) INTO closed FROM {DAY_TOTALS};
            -- Today's movements (the usual case) stop at this test: only a
            -- movement before the end of the last closed day is summed.
            IF closed IS NOT NULL AND EXISTS (
                SELECT 1 FROM new_rows
                WHERE created_at < ((closed + 1)::timestamp AT TIME ZONE {_zone_literal()})
            ) THEN
                {body};
            END IF;"""


def _pg_trigger_sql(table: str, totals: bool = True) -> list[str]:
    function = f"{table}_rollup"
    # ORDER BY: rows are locked in one order, so two bulk inserts touching
    # the same product-days wait for each other instead of deadlocking.
    body = f"""
        INSERT INTO {TABLE} AS r (product_id, day, {", ".join(COLUMNS)})
        {_pg_grouped(table, "new_rows")}
        ORDER BY 1, 2
        ON CONFLICT (product_id, day) DO UPDATE SET {_upsert_set("r.", "EXCLUDED")}
    """
    return [
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
        DECLARE
            closed date;
        BEGIN
            {body};{_pg_totals_sql(table) if totals else ""}
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """,
        f"CREATE OR REPLACE TRIGGER {table}_rollup AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {function}();",
    ]


BACKDATED_FUNCTION = "movements_rollup_backdated"


def _pg_backdated_trigger_sql(table: str) -> list[str]:
    """The lock that keeps a movement dated before today out of a close (see close_days).

    A trigger of its own, fired before the rollup trigger (triggers on one
    event fire in the order of their names: "backdated" < "rollup"), so the
    rollup trigger reads the closed day after the lock is granted, in a
    snapshot of its own (read committed).
    """
    zone = _zone_literal()
    return [
        f"""
        CREATE OR REPLACE FUNCTION {BACKDATED_FUNCTION}() RETURNS trigger AS $$
        BEGIN
            -- Today's movements (sales) stop at this test and never wait.
            IF EXISTS (
                SELECT 1 FROM new_rows
                WHERE {_pg_day()} < (clock_timestamp() AT TIME ZONE {zone})::date
            ) THEN
                PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, {BACKDATED_LOCK});
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """,
        f"CREATE OR REPLACE TRIGGER {table}_backdated AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {BACKDATED_FUNCTION}();",
    ]


def _pg_truncate_trigger_sql(table: str, totals: bool = True) -> list[str]:
    """TRUNCATE sends no row to a trigger: the rollups are emptied with the movements.

    The two movement tables reference each other (reversals), so one is
    never truncated without the other; a demo or bench reset truncates both.
    """
    function = f"{table}_rollup_truncate"
    totals_sql = "".join(
        f"""
            IF EXISTS (SELECT 1 FROM {derived}) THEN
                TRUNCATE {derived};
            END IF;"""
        for derived in ((DAY_TOTALS, SALE_WINDOW) if totals else ())
    )
    return [
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
        BEGIN
            -- Already empty when truncated in the same statement (a test
            -- database flush), where truncating it again is refused.
            IF EXISTS (SELECT 1 FROM {TABLE}) THEN
                TRUNCATE {TABLE};
            END IF;{totals_sql}
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """,
        f"CREATE OR REPLACE TRIGGER {table}_rollup_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();",
    ]


def _sqlite_totals_sql(table: str) -> str:
    """The trigger's part for the closed days (see the module docstring)."""
    values = ", ".join(_terms(table, "NEW.").values())
    dated = f"(SELECT {LOCAL_DAY}(NEW.created_at) AS d, (SELECT MAX(day) FROM {DAY_TOTALS}) AS c)"
    sql = f"""
            INSERT INTO {DAY_TOTALS} (day, {", ".join(COLUMNS)})
            SELECT d, {values} FROM {dated} WHERE d <= c
            ON CONFLICT (day) DO UPDATE SET {_upsert_set("", "excluded")};"""
    if table == OUTFLOWS:
        sql += f"""
            INSERT INTO {SALE_WINDOW} (product_id, sale_count, sale_revenue)
            SELECT NEW.product_id, 1, NEW.quantity * NEW.unit_price FROM {dated}
            WHERE NEW.reason = '{SALE}' AND d <= c
              AND d >= date(c, '-{CLOSED_WINDOW_DAYS - 1} days')
            ON CONFLICT (product_id) DO UPDATE SET
                sale_count = sale_count + excluded.sale_count,
                sale_revenue = sale_revenue + excluded.sale_revenue;"""
    return sql


def _sqlite_trigger_sql(table: str, totals: bool = True) -> list[str]:
    values = ", ".join(_terms(table, "NEW.").values())
    return [
        f"DROP TRIGGER IF EXISTS {table}_rollup;",
        f"""
        CREATE TRIGGER {table}_rollup AFTER INSERT ON {table} BEGIN
            INSERT INTO {TABLE} (product_id, day, {", ".join(COLUMNS)})
            VALUES (NEW.product_id, {LOCAL_DAY}(NEW.created_at), {values})
            ON CONFLICT (product_id, day) DO UPDATE SET {_upsert_set("", "excluded")};
            {_sqlite_totals_sql(table) if totals else ""}
        END;
        """,
    ]


def trigger_sql(vendor: str, totals: bool = True) -> list[str]:
    """The triggers' SQL; ``totals``: they keep the closed days' tables too."""
    if vendor == "postgresql":
        return [
            sql
            for table in (INFLOWS, OUTFLOWS)
            for sql in (
                *_pg_trigger_sql(table, totals),
                *_pg_truncate_trigger_sql(table, totals),
                *(_pg_backdated_trigger_sql(table) if totals else ()),
            )
        ]
    if vendor == "sqlite":
        return [sql for table in (INFLOWS, OUTFLOWS) for sql in _sqlite_trigger_sql(table, totals)]
    raise RuntimeError(f"No rollup triggers for database {vendor!r}.")


def drop_trigger_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            *(f"DROP TRIGGER IF EXISTS {t}_backdated ON {t};" for t in (INFLOWS, OUTFLOWS)),
            f"DROP FUNCTION IF EXISTS {BACKDATED_FUNCTION}();",
            *(
                f"DROP {kind} IF EXISTS {t}_rollup{suffix}{where};"
                for t in (INFLOWS, OUTFLOWS)
                for suffix in ("", "_truncate")
                for kind, where in (("TRIGGER", f" ON {t}"), ("FUNCTION", "()"))
            ),
        ]
    return [f"DROP TRIGGER IF EXISTS {t}_rollup;" for t in (INFLOWS, OUTFLOWS)]


def _movement_sums_sql(vendor: str) -> str:
    """Every movement summed per (product, local day): what the rollups must hold.

    One pass over each movement table, combined and grouped once.
    """
    day = _pg_day() if vendor == "postgresql" else f"{LOCAL_DAY}(created_at)"
    parts = []
    for table in (INFLOWS, OUTFLOWS):
        terms = ", ".join(f"{term} AS {column}" for column, term in _terms(table).items())
        parts.append(f"SELECT product_id, {day} AS day, {terms} FROM {table}")
    sums = ", ".join(f"SUM({column}) AS {column}" for column in COLUMNS)
    return (
        f"SELECT product_id, day, {sums} FROM ({' UNION ALL '.join(parts)}) m "
        "GROUP BY product_id, day"
    )


def _execute(connection, statements: list[str]) -> None:
    # A plain cursor: the trigger bodies' "%" must not be read as a placeholder.
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _has_totals(connection) -> bool:
    # Migration 0004 installs the triggers before 0007 creates the closed
    # days' tables: a trigger naming a table that does not exist yet would
    # fail every insert (and, on SQLite, every later table rebuild).
    return {DAY_TOTALS, SALE_WINDOW} <= set(connection.introspection.table_names())


def install_triggers(connection=default_connection) -> None:
    _execute(connection, trigger_sql(connection.vendor, _has_totals(connection)))


def drop_triggers(connection=default_connection) -> None:
    _execute(connection, drop_trigger_sql(connection.vendor))


def backfill(connection=default_connection) -> None:
    """Replace every rollup by the sums of the movements: one INSERT ... SELECT ... GROUP BY.

    Rows go in day order, so one day's rows sit together on disk and the
    dashboard's 30-day window is a short range of the table.
    """
    statements = [f"DELETE FROM {TABLE}"]
    if connection.vendor == "postgresql":
        statements[:0] = [
            # No movement may commit between the read below and the end of
            # this transaction (its rollup would be counted twice or lost):
            # SHARE blocks inserts, not reads.
            f"LOCK TABLE {INFLOWS}, {OUTFLOWS} IN SHARE MODE",
            # Ten million movements group in memory instead of spilling to
            # many small sort files; SET LOCAL ends with the transaction.
            "SET LOCAL work_mem = '256MB'",
        ]
    statements.append(
        f"INSERT INTO {TABLE} (product_id, day, {', '.join(COLUMNS)}) "
        f"SELECT * FROM ({_movement_sums_sql(connection.vendor)}) s ORDER BY day, product_id"
    )
    with transaction.atomic(using=connection.alias):
        _execute(connection, statements)


def rebuild(connection=default_connection) -> None:
    """Write the triggers again (with today's ``TIME_ZONE``) and recompute every rollup."""
    with transaction.atomic(using=connection.alias):
        install_triggers(connection)
        backfill(connection)
        if _has_totals(connection):
            backfill_totals(connection)


# --- the closed days --------------------------------------------------------


def _closed(cursor) -> date | None:
    cursor.execute(f"SELECT MAX(day) FROM {DAY_TOTALS}")
    value = cursor.fetchone()[0]
    # SQLite returns the date as text.
    return value if value is None or isinstance(value, date) else date.fromisoformat(value)


def closed_day(connection=default_connection) -> date | None:
    """The last closed day: the rollup triggers keep the closed days' tables up to it."""
    with connection.cursor() as cursor:
        return _closed(cursor)


def _close(cursor, last: date, closed: date | None) -> None:
    """Close the days after ``closed`` (None: none was) up to ``last``, from the rollups.

    The caller holds what keeps movements out meanwhile (see close_days).
    """
    sums = ", ".join(f"SUM({column})" for column in COLUMNS)
    after = "day > %s AND " if closed else ""
    before = [closed] if closed else []
    cursor.execute(
        f"INSERT INTO {DAY_TOTALS} (day, {', '.join(COLUMNS)}) "
        f"SELECT day, {sums} FROM {TABLE} WHERE {after}day <= %s GROUP BY day",
        [*before, last],
    )
    # ``last`` must have a row even without a movement: the latest row's
    # day is what says which days are closed.
    zeros = ", ".join("0" for _ in COLUMNS)
    cursor.execute(
        f"INSERT INTO {DAY_TOTALS} (day, {', '.join(COLUMNS)}) SELECT %s, {zeros} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {DAY_TOTALS} WHERE day = %s)",
        [last, last],
    )
    first = last - timedelta(days=CLOSED_WINDOW_DAYS - 1)
    if closed is None or closed < first:
        # The old window and the new one do not overlap: sum it anew.
        cursor.execute(f"DELETE FROM {SALE_WINDOW}")
        cursor.execute(
            f"INSERT INTO {SALE_WINDOW} (product_id, sale_count, sale_revenue) "
            f"SELECT product_id, SUM(sale_count), SUM(sale_revenue) FROM {TABLE} "
            "WHERE day >= %s AND day <= %s AND sale_count > 0 GROUP BY product_id",
            [first, last],
        )
        return
    # The days that enter the window are added, the days that leave it are
    # taken off: two days' rollups for a one-day move.
    left = first - timedelta(days=1)
    old_first = closed - timedelta(days=CLOSED_WINDOW_DAYS - 1)
    moved = "sale_count > 0 AND (day > %s AND day <= %s OR day >= %s AND day <= %s)"
    params = [closed, last, old_first, left]
    sign = "CASE WHEN day > %s THEN 1 ELSE -1 END"
    cursor.execute(
        f"INSERT INTO {SALE_WINDOW} (product_id, sale_count, sale_revenue) "
        f"SELECT product_id, SUM({sign} * sale_count), SUM({sign} * sale_revenue) "
        f"FROM {TABLE} WHERE {moved} GROUP BY product_id ORDER BY product_id "
        f"ON CONFLICT (product_id) DO UPDATE SET "
        f"sale_count = {SALE_WINDOW}.sale_count + excluded.sale_count, "
        f"sale_revenue = {SALE_WINDOW}.sale_revenue + excluded.sale_revenue",
        [closed, closed, *params],
    )
    cursor.execute(
        f"DELETE FROM {SALE_WINDOW} WHERE sale_count = 0 AND product_id IN "
        f"(SELECT product_id FROM {TABLE} WHERE day >= %s AND day <= %s)",
        [old_first, left],
    )


# Transactions of this database, other than ours, that may have written
# movements: an INSERT holds ROW EXCLUSIVE on its table until it ends (the
# other modes are the ones a writer may hold instead, by LOCK TABLE).
# Readers (ACCESS SHARE) are not waited for.
_WRITERS_SQL = f"""
    SELECT DISTINCT virtualtransaction FROM pg_locks
    WHERE locktype = 'relation' AND granted
      AND mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
                   'AccessExclusiveLock')
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND relation IN ('{INFLOWS}'::regclass, '{OUTFLOWS}'::regclass)
      AND pid IS DISTINCT FROM pg_backend_pid()
"""
# Which of them still run: a transaction holds the lock on its own virtual
# transaction id until it has ended (committed and visible, or rolled back).
_RUNNING_SQL = (
    "SELECT virtualxid FROM pg_locks WHERE locktype = 'virtualxid' AND granted "
    "AND mode = 'ExclusiveLock' AND virtualxid = ANY(%s)"
)


def _day_over(cursor, day: date) -> tuple[bool, float]:
    """Whether ``day`` is over by the database's clock, as the triggers date; seconds left."""
    zone = _zone_literal()
    cursor.execute(
        f"SELECT (clock_timestamp() AT TIME ZONE {zone})::date > %s, "
        f"EXTRACT(EPOCH FROM ((%s::date + 1)::timestamp AT TIME ZONE {zone}) - clock_timestamp())",
        [day, day],
    )
    over, remaining = cursor.fetchone()
    return over, float(remaining)


def _with_lock_timeout(cursor, sql: str) -> None:
    cursor.execute("SELECT current_setting('lock_timeout')")
    previous = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [CLOSE_LOCK_TIMEOUT])
    cursor.execute(sql)
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _writers_done(cursor) -> bool:
    """Wait (up to CLOSE_WAIT_SECONDS) for the transactions writing movements now to end."""
    cursor.execute(_WRITERS_SQL)
    running = [row[0] for row in cursor.fetchall()]
    deadline = time.monotonic() + CLOSE_WAIT_SECONDS
    pause = 0.005
    while running:
        if time.monotonic() >= deadline:
            return False
        # Polled, not a lock wait: a sale that starts meanwhile queues
        # behind nothing of ours.
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
        cursor.execute(_RUNNING_SQL, [running])
        running = [row[0] for row in cursor.fetchall()]
    return True


def _hold_off_movements(cursor, last: date) -> bool:
    """Make sure no movement dated up to ``last`` commits unseen by the close; False: busy.

    A movement the close does not see (committed after its reads) and the
    trigger does not add to the closed days' tables (it read the closed day
    before the close committed) would be lost. Which movements can be so:

    - those dated before the database clock's today when the trigger runs
      take BACKDATED_LOCK shared: taking it exclusively waits for the ones
      in flight and makes the others wait for the commit;
    - the others were written while their day was the database's today. Once
      the database's clock is past ``last``, those dated up to ``last`` were
      all written already: waiting for the transactions writing movements
      now is enough. Sales that start meanwhile (today's) wait for nothing.
    """
    over, remaining = _day_over(cursor, last)
    if not over and remaining > CLOCK_SKEW_SECONDS:
        # ``last`` is not over by far: only a test, or a clock set wrong,
        # asks for that. Movements dated on it are still being written, with
        # no lock: keep them all out until this commits. SHARE ROW
        # EXCLUSIVE waits for the transactions writing movements and blocks
        # new ones.
        _with_lock_timeout(cursor, f"LOCK TABLE {INFLOWS}, {OUTFLOWS} IN SHARE ROW EXCLUSIVE MODE")
        return True
    deadline = time.monotonic() + CLOCK_SKEW_SECONDS + 1
    while not over:
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(max(remaining, 0) + 0.01, 1))
        over, remaining = _day_over(cursor, last)
    # The writers first, then the lock: a transaction that wrote today's
    # movement before midnight and writes one dated before today now takes
    # the lock shared without waiting for us while we wait for it.
    if not _writers_done(cursor):
        return False
    _with_lock_timeout(cursor, f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {BACKDATED_LOCK})")
    return True


def close_days(today: date, connection=default_connection) -> date | None:
    """Close every day before ``today`` not closed yet; returns the last closed day.

    Usually there is nothing to do (one read). Once a day it sums the day
    that ended into ``DayTotal`` and moves ``SaleWindow`` by a day. On
    PostgreSQL no sale of today waits for it (only one stamped by the app
    before midnight that reaches the database after it, as a backdated
    movement, may wait for the close): it first waits for the transactions
    writing movements when it starts (written before midnight, they may be
    dated on the day it closes), then keeps out only movements dated before
    the database's today while it sums (:func:`_hold_off_movements`). When
    they do not commit in time, or another close is running, nothing is
    closed and the dashboard reads the rollups for the open days instead.

    Cost: moving the window updates one ``SaleWindow`` row per product sold
    on the day that leaves or the day that enters it. At 1,000,000 products
    and 10,000,000 movements (~100,000 product-days a day) that is ~175,000
    rows, 5-8 s, during which only backdated movements wait.
    """
    last = today - timedelta(days=1)
    closed = closed_day(connection)
    if closed is not None and closed >= last:
        return closed
    if connection.vendor != "postgresql":
        # SQLite begins its transactions IMMEDIATE (settings): this one waits
        # for the writer and keeps the others out; there is one at a time.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            closed = _closed(cursor)
            if closed is None or closed < last:
                _close(cursor, last, closed)
                closed = last
        return closed
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            # Two refreshes after midnight: one closes, the other reads the
            # open days' rollups rather than wait (or close a day twice).
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_CLASS, CLOSE_LOCK])
            if not cursor.fetchone()[0]:
                logger.info("Days not closed: another close is running")
                return closed
            closed = _closed(cursor)
            if closed is not None and closed >= last:
                return closed  # closed by the close that just ended
            if not _hold_off_movements(cursor, last):
                logger.info(
                    "Days not closed: movements still being written; the next refresh retries"
                )
                return closed
            # Read again under the locks: whatever happened while we waited,
            # a day is closed once.
            closed = _closed(cursor)
            if closed is not None and closed >= last:
                return closed
            _close(cursor, last, closed)
            closed = last
    except OperationalError:
        logger.info("Days not closed: the movement tables are busy; the next refresh retries")
        return closed_day(connection)
    return closed


def backfill_totals(connection=default_connection, today: date | None = None) -> None:
    """Sum the closed days' tables anew from the rollups, closed up to yesterday."""
    today = today or timezones.shop_today()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # After a close that is running, never beside it.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, CLOSE_LOCK])
            cursor.execute(f"LOCK TABLE {INFLOWS}, {OUTFLOWS} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {DAY_TOTALS}")
        _close(cursor, today - timedelta(days=1), None)


def _time_zone_changed(*, setting, **kwargs) -> None:
    """Tests that change TIME_ZONE get rollups counted in the new zone's days.

    Only ``override_settings`` sends ``setting_changed``; in production a
    change of ``TIME_ZONE`` is followed by ``manage.py rebuild_rollups``.
    """
    if setting != "TIME_ZONE":
        return
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        try:
            if TABLE in connection.introspection.table_names():
                rebuild(connection)
        except Exception:
            # A test without database access (pytest-django refuses it) that
            # changes TIME_ZONE has no rollups to rebuild.
            logger.debug("Daily rollups not rebuilt for the new TIME_ZONE", exc_info=True)


def follow_time_zone_changes() -> None:
    setting_changed.connect(_time_zone_changed, dispatch_uid="movements.rollups.time_zone")


@dataclass(frozen=True)
class RollupDifference:
    product_id: int
    day: str
    column: str
    recorded: object
    expected: object


def rollup_differences(connection=default_connection, limit: int = 1000) -> list[RollupDifference]:
    """(product, day, column) where the rollups differ from the movements, at most ``limit``.

    A full outer join of the stored rollups and the movements summed again:
    a missing row, an extra row and a wrong figure all show.
    """
    columns = ", ".join(f"r.{c} AS r_{c}, m.{c} AS m_{c}" for c in COLUMNS)
    differs = " OR ".join(f"COALESCE(r.{c}, 0) <> COALESCE(m.{c}, 0)" for c in COLUMNS)
    sql = f"""
        SELECT COALESCE(r.product_id, m.product_id), COALESCE(r.day, m.day), {columns}
        FROM {TABLE} r
        FULL OUTER JOIN ({_movement_sums_sql(connection.vendor)}) m
            ON m.product_id = r.product_id AND m.day = r.day
        WHERE r.product_id IS NULL OR m.product_id IS NULL OR {differs}
        ORDER BY 1, 2
        LIMIT %s
    """
    differences = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        for row in cursor.fetchall():
            product_id, day, values = row[0], str(row[1])[:10], row[2:]
            for index, column in enumerate(COLUMNS):
                recorded, expected = values[2 * index], values[2 * index + 1]
                if _number(recorded) != _number(expected):
                    differences.append(
                        RollupDifference(product_id, day, column, recorded, expected)
                    )
    return differences


def _number(value):
    from decimal import Decimal

    if value is None:
        return Decimal(0)
    # SQLite returns sums of decimals as floats: compare to the cent.
    return Decimal(str(value)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class TotalDifference:
    table: str  # DAY_TOTALS or SALE_WINDOW
    key: str  # the day, or the product id
    column: str
    recorded: object
    expected: object


def _compare(cursor, table: str, key: str, stored: str, expected: str, columns, params, limit):
    """Rows of ``stored`` and ``expected`` (keyed by ``key``) that differ; a missing row is 0."""
    differs = " OR ".join(f"COALESCE(s.{c}, 0) <> COALESCE(e.{c}, 0)" for c in columns)
    values = ", ".join(f"s.{c}, e.{c}" for c in columns)
    cursor.execute(
        f"SELECT COALESCE(s.{key}, e.{key}), {values} FROM ({stored}) s "
        f"FULL OUTER JOIN ({expected}) e ON e.{key} = s.{key} WHERE {differs} "
        f"ORDER BY 1 LIMIT %s",
        [*params, limit],
    )
    found = []
    for row in cursor.fetchall():
        for index, column in enumerate(columns):
            recorded, wanted = row[1 + 2 * index], row[2 + 2 * index]
            if _number(recorded) != _number(wanted):
                found.append(TotalDifference(table, str(row[0])[:10], column, recorded, wanted))
    return found


def totals_differences(connection=default_connection, limit: int = 1000) -> list[TotalDifference]:
    """Where the closed days' tables differ from their rollups, at most ``limit`` rows of each."""
    with connection.cursor() as cursor:
        closed = _closed(cursor)
        if closed is None:
            # Nothing closed yet (the first refresh closes the days): the
            # tables must be empty.
            closed = date.min
        sums = ", ".join(f"SUM({c}) AS {c}" for c in COLUMNS)
        found = _compare(
            cursor,
            DAY_TOTALS,
            "day",
            f"SELECT * FROM {DAY_TOTALS}",
            f"SELECT day, {sums} FROM {TABLE} WHERE day <= %s GROUP BY day",
            COLUMNS,
            [closed],
            limit,
        )
        first = closed - timedelta(days=CLOSED_WINDOW_DAYS - 1) if closed > date.min else closed
        found += _compare(
            cursor,
            SALE_WINDOW,
            "product_id",
            f"SELECT * FROM {SALE_WINDOW}",
            f"SELECT product_id, SUM(sale_count) AS sale_count, "
            f"SUM(sale_revenue) AS sale_revenue FROM {TABLE} "
            "WHERE day >= %s AND day <= %s AND sale_count > 0 GROUP BY product_id",
            ("sale_count", "sale_revenue"),
            [first, closed],
            limit,
        )
    return found
