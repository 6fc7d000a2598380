"""Streaming export: the Resource's export columns, written row by row.

The rows come from ``values_list(...).iterator()`` (a server-side cursor), so
memory stays flat whatever the row count; CSV goes through ``csv.writer``,
XLSX through xlsxwriter in ``constant_memory`` mode, JSON is written one
object at a time.

Spreadsheet formula injection: a text cell starting with ``= + - @``, a tab
or a carriage return is prefixed with ``'`` in CSV and XLSX, so a spreadsheet
shows it as text instead of running it. Numbers are written as numbers and
never escaped. JSON keeps the exact text: no spreadsheet opens it.
"""

import csv
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import orjson
from django.utils.translation import gettext as _
from import_export import widgets

from catalog.resources import FORMULA_PREFIXES, FlagWidget, MoneyWidget, WholeNumberWidget

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 10_000
CHUNK = 2_000
_FORMULA = frozenset(FORMULA_PREFIXES)


def escape_formula(text: str) -> str:
    return "'" + text if text and text[0] in _FORMULA else text


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


def _iso(value) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def write_csv(path: Path, columns, rows: Iterable[tuple], tick) -> int:
    text = [i for i, (_h, _p, kind) in enumerate(columns) if kind == "text"]
    dates = [i for i, (_h, _p, kind) in enumerate(columns) if kind == "datetime"]
    count = 0
    # utf-8-sig: Excel reads the file as UTF-8 only with the BOM.
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow([header for header, _p, _k in columns])
        write = writer.writerow
        for row in rows:
            row = list(row)
            for i in text:
                value = row[i]
                if value and value[0] in _FORMULA:
                    row[i] = "'" + value
            for i in dates:
                if row[i] is not None:
                    row[i] = row[i].isoformat()
            write(row)
            count += 1
            if count % PROGRESS_EVERY == 0:
                tick(count)
    return count


def write_xlsx(path: Path, columns, rows: Iterable[tuple], tick) -> int:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    sheet = workbook.add_worksheet(_("Export")[:31])
    bold = workbook.add_format({"bold": True})
    for col, (header, _p, _k) in enumerate(columns):
        sheet.write_string(0, col, header, bold)
    write_string = sheet.write_string
    write_number = sheet.write_number
    write_boolean = sheet.write_boolean
    kinds = [kind for _h, _p, kind in columns]
    plan = list(enumerate(kinds))
    count = 0
    for row_index, row in enumerate(rows, start=1):
        for col, kind in plan:
            value = row[col]
            if value is None:
                continue
            if kind == "number":
                write_number(row_index, col, value)
            elif kind == "text":
                if value:
                    write_string(row_index, col, "'" + value if value[0] in _FORMULA else value)
            elif kind == "bool":
                write_boolean(row_index, col, value)
            else:
                write_string(row_index, col, _iso(value))
        count += 1
        if count % PROGRESS_EVERY == 0:
            tick(count)
    workbook.close()
    return count


def _json_default(value):
    if isinstance(value, Decimal):
        # Prices have 12 digits at most: a double holds them exactly.
        return float(value)
    raise TypeError


def write_json(path: Path, columns, rows: Iterable[tuple], tick) -> int:
    headers = [header for header, _p, _k in columns]
    count = 0
    with open(path, "wb") as handle:
        handle.write(b"[")
        for row in rows:
            handle.write(b"\n" if count == 0 else b",\n")
            handle.write(orjson.dumps(dict(zip(headers, row, strict=True)), default=_json_default))
            count += 1
            if count % PROGRESS_EVERY == 0:
                tick(count)
        handle.write(b"\n]\n")
    return count


WRITERS = {"csv": write_csv, "xlsx": write_xlsx, "json": write_json}


def export_queryset(
    resource, queryset, file_format: str, path: Path, *, progress: Progress | None = None
) -> int:
    """Write ``queryset`` with ``resource``'s export columns; returns the row count."""
    columns = export_columns(resource)
    total = queryset.count() if progress else 0

    def tick(count: int) -> None:
        if progress:
            progress(count, total)

    rows = _rows(queryset, [column_path for _h, column_path, _k in columns])
    return WRITERS[file_format](path, columns, rows, tick)
