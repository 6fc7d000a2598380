"""The admin movement lists' order, (-created_at, -id), as an index on both tables.

With it a list page (ORDER BY created_at DESC, id DESC LIMIT n) reads n index
entries instead of sorting every movement. The existing (product,
-created_at) indexes keep serving one product's movements.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("movements", "0004_daily_rollups")]

    operations = [
        migrations.AddIndex(
            model_name="inflow",
            index=models.Index(fields=["-created_at", "-id"], name="movements_in_created_id_idx"),
        ),
        migrations.AddIndex(
            model_name="outflow",
            index=models.Index(fields=["-created_at", "-id"], name="movements_out_created_id_idx"),
        ),
    ]
