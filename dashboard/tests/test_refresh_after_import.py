"""An import refreshes the dashboard like any other change (issue 14)."""

from unittest import mock

import pytest

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductModelFactory
from dashboard.tasks import update_dashboard_metrics_cache
from dataio.tests.helpers import confirm, preview

pytestmark = pytest.mark.django_db


def test_a_product_import_schedules_one_refresh(admin_client, django_capture_on_commit_callbacks):
    model = ProductModelFactory()
    category = CategoryFactory()
    rows = "\n".join(
        f"P-{n},Product {n},{model.brand.name},{model.name},{category.name},1.00,2.00,0"
        for n in range(3)
    )
    content = (
        "serial_number,title,brand,product_model,category,cost_price,sell_price,reorder_level\n"
        + rows
        + "\n"
    ).encode()
    checked = preview(admin_client, "admin:catalog_product_import", content)
    with (
        mock.patch.object(update_dashboard_metrics_cache, "apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = confirm(admin_client, checked)
    assert done.status == "completed", done.error_message
    assert Product.objects.filter(serial_number__startswith="P-").count() == 3
    assert apply_async.call_count == 1
