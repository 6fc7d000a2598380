import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from backoffice.roles import ROLES
from movements.models import Outflow

pytestmark = pytest.mark.django_db


def test_every_role_group_exists_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLES)


def test_operator_can_add_an_outflow_but_cannot_change_a_product(
    client, role_user, stocked_product
):
    product = stocked_product(quantity=4)
    client.force_login(role_user("Operator"))
    response = client.post(
        reverse("admin:movements_outflow_add"),
        {"product": product.pk, "quantity": 1, "reason": "sale"},
    )
    assert response.status_code == 302
    assert Outflow.objects.filter(product=product).count() == 1
    change_url = reverse("admin:catalog_product_change", args=[product.pk])
    response = client.post(change_url, {"title": "Renamed"})
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.title != "Renamed"


def test_analyst_can_view_but_not_add(client, role_user, stocked_product):
    product = stocked_product()
    client.force_login(role_user("Analyst"))
    assert client.get(reverse("admin:catalog_product_changelist")).status_code == 200
    assert client.get(reverse("admin:movements_outflow_changelist")).status_code == 200
    assert client.get(reverse("admin:catalog_product_add")).status_code == 403
    assert client.get(reverse("admin:movements_outflow_add")).status_code == 403
    response = client.post(
        reverse("admin:movements_outflow_add"),
        {"product": product.pk, "quantity": 1, "reason": "sale"},
    )
    assert response.status_code == 403
    assert not Outflow.objects.exists()


def test_manager_keeps_the_catalog_but_records_no_movements(client, role_user):
    client.force_login(role_user("Manager"))
    assert client.get(reverse("admin:catalog_product_add")).status_code == 200
    assert client.get(reverse("admin:movements_inflow_add")).status_code == 403


def test_operator_cannot_reverse_without_the_opposite_add_permission(
    client, role_user, stocked_product
):
    from movements import services

    product = stocked_product()
    sale = services.outflow_create(product=product, quantity=1)
    analyst = role_user("Analyst")
    client.force_login(analyst)
    url = reverse("admin:movements_outflow_reverse_detail", args=[sale.pk])
    assert client.post(url).status_code == 403


def test_sync_roles_restores_a_tampered_group():
    from django.contrib.auth.models import Permission

    from backoffice.roles import sync_roles

    operator = Group.objects.get(name="Operator")
    operator.permissions.add(Permission.objects.get(codename="delete_product"))
    sync_roles(Group, Permission)
    assert not operator.permissions.filter(codename="delete_product").exists()
    assert operator.permissions.filter(codename="add_outflow").exists()


def test_sidebar_hides_what_the_role_cannot_view(client, role_user):
    client.force_login(role_user("Operator"))
    content = client.get(reverse("admin:movements_outflow_changelist")).content.decode()
    assert reverse("admin:movements_inflow_changelist") in content
    assert reverse("admin:auth_user_changelist") not in content


@pytest.mark.parametrize(
    ("role", "financials"),
    [("Admin", True), ("Manager", True), ("Analyst", True), ("Operator", False)],
)
def test_view_financials_is_granted_through_the_roles_table(role, financials):
    group = Group.objects.get(name=role)
    assert group.permissions.filter(codename="view_financials").exists() is financials


def test_an_action_grants_only_default_permissions_not_custom_ones():
    """ "view" on an app is view_<model>, never view_financials: that one is named."""
    from django.contrib.auth.models import Permission

    from backoffice.roles import sync_roles

    custom = Permission.objects.get(content_type__app_label="dashboard", codename="view_financials")
    saved = dict(ROLES["Analyst"])
    try:
        ROLES["Analyst"]["dashboard"] = ("view",)
        sync_roles(Group, Permission)
        analyst = Group.objects.get(name="Analyst")
        assert not analyst.permissions.filter(pk=custom.pk).exists()
        assert analyst.permissions.filter(codename="view_tasknotification").exists()
    finally:
        ROLES["Analyst"] = saved
        sync_roles(Group, Permission)
    assert Group.objects.get(name="Analyst").permissions.filter(pk=custom.pk).exists()
