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

import codecs
import csv
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.utils.escape import unescape

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


CHUNK = 1 << 20  # bytes read at a time while the file is scanned


def _refuse_binary(head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            _(
                "This is a workbook (XLSX, ODS or another zip file), not CSV text. "
                "Choose the XLSX/ODS format."
            )
        )
    head = head[:8192]
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if b"\x00" in head or controls > len(head) // 100:
        raise ImportFileError(
            _("This file is not CSV text (it holds binary data). Save it as CSV and upload again.")
        )


def _fits(path: Path, encoding: str, skip: int) -> tuple[bool, int, int]:
    """(whether the whole file decodes as ``encoding``, the offending offset, line breaks).

    One pass in chunks of ``CHUNK`` bytes with an incremental decoder: the
    file is never held whole in memory.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = skip
    breaks = 0
    with open(path, "rb") as handle:
        handle.seek(skip)
        while chunk := handle.read(CHUNK):
            breaks += chunk.count(b"\n")
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return False, offset + error.start, breaks
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            return False, offset + error.start, breaks
    return True, -1, breaks


def _encoding(path: Path) -> tuple[str, int, int]:
    """(encoding, bytes to skip (a BOM), line breaks) of a CSV file, or ImportFileError."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    _refuse_binary(head)
    if head.startswith(b"\xef\xbb\xbf"):
        fits, _offset, breaks = _fits(path, "utf-8", 3)
        if not fits:
            raise ImportFileError(_("The file says it is UTF-8 but is not."))
        return "utf-8", 3, breaks
    fits, _offset, breaks = _fits(path, "utf-8", 0)
    if fits:
        return "utf-8", 0, breaks
    # Excel on Windows saves CSV as Windows-1252. Five bytes have no meaning
    # there: such a file is in some other encoding, and guessing would store
    # replacement characters instead of the person's text.
    fits, offset, breaks = _fits(path, "cp1252", 0)
    if not fits:
        with open(path, "rb") as handle:
            handle.seek(offset)
            byte = handle.read(1)[0]
        raise ImportFileError(
            _(
                "The file is neither UTF-8 nor Windows-1252 text (byte 0x%(byte)02X at "
                "position %(position)d). Save it as “CSV UTF-8” and upload it again."
            )
            % {"byte": byte, "position": offset}
        )
    return "cp1252", 0, breaks


def _open_text(path: Path, encoding: str, skip: int):
    handle = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the reader
    if skip:
        handle.read(1)  # the BOM
    return handle


def _read_csv(path: Path, max_rows: int) -> Table:
    # Streamed: a scan in chunks settles the encoding and counts the line
    # breaks; the rows are then parsed as they are read, never all held.
    encoding, skip, breaks = _encoding(path)
    with _open_text(path, encoding, skip) as handle:
        first_line = handle.readline()
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # Counting line breaks is a cheap upper bound; only when it is over the
    # limit does the csv module count exactly (quoted line breaks), stopping
    # at the first row past the limit.
    if breaks > max_rows + 1:
        counted = 0
        with _open_text(path, encoding, skip) as handle:
            try:
                for cells in csv.reader(handle, delimiter=delimiter):
                    if not _is_blank(cells):
                        counted += 1
                        if counted > max_rows + 1:
                            raise _too_many(max_rows)
            except csv.Error as error:
                raise ImportFileError(
                    _("The file is not valid CSV: %(error)s") % {"error": error}
                ) from None

    handle = _open_text(path, encoding, skip)
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        headers = next(reader, None)
        while headers is not None and _is_blank(headers):
            headers = next(reader, None)
    except csv.Error as error:
        handle.close()
        raise ImportFileError(
            _("The file is not valid CSV: %(error)s") % {"error": error}
        ) from None
    if headers is None:
        handle.close()
        raise ImportFileError(_("The file is empty."))

    def rows():
        with handle:
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


# An XLSX whose parts unpack to more than this is streamed (openpyxl's
# read-only mode, flat memory); a smaller one is loaded whole by
# python-calamine, which is several times faster per row but holds the sheet
# (about 800 MB for 1,000,000 rows of a product file).
STREAM_XLSX_FROM_BYTES = 32 * 1024 * 1024


def streams(path: Path) -> bool:
    """Whether ``path`` is an XLSX (a zip with ``xl/workbook.xml``) read as a stream.

    The size is the one the zip declares: a file that understates it is
    loaded whole, under the probe's memory ceiling like any workbook.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            archive.getinfo("xl/workbook.xml")
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return False
    return unpacked > STREAM_XLSX_FROM_BYTES


def _read_xlsx(path: Path, max_rows: int) -> Table:
    streamed = streams(path)
    _probe(path, "xlsx-stream" if streamed else "xlsx")
    if streamed:
        return _stream_xlsx(path)
    return _read_workbook(path, max_rows)


def _unescape_row(cells: list) -> list:
    """Text cells with the format's ``_xHHHH_`` escapes undone, as python-calamine reads them."""
    for index, cell in enumerate(cells):
        if type(cell) is str and "_x" in cell:
            cells[index] = unescape(cell)
    return cells


def _stream_xlsx(path: Path) -> Table:
    """An XLSX file's first sheet, row by row (openpyxl's read-only mode): flat memory.

    The sheet's XML is parsed as it is read; only the shared strings are held.
    The rows are counted as they are read (``imports`` stops past the limit):
    the sheet's declared dimension is not trusted, for the row count or for
    padding rows to a width.
    """
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        iterator = iter(sheet.iter_rows(values_only=True))
        line = 0
        headers = None
        for cells in iterator:
            line += 1
            if not _is_blank(cells):
                cells = _unescape_row(list(cells))
                headers = [str(cell) if cell is not None else "" for cell in cells]
                break
    except ImportFileError:
        raise
    except Exception:  # a broken zip or XML part raises any of several types
        raise ImportFileError(
            _(
                "This file is not a valid XLSX or ODS workbook. "
                "Save it from a spreadsheet as .xlsx or .ods."
            )
        ) from None
    if headers is None:
        workbook.close()
        raise ImportFileError(_("The file is empty."))
    start = line

    def rows():
        try:
            for number, cells in enumerate(iterator, start=start + 1):
                if not _is_blank(cells):
                    yield number, unquote_row(_unescape_row(list(cells)))
        except Exception as error:  # the XML breaks after the first rows
            raise ImportFileError(
                _("This file is not a valid XLSX or ODS workbook (%(error)s).")
                % {"error": str(error)[:120]}
            ) from None
        finally:
            workbook.close()

    return Table(headers, rows(), -1)


def _read_workbook(path: Path, max_rows: int) -> Table:
    """ODS or XLS (python-calamine): the sheet is loaded whole, so its size is known first."""
    from python_calamine import CalamineError, CalamineWorkbook

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
