"""Reorder suggestions: lead time, pack size, on-order netting, inactive products, one query."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.tests.factories import ProductFactory, SupplierFactory
from dataio.models import TaskNotification
from movements import services as ledger
from purchasing import services
from purchasing.models import PurchaseOrder
from purchasing.selectors import reorder_suggestions, suggested_quantity
from purchasing.services import LineInput, ReceiveInput
from purchasing.tests.factories import SupplierProductFactory

pytestmark = pytest.mark.django_db


def _low_product(*, stock=2, reorder_level=5, sold=0, **fields):
    """A product with ``stock`` units left after ``sold`` units sold today."""
    product = ProductFactory(reorder_level=reorder_level, **fields)
    supplier = SupplierFactory()
    if stock + sold:
        ledger.inflow_create(product=product, quantity=stock + sold, supplier=supplier)
    if sold:
        ledger.outflow_create(product=product, quantity=sold)
    product.refresh_from_db()
    return product


def _quantities(groups):
    return {line.product_id: line.quantity for group in groups for line in group.lines}


def test_quantity_brings_stock_to_reorder_level_plus_lead_time_demand():
    # 60 sold in 30 days = 2 a day; 7 days of lead time = 14; level 5; stock 2.
    product = _low_product(stock=2, sold=60)
    link = SupplierProductFactory(product=product, lead_time_days=7, pack_size=1)
    (group,) = reorder_suggestions()
    (line,) = group.lines
    assert group.supplier_id == link.supplier_id
    assert line.quantity == 5 + 14 - 2
    assert line.sold_30_days == 60 and line.average_daily_sales == Decimal("2.00")
    assert line.unit_cost == link.last_cost


def test_sales_older_than_30_days_do_not_count(settings):
    product = _low_product(stock=2, sold=60)
    SupplierProductFactory(product=product, lead_time_days=7)
    later = timezone.localdate() + timedelta(days=30)
    assert _quantities(reorder_suggestions(today=later)) == {product.pk: 3}


def test_quantity_is_rounded_up_to_whole_packs():
    product = _low_product(stock=2, reorder_level=5)
    SupplierProductFactory(product=product, pack_size=12)
    assert _quantities(reorder_suggestions()) == {product.pk: 12}
    assert (
        suggested_quantity(
            reorder_level=5, stock=2, on_order=0, sold=0, lead_time_days=0, pack_size=3
        )
        == 3
    )
    assert (
        suggested_quantity(
            reorder_level=7, stock=2, on_order=0, sold=0, lead_time_days=0, pack_size=3
        )
        == 6
    )


def test_open_orders_are_netted_out_and_received_or_cancelled_ones_are_not():
    product = _low_product(stock=2, reorder_level=10)
    link = SupplierProductFactory(product=product)
    order = services.order_create(
        supplier=link.supplier, user=None, lines=[LineInput(product=product, quantity=5)]
    )
    assert _quantities(reorder_suggestions()) == {product.pk: 3}
    services.order_send(order=order, user=None)
    services.order_receive(order=order, user=None, lines=[ReceiveInput(order.lines.get().pk, 2)])
    # Stock 4, 3 still on order: 10 - 7.
    assert _quantities(reorder_suggestions()) == {product.pk: 3}
    other = services.order_create(
        supplier=link.supplier, user=None, lines=[LineInput(product=product, quantity=50)]
    )
    services.order_cancel(order=other, user=None)
    assert _quantities(reorder_suggestions()) == {product.pk: 3}


def test_inactive_products_and_products_above_their_level_are_left_out():
    active = _low_product(stock=1)
    inactive = _low_product(stock=1, is_active=False)
    above = _low_product(stock=9, reorder_level=5)
    for product in (active, inactive, above):
        SupplierProductFactory(product=product)
    assert set(_quantities(reorder_suggestions())) == {active.pk}


def test_products_are_grouped_by_preferred_supplier_and_the_rest_apart():
    supplier = SupplierFactory(name="Alpha")
    first, second, orphan = _low_product(), _low_product(), _low_product()
    SupplierProductFactory(product=first, supplier=supplier)
    SupplierProductFactory(product=second, supplier=supplier)
    # A non-preferred link does not make it that supplier's suggestion.
    SupplierProductFactory(product=orphan, is_preferred=False)
    groups = reorder_suggestions()
    assert [(g.supplier_id, len(g.lines)) for g in groups] == [(supplier.pk, 2), (None, 1)]


def _count_queries(products):
    for _ in range(products):
        SupplierProductFactory(product=_low_product(sold=3), pack_size=6, lead_time_days=3)
    with CaptureQueriesContext(connection) as queries:
        groups = reorder_suggestions()
    assert sum(len(group.lines) for group in groups) >= products
    return len(queries)


def test_query_count_is_flat_in_the_number_of_products():
    assert _count_queries(2) == _count_queries(20) == 1


def test_a_supplier_suggestions_become_a_draft_order_that_nets_them_out(django_user_model):
    user = django_user_model.objects.create_user(username="manager")
    product = _low_product(stock=1, reorder_level=4)
    link = SupplierProductFactory(product=product, pack_size=2, last_cost=Decimal("3.10"))
    order = services.order_create_from_suggestions(supplier=link.supplier, user=user)
    assert order.state == PurchaseOrder.State.DRAFT and order.created_by == user
    line = order.lines.get()
    assert (line.product_id, line.quantity, line.unit_cost) == (product.pk, 4, Decimal("3.10"))
    assert reorder_suggestions() == []
    assert services.order_create_from_suggestions(supplier=link.supplier, user=user) is None


def test_morning_task_notifies_active_managers(role_user, django_user_model, client):
    manager = role_user("Manager")
    role_user("Operator")
    product = _low_product(stock=1)
    SupplierProductFactory(product=product, supplier=SupplierFactory(name="Beta"))
    from purchasing.tasks import prepare_reorder_suggestions

    assert prepare_reorder_suggestions() == 1
    notice = TaskNotification.objects.get()
    assert notice.user == manager
    assert "Beta" in notice.error_message and notice.total_rows == 1
    assert notice.get_task_type_display() == "Reorder suggestions"
    # The notice shows in the manager's notification centre.
    client.force_login(manager)
    page = client.get(reverse("admin:dataio_tasknotification_changelist"))
    html = page.content.decode()
    assert page.status_code == 200 and "Beta" in html
    # News, not a failure: the message is not painted red as errors are.
    message = html[html.rindex("<span", 0, html.index("Beta")) : html.index("Beta")]
    assert "whitespace-pre-line" in message and "text-red" not in message


def test_the_morning_task_is_a_periodic_task_admins_can_edit():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="purchasing.prepare_reorder_suggestions")
    assert task.enabled and task.crontab.hour == "7"


def test_suggestions_count_the_shop_s_days_whatever_zone_the_person_is_in():
    """The rollups' days are the shop's (TIME_ZONE); a person's browser zone must not move them.

    Asked at 01:00 in São Paulo on the day of the sales, it is still the day
    before in Pago Pago: counted in the person's day, the sales would fall
    outside the window.
    """
    from datetime import datetime, time
    from unittest import mock

    from movements.models import Outflow

    product = _low_product(stock=2, sold=60)
    SupplierProductFactory(product=product, lead_time_days=7, pack_size=1)
    shop = timezone.get_default_timezone()
    sales_day = timezone.localtime(Outflow.objects.get(product=product).created_at, shop).date()
    asked_at = datetime.combine(sales_day, time(1, 0), tzinfo=shop)
    with (
        mock.patch("django.utils.timezone.now", return_value=asked_at),
        timezone.override("Pacific/Pago_Pago"),
    ):
        assert timezone.localdate() < sales_day  # the person's day is the day before
        (group,) = reorder_suggestions()
    assert group.lines[0].sold_30_days == 60
