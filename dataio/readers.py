"""Read an uploaded CSV, XLSX/ODS or JSON file into a header and rows.

Every problem with the file as a whole (empty, binary, wrong encoding, too
many rows, unreadable) raises ``ImportFileError`` with a message a person
understands. The row limit is checked before any row is validated, and the
count stops as soon as the limit is passed.

Workbooks and JSON are parsed first in a child process with a memory
ceiling and a deadline (``probe``): a crafted file cannot kill or hang the
worker. Text cells of spreadsheet formats lose the ``'`` that our exports
put before formula-like text (``spreadsheet.unquote``).
"""

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from dataio import probe
from dataio.spreadsheet import unquote_row
from project.errors import UserFacingError


class ImportFileError(UserFacingError):
    """The file cannot be read as a table; ``message`` names its problem for the user."""


@dataclass
class Table:
    headers: list[str]
    # (row number as the user sees it, cells); blank rows are left out.
    rows: Iterator[tuple[int, list]]
    row_count: int


def _too_many(limit: int) -> ImportFileError:
    return ImportFileError(
        _(
            "The file has more than %(limit)s data rows, the most one import accepts. "
            "Split it into smaller files."
        )
        % {"limit": f"{limit:,}"}
    )


def _is_blank(cells) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            _(
                "This is a workbook (XLSX, ODS or another zip file), not CSV text. "
                "Choose the XLSX/ODS format."
            )
        )
    head = data[:8192]
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if b"\x00" in head or controls > len(head) // 100:
        raise ImportFileError(
            _("This file is not CSV text (it holds binary data). Save it as CSV and upload again.")
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(_("The file says it is UTF-8 but is not.")) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Excel on Windows saves CSV as Windows-1252. Five bytes have no meaning
    # there: such a file is in some other encoding, and guessing would store
    # replacement characters instead of the person's text.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file is neither UTF-8 nor Windows-1252 text (byte 0x%(byte)02X at "
                "position %(position)d). Save it as “CSV UTF-8” and upload it again."
            )
            % {"byte": data[error.start], "position": error.start}
        ) from None


def _read_csv(path: Path, max_rows: int) -> Table:
    text = _decode(path.read_bytes())
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # Counting line breaks is a cheap upper bound; only when it is over the
    # limit does the csv module count exactly (quoted line breaks), stopping
    # at the first row past the limit.
    if text.count("\n") > max_rows + 1:
        counted = 0
        try:
            for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                if not _is_blank(cells):
                    counted += 1
                    if counted > max_rows + 1:
                        raise _too_many(max_rows)
        except csv.Error as error:
            raise ImportFileError(
                _("The file is not valid CSV: %(error)s") % {"error": error}
            ) from None

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader, None)
        while headers is not None and _is_blank(headers):
            headers = next(reader, None)
    except csv.Error as error:
        raise ImportFileError(
            _("The file is not valid CSV: %(error)s") % {"error": error}
        ) from None
    if headers is None:
        raise ImportFileError(_("The file is empty."))

    def rows():
        try:
            for cells in reader:
                # Fast path: a first cell with text means the row is not blank.
                if (cells and cells[0].strip()) or not _is_blank(cells):
                    yield reader.line_num, unquote_row(cells)
        except csv.Error as error:
            raise ImportFileError(
                _("Line %(line)d is not valid CSV: %(error)s")
                % {"line": reader.line_num, "error": error}
            ) from None

    return Table(headers, rows(), -1)


def _probe(path: Path, file_format: str) -> None:
    try:
        probe.check(
            path,
            file_format,
            max_memory_mb=settings.IMPORT_READER_MAX_MEMORY_MB,
            timeout=settings.IMPORT_READER_TIMEOUT_SECONDS,
        )
    except probe.Unreadable as unreadable:
        detail = {
            "memory": _("reading it needs more memory than an import may use"),
            "time": _("reading it takes longer than an import may take"),
        }.get(unreadable.reason, _("the reader could not make sense of it"))
        raise ImportFileError(
            _("This file cannot be read (%(detail)s). Nothing was imported.") % {"detail": detail}
        ) from None


def _read_xlsx(path: Path, max_rows: int) -> Table:
    from python_calamine import CalamineError, CalamineWorkbook

    _probe(path, "xlsx")
    try:
        # From the bytes, not the name: an ODS (or XLS) upload is read too.
        with open(path, "rb") as handle:
            workbook = CalamineWorkbook.from_filelike(handle)
        sheet = workbook.get_sheet_by_index(0)
    except (CalamineError, OSError, ValueError, IndexError):
        raise ImportFileError(
            _(
                "This file is not a valid XLSX or ODS workbook. "
                "Save it from a spreadsheet as .xlsx or .ods."
            )
        ) from None
    except Exception:  # the Rust reader raises its own error types
        raise ImportFileError(_("This file is not a valid XLSX or ODS workbook.")) from None
    if sheet.height > max_rows + 1:
        raise _too_many(max_rows)
    iterator = iter(sheet.iter_rows())
    line = 0
    headers = None
    for cells in iterator:
        line += 1
        if not _is_blank(cells):
            headers = [str(cell) if cell is not None else "" for cell in cells]
            break
    if headers is None:
        raise ImportFileError(_("The file is empty."))
    start = line

    def rows():
        for number, cells in enumerate(iterator, start=start + 1):
            if not _is_blank(cells):
                yield number, unquote_row(list(cells))

    return Table(headers, rows(), sheet.height - start)


def _read_json(path: Path, max_rows: int) -> Table:
    data = path.read_bytes()
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    _probe(path, "json")
    try:
        items = json.loads(data, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise ImportFileError(
            _("The file is not valid JSON (%(error)s).") % {"error": str(error)[:120]}
        ) from None
    except RecursionError:  # the decoder's answer to [[[[... thousands deep
        raise ImportFileError(_("The file is not valid JSON (nested too deeply).")) from None
    if isinstance(items, dict) and isinstance(items.get("rows"), list):
        items = items["rows"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ImportFileError(
            _('A JSON import is a list of objects, one per row: [{"name": ...}, ...].')
        )
    if not items:
        raise ImportFileError(_("The file has a header but no data rows."))
    if len(items) > max_rows:
        raise _too_many(max_rows)
    headers: dict[str, None] = {}
    for item in items:
        headers.update(dict.fromkeys(item))
    names = list(headers)

    def rows():
        for number, item in enumerate(items, start=1):
            cells = [item.get(name) for name in names]
            if not _is_blank(cells):
                yield number, cells

    return Table(names, rows(), len(items))


READERS = {"csv": _read_csv, "xlsx": _read_xlsx, "json": _read_json}


def read_table(path: Path, file_format: str, *, max_rows: int) -> Table:
    if path.stat().st_size == 0:
        raise ImportFileError(_("The file is empty."))
    return READERS[file_format](path, max_rows)
