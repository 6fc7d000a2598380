"""Movements are recorded from files one way: the set-based import, through the ledger service.

The Resources only define columns and rules. django-import-export's own
row-by-row import (its ``process_import`` confirm step, ``import_data`` on a
movement Resource) would bypass the preview, and for movements the ledger.
"""

import tempfile

import pytest
import tablib
from django.urls import NoReverseMatch, reverse

from dataio.models import TaskNotification
from dataio.tests.helpers import confirm, preview
from movements import services as ledger
from movements.models import Inflow, Outflow
from movements.resources import InflowResource, OutflowResource
from movements.selectors import ledger_differences

pytestmark = pytest.mark.django_db


def _spy(monkeypatch, name: str) -> list[dict]:
    calls = []
    real = getattr(ledger, name)

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(ledger, name, spy)
    return calls


def test_a_movement_file_is_recorded_through_the_ledger_service(
    admin_client, stocked_product, supplier, monkeypatch
):
    product = stocked_product(quantity=10, serial_number="SHELF-1")
    outflows = _spy(monkeypatch, "outflow_create")
    inflows = _spy(monkeypatch, "inflow_create")

    checked = preview(
        admin_client, "admin:movements_outflow_import", b"product,quantity\nSHELF-1,3\nSHELF-1,4\n"
    )
    assert outflows == []  # the preview writes nothing
    done = confirm(admin_client, checked)
    assert done.status == TaskNotification.Status.COMPLETED, done.error_message
    assert [(call["product"], call["quantity"]) for call in outflows] == [
        (product.pk, 3),
        (product.pk, 4),
    ]

    checked = preview(
        admin_client,
        "admin:movements_inflow_import",
        f"product,quantity,supplier\nSHELF-1,5,{supplier.name}\n".encode(),
    )
    done = confirm(admin_client, checked)
    assert done.status == TaskNotification.Status.COMPLETED, done.error_message
    assert [(call["product"], call["quantity"], call["supplier"].pk) for call in inflows] == [
        (product.pk, 5, supplier.pk)
    ]

    product.refresh_from_db()
    assert product.quantity == 10 - 3 - 4 + 5
    assert ledger_differences() == []


@pytest.mark.parametrize("resource", [InflowResource, OutflowResource])
def test_a_movement_resource_refuses_the_row_by_row_import(stocked_product, resource):
    stocked_product(quantity=10, serial_number="SHELF-1")
    data = tablib.Dataset(["SHELF-1", "2"], headers=["product", "quantity"])
    with pytest.raises(NotImplementedError):
        resource().import_data(data, dry_run=False)
    assert Inflow.objects.count() == 1 and Outflow.objects.count() == 0


@pytest.mark.parametrize("model", ["movements_outflow", "movements_inflow", "catalog_product"])
def test_the_library_confirm_step_is_not_routed(
    admin_client, stocked_product, tmp_path, monkeypatch, model
):
    stocked_product(quantity=10, serial_number="SHELF-1")
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:{model}_process_import")
    # What that step read: a file in the temporary folder, named by the form.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "upload.csv").write_text("product,quantity\nSHELF-1,2\n")
    app, name = model.split("_")
    response = admin_client.post(
        f"/admin/{app}/{name}/process_import/",
        {"import_file_name": "upload.csv", "original_file_name": "upload.csv", "format": "0"},
    )
    assert response.status_code in (302, 404)
    assert (tmp_path / "upload.csv").exists()  # never read (that step deletes it)
    assert Inflow.objects.count() == 1 and Outflow.objects.count() == 0
