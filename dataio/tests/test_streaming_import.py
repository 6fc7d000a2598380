"""Streaming imports (issue 13): flat memory, all or none across batches, one validation.

The file is read, checked and staged in batches of ``imports.BATCH_ROWS``
rows; the tests make batches small so a few hundred rows cross several.
"""

import csv
import io
import tracemalloc

import pytest
from django.urls import reverse

from catalog.models import Category, Product
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductModelFactory
from dataio import files, imports, readers, registry
from dataio.models import TaskNotification
from dataio.tests.helpers import confirm, preview, xlsx_bytes
from dataio.tests.test_round_trip import _assert_reads_back_unchanged, _export_all
from dataio.tests.test_round_trip import tricky_data as tricky_data_fixture
from dataio.xlsx import StreamingSheet

pytestmark = pytest.mark.django_db

PRODUCTS = "admin:catalog_product_import"
HEADER = ["serial_number", "title", "brand", "product_model", "category", "cost_price"]


@pytest.fixture
def catalog(db):
    model = ProductModelFactory(name="Galaxy", brand__name="Samsung")
    CategoryFactory(name="Phones")
    return model


def _row(i: int, *, category: str = "Phones", serial: str | None = None) -> list:
    return [serial or f"S-{i:06d}", f"Product {i}", "Samsung", "Galaxy", category, "10.50"]


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _traced_import(tmp_path, count: int) -> int:
    """Peak traced memory (bytes) of checking and writing ``count`` new products."""
    path = tmp_path / f"{count}.csv"
    path.write_bytes(_csv([_row(i, serial=f"M{count}-{i:06d}") for i in range(count)]))
    transfer = registry.get("catalog.product")
    tracemalloc.start()
    try:
        checker = imports.check_file(transfer, path, "csv", lock=True)
        try:
            assert checker.result.new == count and not checker.result.invalid
            checker.write(user=None)
        finally:
            checker.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Product.objects.filter(serial_number__startswith=f"M{count}-").count() == count
    return peak


def test_memory_stays_flat_as_the_file_grows(catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 500, raising=False)
    small = _traced_import(tmp_path, 2_000)
    large = _traced_import(tmp_path, 8_000)
    # Four times the rows: the peak is one batch's, not the file's (a
    # whole-file import grows about 4x here).
    assert large < small * 1.5, (small, large)


def test_an_error_in_the_last_batch_writes_nothing(admin_client, catalog, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 100, raising=False)
    CategoryFactory(name="Late")
    ProductFactory(serial_number="S-000001", title="Old title", product_model=catalog)
    rows = [_row(i) for i in range(299)] + [_row(299, category="Late")]
    checked = preview(admin_client, PRODUCTS, _csv(rows))
    assert (checked.new_rows, checked.updated_rows, checked.invalid_rows) == (299, 1, 0)
    # The last row's category goes away between the preview and the confirm:
    # the run finds it in its last batch, after the first ones were checked.
    Category.objects.filter(name="Late").delete()
    done = confirm(admin_client, checked)
    assert done.status == TaskNotification.Status.FAILED
    assert "row 301" in done.error_message and "Nothing was imported." in done.error_message
    assert list(Product.objects.values_list("serial_number", "title")) == [
        ("S-000001", "Old title")
    ]


def test_the_run_never_reuses_the_preview(admin_client, catalog, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 100, raising=False)
    checked = preview(admin_client, PRODUCTS, _csv([_row(i) for i in range(250)]))
    assert (checked.new_rows, checked.updated_rows) == (250, 0)
    # Someone adds one of the file's products meanwhile: the run checks the
    # file again and updates it instead of inserting a duplicate.
    ProductFactory(serial_number="S-000200", title="Added meanwhile", product_model=catalog)
    done = confirm(admin_client, checked)
    assert done.status == TaskNotification.Status.COMPLETED, done.error_message
    assert (done.new_rows, done.updated_rows) == (249, 1)
    assert Product.objects.get(serial_number="S-000200").title == "Product 200"
    assert Product.objects.count() == 250


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "xlsx-streamed"])
def test_preview_and_run_find_the_same_errors_across_batches(catalog, tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(imports, "BATCH_ROWS", 100, raising=False)
    if fmt == "xlsx-streamed":
        monkeypatch.setattr(readers, "STREAM_XLSX_FROM_BYTES", -1, raising=False)
        fmt = "xlsx"
    monkeypatch.setattr(imports, "FK_CACHE_SIZE", 3, raising=False)
    rows = [_row(i) for i in range(350)]
    rows[5][5] = "-1"  # a bad price
    rows[150] = _row(150, serial="S-000003")  # the key of row 5 (file row), 145 rows later
    rows[260] = _row(260, category="Tablets")  # unknown, in a later batch
    rows[349] = _row(349, serial="S-000100", category="Gizmos")  # both, in the last batch
    content = _csv(rows) if fmt == "csv" else xlsx_bytes([HEADER, *rows])
    path = tmp_path / f"f.{fmt}"
    path.write_bytes(content)
    transfer = registry.get("catalog.product")
    found = []
    for lock in (False, True):
        checker = imports.check_file(transfer, path, fmt, lock=lock)
        result = checker.result
        found.append(
            (
                result.total,
                result.new,
                result.invalid,
                result.error_count,
                [error.as_dict() for error in result.all_errors()],
            )
        )
        checker.close()
    assert found[0] == found[1]
    total, new, invalid, count, errors = found[0]
    assert (total, new, invalid, count) == (350, 346, 4, 5)
    assert [(error["row"], error["column"]) for error in errors] == [
        (7, "cost_price"),
        (152, "serial_number"),
        (262, "category"),
        (351, "serial_number"),
        (351, "category"),
    ]
    assert "already on row 5" in errors[1]["message"]
    assert "already on row 102" in errors[3]["message"]


def test_every_error_is_counted_and_reported_beyond_what_the_page_shows(
    admin_client, catalog, monkeypatch, settings
):
    monkeypatch.setattr(imports, "BATCH_ROWS", 100, raising=False)
    settings.IMPORT_PREVIEW_MAX_ERRORS = 5
    rows = [_row(i, category="Nowhere" if i % 2 else "Phones") for i in range(400)]
    checked = preview(admin_client, PRODUCTS, _csv(rows))
    assert (checked.new_rows, checked.invalid_rows) == (200, 200)
    assert len(checked.row_errors) == 5
    with open(files.absolute(checked.error_file), encoding="utf-8-sig") as handle:
        report = list(csv.DictReader(handle))
    assert [int(line["row"]) for line in report] == list(range(3, 402, 2))
    response = admin_client.post(reverse("dataio:import_confirm", args=[checked.pk]))
    assert TaskNotification.objects.latest("pk").pk == checked.pk, response


def test_rows_past_the_limit_are_refused_however_the_lines_end(admin_client, catalog, settings):
    settings.IMPORT_MAX_ROWS = 300
    # Line breaks as a lone CR: counting "\n" sees one line; the rows are
    # still counted as they are read, and the file refused, nothing written.
    content = _csv([_row(i) for i in range(301)]).replace(b"\r\n", b"\r")
    checked = preview(admin_client, PRODUCTS, content)
    assert checked.status == TaskNotification.Status.FAILED
    assert "more than 300 data rows" in checked.error_message
    assert not Product.objects.exists()
    exactly = preview(admin_client, PRODUCTS, _csv([_row(i) for i in range(300)]))
    assert (exactly.new_rows, exactly.invalid_rows) == (300, 0)


def test_a_workbook_past_the_limit_is_refused(admin_client, catalog, settings):
    settings.IMPORT_MAX_ROWS = 300
    content = xlsx_bytes([HEADER, *[_row(i) for i in range(301)]])
    checked = preview(admin_client, PRODUCTS, content, fmt="xlsx")
    assert checked.status == TaskNotification.Status.FAILED
    assert "more than 300 data rows" in checked.error_message


# --- a large XLSX is streamed (openpyxl's read-only mode), a small one loaded by calamine ---


def _trimmed(cells) -> list:
    cells = [None if cell == "" else cell for cell in cells]
    while cells and cells[-1] is None:
        cells.pop()
    return cells


@pytest.fixture
def streamed(monkeypatch):
    """Every XLSX streamed, as a large one is."""
    monkeypatch.setattr(readers, "STREAM_XLSX_FROM_BYTES", -1)


def test_both_workbook_readers_read_the_same_cells(tmp_path, monkeypatch):
    texts = ["a\rb", "a\r\nb", "x_x0041_y", "bell\x07", "tab\tend", "<&>", "'=1+1", "NUL\x00"]
    path = tmp_path / "cells.xlsx"
    with StreamingSheet(path) as sheet:
        sheet.header(["text", "number", "flag", "empty"])
        sheet.rows(
            [[text, 10.5 + n, n % 2 == 0, None] for n, text in enumerate(texts)],
            ["text", "number", "flag", "text"],
        )
    read = {}
    for threshold in (1 << 40, -1):
        monkeypatch.setattr(readers, "STREAM_XLSX_FROM_BYTES", threshold)
        assert readers.streams(path) == (threshold < 0)
        table = readers.read_table(path, "xlsx", max_rows=100)
        # Equal up to how an empty cell reads ("" or None) and the width of
        # a row (the import pads short rows).
        read[threshold] = (
            table.headers,
            [(number, _trimmed(cells)) for number, cells in table.rows],
        )
    assert read[1 << 40] == read[-1]
    assert [cells[0] for _number, cells in read[-1][1]] == [
        "a\rb",
        "a\r\nb",
        "x_x0041_y",
        "bell\x07",
        "tab\tend",
        "<&>",
        "=1+1",
        "NUL\x00",
    ]


tricky_data = tricky_data_fixture


def test_a_streamed_export_reads_back_as_no_change(admin_client, tricky_data, tmp_path, streamed):
    for label, path in _export_all(tmp_path, "xlsx").items():
        _assert_reads_back_unchanged(admin_client, label, path.read_bytes(), "xlsx")


def test_a_streamed_workbook_with_a_nul_is_an_invalid_row(admin_client, catalog, streamed):
    content = xlsx_bytes(
        [HEADER, _row(0), ["NUL-1", "Pho\x00ne", "Samsung", "Galaxy", "Phones", 1]]
    )
    checked = preview(admin_client, PRODUCTS, content, fmt="xlsx")
    assert (checked.new_rows, checked.invalid_rows) == (1, 1)
    assert checked.row_errors[0]["row"] == 3 and "NUL" in checked.row_errors[0]["message"]


def test_a_streamed_workbook_past_the_limit_is_refused(admin_client, catalog, settings, streamed):
    settings.IMPORT_MAX_ROWS = 300
    content = xlsx_bytes([HEADER, *[_row(i) for i in range(301)]])
    checked = preview(admin_client, PRODUCTS, content, fmt="xlsx")
    assert checked.status == TaskNotification.Status.FAILED
    assert "more than 300 data rows" in checked.error_message
    assert not Product.objects.exists()
