"""A minimal streaming XLSX writer: one sheet, inline strings, numbers, booleans, dates.

xlsxwriter's ``constant_memory`` mode spends ~10 µs per cell in Python
(validation, dispatch, XML helpers): writing the same cells takes it about
six times as long (``benchmarks/xlsx_writers.py``). This writer builds each
row's XML with one string join and streams it into the zip entry, so memory
stays flat and the cost is a few string operations per cell. The output is plain
SpreadsheetML (ECMA-376) that Excel, LibreOffice and python-calamine open.

Characters XML cannot carry as they are (control characters, and the
carriage return, which XML parsers turn into a line feed) are written as
the format's ``_xHHHH_`` escapes, and text that already looks like one is
escaped itself (``_x005F_``), so every reader gets the exact text back.
Text with leading or trailing white space is marked ``xml:space="preserve"``:
without it Excel and python-calamine trim the cell.
"""

import re
import zipfile
from datetime import datetime
from itertools import count
from xml.sax.saxutils import escape

# Every C0 control but tab and line feed; U+FFFE and U+FFFF are no XML at all.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_LOOKS_ESCAPED = re.compile("_(x[0-9A-Fa-f]{4}_)")
# Day 0 of the spreadsheet calendar (1900 system, with Excel's leap-year bug).
_EPOCH = datetime(1899, 12, 30)

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'  # noqa: E501
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'  # noqa: E501
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'  # noqa: E501
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'  # noqa: E501
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'  # noqa: E501
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'  # noqa: E501
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'  # noqa: E501
    "</Relationships>"
)
# Style 0: normal; style 1: bold (the header row); style 2: a date and time.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = "</sheetData></worksheet>"


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _escape_control(match: re.Match) -> str:
    return f"_x{ord(match.group()):04X}_"


def _text(value: str) -> str:
    if "_x" in value:
        value = _LOOKS_ESCAPED.sub(r"_x005F_\1", value)
    if _CONTROL.search(value):
        value = _CONTROL.sub(_escape_control, value)
    return escape(value)


def _t(text: str) -> str:
    """The ``<t>`` element of escaped ``text``, keeping its leading and trailing white space."""
    if text[:1] <= " " or text[-1:] <= " ":
        return f'<t xml:space="preserve">{text}</t>'
    return f"<t>{text}</t>"


def _serial(value: datetime, zone) -> str:
    """A datetime as a spreadsheet date number, in ``zone`` (the job's time zone)."""
    local = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
    return repr((local - _EPOCH).total_seconds() / 86400)


class StreamingSheet:
    """``with StreamingSheet(path, "Export") as sheet: sheet.header([...]); sheet.row([...])``.

    ``kinds`` says per column how to write a value: "number", "bool",
    "datetime" (a date cell in ``zone``) or "text" (anything else is written
    as text with ``str()``).
    """

    def __init__(self, path, sheet_name: str = "Sheet1", *, zone=None):
        self.zone = zone
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sheet_name = sheet_name[:31]
        self.handle = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.buffer: list[str] = [_SHEET_START]
        self.numbers = count(1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _flush(self) -> None:
        self.handle.write("".join(self.buffer).encode("utf-8"))
        self.buffer = []

    def header(self, names: list[str]) -> None:
        number = next(self.numbers)
        cells = "".join(
            f'<c r="{_letters(i)}{number}" s="1" t="inlineStr"><is>{_t(_text(str(name)))}</is></c>'
            for i, name in enumerate(names)
        )
        self.buffer.append(f'<row r="{number}">{cells}</row>')

    def rows(self, rows, kinds: list[str], transform=None, tick=None, every: int = 10_000) -> int:
        """Write every row of ``rows``; ``transform(value)`` is applied to text cells.

        ``tick(rows written)`` is called every ``every`` rows (progress).
        """
        letters = [_letters(i) for i in range(len(kinds))]
        plan = list(zip(letters, kinds, strict=True))
        zone = self.zone
        buffer = self.buffer
        written = 0
        for row in rows:
            number = next(self.numbers)
            parts = [f'<row r="{number}">']
            append = parts.append
            for (letter, kind), value in zip(plan, row, strict=True):
                if value is None or value == "":
                    continue
                if kind == "number":
                    append(f'<c r="{letter}{number}"><v>{value}</v></c>')
                elif kind == "bool":
                    append(f'<c r="{letter}{number}" t="b"><v>{1 if value else 0}</v></c>')
                elif kind == "datetime":
                    append(f'<c r="{letter}{number}" s="2"><v>{_serial(value, zone)}</v></c>')
                else:
                    text = value if type(value) is str else str(value)
                    if transform is not None:
                        text = transform(text)
                    if (
                        "&" in text
                        or "<" in text
                        or ">" in text
                        or "_x" in text
                        or _CONTROL.search(text)
                    ):
                        text = _text(text)
                    # _t inlined (a call per cell shows at a million rows); once
                    # escaped, only space, tab and line feed are left below "!".
                    if text and text[0] > " " and text[-1] > " ":
                        append(f'<c r="{letter}{number}" t="inlineStr"><is><t>{text}</t></is></c>')
                    else:
                        append(
                            f'<c r="{letter}{number}" t="inlineStr">'
                            f'<is><t xml:space="preserve">{text}</t></is></c>'
                        )
            append("</row>")
            buffer.append("".join(parts))
            written += 1
            if tick is not None and written % every == 0:
                tick(written)
            if len(buffer) >= 2000:
                self._flush()
                buffer = self.buffer
        return written

    def close(self) -> None:
        if self.handle is None:
            return
        self.buffer.append(_SHEET_END)
        self._flush()
        self.handle.close()
        self.handle = None
        self.zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self.zip.writestr("_rels/.rels", _ROOT_RELS)
        self.zip.writestr("xl/workbook.xml", _WORKBOOK.format(name=_text(self.sheet_name)))
        self.zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self.zip.writestr("xl/styles.xml", _STYLES)
        self.zip.close()
