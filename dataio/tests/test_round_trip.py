"""Export -> (re-save in LibreOffice) -> import writes nothing: what we export, we read back.

Every model with an import is exported in every format and previewed again:
0 new, 0 updated, 0 invalid. The CSV and XLSX exports are also opened and
saved again by LibreOffice (headless, Debian's libreoffice-calc-nogui) as a
person's office suite would, and the XLSX export converted to ODS; those
files preview the same.
"""

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from catalog.models import Supplier
from catalog.tests.factories import ProductFactory, ProductModelFactory
from dataio import exports, registry
from dataio.models import TaskNotification
from dataio.tests.helpers import preview
from movements import services as ledger
from movements.models import Inflow, Outflow

pytestmark = pytest.mark.django_db

# Import URL of each model with an import.
MODELS = {
    "catalog.brand": "admin:catalog_brand_import",
    "catalog.category": "admin:catalog_category_import",
    "catalog.supplier": "admin:catalog_supplier_import",
    "catalog.productmodel": "admin:catalog_productmodel_import",
    "catalog.product": "admin:catalog_product_import",
    "movements.inflow": "admin:movements_inflow_import",
    "movements.outflow": "admin:movements_outflow_import",
}
# What LibreOffice's CSV filter reads and writes: comma, double quote, UTF-8,
# from line 1 (the options a person gets by default in Calc's CSV dialog).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1"


@pytest.fixture
def tricky_data(db, django_user_model):
    """Values that spreadsheets and exports like to change."""
    user = django_user_model.objects.create_user("clerk", password="x-pass-123456")
    model = ProductModelFactory(
        name="@risk-1", brand__name="-Brand", description="Line 1\r\nLine 2"
    )
    products = [
        ProductFactory(
            serial_number="-5",
            title="-Promo 20%",
            product_model=model,
            cost_price=Decimal("1234.50"),
            description="Multi\r\nline\rwith CR, “quotes” and 'apostrophes'",
        ),
        ProductFactory(serial_number="'007", title="=1+1", product_model=model),
        ProductFactory(serial_number="A_x000D_B", title="Café ação ñ 漢字 🙂", reorder_level=7),
        ProductFactory(serial_number="SKU-4", title="Plain", is_active=False),
    ]
    supplier = Supplier.objects.create(name="+Supplier", tax_id="12.345.678/0001-90")
    for product in products:
        ledger.inflow_create(
            product=product, quantity=10, supplier=supplier, user=user, note="NF 1"
        )
        ledger.outflow_create(product=product, quantity=3, user=user, note="=Order 7")
    return products


def _export_all(tmp_path: Path, fmt: str) -> dict[str, Path]:
    written = {}
    for label in MODELS:
        transfer = registry.get(label)
        path = tmp_path / f"{label.replace('.', '_')}.{fmt}"
        queryset = transfer.model.objects.all()
        exports.export_queryset(transfer.resource(), queryset, fmt, path)
        written[label] = path
    return written


def _libreoffice(files: list[Path], convert_to: str, out: Path, infilter: str = "") -> list[Path]:
    """Open and save ``files`` with LibreOffice headless; returns the new files."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (libreoffice-calc-nogui) is needed; .ci/run installs it"
    out.mkdir()
    command = [
        soffice,
        "--headless",
        "--norestore",
        f"-env:UserInstallation=file://{out.parent / 'lo-profile'}",
        "--convert-to",
        convert_to,
        "--outdir",
        str(out),
    ]
    if infilter:
        command.append(f"--infilter={infilter}")
    subprocess.run([*command, *map(str, files)], check=True, capture_output=True, timeout=180)
    extension = convert_to.split(":", 1)[0]
    converted = [out / f"{path.stem}.{extension}" for path in files]
    assert all(path.exists() for path in converted), list(out.iterdir())
    return converted


def _assert_reads_back_unchanged(client, label: str, content: bytes, fmt: str) -> None:
    checked = preview(client, MODELS[label], content, fmt=fmt)
    counts = (
        checked.status,
        checked.new_rows,
        checked.updated_rows,
        checked.invalid_rows,
    )
    assert counts == (TaskNotification.Status.COMPLETED, 0, 0, 0), (
        label,
        fmt,
        counts,
        checked.error_message,
        checked.row_errors[:3],
    )
    assert checked.unchanged_rows == checked.total_rows > 0


def _ledger_unchanged():
    return Inflow.objects.count(), Outflow.objects.count()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_untouched_export_reads_back_as_no_change(admin_client, tricky_data, tmp_path, fmt):
    movements = _ledger_unchanged()
    for label, path in _export_all(tmp_path, fmt).items():
        _assert_reads_back_unchanged(admin_client, label, path.read_bytes(), fmt)
    assert _ledger_unchanged() == movements
    call_command("check_ledger")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_saved_again_by_libreoffice_reads_back_as_no_change(
    admin_client, tricky_data, tmp_path, fmt
):
    (tmp_path / "export").mkdir()
    exported = _export_all(tmp_path / "export", fmt)
    convert_to = CSV_FILTER if fmt == "csv" else "xlsx"
    infilter = CSV_FILTER.split(":", 1)[1] if fmt == "csv" else ""
    saved = _libreoffice(list(exported.values()), convert_to, tmp_path / "saved", infilter)
    for label, path in zip(exported, saved, strict=True):
        _assert_reads_back_unchanged(admin_client, label, path.read_bytes(), fmt)


def test_an_export_converted_to_ods_reads_back_as_no_change(admin_client, tricky_data, tmp_path):
    from django.urls import reverse

    page = admin_client.get(reverse("admin:catalog_product_import")).content.decode()
    assert "xlsx / ods" in page  # the format a person picks for either workbook
    (tmp_path / "export").mkdir()
    exported = _export_all(tmp_path / "export", "xlsx")
    converted = _libreoffice(list(exported.values()), "ods", tmp_path / "ods")
    for label, path in zip(exported, converted, strict=True):
        # The workbook format reads ODS too (the upload keeps its .ods name).
        checked = preview(admin_client, MODELS[label], path.read_bytes(), fmt="xlsx", name="f.ods")
        assert (checked.new_rows, checked.updated_rows, checked.invalid_rows) == (0, 0, 0), (
            label,
            checked.error_message,
            checked.row_errors[:3],
        )


def test_xlsx_cells_keep_their_exact_text(tmp_path):
    from python_calamine import CalamineWorkbook

    from dataio.xlsx import StreamingSheet

    texts = ["a\rb", "a\r\nb", "x_x0041_y", "bell\x07", "tab\tend", "<&>"]
    path = tmp_path / "cells.xlsx"
    with StreamingSheet(path) as sheet:
        sheet.rows([texts], ["text"] * len(texts))
    with open(path, "rb") as handle:
        rows = CalamineWorkbook.from_filelike(handle).get_sheet_by_index(0).to_python()
    assert rows[0] == texts


def test_dates_are_exported_in_local_time_in_every_format(tricky_data, tmp_path, settings):
    import csv
    import json
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from python_calamine import CalamineWorkbook

    settings.TIME_ZONE = "America/Sao_Paulo"
    inflow = Inflow.objects.order_by("pk").first()
    local = inflow.created_at.astimezone(ZoneInfo("America/Sao_Paulo"))
    files = _export_all(tmp_path, "csv")
    with open(files["movements.inflow"], encoding="utf-8-sig") as handle:
        row = next(row for row in csv.DictReader(handle) if row["id"] == str(inflow.pk))
    assert row["created_at"] == local.strftime("%Y-%m-%d %H:%M:%S")

    files = _export_all(tmp_path, "json")
    items = json.loads(files["movements.inflow"].read_bytes())
    row = next(item for item in items if item["id"] == inflow.pk)
    assert datetime.fromisoformat(row["created_at"]) == inflow.created_at
    assert row["created_at"].endswith("-03:00")

    files = _export_all(tmp_path, "xlsx")
    with open(files["movements.inflow"], "rb") as handle:
        rows = CalamineWorkbook.from_filelike(handle).get_sheet_by_index(0).to_python()
    row = next(dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[0] == inflow.pk)
    # A real date cell (a number with a date format), in local time.
    assert isinstance(row["created_at"], datetime)
    assert abs((row["created_at"] - local.replace(tzinfo=None)).total_seconds()) < 1
