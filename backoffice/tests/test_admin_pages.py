"""Every page of the admin answers for a superuser, and list pages stay flat."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

MODELS = [f"{model._meta.app_label}_{model._meta.model_name}" for model in admin.site._registry]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_answers_200_for_a_superuser(admin_client, stocked_product, model):
    stocked_product()
    response = admin_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_add_page_answers_200_for_a_superuser(admin_client, model):
    model_admin = next(
        ma
        for m, ma in admin.site._registry.items()
        if f"{m._meta.app_label}_{m._meta.model_name}" == model
    )
    response = admin_client.get(reverse(f"admin:{model}_add"))
    expected = 200 if model_admin.has_add_permission(_superuser_request()) else 403
    assert response.status_code == expected


def _superuser_request():
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = User.objects.filter(is_superuser=True).first()
    return request


def test_admin_index_and_product_change_page_render(admin_client, stocked_product):
    product = stocked_product()
    assert admin_client.get(reverse("admin:index")).status_code == 200
    response = admin_client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Latest movements" in content
    assert "Record outflow" in content


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:catalog_product_changelist",
        "admin:movements_inflow_changelist",
        "admin:movements_outflow_changelist",
        "admin:catalog_brand_changelist",
        "admin:catalog_productmodel_changelist",
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, stocked_product, url_name):
    from movements import services

    def add_rows(n):
        for _ in range(n):
            product = stocked_product(quantity=3)
            services.outflow_create(product=product, quantity=1)

    add_rows(2)
    url = reverse(url_name)
    few = _count_queries(admin_client, url)
    add_rows(20)
    many = _count_queries(admin_client, url)
    assert many == few


def test_product_search_and_filters_work(admin_client):
    ProductFactory(title="Galaxy Blue", serial_number="GAL-1")
    ProductFactory(title="Moto Green", serial_number="MOT-1")
    url = reverse("admin:catalog_product_changelist")
    response = admin_client.get(url, {"q": "GAL-1"})
    assert b"Galaxy Blue" in response.content and b"Moto Green" not in response.content
    response = admin_client.get(url, {"stock": "out"})
    assert response.status_code == 200
    assert b"Galaxy Blue" in response.content


def test_a_login_without_next_lands_on_the_dashboard(client, django_user_model):
    django_user_model.objects.create_user(
        username="clerk", password="clerk-pass-123456", is_staff=True
    )
    response = client.post("/admin/login/", {"username": "clerk", "password": "clerk-pass-123456"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
