"""The dashboard page (admin index) and its refresh button."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard import metrics
from movements import services
from project.api.testing import client_for

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
METRIC_TABLES = ("catalog_product", "movements_inflow", "movements_outflow", "catalog_category")


@pytest.fixture
def sold(stocked_product):
    """10 received, 4 sold at 15.00 (cost 10.00): stock 6, revenue 60.00."""
    product = stocked_product(quantity=10, title="Blue widget", reorder_level=8)
    services.outflow_create(product=product, quantity=4)
    return product


def _cards(content: str) -> dict[str, str]:
    cards = dict(re.findall(r'data-card="([^"]+)">([^<]*)<', content))
    # "R$" and "%" are tied to their number by a no-break space (U+00A0).
    assert all(" " not in value for value in cards.values() if "R$" in value), cards
    return {title: value.replace("\u00a0", " ") for title, value in cards.items()}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["Analyst", "Manager", "Admin"])
def test_money_roles_see_every_card_and_chart(role_user, sold, role):
    response = _client(role_user(role)).get(INDEX)
    assert response.status_code == 200
    content = response.content.decode()
    cards = _cards(content)
    assert cards["Stock units"] == "6"
    assert cards["Stock value at cost"] == "R$ 60.00"
    assert cards["Stock value at sell price"] == "R$ 90.00"
    assert cards["Potential profit"] == "R$ 30.00"
    assert cards["Sales today"] == "R$ 60.00"
    assert cards["Sales, 30 days"] == "R$ 60.00"
    assert cards["Low stock"] == "1"
    assert content.count('class="chart"') == 5
    for key in ("daily_sales", "flows", "stock_by_category", "stock_by_brand", "top_products"):
        assert f'data-chart="{key}"' in content


def test_operator_sees_stock_and_units_but_no_money(role_user, sold):
    response = _client(role_user("Operator")).get(INDEX)
    assert response.status_code == 200
    content = response.content.decode()
    cards = _cards(content)
    assert cards == {
        "Stock units": "6",
        "Low stock": "1",
        "Sales today": "4",
        "Sales, 7 days": "4",
        "Sales, 30 days": "4",
    }
    assert "R$" not in content
    assert "Revenue" not in content and "profit" not in content.lower()
    assert 'data-chart="flows"' in content and 'data-chart="daily_sales"' in content
    assert 'data-chart="top_products"' not in content
    assert 'data-chart="stock_by_category"' not in content
    # The low-stock table still links to the product, which Operators may view.
    assert reverse("admin:catalog_product_change", args=[sold.pk]) in content


# --- money figures: the dashboard.view_financials permission ------------------
METRICS_API = "/api/v1/metrics/"
MONEY_CARDS = {"Stock value at cost", "Stock value at sell price", "Potential profit"}


@pytest.fixture
def granted(django_user_model):
    """A staff user in no role group, holding exactly the permissions given."""

    def make(*names):
        user = django_user_model.objects.create_user(
            "granted", password="x-pass-123456", is_staff=True
        )
        for name in names:
            app_label, codename = name.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        assert not user.groups.exists()
        return django_user_model.objects.get(pk=user.pk)  # no permission cache

    return make


READER = ("catalog.view_product", "movements.view_outflow")


def test_view_financials_granted_directly_shows_money_without_any_role(granted, sold):
    user = granted(*READER, "dashboard.view_financials")
    cards = _cards(_client(user).get(INDEX).content.decode())
    assert cards["Stock value at cost"] == "R$ 60.00"
    assert cards["Sales today"] == "R$ 60.00"
    response = client_for(user).get(METRICS_API)
    assert response.status_code == 200
    assert response.json()["product"]["stock_value_cost"] == "60.00"


def test_without_view_financials_the_same_user_sees_no_money(granted, sold):
    user = granted(*READER)
    content = _client(user).get(INDEX).content.decode()
    assert "R$" not in content and not MONEY_CARDS & set(_cards(content))
    assert _cards(content)["Sales today"] == "4"
    response = client_for(user).get(METRICS_API)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("role", "money"), [("Admin", True), ("Manager", True), ("Analyst", True), ("Operator", False)]
)
def test_the_dashboard_and_the_metrics_api_agree_on_money(role_user, sold, role, money):
    user = role_user(role)
    content = _client(user).get(INDEX).content.decode()
    assert (set(_cards(content)) >= MONEY_CARDS) is money
    assert ("R$" in content) is money
    # The API also needs view_outflow, which every role here holds.
    assert client_for(user).get(METRICS_API).status_code == (200 if money else 403)


def test_a_role_group_name_alone_shows_no_money(role_user, sold):
    """What decides is the permission: an Analyst group without it sees units only."""
    user = role_user("Analyst")
    Group.objects.get(name="Analyst").permissions.remove(
        Permission.objects.get(codename="view_financials")
    )
    content = _client(user).get(INDEX).content.decode()
    assert "R$" not in content
    assert client_for(user).get(METRICS_API).status_code == 403


def test_staff_without_a_role_sees_a_notice_and_no_figures(django_user_model, sold):
    user = django_user_model.objects.create_user("nobody", password="x-pass-123", is_staff=True)
    content = _client(user).get(INDEX).content.decode()
    assert "no access to the dashboard metrics" in content
    assert not _cards(content)
    assert cache.get("metrics:product") is None


def test_low_stock_table_links_to_each_product(admin_client, sold, stocked_product):
    other = stocked_product(quantity=0, title="Gone widget", reorder_level=1)
    content = admin_client.get(INDEX).content.decode()
    low_stock = content[content.index('id="dashboard-low-stock"') :]
    for product in (sold, other):
        url = reverse("admin:catalog_product_change", args=[product.pk])
        assert f'href="{url}">{product.title}</a>' in low_stock
    # Fewest days left first: the empty one.
    assert low_stock.index("Gone widget") < low_stock.index("Blue widget")


def test_cached_page_makes_zero_metric_queries(admin_client, sold):
    metrics.metrics_refresh()
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(INDEX)
    assert response.status_code == 200
    assert _cards(response.content.decode())["Stock units"] == "6"
    touched = [q["sql"] for q in queries if any(t in q["sql"] for t in METRIC_TABLES)]
    assert touched == []


def test_cache_miss_computes_once_and_stores(admin_client, sold):
    assert cache.get("metrics:product") is None
    admin_client.get(INDEX)
    stored = json.loads(cache.get("metrics:product"))
    assert stored["stock_units"] == 6
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(INDEX)
    assert not [q for q in queries if "movements_outflow" in q["sql"]]


def test_page_shows_how_old_the_figures_are(admin_client, sold):
    documents = metrics.compute()
    old = (timezone.now() - timedelta(seconds=42)).isoformat()
    cache.set_many(
        {
            metrics.cache_key(name): json.dumps({**doc, "computed_at": old})
            for name, doc in documents.items()
        }
    )
    content = admin_client.get(INDEX).content.decode()
    assert re.search(r"updated 4[23] seconds ago", content)


def test_redis_down_page_renders_live_with_a_notice(admin_client, sold, redis_down):
    response = admin_client.get(INDEX)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="dashboard-notice"' in content
    assert "computed live" in content
    assert _cards(content)["Sales today"] == "R$ 60.00"


def test_redis_down_refresh_button_does_not_fail(admin_client, sold, redis_down):
    response = admin_client.post(reverse("dashboard:refresh"), follow=True)
    assert response.status_code == 200
    assert "could not be stored" in response.content.decode()


def test_refresh_requires_post(admin_client):
    response = admin_client.get(reverse("dashboard:refresh"))
    assert response.status_code == 405


def test_refresh_requires_a_staff_user(client, django_user_model):
    url = reverse("dashboard:refresh")
    response = client.post(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    user = django_user_model.objects.create_user("customer", password="x-pass-123")
    response = _client(user).post(url)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert cache.get("metrics:product") is None


def test_refresh_requires_a_role_with_dashboard_access(django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x-pass-123", is_staff=True)
    response = _client(user).post(reverse("dashboard:refresh"))
    assert response.status_code == 403


def test_refresh_is_csrf_protected(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(reverse("dashboard:refresh")).status_code == 403
    page = client.get(INDEX).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(reverse("dashboard:refresh"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_refresh_recomputes_every_key(admin_client, sold):
    stale = {**metrics.compute()["product"], "stock_units": 999}
    cache.set("metrics:product", json.dumps(stale))
    response = admin_client.post(reverse("dashboard:refresh"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    assert json.loads(cache.get("metrics:product"))["stock_units"] == 6
    assert all(cache.get(key) for key in metrics.CACHE_KEYS)


def test_a_sale_shows_after_the_refresh(admin_client, sold):
    metrics.metrics_refresh()
    services.outflow_create(product=sold, quantity=1)
    assert _cards(admin_client.get(INDEX).content.decode())["Sales today"] == "R$ 60.00"
    metrics.metrics_refresh()  # what the debounced task does
    assert _cards(admin_client.get(INDEX).content.decode())["Sales today"] == "R$ 75.00"
