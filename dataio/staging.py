"""Temporary tables an import streams its checked rows into, so memory stays flat.

An import reads, checks and stages a file in batches; nothing of a batch is
kept in Python once it is staged. Two tables live on the import's own
database connection (``CREATE TEMP TABLE``: no other session sees them):

- ``Keys``: the natural key of every row checked so far and its row number,
  indexed, so a key seen again thousands of rows later is still reported as
  a duplicate ("already on row 12");
- ``Rows``: the rows the import will write, in the model table's own column
  types, written at the end with one ``INSERT ... SELECT`` and one
  ``UPDATE ... FROM`` (the staging table swapped in), inside the caller's
  transaction: every row or none.

PostgreSQL fills them with COPY; SQLite (the embedded default) with
``executemany`` in batches under its 32,766 bound-parameter limit.
"""

from collections.abc import Iterable, Iterator

from django.db import DatabaseError, connection

KEYS_TABLE = "_import_keys"
ROWS_TABLE = "_import_rows"
# Rows fetched back at a time (movements replay staged rows through the ledger).
FETCH_ROWS = 2_000
# SQLite counts every bound parameter of a statement; stay well under 32,766.
SQLITE_MAX_PARAMETERS = 30_000


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _drop(cursor, table: str) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")


def drop_all() -> None:
    """Drop both tables; quiet when the transaction already failed (its rollback drops them)."""
    try:
        with connection.cursor() as cursor:
            _drop(cursor, KEYS_TABLE)
            _drop(cursor, ROWS_TABLE)
    except DatabaseError:
        pass


class Keys:
    """Natural keys seen so far (as text), with the row each was first seen on."""

    def __init__(self):
        with connection.cursor() as cursor:
            _drop(cursor, KEYS_TABLE)
            cursor.execute(
                f"CREATE TEMP TABLE {KEYS_TABLE} (key text PRIMARY KEY, row_number integer)"
            )

    def seen(self, keys: list[str]) -> dict[str, int]:
        """{key: first row} for those of ``keys`` already added."""
        found: dict[str, int] = {}
        if not keys:
            return found
        with connection.cursor() as cursor:
            if _postgresql():
                cursor.execute(
                    f"SELECT key, row_number FROM {KEYS_TABLE} WHERE key = ANY(%s)", [keys]
                )
                found.update(cursor.fetchall())
                return found
            step = SQLITE_MAX_PARAMETERS
            for start in range(0, len(keys), step):
                chunk = keys[start : start + step]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT key, row_number FROM {KEYS_TABLE} WHERE key IN ({marks})", chunk
                )
                found.update(cursor.fetchall())
        return found

    def add(self, pairs: list[tuple[str, int]]) -> None:
        _append(KEYS_TABLE, ["key", "row_number"], pairs)


def _append(table: str, columns: list[str], rows: Iterable[Iterable]) -> None:
    with connection.cursor() as cursor:
        if _postgresql():
            names = ", ".join(columns)
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows)
        )


class Rows:
    """Rows to write: the row number, the id of the row it updates (NULL: new), the values.

    ``payload`` instead of typed columns keeps each row as one text cell (a
    movement replayed through the ledger service row by row needs the
    Python values back, not the table's).
    """

    def __init__(self, model, attnames: list[str], *, payload: bool = False):
        self.model = model
        self.attnames = attnames
        self.payload = payload
        table = model._meta.db_table
        with connection.cursor() as cursor:
            _drop(cursor, ROWS_TABLE)
            if payload:
                cursor.execute(
                    f"CREATE TEMP TABLE {ROWS_TABLE} "
                    "(row_number integer PRIMARY KEY, payload text NOT NULL)"
                )
                self.columns = ["row_number", "payload"]
                return
            # The model table's own column types; no constraint is copied, so
            # ``pk`` may be NULL (a new row).
            columns = [model._meta.get_field(attname).column for attname in attnames]
            select = ", ".join(["0 AS row_number", "id AS pk", *columns])
            cursor.execute(
                f"CREATE TEMP TABLE {ROWS_TABLE} AS SELECT {select} FROM {table} WHERE 1 = 0"
            )
            self.columns = ["row_number", "pk", *columns]

    def add(self, rows: list[list]) -> None:
        """``rows``: [row number, pk or None, *values] (or [row number, payload])."""
        if rows:
            _append(ROWS_TABLE, self.columns, rows)

    def insert_new(self, fields: list[tuple], defaults: list) -> None:
        """INSERT the staged rows without a pk into the model table, in file order.

        ``fields``: (model field, position of its value in ``attnames`` or None);
        ``defaults``: the value of each field without a position (None else).
        """
        targets = ", ".join(field.column for field, _slot in fields)
        select = []
        params = []
        for (field, slot), default in zip(fields, defaults, strict=True):
            if slot is None:
                select.append("%s")
                params.append(field.get_db_prep_save(default, connection))
            else:
                select.append(f"s.{field.column}")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.model._meta.db_table} ({targets}) "
                f"SELECT {', '.join(select)} FROM {ROWS_TABLE} s "
                "WHERE s.pk IS NULL ORDER BY s.row_number",
                params,
            )

    def update_existing(self, attnames: list[str], extra: dict) -> None:
        """UPDATE the model rows the staged rows with a pk name; ``extra``: {field: value}."""
        table = self.model._meta.db_table
        assignments = [
            f"{self.model._meta.get_field(a).column} = s.{self.model._meta.get_field(a).column}"
            for a in attnames
        ]
        params = []
        for attname, value in extra.items():
            field = self.model._meta.get_field(attname)
            assignments.append(f"{field.column} = %s")
            params.append(field.get_db_prep_save(value, connection))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} FROM {ROWS_TABLE} s "
                f"WHERE {table}.id = s.pk AND s.pk IS NOT NULL",
                params,
            )

    def payloads(self) -> Iterator[tuple[int, str]]:
        """(row number, payload) in file order, ``FETCH_ROWS`` at a time.

        Keyset pages, not one cursor: the caller runs its own queries on
        the connection between rows, and a client-side cursor would hold
        every row in memory.
        """
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT row_number, payload FROM {ROWS_TABLE} WHERE row_number > %s "
                    "ORDER BY row_number LIMIT %s",
                    [last, FETCH_ROWS],
                )
                page = cursor.fetchall()
            if not page:
                return
            yield from page
            last = page[-1][0]
