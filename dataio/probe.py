"""Parse an uploaded workbook or JSON file in a child process, within limits.

A crafted file can make a reader allocate without bound (an XLSX whose
shared-strings part declares billions of entries), spin, or panic in native
code with an exception Python cannot catch. Run in the worker, that kills
the worker or leaves the job running forever. So the file is first parsed
here, in a process of its own with a memory ceiling and a deadline; only a
file that parses here within them is read by the worker.

The child parses with the reader the worker then uses: openpyxl's read-only
mode for a large XLSX ("xlsx-stream", see ``readers.streams``),
python-calamine for the others, ODS and XLS.

``check(path, file_format)`` is the parent side; running this module is the
child side (it imports no Django: it starts in a few tens of milliseconds).
Exit codes: 0 parsed, or refused with an ordinary error the worker's reader
reports itself; 3 out of memory; anything else (a panic, a signal) means the
file cannot be read.
"""

import subprocess
import sys
from pathlib import Path

PARSED = 0
OUT_OF_MEMORY = 3


class Unreadable(Exception):
    """The child died, ran out of memory or time: the file cannot be read."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "memory", "time" or "crash"


def check(path: Path, file_format: str, *, max_memory_mb: int, timeout: float) -> None:
    """Raise ``Unreadable`` unless a child parses ``path`` within the limits."""
    command = [sys.executable, "-I", __file__, file_format, str(path), str(max_memory_mb)]
    try:
        # Inputs are our own: the interpreter, this file, a stored upload path.
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise Unreadable("time") from None
    if done.returncode == PARSED:
        return
    raise Unreadable("memory" if done.returncode == OUT_OF_MEMORY else "crash")


def _parse(file_format: str, path: str) -> None:
    if file_format == "json":
        import json
        from decimal import Decimal

        with open(path, "rb") as handle:
            json.loads(handle.read(), parse_float=Decimal)
        return
    if file_format == "xlsx-stream":
        # The worker streams this XLSX with openpyxl's read-only mode: the
        # very same parse here (shared strings, then every row of the sheet).
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        for _row in sheet.iter_rows(values_only=True):
            pass
        workbook.close()
        return
    from python_calamine import CalamineWorkbook

    with open(path, "rb") as handle:
        workbook = CalamineWorkbook.from_filelike(handle)
    for _row in workbook.get_sheet_by_index(0).iter_rows():
        pass


def main(argv: list[str]) -> int:
    import resource

    file_format, path, max_memory_mb = argv[1], argv[2], int(argv[3])
    limit = max_memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        _parse(file_format, path)
    except MemoryError:
        return OUT_OF_MEMORY
    except Exception:  # noqa: S110 - the worker's reader reports these itself, in words
        pass
    return PARSED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
