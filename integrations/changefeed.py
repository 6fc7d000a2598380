"""The change feed: every change to products, movements and purchase orders, in commit order.

``updated_after`` is a write-time watermark: a transaction that stamped its
rows and commits a minute later can slip behind a client that synced in
between. The feed cannot: triggers write one ``Change`` row per changed row,
in the changing transaction, and a reader sees a row only once every
transaction that could still add a row before it has ended.

- PostgreSQL: each row records its transaction id (``pg_current_xact_id()``).
  A reader returns rows ordered by (transaction id, sequence) and only those
  whose transaction id is below the oldest transaction still running
  (``pg_snapshot_xmin(pg_current_snapshot())``): such a transaction has ended,
  and every transaction that has not yet written gets a larger id. So a
  cursor (the last transaction id and sequence returned) only ever moves
  forward, and nothing can appear behind it later.
- SQLite has one writer at a time and commits in sequence order: the
  transaction id is 0 and the sequence alone orders the feed.

Statement triggers with transition tables on PostgreSQL (a bulk insert or a
COPY costs one INSERT ... SELECT), row triggers on SQLite. A bulk load may
set ``inventory.change_feed = 'off'`` for its transaction (``SET LOCAL``), so
seeding a demo does not fill the feed with rows no client needs.
"""

from django.db import connection as default_connection

TABLE = "integrations_change"
# table -> (kind, the column that holds the changed object's id). An order's
# lines are part of the order: a line added, changed or removed is a change
# of its order.
SOURCES = {
    "catalog_product": ("product", "id"),
    "movements_inflow": ("inflow", "id"),
    "movements_outflow": ("outflow", "id"),
    "purchasing_purchaseorder": ("purchase_order", "id"),
    "purchasing_purchaseorderline": ("purchase_order", "order_id"),
}
# Products and orders change (insert, update, delete); movements are only
# inserted. Any change of a line is an "upsert" of its order.
EVENTS = {
    "catalog_product": ("INSERT", "UPDATE", "DELETE"),
    "movements_inflow": ("INSERT",),
    "movements_outflow": ("INSERT",),
    "purchasing_purchaseorder": ("INSERT", "UPDATE", "DELETE"),
    "purchasing_purchaseorderline": ("INSERT", "UPDATE", "DELETE"),
}
WHOLE_OBJECT = {"catalog_product", "purchasing_purchaseorder"}  # their DELETE is the object's
SWITCH = "inventory.change_feed"


def _triggers(tables):
    """(trigger name, table, event, kind, id column, op) of ``tables`` (all by default)."""
    for table in tables or SOURCES:
        kind, column = SOURCES[table]
        for event in EVENTS[table]:
            op = "delete" if event == "DELETE" and table in WHOLE_OBJECT else "upsert"
            yield f"{table}_feed_{event.lower()}", table, event, kind, column, op


def _pg_sql(tables) -> list[str]:
    statements = []
    for name, table, event, kind, column, op in _triggers(tables):
        rows = "old_rows" if event == "DELETE" else "new_rows"
        transition = "OLD" if event == "DELETE" else "NEW"
        statements += [
            f"""
            CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
            BEGIN
                IF current_setting('{SWITCH}', true) = 'off' THEN
                    RETURN NULL;
                END IF;
                INSERT INTO {TABLE} (txid, kind, object_id, op, at)
                SELECT pg_current_xact_id()::text::bigint, '{kind}', object_id, '{op}', now()
                FROM (SELECT DISTINCT {column} AS object_id FROM {rows}) AS changed
                ORDER BY object_id;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;
            """,
            f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table} "
            f"REFERENCING {transition} TABLE AS {rows} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {name}();",
        ]
    return statements


def _sqlite_sql(tables) -> list[str]:
    statements = []
    for name, table, event, kind, column, op in _triggers(tables):
        row = "OLD" if event == "DELETE" else "NEW"
        statements += [
            f"DROP TRIGGER IF EXISTS {name};",
            f"""
            CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN
                INSERT INTO {TABLE} (txid, kind, object_id, op, at)
                VALUES (0, '{kind}', {row}.{column}, '{op}', strftime('%Y-%m-%d %H:%M:%f', 'now'));
            END;
            """,
        ]
    return statements


def _drop_sql(vendor: str, tables) -> list[str]:
    if vendor == "postgresql":
        return [
            sql
            for name, table, *_ in _triggers(tables)
            for sql in (
                f"DROP TRIGGER IF EXISTS {name} ON {table};",
                f"DROP FUNCTION IF EXISTS {name}();",
            )
        ]
    return [f"DROP TRIGGER IF EXISTS {name};" for name, *_ in _triggers(tables)]


def trigger_sql(vendor: str, tables=None) -> list[str]:
    if vendor == "postgresql":
        return _pg_sql(tables)
    if vendor == "sqlite":
        return _sqlite_sql(tables)
    raise RuntimeError(f"No change feed triggers for database {vendor!r}.")


def _execute(connection, statements) -> None:
    # A plain cursor: "%" in the SQL is not a placeholder.
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install_triggers(connection=default_connection, tables=None) -> None:
    """The triggers of ``tables`` (each migration names the tables it knows), or all."""
    _execute(connection, trigger_sql(connection.vendor, tables))


def drop_triggers(connection=default_connection, tables=None) -> None:
    _execute(connection, _drop_sql(connection.vendor, tables))
