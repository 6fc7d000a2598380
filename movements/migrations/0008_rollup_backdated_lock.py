"""A lock for the movements dated before today, so that closing a day keeps only them waiting.

``movements.rollups.close_days`` used to lock both movement tables while it
summed the day that ended (5-8 s at 10,000,000 movements): every sale waited.
Now it holds an advisory lock instead, which only a movement dated before the
database clock's today asks for, through this statement trigger. It fires
before the rollup trigger (triggers on one event fire in the order of their
names), so the rollup trigger reads the last closed day once a close has
committed.

PostgreSQL only: on SQLite there is one writer at a time. The SQL is written
out here, as it is now, rather than taken from ``movements.rollups``
(``rebuild_rollups`` writes the same trigger from there). The time zone is
``TIME_ZONE``'s, as in the rollup triggers.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations

TABLES = ("movements_inflow", "movements_outflow")
FUNCTION = "movements_rollup_backdated"
# movements.rollups.LOCK_CLASS, BACKDATED_LOCK
LOCK_CLASS, BACKDATED_LOCK = 0x726F6C6C, 2


def _zone() -> str:
    ZoneInfo(settings.TIME_ZONE)  # refuses a name that is not a zone (and so any quote)
    return "'" + settings.TIME_ZONE.replace("'", "''") + "'"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    zone = _zone()
    statements = [
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
        BEGIN
            -- Today's movements (sales) stop at this test and never wait.
            IF EXISTS (
                SELECT 1 FROM new_rows
                WHERE (created_at AT TIME ZONE {zone})::date
                    < (clock_timestamp() AT TIME ZONE {zone})::date
            ) THEN
                PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, {BACKDATED_LOCK});
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """,
        *(
            f"CREATE OR REPLACE TRIGGER {table}_backdated AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {FUNCTION}();"
            for table in TABLES
        ),
    ]
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_backdated ON {table}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):
    dependencies = [
        ("movements", "0007_day_totals_sale_window"),
    ]

    operations = [migrations.RunPython(forward, backward)]
