"""Every kind of bad file ends as a clear message, with zero rows changed and no 500.

The upload goes through the admin's import page; the check then runs the
worker's code (``pipeline.run_import_check``) in the test, and the preview page
is read back. The real worker path is covered in test_transfers_import.py.
"""

import io

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductModelFactory
from dataio import pipeline
from dataio.models import TaskNotification
from movements.models import Outflow

pytestmark = pytest.mark.django_db

HEADER = "serial_number,title,brand,product_model,category,cost_price,sell_price\n"
GOOD = "NEW-1,Phone,Samsung,Galaxy,Phones,10.00,15.00\n"
FORMATS = {"csv": "0", "xlsx": "1", "json": "2"}


@pytest.fixture(autouse=True)
def catalog(db):
    model = ProductModelFactory(name="Galaxy", brand__name="Samsung")
    category = CategoryFactory(name="Phones")
    return ProductFactory(serial_number="OLD-1", product_model=model, category=category)


def check(client, content: bytes, *, url="admin:catalog_product_import", name="f.csv", fmt="csv"):
    """Upload, run the worker's check, return (notification, preview page text)."""
    before = Product.objects.count()
    response = client.post(
        reverse(url),
        {"format": FORMATS[fmt], "resource": "0", "import_file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content[-3000:]
    notification = TaskNotification.objects.latest("pk")
    pipeline.run_import_check(notification.pk)
    notification.refresh_from_db()
    page = client.get(reverse("dataio:import_preview", args=[notification.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Traceback" not in text
    assert Product.objects.count() == before
    return notification, text


def assert_file_error(notification, text, message):
    assert notification.status == TaskNotification.Status.FAILED
    assert message in notification.error_message, notification.error_message
    assert message.replace("“", "&ldquo;") in text or message in text or "import-error" in text


def assert_row_error(notification, text, row, column, message):
    assert notification.status == TaskNotification.Status.COMPLETED
    assert notification.invalid_rows >= 1
    assert {"row": row, "column": column, "message": message} in notification.row_errors, (
        notification.row_errors
    )
    assert "Confirm the import" not in text
    assert "Download the error report" in text


def test_empty_file_is_refused_at_upload(admin_client):
    response = admin_client.post(
        reverse("admin:catalog_product_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("f.csv", b"")},
    )
    assert response.status_code == 200
    assert "The submitted file is empty." in response.content.decode()
    assert not TaskNotification.objects.exists()


def test_blank_file_is_empty(admin_client):
    notification, text = check(admin_client, b"\xef\xbb\xbf\n\n  \n")
    assert_file_error(notification, text, "The file is empty.")


def test_header_only(admin_client):
    notification, text = check(admin_client, HEADER.encode())
    assert_file_error(notification, text, "The file has a header but no data rows.")


def test_unknown_columns(admin_client):
    notification, text = check(admin_client, (HEADER.strip() + ",colour\n" + GOOD).encode())
    assert_file_error(notification, text, "Unknown column(s): colour.")
    assert "The columns this import reads are: serial_number, title" in notification.error_message
    assert "quantity" not in notification.error_message  # stock is never imported
    assert "brand" in notification.error_message.split("reads are:")[1]  # read-only, required


def test_a_renamed_column_is_reported_unknown_and_missing_at_once(admin_client):
    renamed = HEADER.replace("title", "name") + GOOD
    notification, text = check(admin_client, renamed.encode())
    assert_file_error(notification, text, "Unknown column(s): name.")
    assert "Missing required column(s): title." in notification.error_message


def test_missing_required_column(admin_client):
    content = "serial_number,title,brand,product_model\nNEW-1,Phone,Samsung,Galaxy\n"
    notification, text = check(admin_client, content.encode())
    assert_file_error(notification, text, "Missing required column(s): category.")


def test_wrong_types(admin_client):
    content = HEADER.strip() + ",reorder_level,is_active\n"
    content += "NEW-1,Phone,Samsung,Galaxy,Phones,ten,15.00,2.5,maybe\n"
    notification, text = check(admin_client, content.encode())
    assert_row_error(notification, text, 2, "cost_price", "“ten” is not a number.")
    assert_row_error(notification, text, 2, "reorder_level", "“2.5” is not a whole number.")
    assert_row_error(notification, text, 2, "is_active", "“maybe” is not yes/no (use 1 or 0).")


def test_negative_prices(admin_client):
    content = HEADER + "NEW-1,Phone,Samsung,Galaxy,Phones,-10.00,15.00\n"
    notification, text = check(admin_client, content.encode())
    assert_row_error(notification, text, 2, "cost_price", "Cannot be negative (-10.00).")


def test_duplicate_serial_numbers_inside_the_file(admin_client):
    notification, text = check(admin_client, (HEADER + GOOD + GOOD).encode())
    assert_row_error(
        notification, text, 3, "serial_number", "“NEW-1” is already on row 2 of this file."
    )
    assert notification.new_rows == 1


def test_unknown_brand_category_and_supplier(admin_client):
    content = HEADER + "NEW-1,Phone,Apple,Galaxy,Toys,1,2\n"
    notification, text = check(admin_client, content.encode())
    assert_row_error(
        notification, text, 2, "product_model", "Unknown product model “Galaxy” of brand “Apple”."
    )
    assert_row_error(notification, text, 2, "category", "Unknown category “Toys”.")
    notification, text = check(
        admin_client,
        b"product,quantity,supplier\nOLD-1,3,Nobody Ltd\n",
        url="admin:movements_inflow_import",
    )
    assert_row_error(notification, text, 2, "supplier", "Unknown supplier “Nobody Ltd”.")


def test_outflow_above_stock(admin_client, stocked_product):
    stocked_product(quantity=2, serial_number="STK-1")
    notification, text = check(
        admin_client, b"product,quantity\nSTK-1,1\nSTK-1,2\n", url="admin:movements_outflow_import"
    )
    message = (
        "Not enough stock of STK-1: 2 asked, 1 available (after the earlier rows of this file)."
    )
    assert_row_error(notification, text, 3, "quantity", message)
    assert not Outflow.objects.exists()


def test_binary_file_renamed_csv(admin_client):
    notification, text = check(admin_client, bytes(range(256)) * 40, name="photo.csv")
    assert_file_error(notification, text, "This file is not CSV text")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.add_worksheet().write_row(0, 0, ["serial_number"])
    workbook.close()
    notification, text = check(admin_client, buffer.getvalue(), name="book.csv")
    assert_file_error(
        notification, text, "This is a workbook (XLSX, ODS or another zip file), not CSV text."
    )


def test_json_nested_too_deeply(admin_client):
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    notification, text = check(admin_client, deep, name="deep.json", fmt="json")
    assert_file_error(notification, text, "The file is not valid JSON (nested too deeply).")


def test_file_over_the_size_limit(admin_client, settings):
    settings.IMPORT_MAX_FILE_MB = 1
    content = (HEADER + GOOD * 30_000).encode()
    response = admin_client.post(
        reverse("admin:catalog_product_import"),
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("big.csv", content)},
    )
    assert response.status_code == 200
    assert "the most an import accepts is 1 MB" in response.content.decode()
    assert not TaskNotification.objects.exists()


def test_million_rows_over_the_row_limit_stop_early(admin_client, settings):
    # 1,000,001 identical short rows (~13 MB), built in one multiplication:
    # over the default limit (1,000,000) and any lower one.
    content = b"serial_number,title,brand,product_model,category\n" + b"S,T,B,M,C\n" * 1_000_001
    notification, text = check(admin_client, content, name="million.csv")
    limit = f"{settings.IMPORT_MAX_ROWS:,}"
    assert_file_error(notification, text, f"The file has more than {limit} data rows")
    assert notification.total_rows == 0


def test_latin1_and_bom_and_semicolons_are_read(admin_client):
    content = (HEADER + 'NEW-1,Café com leite,Samsung,Galaxy,Phones,"1,50",2\n').encode("cp1252")
    notification, _text = check(admin_client, content)
    assert (notification.new_rows, notification.invalid_rows) == (1, 0)
    content = "\ufeff" + HEADER.replace(",", ";") + "NEW-2;Açaí;Samsung;Galaxy;Phones;1,50;2\n"
    notification, _text = check(admin_client, content.encode("utf-8"))
    assert (notification.new_rows, notification.invalid_rows) == (1, 0), notification.row_errors


def test_xlsx_and_json_imports_are_checked_the_same_way(admin_client):
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, HEADER.strip().split(","))
    sheet.write_row(1, 0, ["NEW-1", "Phone", "Samsung", "Galaxy", "Phones", 10.5, 15])
    sheet.write_row(2, 0, [12345, "Numeric serial", "Samsung", "Galaxy", "Phones", -1, 15])
    workbook.close()
    notification, _text = check(admin_client, buffer.getvalue(), name="f.xlsx", fmt="xlsx")
    assert (notification.new_rows, notification.invalid_rows) == (1, 1)
    assert notification.row_errors == [
        {"row": 3, "column": "cost_price", "message": "Cannot be negative (-1)."}
    ]
    content = b'[{"serial_number": "OLD-1", "title": "Renamed", "brand": "Samsung",'
    content += b' "product_model": "Galaxy", "category": "Phones", "cost_price": 10.0}]'
    notification, _text = check(admin_client, content, name="f.json", fmt="json")
    assert (notification.updated_rows, notification.invalid_rows) == (1, 0)
    notification, text = check(admin_client, b'{"not": "a list"}', name="f.json", fmt="json")
    assert_file_error(notification, text, "A JSON import is a list of objects")


@pytest.mark.parametrize(
    "model", ["catalog_product", "catalog_brand", "movements_inflow", "movements_outflow"]
)
def test_import_and_export_pages_render(admin_client, model):
    for page in ("import", "export"):
        response = admin_client.get(reverse(f"admin:{model}_{page}"))
        assert response.status_code == 200
    assert b"serial_number" in admin_client.get(reverse("admin:catalog_product_import")).content


def test_operator_imports_movements_but_not_the_catalog(client, role_user):
    client.force_login(role_user("Operator"))
    assert client.get(reverse("admin:movements_inflow_import")).status_code == 200
    assert client.get(reverse("admin:catalog_product_import")).status_code == 403
    assert client.get(reverse("admin:catalog_product_export")).status_code == 200
