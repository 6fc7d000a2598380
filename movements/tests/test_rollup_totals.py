"""The closed days' tables (DayTotal, SaleWindow): kept by the rollup triggers, closed, checked."""

import io
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from movements import rollups, services
from movements.models import DayTotal, Inflow, Outflow, SaleWindow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _closed_up_to_yesterday():
    """As migrate leaves a database; a flush by an earlier test empties both tables."""
    rollups.close_days(timezone.localdate())


def _noon(day):
    return datetime.combine(day, time(12), tzinfo=timezone.get_default_timezone())


def _sell(product, day, units=1, price="10.00", reason="sale"):
    Outflow.objects.create(
        product=product,
        quantity=units,
        unit_price=Decimal(price),
        unit_cost=Decimal("1.00"),
        reason=reason,
        created_at=_noon(day),
    )


def _window(product):
    row = SaleWindow.objects.filter(product=product).first()
    return (row.sale_count, row.sale_revenue) if row else None


def test_the_days_are_closed_up_to_yesterday():
    assert rollups.closed_day() == timezone.localdate() - timedelta(days=1)


def test_today_touches_neither_table_a_closed_day_both(stocked_product):
    product = stocked_product(quantity=50)
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    before = DayTotal.objects.get(day=yesterday).sale_units
    services.outflow_create(product=product, quantity=2)  # today: open
    assert not DayTotal.objects.filter(day=today).exists()
    assert _window(product) is None
    _sell(product, yesterday, units=3)
    _sell(product, today - timedelta(days=29), units=1, price="5.00")  # the window's first day
    _sell(product, today - timedelta(days=30), units=7)  # before the window
    _sell(product, yesterday, units=4, reason="correction")  # not a sale
    assert DayTotal.objects.get(day=yesterday).sale_units == before + 3
    assert DayTotal.objects.get(day=yesterday).out_units == before + 3 + 4
    assert DayTotal.objects.get(day=today - timedelta(days=30)).sale_units == 7
    assert _window(product) == (2, Decimal("35.00"))
    assert rollups.totals_differences() == []


def test_closing_days_moves_the_window(stocked_product):
    product, other = stocked_product(quantity=50), stocked_product(quantity=50)
    today = timezone.localdate()
    _sell(product, today - timedelta(days=29), units=1)  # leaves the window tomorrow
    _sell(other, today - timedelta(days=28), units=2)
    services.outflow_create(product=product, quantity=3, unit_price=Decimal("10.00"))
    _sell(other, today + timedelta(days=1), units=5)  # a day ahead: still open tomorrow
    assert _window(product) == (1, Decimal("10.00"))

    assert rollups.close_days(today + timedelta(days=1)) == today
    assert DayTotal.objects.get(day=today).sale_units == 3
    assert _window(product) == (1, Decimal("30.00"))  # -1 day 29 ago, +3 today
    assert _window(other) == (1, Decimal("20.00"))
    assert rollups.totals_differences() == []

    # Two more days: the other product's sale 28 days ago leaves, tomorrow's enters.
    assert rollups.close_days(today + timedelta(days=3)) == today + timedelta(days=2)
    assert _window(other) == (1, Decimal("50.00"))
    assert rollups.totals_differences() == []
    # Nothing to do when the days are closed already; never back.
    assert rollups.close_days(today) == today + timedelta(days=2)


def test_closing_after_a_long_gap_sums_the_window_anew(stocked_product):
    product = stocked_product(quantity=50)
    today = timezone.localdate()
    _sell(product, today - timedelta(days=3), units=1)
    _sell(product, today + timedelta(days=40), units=2)
    assert rollups.close_days(today + timedelta(days=45)) == today + timedelta(days=44)
    assert _window(product) == (1, Decimal("20.00"))
    assert rollups.totals_differences() == []


def test_nothing_closed_then_the_first_close_fills_both(stocked_product):
    product = stocked_product(quantity=50)
    today = timezone.localdate()
    _sell(product, today - timedelta(days=2), units=2)
    DayTotal.objects.all().delete()
    SaleWindow.objects.all().delete()
    assert rollups.closed_day() is None
    _sell(product, today - timedelta(days=2), units=1)  # nothing closed: nothing kept
    assert not DayTotal.objects.exists()
    assert rollups.totals_differences() == []
    assert rollups.close_days(today) == today - timedelta(days=1)
    assert DayTotal.objects.get(day=today - timedelta(days=2)).sale_units == 3
    assert _window(product) == (2, Decimal("30.00"))


def test_check_ledger_reports_totals_that_differ_and_rebuild_fixes_them(stocked_product, capsys):
    product = stocked_product(quantity=0)
    yesterday = timezone.localdate() - timedelta(days=1)
    # In and out the same day: the stock (0) still matches the movements.
    Inflow.objects.create(
        product=product,
        quantity=2,
        unit_cost=Decimal("1.00"),
        reason="correction",
        created_at=_noon(yesterday),
    )
    _sell(product, yesterday, units=2)
    DayTotal.objects.filter(day=yesterday).update(sale_units=99)
    SaleWindow.objects.filter(product=product).update(sale_revenue=Decimal("1.00"))
    with pytest.raises(CommandError, match=r"2 day total\(s\) or 30-day product sales differ"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"Day total of {yesterday.isoformat()}, sale_units: recorded 99" in err
    assert f"30-day sales of product id {product.pk}, sale_revenue: recorded 1" in err
    call_command("rebuild_rollups", stdout=io.StringIO())
    call_command("check_ledger")
    assert "day and 30-day totals" in capsys.readouterr().out


@pytest.mark.postgresql_only
def test_truncating_the_ledger_empties_the_totals(stocked_product):
    product = stocked_product(quantity=10)
    _sell(product, timezone.localdate() - timedelta(days=1))
    assert SaleWindow.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE movements_inflow, movements_outflow CASCADE")
    assert not DayTotal.objects.exists()
    assert not SaleWindow.objects.exists()
    assert rollups.closed_day() is None


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_closing_gives_up_while_movements_are_being_written(stocked_product):
    """A transaction writing movements holds close_days off; it closes nothing and says so."""
    from django.db import connections

    product = stocked_product(quantity=10)
    today = timezone.localdate()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE movements_outflow IN ROW EXCLUSIVE MODE")
            assert rollups.close_days(today + timedelta(days=1)) == today - timedelta(days=1)
            cursor.execute("ROLLBACK")
    finally:
        other.close()
    assert rollups.close_days(today + timedelta(days=1)) == today
    assert rollups.totals_differences() == []
    assert product.pk
