"""Daily rollups: kept by the database in the movements' own transaction, checked, rebuilt."""

import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from movements import rollups, services
from movements.models import DailyRollup, Inflow, Outflow

pytestmark = pytest.mark.django_db


def _rollup(product, day=None) -> dict:
    row = DailyRollup.objects.get(product=product, day=day or timezone.localdate())
    return {column: getattr(row, column) for column in rollups.COLUMNS}


def test_service_movements_update_their_product_day(stocked_product, supplier):
    product = stocked_product(quantity=0, cost_price=Decimal("4.00"), sell_price=Decimal("9.00"))
    services.inflow_create(product=product, quantity=10, supplier=supplier)
    sale = services.outflow_create(product=product, quantity=3)
    services.outflow_create(product=product, quantity=1, reason="correction")
    services.movement_reverse(movement=sale)  # a correcting inflow of 3
    assert _rollup(product) == {
        "in_count": 2,
        "in_units": 13,
        "in_cost": Decimal("52.00"),
        "out_count": 2,
        "out_units": 4,
        "out_revenue": Decimal("36.00"),
        "out_cost": Decimal("16.00"),
        "sale_count": 1,
        "sale_units": 3,
        "sale_revenue": Decimal("27.00"),
        "sale_cost": Decimal("12.00"),
    }
    assert rollups.rollup_differences() == []


def test_a_rolled_back_movement_leaves_no_rollup(stocked_product):
    product = stocked_product(quantity=5)
    before = _rollup(product)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.outflow_create(product=product, quantity=2)
        raise RuntimeError("the caller fails after the outflow")
    assert _rollup(product) == before


def test_local_midnight_splits_days(settings, stocked_product):
    settings.TIME_ZONE = "America/Sao_Paulo"
    product = stocked_product(quantity=0)
    tz = timezone.get_default_timezone()
    midnight = datetime.combine(timezone.localdate(), time.min, tzinfo=tz)
    for seconds, units in ((-1, 1), (0, 2), (1, 4)):
        Outflow.objects.create(
            product=product,
            quantity=units,
            unit_price=Decimal("1.00"),
            created_at=midnight + timedelta(seconds=seconds),
        )
    today, yesterday = midnight.date(), midnight.date() - timedelta(days=1)
    assert _rollup(product, yesterday)["sale_units"] == 1
    assert _rollup(product, today)["sale_units"] == 2 + 4


def test_a_bulk_insert_is_summed_per_product_day(stocked_product):
    first, second = stocked_product(quantity=0), stocked_product(quantity=0)
    now = timezone.now()
    Outflow.objects.bulk_create(
        [
            Outflow(product=product, quantity=n, unit_price=Decimal("2.50"), created_at=now)
            for product in (first, second)
            for n in range(1, 101)
        ]
    )
    assert _rollup(first)["sale_count"] == 100
    assert _rollup(first)["sale_units"] == 5050
    assert _rollup(second)["out_revenue"] == Decimal("12625.00")
    assert rollups.rollup_differences() == []


@pytest.mark.postgresql_only
def test_copy_updates_the_rollups_in_the_same_transaction(stocked_product):
    product = stocked_product(quantity=0)
    stamp = timezone.now().isoformat()
    text = "".join(f"{product.pk}\t{n}\t\t{stamp}\tsale\t3.00\t1.00\n" for n in (1, 2, 3))
    sql = (
        "COPY movements_outflow (product_id, quantity, note, created_at, reason, "
        "unit_price, unit_cost) FROM STDIN"
    )
    with transaction.atomic():
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            copy.write(text)
        assert _rollup(product)["sale_units"] == 6
    assert _rollup(product)["sale_revenue"] == Decimal("18.00")
    assert rollups.rollup_differences() == []


@pytest.mark.postgresql_only
def test_truncating_the_ledger_empties_the_rollups(stocked_product):
    product = stocked_product(quantity=10)
    services.outflow_create(product=product, quantity=4)
    with connection.cursor() as cursor:
        # As a demo reset does (the tables reference each other; receipts reference inflows).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE movements_inflow, movements_outflow CASCADE")
    assert not DailyRollup.objects.exists()
    assert rollups.rollup_differences() == []


def test_check_ledger_reports_a_rollup_that_differs_and_rebuild_fixes_it(stocked_product, capsys):
    product = stocked_product(quantity=10)
    services.outflow_create(product=product, quantity=4)
    DailyRollup.objects.filter(product=product).update(sale_units=40)
    other = stocked_product(quantity=2)
    DailyRollup.objects.filter(product=other).delete()
    with pytest.raises(CommandError, match=r"2 daily rollup\(s\) \(product and day\) differ"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    day = timezone.localdate().isoformat()
    assert f"product id {product.pk} on {day}, sale_units: recorded 40, movements say 4" in err
    assert f"product id {other.pk} on {day}, in_units: recorded no row, movements say 2" in err
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "Daily rollups rebuilt: 2 product-day(s)" in out.getvalue()
    call_command("check_ledger")
    assert "so do the daily rollups" in capsys.readouterr().out


def test_rebuild_gives_what_the_triggers_kept(stocked_product, supplier):
    product = stocked_product(quantity=10)
    services.outflow_create(product=product, quantity=3, unit_price=Decimal("7.77"))
    Inflow.objects.create(
        product=product,
        quantity=2,
        unit_cost=Decimal("1.10"),
        supplier=supplier,
        created_at=timezone.now() - timedelta(days=3),
    )
    kept = sorted(DailyRollup.objects.values_list("product", "day", *rollups.COLUMNS))
    call_command("rebuild_rollups", stdout=io.StringIO())
    assert sorted(DailyRollup.objects.values_list("product", "day", *rollups.COLUMNS)) == kept
    assert len(kept) == 2
