"""The change feed: commit order, nothing missed or repeated, with slow and concurrent writers."""

import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from catalog.models import Product
from catalog.tests.factories import ProductFactory
from integrations import feed, services
from integrations.models import Change
from movements import services as ledger
from movements.models import Inflow, Outflow
from project.api.testing import client_for, fresh_api_user_cache  # noqa: F401 - fixture

CHANGES = "/api/v1/changes/"


def _follow(api, cursor: str, **params) -> tuple[list[dict], str]:
    seen = []
    while True:
        page = api.get(CHANGES, {"after": cursor, **params}).json()
        seen += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return seen, cursor


@pytest.fixture
def api(transactional_db, admin_user):
    return client_for(admin_user)


def test_a_purchase_order_and_its_lines_arrive_as_changes_of_the_order(api):
    from catalog.tests.factories import SupplierFactory
    from purchasing import services as purchasing
    from purchasing.services import LineInput

    start = api.get(f"{CHANGES}latest/").json()["cursor"]
    product = ProductFactory()
    order = purchasing.order_create(
        supplier=SupplierFactory(),
        user=None,
        lines=[LineInput(product=product, quantity=4), LineInput(ProductFactory(), 2)],
    )
    purchasing.order_send(order=order, user=None)
    draft = purchasing.order_create(
        supplier=SupplierFactory(), user=None, lines=[LineInput(product=product, quantity=1)]
    )
    draft_id = draft.pk
    purchasing.order_delete(order=draft)
    changes, _ = _follow(api, start, kind="purchase_order", limit=2)
    ops = {}
    for change in changes:
        assert change["kind"] == "purchase_order"
        ops.setdefault(change["id"], []).append(change["op"])
    assert set(ops) == {order.pk, draft_id}
    assert set(ops[order.pk]) == {"upsert"} and len(ops[order.pk]) >= 3  # created, lines, sent
    # Its line went first, then the order: the last word on it is "deleted".
    assert ops[draft_id][-1] == "delete" and set(ops[draft_id][:-1]) == {"upsert"}
    # The units on order moved: the products' changes are in the feed too.
    products = {c["id"] for c in _follow(api, start, kind="product")[0]}
    assert product.pk in products


def test_every_kind_of_change_arrives_once_in_order(api):
    start = api.get(f"{CHANGES}latest/").json()["cursor"]
    product = ProductFactory()
    inflow = ledger.inflow_create(product=product, quantity=3, reason="correction")
    Product.objects.filter(pk=product.pk).update(title="Renamed")
    unmoved = ProductFactory()
    unmoved_id = unmoved.pk
    unmoved.delete()
    changes, cursor = _follow(api, start, limit=2)
    assert [(c["kind"], c["id"], c["op"]) for c in changes] == [
        ("product", product.pk, "upsert"),  # created
        ("inflow", inflow.pk, "upsert"),
        ("product", product.pk, "upsert"),  # its stock moved
        ("product", product.pk, "upsert"),  # renamed
        ("product", unmoved_id, "upsert"),
        ("product", unmoved_id, "delete"),
    ]
    # Asking again from the stored cursor repeats nothing.
    assert _follow(api, cursor)[0] == []
    only_movements, _ = _follow(api, start, kind="inflow,outflow")
    assert [c["id"] for c in only_movements] == [inflow.pk]


@pytest.mark.postgresql_only
def test_a_slow_transaction_is_not_skipped_by_a_client_that_read_in_between(api):
    product = ProductFactory()
    start = api.get(f"{CHANGES}latest/").json()["cursor"]
    settings_dict = connection.settings_dict
    slow = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
    )
    try:
        # The slow writer changes the product first and commits last.
        slow.execute("UPDATE catalog_product SET title = 'slow' WHERE id = %s", [product.pk])
        fast = ProductFactory()  # commits at once, after the slow one began writing
        during, cursor = _follow(api, start)
        # Nothing is handed out past the slow writer while it runs: the fast
        # change would otherwise move the client's cursor beyond it.
        assert during == []
        slow.commit()
    finally:
        slow.close()
    after, _ = _follow(api, cursor)
    assert [(c["id"], c["op"]) for c in after] == [(product.pk, "upsert"), (fast.pk, "upsert")]


@pytest.mark.postgresql_only
def test_concurrent_writers_and_a_polling_reader_miss_and_repeat_nothing(api):
    products = ProductFactory.create_batch(4)
    for product in products:
        ledger.inflow_create(product=product, quantity=1000, reason="correction")
    start = api.get(f"{CHANGES}latest/").json()["cursor"]
    stop = threading.Event()
    errors = []

    def write(product):
        try:
            for _ in range(25):
                with transaction.atomic():
                    ledger.outflow_create(product=product.pk, quantity=1)
                    time.sleep(0.002)  # hold the transaction open a little
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    received = []

    def read():
        cursor = start
        try:
            while True:
                done = stop.is_set()
                changes, cursor = _follow(api, cursor, kind="outflow")
                received.extend(changes)
                if done:
                    return
                time.sleep(0.01)
        finally:
            connections.close_all()

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(product,)) for product in products]
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reader.join()
    assert errors == []
    ids = [change["id"] for change in received]
    assert len(ids) == len(set(ids)) == 100
    assert set(ids) == set(Outflow.objects.values_list("pk", flat=True))


def test_a_client_needs_the_scopes_of_the_kinds_it_reads(transactional_db):
    from rest_framework.test import APIClient

    client, secret = services.api_client_create(name="Feed reader", scopes=["catalog:read"])
    token = APIClient().post(
        "/api/v1/clients/token/", {"client_id": client.client_id, "client_secret": secret}
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")
    assert api.get(CHANGES, {"kind": "product"}).status_code == 200
    refused = api.get(CHANGES)
    assert refused.status_code == 403
    assert "movements:read" in refused.json()["detail"]


def test_bad_cursors_kinds_and_limits_are_400s(api):
    for params in (
        {"after": "abc"},
        {"after": "1.99999999999999999999"},
        {"kind": "users"},
        {"limit": "0"},
        {"limit": "x"},
    ):
        response = api.get(CHANGES, params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "invalid"


def test_a_cursor_behind_a_purge_is_told_to_resync(api):
    start = api.get(f"{CHANGES}latest/").json()["cursor"]
    ProductFactory.create_batch(2)
    Change.objects.update(at=timezone.now() - timedelta(days=40))
    assert feed.purge_older_than(30) >= 2
    gone = api.get(CHANGES, {"after": start})
    assert gone.status_code == 410
    assert gone.json()["code"] == "cursor_expired"
    latest = api.get(f"{CHANGES}latest/").json()["cursor"]
    assert api.get(CHANGES, {"after": latest}).status_code == 200


@pytest.mark.postgresql_only
def test_a_bulk_load_may_leave_the_feed_out(transactional_db):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL inventory.change_feed = 'off'")
        product = ProductFactory()
        Inflow.objects.bulk_create(
            [Inflow(product=product, quantity=1, unit_cost=1, reason="correction")]
        )
    assert not Change.objects.exists()
    ProductFactory()
    assert Change.objects.count() == 1


@pytest.mark.postgresql_only
def test_seeding_a_demo_leaves_the_feed_out(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo", products=30, movements=120, seed=1, verbosity=0)
    assert Product.objects.count() == 30
    assert not Change.objects.exists()
    ProductFactory()
    assert Change.objects.count() == 1
