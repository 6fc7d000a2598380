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

Only a movement's product holds its rollup row's lock, and every movement
already locks its product row first (``movements.services``), so the rollups
add no waiting between sales of different products.
"""

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection as default_connection
from django.db import connections, transaction

from movements.dbfunctions import LOCAL_DAY

logger = logging.getLogger(__name__)

TABLE = "movements_dailyrollup"
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


def _pg_trigger_sql(table: str) -> list[str]:
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
        BEGIN
            {body};
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """,
        f"CREATE OR REPLACE TRIGGER {table}_rollup AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {function}();",
    ]


def _pg_truncate_trigger_sql(table: str) -> list[str]:
    """TRUNCATE sends no row to a trigger: the rollups are emptied with the movements.

    The two movement tables reference each other (reversals), so one is
    never truncated without the other; a demo or bench reset truncates both.
    """
    function = f"{table}_rollup_truncate"
    return [
        f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
        BEGIN
            -- Already empty when truncated in the same statement (a test
            -- database flush), where truncating it again is refused.
            IF EXISTS (SELECT 1 FROM {TABLE}) THEN
                TRUNCATE {TABLE};
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """,
        f"CREATE OR REPLACE TRIGGER {table}_rollup_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}();",
    ]


def _sqlite_trigger_sql(table: str) -> list[str]:
    values = ", ".join(_terms(table, "NEW.").values())
    return [
        f"DROP TRIGGER IF EXISTS {table}_rollup;",
        f"""
        CREATE TRIGGER {table}_rollup AFTER INSERT ON {table} BEGIN
            INSERT INTO {TABLE} (product_id, day, {", ".join(COLUMNS)})
            VALUES (NEW.product_id, {LOCAL_DAY}(NEW.created_at), {values})
            ON CONFLICT (product_id, day) DO UPDATE SET {_upsert_set("", "excluded")};
        END;
        """,
    ]


def trigger_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            sql
            for table in (INFLOWS, OUTFLOWS)
            for sql in (*_pg_trigger_sql(table), *_pg_truncate_trigger_sql(table))
        ]
    if vendor == "sqlite":
        return [sql for table in (INFLOWS, OUTFLOWS) for sql in _sqlite_trigger_sql(table)]
    raise RuntimeError(f"No rollup triggers for database {vendor!r}.")


def drop_trigger_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP {kind} IF EXISTS {t}_rollup{suffix}{where};"
            for t in (INFLOWS, OUTFLOWS)
            for suffix in ("", "_truncate")
            for kind, where in (("TRIGGER", f" ON {t}"), ("FUNCTION", "()"))
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


def install_triggers(connection=default_connection) -> None:
    _execute(connection, trigger_sql(connection.vendor))


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
