import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from catalog.models import Product
from movements.models import Inflow, Outflow


@pytest.mark.django_db
def test_seed_demo_then_check_ledger_passes(capsys):
    call_command("seed_demo", products=60, movements=900, seed=7)
    assert Product.objects.count() == 60
    assert Inflow.objects.count() + Outflow.objects.count() == 900
    assert Outflow.objects.filter(reason="sale").exists()
    assert Inflow.objects.filter(reverses__isnull=False).exists()  # returns reverse sales
    call_command("check_ledger")
    assert "Ledger consistent: 60 product(s)" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_is_deterministic():
    call_command("seed_demo", products=20, movements=200, seed=3)
    first = list(Product.objects.order_by("pk").values_list("title", "quantity", "sell_price"))
    call_command("seed_demo", products=20, movements=200, seed=3, reset=True)
    second = list(Product.objects.order_by("pk").values_list("title", "quantity", "sell_price"))
    assert first == second


@pytest.mark.django_db
def test_seed_demo_refuses_a_catalog_that_is_not_empty_unless_asked():
    call_command("seed_demo", products=5, movements=10)
    with pytest.raises(CommandError, match="already has 5 product"):
        call_command("seed_demo", products=5, movements=10)
    call_command("seed_demo", products=5, movements=10, if_empty=True)
    assert Product.objects.count() == 5


@pytest.mark.django_db
def test_demo_users_get_one_role_each(django_user_model):
    call_command("seed_demo", products=2, movements=4)
    roles = {
        user.username: [g.name for g in user.groups.all()]
        for user in django_user_model.objects.filter(username__startswith="demo_")
    }
    assert roles == {
        "demo_admin": ["Admin"],
        "demo_manager": ["Manager"],
        "demo_operator": ["Operator"],
        "demo_analyst": ["Analyst"],
    }


@pytest.mark.django_db
def test_check_ledger_fails_and_lists_products_that_differ(stocked_product, capsys):
    product = stocked_product(quantity=10)
    stocked_product(quantity=3)
    # Corrupt the stored quantity behind the service's back.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET quantity = 4 WHERE id = %s", [product.pk])
    with pytest.raises(CommandError) as failed:
        call_command("check_ledger")
    assert failed.value.returncode == 1
    assert "1 product(s) differ" in str(failed.value)
    assert f"{product.serial_number} (id {product.pk}): recorded 4, movements say 10" in (
        capsys.readouterr().err
    )
