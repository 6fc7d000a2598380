"""The one rule for text that a spreadsheet could run as a formula.

Exports in spreadsheet formats (CSV, XLSX) write such text with a leading
``'``, so a spreadsheet shows it instead of running it (formula injection).
Imports of those formats remove exactly that quote, so an export read back
is the data it came from. JSON is no spreadsheet: it is written and read as
it is.

Text is quoted when it starts with ``= + - @``, a tab or a carriage return,
or with the quote itself (``'abc`` is written ``''abc``): so every exported
cell reads back unchanged, and a hand-written ``'abc`` keeps its quote.
Imports store formula-like text as text, as the admin and the API do; the
protection is in every export.
"""

QUOTE_PREFIXES = frozenset("=+-@\t\r'")
# The same set for the SQL of the PostgreSQL CSV export (COPY TO).
SQL_QUOTE_CONDITION = "left({c}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r', '''')"


def quote(text: str) -> str:
    """Text as a spreadsheet cell: ``'`` before anything it could run."""
    return "'" + text if text and text[0] in QUOTE_PREFIXES else text


def unquote(text: str) -> str:
    """The inverse of ``quote``: drop the ``'`` that an export put there."""
    return text[1:] if text[:1] == "'" and text[1:2] in QUOTE_PREFIXES else text


def unquote_row(cells: list) -> list:
    """``unquote`` every text cell of a row read from a spreadsheet format."""
    for index, cell in enumerate(cells):
        if type(cell) is str and cell[:1] == "'":
            cells[index] = unquote(cell)
    return cells
