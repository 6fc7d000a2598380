"""What a movement file does to stock, shown before it is confirmed.

The preview lists, per product the file moves, the stock before and after and
marks those it leaves at zero or at/below their reorder level; the stock
report (CSV) has the same figures. The confirm recomputes them under the
ledger's locks: if stock moved in between, nothing is imported, the person is
told what changed, and a new preview with today's figures is queued.
"""

import csv
import io

import pytest
from django.urls import reverse

from dataio.models import TaskNotification
from dataio.tests.helpers import confirm, preview
from movements import services as ledger
from movements.models import Outflow

pytestmark = pytest.mark.django_db
OUTFLOWS = "admin:movements_outflow_import"
Status = TaskNotification.Status


@pytest.fixture
def shelf(stocked_product):
    return {
        "plenty": stocked_product(quantity=50, serial_number="PLENTY", reorder_level=5),
        "low": stocked_product(quantity=8, serial_number="LOW", reorder_level=5),
        "empty": stocked_product(quantity=4, serial_number="EMPTY", reorder_level=1),
    }


FILE = b"product,quantity\nPLENTY,10\nLOW,2\nLOW,2\nEMPTY,4\n"


def test_the_preview_shows_stock_before_and_after_and_flags_low_and_empty(admin_client, shelf):
    checked = preview(admin_client, OUTFLOWS, FILE)
    assert (checked.new_rows, checked.invalid_rows) == (4, 0)
    impact = checked.stock_impact
    assert (impact["count"], impact["out"], impact["low"]) == (3, 1, 1)
    figures = {
        p["serial_number"]: (p["before"], p["after"], p["level"]) for p in impact["products"]
    }
    assert figures == {
        "PLENTY": (50, 40, "ok"),
        "LOW": (8, 4, "low"),
        "EMPTY": (4, 0, "out"),
    }
    # Those that need a look come first.
    assert [p["serial_number"] for p in impact["products"]] == ["EMPTY", "LOW", "PLENTY"]

    page = admin_client.get(reverse("dataio:import_preview", args=[checked.pk])).content.decode()
    assert 'id="stock-impact"' in page
    assert 'data-serial="EMPTY" data-level="out"' in page
    assert 'data-serial="LOW" data-level="low"' in page
    assert "1 is left out of stock." in page

    report = admin_client.get(reverse("dataio:download_stock", args=[checked.pk]))
    assert report.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["serial number", "title", "stock before", "stock after"]
    assert [row[0] for row in rows[1:]] == ["EMPTY", "LOW", "PLENTY"]
    assert rows[1][2:4] == ["4", "0"] and rows[1][5] == "out of stock"


def test_the_confirm_refuses_a_stale_picture_and_queues_a_new_preview(admin_client, shelf):
    checked = preview(admin_client, OUTFLOWS, FILE)
    # Someone sells one unit of LOW between the preview and the confirm.
    ledger.outflow_create(product=shelf["low"].pk, quantity=1)
    before = Outflow.objects.count()

    done = confirm(admin_client, checked)

    assert done.status == Status.FAILED
    assert "Stock moved since the preview" in done.error_message
    assert "LOW: 8 at the preview, 7 now" in done.error_message
    assert Outflow.objects.count() == before
    shelf["low"].refresh_from_db()
    assert shelf["low"].quantity == 7
    again = TaskNotification.objects.latest("pk")
    assert again.task_type == TaskNotification.TaskType.IMPORT_PREVIEW
    assert again.source_file == checked.source_file and again.status == Status.PENDING
    # The failed import's page leads to the new preview, the lines one per row.
    page = admin_client.get(reverse("dataio:import_preview", args=[done.pk])).content.decode()
    assert reverse("dataio:import_preview", args=[again.pk]) in page
    assert "<br>LOW: 8 at the preview, 7 now" in page


def test_an_unchanged_picture_imports_and_shows_what_it_did(admin_client, shelf):
    checked = preview(admin_client, OUTFLOWS, FILE)
    done = confirm(admin_client, checked)
    assert done.status == Status.COMPLETED, done.error_message
    assert done.stock_impact["products"] == checked.stock_impact["products"]
    shelf["empty"].refresh_from_db()
    assert shelf["empty"].quantity == 0
    page = admin_client.get(reverse("dataio:import_preview", args=[done.pk])).content.decode()
    assert "What this import did to stock" in page


def test_no_stock_picture_for_a_file_with_invalid_rows(admin_client, shelf):
    checked = preview(admin_client, OUTFLOWS, b"product,quantity\nPLENTY,10\nEMPTY,99\n")
    assert checked.invalid_rows == 1
    page = admin_client.get(reverse("dataio:import_preview", args=[checked.pk])).content.decode()
    assert 'id="stock-impact"' not in page
