"""Fills ``Product.on_order`` from the open order lines that exist already.

From here on the purchasing services keep the column (``on_order_recount``).
The sum is written out here rather than imported from the services: a
migration must keep doing what it did when the code moves on.
"""

from django.db import migrations
from django.db.models import F, Sum

OPEN_STATES = ("draft", "sent", "partially_received")


def fill_on_order(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    PurchaseOrderLine = apps.get_model("purchasing", "PurchaseOrderLine")
    rows = (
        PurchaseOrderLine.objects.filter(
            is_cancelled=False,
            received_quantity__lt=F("quantity"),
            order__state__in=OPEN_STATES,
        )
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("received_quantity")))
    )
    for row in rows.iterator():
        Product.objects.filter(pk=row["product_id"]).update(on_order=row["units"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_product_on_order"),
        ("purchasing", "0002_reorder_suggestions_task"),
    ]

    operations = [migrations.RunPython(fill_on_order, migrations.RunPython.noop)]
