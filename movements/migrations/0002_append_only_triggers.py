"""Movements are append-only: the database itself refuses UPDATE and DELETE.

The ledger service only inserts; these triggers make sure no other path (a
raw query, a shell session, a future bug) rewrites or erases history.
"""

from django.db import migrations

TABLES = ("movements_inflow", "movements_outflow")

POSTGRESQL_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION movements_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'movements are append-only: % on % refused; record a reversal instead',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    *[
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION movements_refuse_change();"
        for table in TABLES
    ],
]
POSTGRESQL_BACKWARD = [
    *[f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};" for table in TABLES],
    "DROP FUNCTION IF EXISTS movements_refuse_change();",
]

SQLITE_FORWARD = [
    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'movements are append-only: {op} on {table} refused'); END;"
    for table in TABLES
    for op in ("UPDATE", "DELETE")
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {table}_no_{op.lower()};"
    for table in TABLES
    for op in ("UPDATE", "DELETE")
]

STATEMENTS = {
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
}


def _run(schema_editor, direction: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(
            f"No append-only triggers for database {schema_editor.connection.vendor!r}."
        )
    # A plain cursor: the trigger body's "%" must not be read as a placeholder.
    with schema_editor.connection.cursor() as cursor:
        for sql in statements[direction]:
            cursor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, 0)


def backward(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("movements", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
