"""The change feed: every change to products and movements, in commit order.

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
SOURCES = {
    # table -> kind
    "catalog_product": "product",
    "movements_inflow": "inflow",
    "movements_outflow": "outflow",
}
# A product changes (insert, update, delete); movements are only inserted.
EVENTS = {"product": ("INSERT", "UPDATE", "DELETE"), "inflow": ("INSERT",), "outflow": ("INSERT",)}
SWITCH = "inventory.change_feed"


def _pg_sql() -> list[str]:
    statements = []
    for table, kind in SOURCES.items():
        for event in EVENTS[kind]:
            name = f"{table}_feed_{event.lower()}"
            rows = "old_rows" if event == "DELETE" else "new_rows"
            op = "delete" if event == "DELETE" else "upsert"
            transition = "OLD" if event == "DELETE" else "NEW"
            statements += [
                f"""
                CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
                BEGIN
                    IF current_setting('{SWITCH}', true) = 'off' THEN
                        RETURN NULL;
                    END IF;
                    INSERT INTO {TABLE} (txid, kind, object_id, op, at)
                    SELECT pg_current_xact_id()::text::bigint, '{kind}', id, '{op}', now()
                    FROM {rows} ORDER BY id;
                    RETURN NULL;
                END;
                $$ LANGUAGE plpgsql;
                """,
                f"CREATE OR REPLACE TRIGGER {name} AFTER {event} ON {table} "
                f"REFERENCING {transition} TABLE AS {rows} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {name}();",
            ]
    return statements


def _sqlite_sql() -> list[str]:
    statements = []
    for table, kind in SOURCES.items():
        for event in EVENTS[kind]:
            name = f"{table}_feed_{event.lower()}"
            row = "OLD" if event == "DELETE" else "NEW"
            op = "delete" if event == "DELETE" else "upsert"
            statements += [
                f"DROP TRIGGER IF EXISTS {name};",
                f"""
                CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN
                    INSERT INTO {TABLE} (txid, kind, object_id, op, at)
                    VALUES (0, '{kind}', {row}.id, '{op}', strftime('%Y-%m-%d %H:%M:%f', 'now'));
                END;
                """,
            ]
    return statements


def _drop_sql(vendor: str) -> list[str]:
    names = [
        f"{table}_feed_{event.lower()}" for table, kind in SOURCES.items() for event in EVENTS[kind]
    ]
    if vendor == "postgresql":
        tables = {
            f"{table}_feed_{event.lower()}": table
            for table, kind in SOURCES.items()
            for event in EVENTS[kind]
        }
        return [
            sql
            for name in names
            for sql in (
                f"DROP TRIGGER IF EXISTS {name} ON {tables[name]};",
                f"DROP FUNCTION IF EXISTS {name}();",
            )
        ]
    return [f"DROP TRIGGER IF EXISTS {name};" for name in names]


def trigger_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return _pg_sql()
    if vendor == "sqlite":
        return _sqlite_sql()
    raise RuntimeError(f"No change feed triggers for database {vendor!r}.")


def _execute(connection, statements) -> None:
    # A plain cursor: "%" in the SQL is not a placeholder.
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def install_triggers(connection=default_connection) -> None:
    _execute(connection, trigger_sql(connection.vendor))


def drop_triggers(connection=default_connection) -> None:
    _execute(connection, _drop_sql(connection.vendor))
