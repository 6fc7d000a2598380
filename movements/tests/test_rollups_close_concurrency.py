"""Closing a day beside the sales: none waits, no unit counted twice or lost (PostgreSQL).

Each test runs the close in a thread of its own (its own connection) and
holds it at a chosen point with a real lock: another transaction holds the
``SaleWindow`` row the close is about to move (the close waits on that row
lock with everything it holds, as it would while moving 175,000 rows), or a
transaction writing movements is still open when the close starts.

Midnight itself cannot be waited for in a test: a session that must run as
just before (or after) it reads the database's clock from a function that
shadows ``clock_timestamp()`` in its own search_path; every other session
keeps the real clock.
"""

import threading
import time as clock
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from movements import rollups, services
from movements.models import DayTotal, Outflow, SaleWindow

pytestmark = [pytest.mark.postgresql_only, pytest.mark.django_db(transaction=True)]

WAIT = 10  # seconds: longest any step of these tests may take before it is a failure


class Closing(threading.Thread):
    """``close_days(today)`` in a thread; its backend's pid, its result, how long it took."""

    def __init__(self, today, setup=()):
        super().__init__(daemon=True)
        self.today, self.setup = today, setup
        self.pid = None
        self.result = self.error = self.seconds = None
        self.started = threading.Event()

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
                for sql in self.setup:
                    cursor.execute(sql)
            self.started.set()
            start = clock.monotonic()
            self.result = rollups.close_days(self.today)
            self.seconds = clock.monotonic() - start
        except Exception as error:  # raised in the test by finish()
            self.error = error
        finally:
            self.started.set()
            connection.close()

    def finish(self):
        self.join(WAIT)
        assert not self.is_alive(), "the close did not end"
        if self.error:
            raise self.error
        return self.result


def _in_thread(work):
    """Run ``work()`` in a thread with its own connection; returns (thread, outcome dict)."""
    outcome = {}

    def run():
        try:
            start = clock.monotonic()
            outcome["result"] = work()
            outcome["seconds"] = clock.monotonic() - start
        except Exception as error:
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _waiting_on_a_lock(pid) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def _until(condition, what):
    deadline = clock.monotonic() + WAIT
    while not condition():
        assert clock.monotonic() < deadline, f"timed out waiting until {what}"
        clock.sleep(0.01)


def _at(day, hour, minute=0, second=0, microsecond=0):
    moment = time(hour, minute, second, microsecond)
    return datetime.combine(day, moment, tzinfo=timezone.get_default_timezone())


def _sell_on(product, moment, units=1, price="10.00"):
    # Dated by hand, as seed_demo, a shell or a test may write a movement of a past day.
    return Outflow.objects.create(
        product=product,
        quantity=units,
        unit_price=Decimal(price),
        unit_cost=Decimal("1.00"),
        reason="sale",
        created_at=moment,
    )


def _window(product):
    row = SaleWindow.objects.filter(product=product).first()
    return (row.sale_count, row.sale_revenue) if row else None


def _assert_counted_once():
    """check_ledger's rollup checks: rollups = movements, closed days' tables = rollups."""
    assert rollups.rollup_differences() == []
    assert rollups.totals_differences() == []


@pytest.fixture
def day_to_close(stocked_product):
    """A product sold three days ago (closed) and yesterday (not closed yet): returns both."""
    # Nothing closed, whatever an earlier test or migrate left.
    DayTotal.objects.all().delete()
    SaleWindow.objects.all().delete()
    product = stocked_product(quantity=100)
    today = timezone.localdate()
    _sell_on(product, _at(today - timedelta(days=3), 12))
    assert rollups.close_days(today - timedelta(days=1)) == today - timedelta(days=2)
    _sell_on(product, _at(today - timedelta(days=1), 12), units=2)
    assert _window(product) == (1, Decimal("10.00"))
    return product, today


class HeldRow:
    """Another transaction holding a product's ``SaleWindow`` row: a close moving it waits there."""

    def __init__(self, product):
        self.other = connections.create_connection("default")
        with self.other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT 1 FROM movements_salewindow WHERE product_id = %s FOR UPDATE",
                [product.pk],
            )

    def release(self):
        if self.other is not None:
            with self.other.cursor() as cursor:
                cursor.execute("ROLLBACK")
            self.other.close()
            self.other = None


@contextmanager
def close_held(product, today):
    """A close of the days before ``today``, started and stopped on a row another transaction holds.

    It is past its locks and summing; the row is let go when the block ends.
    """
    held = HeldRow(product)
    closing = Closing(today)
    try:
        closing.start()
        closing.started.wait(WAIT)
        _until(lambda: _waiting_on_a_lock(closing.pid), "the close waits on the held row")
        yield closing
    finally:
        held.release()


def test_a_sale_commits_at_once_while_a_day_is_being_closed(day_to_close):
    product, today = day_to_close
    with close_held(product, today) as closing:
        # A sale of today, of the very product whose window is being moved.
        sale, outcome = _in_thread(lambda: services.outflow_create(product=product.pk, quantity=1))
        sale.join(0.5)
        assert not sale.is_alive(), "the sale waited for the close"
        assert "error" not in outcome, outcome.get("error")
        assert closing.is_alive(), "the close ended before the sale: nothing was shown"
    assert closing.finish() == today - timedelta(days=1)
    sale.join(WAIT)
    assert DayTotal.objects.get(day=today - timedelta(days=1)).sale_units == 2
    assert _window(product) == (2, Decimal("30.00"))  # today's sale stays out: still open
    _assert_counted_once()


def test_a_movement_dated_before_today_written_during_a_close_waits_and_counts_once(
    day_to_close,
):
    """Only backdated movements wait for a close: it holds them out, then they add themselves."""
    product, today = day_to_close
    yesterday = today - timedelta(days=1)
    with close_held(product, today) as closing:
        late, outcome = _in_thread(lambda: _sell_on(product, _at(yesterday, 18), units=4))
        late.join(0.5)
        waited = late.is_alive()
    assert closing.finish() == yesterday
    late.join(WAIT)
    assert "error" not in outcome, outcome.get("error")
    assert DayTotal.objects.get(day=yesterday).sale_units == 2 + 4
    assert _window(product) == (3, Decimal("70.00"))
    _assert_counted_once()
    assert waited, "a movement dated on the day being closed did not wait"


@pytest.fixture
def clock_before_midnight():
    """A schema whose clock_timestamp() says it is the last instant of yesterday.

    A session that puts it first in its search_path runs the rollup triggers
    as they run just before midnight: the database's today is still the day
    the close is about to close. Only that session sees it.
    """
    moment = _at(timezone.localdate() - timedelta(days=1), 23, 59, 59, 900_000)
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA rollups_test_clock")
        cursor.execute(
            "CREATE FUNCTION rollups_test_clock.clock_timestamp() RETURNS timestamptz "
            f"LANGUAGE sql AS $$ SELECT '{moment.isoformat()}'::timestamptz $$"
        )
    yield moment
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA rollups_test_clock CASCADE")


class BeforeMidnight(threading.Thread):
    """A sale through the service, begun before midnight, committed when told to."""

    def __init__(self, product, moment, monkeypatch):
        super().__init__(daemon=True)
        self.product, self.moment, self.monkeypatch = product, moment, monkeypatch
        self.written, self.commit = threading.Event(), threading.Event()
        self.error = None

    def run(self):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL search_path = rollups_test_clock, pg_catalog, public")
                # The service dates it by the app's clock, then (here)
                # just before midnight.
                with self.monkeypatch.context() as patch:
                    patch.setattr(timezone, "now", lambda: self.moment)
                    services.outflow_create(product=self.product.pk, quantity=3)
                self.written.set()
                assert self.commit.wait(WAIT)
        except Exception as error:
            self.error = error
        finally:
            self.written.set()
            connection.close()

    def finish(self):
        self.commit.set()
        self.join(WAIT)
        assert not self.is_alive()
        if self.error:
            raise self.error


def test_a_sale_in_flight_at_midnight_is_counted_once(
    day_to_close, clock_before_midnight, monkeypatch, stocked_product
):
    """Written before midnight (no lock taken: it was today's), committed during the close."""
    product, today = day_to_close
    other = stocked_product(quantity=5)
    yesterday = today - timedelta(days=1)
    in_flight = BeforeMidnight(product, clock_before_midnight, monkeypatch)
    in_flight.start()
    in_flight.written.wait(WAIT)
    closing = Closing(today)
    try:
        closing.start()
        closing.started.wait(WAIT)
        clock.sleep(0.3)
        # It waits for the transaction still writing yesterday's movements
        # (polling: no lock that a sale could queue behind).
        waited = closing.is_alive()
        # (Another product: the sale in flight holds its product's row.)
        sale, outcome = _in_thread(lambda: services.outflow_create(product=other.pk, quantity=1))
        sale.join(0.5)
        assert not sale.is_alive(), "a sale of today waited for the close"
    finally:
        in_flight.finish()
    assert closing.finish() == yesterday
    assert "error" not in outcome, outcome.get("error")
    assert DayTotal.objects.get(day=yesterday).sale_units == 2 + 3
    assert _window(product) == (3, Decimal("30.00") + 3 * product.sell_price)
    _assert_counted_once()
    assert waited, "the close did not wait for the movement in flight"


def test_a_close_gives_up_when_a_movement_in_flight_does_not_commit(
    day_to_close, clock_before_midnight, monkeypatch
):
    """It closes nothing rather than wait long; the next close counts the movement once."""
    product, today = day_to_close
    yesterday = today - timedelta(days=1)
    monkeypatch.setattr(rollups, "CLOSE_WAIT_SECONDS", 0.3)
    in_flight = BeforeMidnight(product, clock_before_midnight, monkeypatch)
    in_flight.start()
    in_flight.written.wait(WAIT)
    try:
        start = clock.monotonic()
        assert rollups.close_days(today) == yesterday - timedelta(days=1)
        assert clock.monotonic() - start < 2
    finally:
        in_flight.finish()
    assert rollups.close_days(today) == yesterday
    assert DayTotal.objects.get(day=yesterday).sale_units == 2 + 3
    _assert_counted_once()


def test_two_closes_at_once_close_the_day_once(day_to_close):
    product, today = day_to_close
    yesterday = today - timedelta(days=1)
    with close_held(product, today) as first:
        second = Closing(today)
        second.start()
        # The second one does not wait for the first: it closes nothing.
        assert second.finish() == yesterday - timedelta(days=1)
        assert second.seconds < 1
        assert first.is_alive()
    assert first.finish() == yesterday
    assert DayTotal.objects.filter(day=yesterday).count() == 1
    assert DayTotal.objects.get(day=yesterday).sale_units == 2
    assert _window(product) == (2, Decimal("30.00"))
    _assert_counted_once()


def test_a_close_asked_a_moment_before_the_databases_midnight_waits_for_it(day_to_close):
    """The refresh's clock runs ahead of the database's: the close waits for the midnight."""
    _, today = day_to_close
    tomorrow = today + timedelta(days=1)
    # The close's session only: the database's clock reads half a second
    # before the end of today. Every other session keeps the real clock.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXTRACT(EPOCH FROM %s::timestamptz - clock_timestamp()) - 0.5",
            [_at(tomorrow, 0)],
        )
        ahead = float(cursor.fetchone()[0])
        cursor.execute("CREATE SCHEMA rollups_test_skew")
        cursor.execute(
            "CREATE FUNCTION rollups_test_skew.clock_timestamp() RETURNS timestamptz "
            "LANGUAGE sql AS $$ SELECT pg_catalog.clock_timestamp() "
            f"+ make_interval(secs => {ahead!r}) $$"
        )
    try:
        closing = Closing(
            tomorrow, setup=["SET search_path = rollups_test_skew, pg_catalog, public"]
        )
        closing.start()
        assert closing.finish() == today
        assert 0.3 < closing.seconds < 3
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA rollups_test_skew CASCADE")
    assert DayTotal.objects.filter(day=today).exists()
    _assert_counted_once()
