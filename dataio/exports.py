"""Streaming export: the Resource's export columns, written row by row.

The rows come from ``values_list(...).iterator()`` (a server-side cursor), so
memory stays flat whatever the row count; CSV goes through ``csv.writer``,
XLSX through a streaming SpreadsheetML writer (``dataio.xlsx``), JSON is written one
object at a time.

Spreadsheet formula injection: text a spreadsheet could run is quoted with
``'`` in CSV and XLSX (the rule, and its inverse on import, is in
``dataio.spreadsheet``). Numbers are written as numbers and never
quoted. JSON keeps the exact text: no spreadsheet opens it.

Dates are in the current time zone, as the admin shows them: the job runs in
the zone of the person who started it (``dataio.notifications.job_time_zone``,
their browser's, else ``TIME_ZONE``). Real date cells in XLSX,
``YYYY-MM-DD HH:MM:SS`` in CSV (which spreadsheets read as dates), ISO 8601
with the offset in JSON.
"""

import csv
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

import orjson
from django.db import DataError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import widgets

from dataio.resources import FlagWidget, MoneyWidget, WholeNumberWidget
from dataio.spreadsheet import SQL_QUOTE_CONDITION, quote
from dataio.xlsx import StreamingSheet
from project import timezones

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 10_000
CHUNK = 2_000
CSV_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_SQL_CSV_DATE_FORMAT = "YYYY-MM-DD HH24:MI:SS"


def export_columns(resource) -> list[tuple[str, str, str]]:
    """(header, ORM path, kind) per export column; kind: text, number, bool, datetime."""
    columns = []
    for field in resource.get_export_fields():
        path = field.attribute
        widget = field.widget
        if isinstance(widget, widgets.ForeignKeyWidget):
            path = f"{path}__{widget.field}"
        if isinstance(widget, MoneyWidget | WholeNumberWidget | widgets.NumberWidget):
            kind = "number"
        elif isinstance(widget, FlagWidget | widgets.BooleanWidget):
            kind = "bool"
        elif isinstance(widget, widgets.DateTimeWidget | widgets.DateWidget):
            kind = "datetime"
        else:
            kind = "text"
        columns.append((field.column_name, path, kind))
    return columns


def _rows(queryset, paths) -> Iterable[tuple]:
    return queryset.values_list(*paths).iterator(chunk_size=CHUNK)


def write_csv(path: Path, columns, rows: Iterable[tuple], tick) -> int:
    text = [i for i, (_h, _p, kind) in enumerate(columns) if kind == "text"]
    dates = [i for i, (_h, _p, kind) in enumerate(columns) if kind == "datetime"]
    count = 0
    zone = timezone.get_current_timezone()
    # utf-8-sig: Excel reads the file as UTF-8 only with the BOM.
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([header for header, _p, _k in columns])
        write = writer.writerow
        for row in rows:
            row = list(row)
            for i in text:
                value = row[i]
                if value:
                    row[i] = quote(value)
            for i in dates:
                if row[i] is not None:
                    row[i] = row[i].astimezone(zone).strftime(CSV_DATE_FORMAT)
            write(row)
            count += 1
            if count % PROGRESS_EVERY == 0:
                tick(count)
    return count


def write_xlsx(path: Path, columns, rows: Iterable[tuple], tick) -> int:
    # A streaming writer of our own: about six times as fast as xlsxwriter's
    # constant_memory mode on the same cells (benchmarks/xlsx_writers.py).
    with StreamingSheet(path, _("Export"), zone=timezone.get_current_timezone()) as sheet:
        sheet.header([header for header, _p, _k in columns])
        return sheet.rows(
            rows,
            [kind for _h, _p, kind in columns],
            transform=quote,
            tick=tick,
            every=PROGRESS_EVERY,
        )


def _json_default(value):
    if isinstance(value, Decimal):
        # Prices have 12 digits at most: a double holds them exactly.
        return float(value)
    raise TypeError


def write_json(path: Path, columns, rows: Iterable[tuple], tick) -> int:
    headers = [header for header, _p, _k in columns]
    dates = [i for i, (_h, _p, kind) in enumerate(columns) if kind == "datetime"]
    zone = timezone.get_current_timezone()
    count = 0
    with open(path, "wb") as handle:
        handle.write(b"[")
        for row in rows:
            if dates:
                row = list(row)
                for i in dates:
                    if row[i] is not None:
                        row[i] = row[i].astimezone(zone)
            handle.write(b"\n" if count == 0 else b",\n")
            handle.write(orjson.dumps(dict(zip(headers, row, strict=True)), default=_json_default))
            count += 1
            if count % PROGRESS_EVERY == 0:
                tick(count)
        handle.write(b"\n]\n")
    return count


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "json": write_json}


def _postgresql_knows(zone: str) -> bool:
    """Whether PostgreSQL's own zone database has ``zone`` (Python's may be newer).

    Asked by using it (2 ms), in a savepoint; pg_timezone_names reads every
    zone file (100-200 ms).
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT now() AT TIME ZONE %s", [zone])
    except DataError:
        return False
    return True


def copy_csv(path: Path, columns, queryset, tick, total: int, zone: str) -> int:
    """CSV written by PostgreSQL (COPY TO), the same cells as ``write_csv``.

    Formula quoting, booleans and local dates (in ``zone``, an IANA name) are
    done in the SELECT, so Python only moves bytes: several times faster than
    csv.writer on a wide row. The rows keep the queryset's order (a plain
    projection of an ordered subquery).
    """
    aliases = {f"c{i}": F(column_path) for i, (_h, column_path, _k) in enumerate(columns)}
    inner, inner_params = queryset.values(**aliases).query.sql_with_params()
    select = []
    params: list = []
    for i, (_header, _path, kind) in enumerate(columns):
        c = f"t.c{i}"
        if kind == "text":
            condition = SQL_QUOTE_CONDITION.format(c=c)
            select.append(f"CASE WHEN {condition} THEN '''' || {c} ELSE {c} END")
        elif kind == "bool":
            select.append(f"CASE WHEN {c} THEN 'True' WHEN NOT {c} THEN 'False' END")
        elif kind == "datetime":
            select.append(f"to_char({c} AT TIME ZONE %s, '{_SQL_CSV_DATE_FORMAT}')")
            params.append(zone)
        else:
            select.append(c)
    params.extend(inner_params)
    sql = f"COPY (SELECT {', '.join(select)} FROM ({inner}) t) TO STDOUT WITH (FORMAT csv)"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle).writerow([header for header, _p, _k in columns])
    lines = 0
    step = PROGRESS_EVERY
    with connection.cursor() as cursor:
        with open(path, "ab") as handle, cursor.cursor.copy(sql, params) as copy:
            for block in copy:
                handle.write(block)
                if total:
                    before = lines
                    lines += bytes(block).count(b"\n")
                    if lines // step > before // step:
                        tick(min(lines, total))
        # The COPY's command tag: the exact number of rows written.
        count = cursor.cursor.rowcount
    return count


def export_queryset(
    resource, queryset, file_format: str, path: Path, *, progress: Progress | None = None
) -> int:
    """Write ``queryset`` with ``resource``'s export columns; returns the row count."""
    columns = export_columns(resource)
    total = queryset.count() if progress else 0

    def tick(count: int) -> None:
        if progress:
            progress(count, total)

    if file_format == "csv" and connection.vendor == "postgresql":
        zone = timezones.current_name()
        # A zone PostgreSQL does not know would fail the COPY: Python writes it.
        if not any(kind == "datetime" for _h, _p, kind in columns) or _postgresql_knows(zone):
            return copy_csv(path, columns, queryset, tick, total, zone)
    rows = _rows(queryset, [column_path for _h, column_path, _k in columns])
    return WRITERS[file_format](path, columns, rows, tick)
