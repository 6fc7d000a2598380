"""The movement lists' default order is served by an index, not a sort of every row."""

import pytest
from django.db import connection

from movements.models import Inflow, Outflow


@pytest.mark.postgresql_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "index"),
    [(Inflow, "movements_in_created_id_idx"), (Outflow, "movements_out_created_id_idx")],
)
def test_newest_first_page_reads_the_index_without_sorting(model, index):
    with connection.cursor() as cursor:
        # A test table is tiny, where a scan and sort is cheapest; at 10
        # million rows it is not. Forbidding the scan shows what serves the order.
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = model.objects.all()[:100].explain()
    assert index in plan
    assert "Sort" not in plan
