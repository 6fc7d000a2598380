"""Files built to hurt, and files office suites really write: what the preview
refuses, the import refuses too; no file crashes, hangs or kills the worker.
"""

import io
import json
import zipfile
from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductModelFactory
from dataio import xlsx as writer
from dataio.models import TaskNotification
from dataio.tests.helpers import confirm, preview, xlsx_bytes
from movements import services as ledger
from movements.models import Inflow

pytestmark = pytest.mark.django_db

PRODUCTS = "admin:catalog_product_import"
INFLOWS = "admin:movements_inflow_import"
HEADER = ["serial_number", "title", "brand", "product_model", "category", "cost_price"]
Status = TaskNotification.Status


@pytest.fixture(autouse=True)
def catalog(db):
    model = ProductModelFactory(name="Galaxy", brand__name="Samsung")
    category = CategoryFactory(name="Phones")
    return ProductFactory(serial_number="OLD-1", product_model=model, category=category)


def _row_errors(notification) -> dict:
    return {(error["row"], error["column"]): error["message"] for error in notification.row_errors}


def _csv(*rows: str) -> bytes:
    return (",".join(HEADER) + "\n" + "".join(row + "\n" for row in rows)).encode()


def test_huge_numbers_are_row_errors_not_internal_errors(admin_client):
    # 1E+30 as Excel stores a large number in a cell, and 1e999 in JSON.
    content = xlsx_bytes([HEADER, ["NEW-1", "Phone", "Samsung", "Galaxy", "Phones", 1e30]])
    checked = preview(admin_client, PRODUCTS, content, fmt="xlsx")
    assert checked.status == Status.COMPLETED and checked.invalid_rows == 1
    assert _row_errors(checked)[(2, "cost_price")].startswith("Too large")

    item = '{"serial_number": "NEW-1", "title": "Phone", "brand": "Samsung", '
    item += '"product_model": "Galaxy", "category": "Phones", "cost_price": 1e999}'
    checked = preview(admin_client, PRODUCTS, f"[{item}]".encode(), fmt="json")
    assert checked.status == Status.COMPLETED and checked.invalid_rows == 1
    assert _row_errors(checked)[(1, "cost_price")].startswith("Too large")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_nul_characters_are_refused_by_the_preview(admin_client, fmt):
    title = "Pho\x00ne"
    if fmt == "csv":
        # Past the first 8 KB, where the binary sniffing does not look.
        filler = "".join(f"F-{n},Filler,Samsung,Galaxy,Phones,1\n" for n in range(400))
        content = _csv() + filler.encode() + f"NUL-1,{title},Samsung,Galaxy,Phones,1\n".encode()
        row = 402
    elif fmt == "xlsx":
        # xlsxwriter writes the NUL as the format's _x0000_ escape.
        content = xlsx_bytes([HEADER, ["NUL-1", title, "Samsung", "Galaxy", "Phones", 1]])
        row = 2
    else:
        content = json.dumps(
            [dict(zip(HEADER, ["NUL-1", title, "Samsung", "Galaxy", "Phones", 1], strict=True))]
        ).encode()
        row = 1
    checked = preview(admin_client, PRODUCTS, content, fmt=fmt)
    assert checked.status == Status.COMPLETED
    assert checked.invalid_rows == 1
    assert "NUL" in _row_errors(checked)[(row, "title")]
    assert not Product.objects.filter(serial_number="NUL-1").exists()


def test_nul_in_a_movement_file_is_refused_by_the_preview(admin_client, stocked_product, supplier):
    product = stocked_product(quantity=5)
    # Past the first 8 KB (a NUL there makes the whole file "not CSV text").
    filler = f"{product.serial_number},1,{supplier.name},ok\n" * 400
    bad = f"{product.serial_number},2,{supplier.name},A\x00B\n"
    content = f"product,quantity,supplier,note\n{filler}{bad}"
    checked = preview(admin_client, INFLOWS, content.encode())
    assert checked.invalid_rows == 1 and "NUL" in _row_errors(checked)[(402, "note")]
    content = f"product,quantity,supplier\n{filler}{product.serial_number}\x00,2,{supplier.name}\n"
    checked = preview(admin_client, INFLOWS, content.encode())
    assert checked.invalid_rows == 1 and "NUL" in _row_errors(checked)[(402, "product")]


def _shared_strings_bomb(count: int = 4_000_000_000) -> bytes:
    """A 2 KB workbook whose shared-strings part declares ``count`` strings.

    The Rust reader reserves room for all of them up front (about 96 GB
    here): unbounded, that aborts the whole process.
    """
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>'
    )
    strings = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{count}" uniqueCount="{count}"><si><t>x</t></si></sst>'
    )
    types = writer._CONTENT_TYPES.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    relations = writer._WORKBOOK_RELS.replace(
        "</Relationships>",
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", writer._ROOT_RELS)
        archive.writestr("xl/workbook.xml", writer._WORKBOOK.format(name="S"))
        archive.writestr("xl/_rels/workbook.xml.rels", relations)
        archive.writestr("xl/styles.xml", writer._STYLES)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", strings)
    return buffer.getvalue()


def test_a_workbook_built_to_exhaust_memory_cannot_be_read_and_the_worker_lives(admin_client):
    bomb = _shared_strings_bomb()
    assert len(bomb) < 4096
    # Before the child-process reader this aborted the process running it.
    checked = preview(admin_client, PRODUCTS, bomb, fmt="xlsx")
    assert checked.status == Status.FAILED
    assert checked.error_message.startswith("This file cannot be read")
    assert Product.objects.count() == 1


def test_a_reader_that_runs_out_of_time_is_stopped(admin_client, settings):
    settings.IMPORT_READER_TIMEOUT_SECONDS = 0.001
    content = xlsx_bytes([HEADER, ["NEW-1", "Phone", "Samsung", "Galaxy", "Phones", 1]])
    checked = preview(admin_client, PRODUCTS, content, fmt="xlsx")
    assert checked.status == Status.FAILED
    assert "takes longer than an import may take" in checked.error_message


def test_an_inflow_past_the_stock_ceiling_is_refused_by_the_preview(
    admin_client, stocked_product, supplier
):
    product = stocked_product(quantity=10)
    asked = ledger.MAX_STOCK - 5
    content = f"product,quantity,supplier\n{product.serial_number},{asked},{supplier.name}\n"
    checked = preview(admin_client, INFLOWS, content.encode())
    assert checked.invalid_rows == 1
    assert "cannot hold more than" in _row_errors(checked)[(2, "quantity")]
    assert Inflow.objects.filter(product=product).count() == 1


def test_bytes_that_are_no_known_encoding_are_a_clear_refusal(admin_client):
    # 0x81 means nothing in Windows-1252 (and this is not UTF-8 either).
    content = _csv("NEW-1,Caf\xe9,Samsung,Galaxy,Phones,1").replace(b"Caf", b"Caf\x81")
    checked = preview(admin_client, PRODUCTS, content)
    assert checked.status == Status.FAILED
    assert "neither UTF-8 nor Windows-1252" in checked.error_message
    assert "0x81" in checked.error_message


def test_a_json_object_in_a_text_cell_is_refused(admin_client):
    item = dict(
        zip(HEADER, ["NEW-1", {"en": "Phone"}, "Samsung", "Galaxy", "Phones", 1], strict=True)
    )
    checked = preview(admin_client, PRODUCTS, json.dumps([item]).encode(), fmt="json")
    assert checked.invalid_rows == 1
    assert "JSON object" in _row_errors(checked)[(1, "title")]


def test_export_only_columns_do_not_break_a_reimport(admin_client, stocked_product, supplier):
    product = stocked_product(quantity=5)
    content = (
        "id,created_at,product,quantity,supplier,created_by\n"
        f",yesterday,{product.serial_number},2,{supplier.name},nobody-here\n"
        f"abc,,{product.serial_number},1,{supplier.name},\n"
    )
    checked = preview(admin_client, INFLOWS, content.encode())
    assert checked.status == Status.COMPLETED
    assert (checked.new_rows, checked.invalid_rows) == (1, 1)
    assert "is not a movement number" in _row_errors(checked)[(3, "id")]


def test_movement_rows_that_carry_ids_are_never_recorded_twice(
    admin_client, stocked_product, supplier
):
    product = stocked_product(quantity=5)
    recorded = Inflow.objects.get(product=product)
    content = (
        "id,product,quantity,supplier\n"
        f"{recorded.pk},{product.serial_number},5,{supplier.name}\n"
        f",{product.serial_number},3,{supplier.name}\n"
    )
    checked = preview(admin_client, INFLOWS, content.encode())
    assert (checked.new_rows, checked.unchanged_rows, checked.invalid_rows) == (1, 1, 0)
    done = confirm(admin_client, checked)
    assert done.status == Status.COMPLETED, done.error_message
    assert Inflow.objects.filter(product=product).count() == 2
    product.refresh_from_db()
    assert product.quantity == 8

    changed = (
        f"id,product,quantity,supplier\n{recorded.pk},{product.serial_number},4,{supplier.name}\n"
    )
    checked = preview(admin_client, INFLOWS, changed.encode())
    assert checked.invalid_rows == 1
    assert "already recorded with another product or quantity" in _row_errors(checked)[(2, "id")]
    unknown = f"id,product,quantity,supplier\n999999,{product.serial_number},4,{supplier.name}\n"
    checked = preview(admin_client, INFLOWS, unknown.encode())
    assert "There is no movement 999999 here" in _row_errors(checked)[(2, "id")]


def test_formula_like_text_is_text_and_exports_quote_it(admin_client):
    content = _csv(
        'NEW-1,"=HYPERLINK(""http://x"")",Samsung,Galaxy,Phones,1',
        "NEW-2,-Promo 20%,Samsung,Galaxy,Phones,1",
    )
    checked = preview(admin_client, PRODUCTS, content)
    assert (checked.new_rows, checked.invalid_rows) == (2, 0)
    assert confirm(admin_client, checked).status == Status.COMPLETED
    assert Product.objects.get(serial_number="NEW-1").title == '=HYPERLINK("http://x")'
    assert Product.objects.get(serial_number="NEW-2").cost_price == Decimal("1.00")
