"""The streaming XLSX writer (``dataio.xlsx``), driven as the export drives it.

Every file is read back by python-calamine (the import's reader) and by
openpyxl (a second, independent reader), so a cell that only one reader
happens to accept fails here.
"""

import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest
from openpyxl.utils.escape import unescape
from python_calamine import CalamineWorkbook

from dataio.exports import write_xlsx
from dataio.spreadsheet import unquote_row
from dataio.xlsx import StreamingSheet, _letters

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _calamine(path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def _openpyxl(path) -> list[tuple]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(workbook.active.iter_rows(values_only=True))
    finally:
        workbook.close()


def _sheet_xml(path) -> ElementTree.Element:
    """The worksheet part, parsed: a strict XML parser refuses a malformed file."""
    with zipfile.ZipFile(path) as archive:
        # Our own writer's output, not untrusted input.
        return ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # noqa: S314


def _export(path, columns, rows) -> int:
    """``write_xlsx`` with (header, kind) columns, as ``export_queryset`` calls it."""
    return write_xlsx(path, [(h, h, kind) for h, kind in columns], iter(rows), lambda n: None)


@pytest.mark.parametrize(
    ("index", "letters"),
    [
        (0, "A"),
        (25, "Z"),
        (26, "AA"),
        (29, "AD"),
        (51, "AZ"),
        (52, "BA"),
        (701, "ZZ"),
        (702, "AAA"),
        (16383, "XFD"),
    ],
)
def test_column_letters_follow_the_spreadsheet_alphabet(index, letters):
    assert _letters(index) == letters


def test_columns_past_z_land_in_their_column(tmp_path):
    path = tmp_path / "wide.xlsx"
    columns = [(f"h{i}", "number") for i in range(30)]
    # Row 2 is full; row 3 has only its last cell, so a reader can place it
    # by its reference alone (AD3), not by counting cells.
    full = list(range(30))
    last_only = [None] * 29 + [29]
    assert _export(path, columns, [full, last_only]) == 2

    references = [cell.get("r") for cell in _sheet_xml(path).iter(f"{MAIN}c")]
    assert references[26:30] == ["AA1", "AB1", "AC1", "AD1"]
    assert references[-1] == "AD3"
    for rows in (_calamine(path), _openpyxl(path)):
        assert list(rows[0]) == [f"h{i}" for i in range(30)]
        assert list(rows[1]) == full
        assert rows[2][29] == 29 and not any(rows[2][:29])


def test_control_characters_and_escape_lookalikes_read_back_exactly(tmp_path):
    texts = [f"a{chr(code)}b" for code in range(32) if chr(code) not in "\t\n"]
    texts += ["a\r\nb", "x_x0041_y", "_X00e9_", "_x005F_", "tab\tend", "<&>\"'", "é€😀"]
    path = tmp_path / "controls.xlsx"
    with StreamingSheet(path) as sheet:
        sheet.header(["bell\x07"])
        sheet.rows([texts], ["text"] * len(texts))

    _sheet_xml(path)  # well-formed: no raw control character reached the XML
    rows = _calamine(path)
    assert rows[0][0] == "bell\x07"
    assert rows[1] == texts
    # openpyxl hands the format's _xHHHH_ escapes through as they are; its
    # own unescape gives the exact text back.
    assert [unescape(value) for value in _openpyxl(path)[1]] == texts


def test_leading_and_trailing_whitespace_is_kept(tmp_path):
    # Without xml:space="preserve" Excel and python-calamine trim the text of
    # a cell: an exported " A-1" would come back as "A-1".
    texts = [" lead", "trail ", "  both  ", "line\n", "\nline", "\ttab", "a  b", " "]
    path = tmp_path / "spaces.xlsx"
    with StreamingSheet(path) as sheet:
        sheet.header([" header "])
        sheet.rows([texts], ["text"] * len(texts))

    rows = _calamine(path)
    assert rows[0][0] == " header "
    assert rows[1] == texts
    assert list(_openpyxl(path)[1]) == texts


def test_datetimes_are_local_date_cells(tmp_path, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    winter = datetime(2025, 1, 15, 11, 30, 15, tzinfo=UTC)  # UTC+1
    summer = datetime(2025, 7, 15, 11, 30, 15, tzinfo=UTC)  # UTC+2 (daylight saving)
    path = tmp_path / "dates.xlsx"
    columns = [("sku", "text"), ("created_at", "datetime")]
    _export(path, columns, [("W", winter), ("S", summer), ("N", None)])

    expected = [datetime(2025, 1, 15, 12, 30, 15), datetime(2025, 7, 15, 13, 30, 15)]
    assert [row[1] for row in _calamine(path)[1:3]] == expected
    assert _calamine(path)[3] == ["N", ""]
    assert [row[1] for row in _openpyxl(path)[1:3]] == expected

    # A number with a date format, not text that looks like a date.
    workbook = openpyxl.load_workbook(path)
    cell = workbook.active["B2"]
    assert cell.data_type == "d" and cell.number_format == "yyyy-mm-dd hh:mm:ss"
    assert cell.is_date


def test_formula_like_text_is_quoted_and_never_a_formula(tmp_path):
    texts = ["=1+1", '=HYPERLINK("http://evil")', "+1 555", "-1", "@SUM(A1)", "\tx", "\rx"]
    texts += ["'abc", "a=b", "Plain"]
    columns = [(f"t{i}", "text") for i in range(len(texts))]
    columns += [("price", "number"), ("change", "number"), ("active", "bool")]
    row = [*texts, Decimal("-12.50"), -3, False]
    path = tmp_path / "formulas.xlsx"
    _export(path, columns, [row])

    sheet = _sheet_xml(path)
    assert not list(sheet.iter(f"{MAIN}f"))  # no formula element anywhere
    quoted = ["'" + text for text in texts[:8]] + texts[8:]
    values = _calamine(path)[1]
    assert values == [*quoted, -12.5, -3, False]
    # The import removes exactly the quote the export added.
    assert unquote_row(list(values))[: len(texts)] == texts

    workbook = openpyxl.load_workbook(path)
    cells = workbook.active[2]
    assert [cell.data_type for cell in cells] == ["s"] * len(texts) + ["n", "n", "b"]
    assert [unescape(cell.value) for cell in cells[: len(texts)]] == quoted


def _million_row(i: int) -> tuple:
    # One cell a row keeps readers fast (openpyxl reads ~25,000 cells/s on a
    # busy machine); every thousandth row is full, so each type is there too.
    if i % 1000:
        return (f"SKU-{i:07d}", None, None)
    return (f"SKU-{i:07d}", Decimal(i // 1000) + Decimal("0.25"), i % 2000 == 0)


def test_a_million_rows_open_in_openpyxl_and_calamine(tmp_path):
    rows = 1_000_000
    path = tmp_path / "million.xlsx"
    columns = [("sku", "text"), ("price", "number"), ("active", "bool")]
    assert _export(path, columns, (_million_row(i) for i in range(rows))) == rows
    first, full, last = [1, 1001, rows]  # data rows, 1-based
    expected = {
        first: ["SKU-0000000", 0.25, True],
        full: ["SKU-0001000", 1.25, False],
        last: [f"SKU-{rows - 1:07d}", None, None],
    }

    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    assert sheet.height == rows + 1
    seen = {}
    for number, cells in enumerate(sheet.iter_rows()):
        if number in expected:
            seen[number] = [cell if cell != "" else None for cell in cells]
    assert number == rows and seen == expected

    workbook = openpyxl.load_workbook(path, read_only=True)
    seen = {}
    for number, cells in enumerate(workbook.active.iter_rows(values_only=True)):
        if number in expected:
            seen[number] = [*cells, None, None][:3]  # a row ends at its last cell
    workbook.close()
    assert number == rows and seen == expected
