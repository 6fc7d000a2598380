"""Issue 15, item 1: a supplier's CNPJ (alphanumeric from July 2026) and a product's EAN/GTIN."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import Product, Supplier
from catalog.tests.factories import ProductFactory, SupplierFactory
from catalog.validators import normalize_cnpj, validate_cnpj, validate_gtin
from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)

ALPHANUMERIC_CNPJ = "12.ABC.345/01DE-35"  # the Receita Federal's own example
NUMERIC_CNPJ = "11.222.333/0001-81"


@pytest.mark.parametrize(
    "value", [ALPHANUMERIC_CNPJ, "12abc34501de35", NUMERIC_CNPJ, "11222333000181"]
)
def test_valid_cnpjs_numeric_and_alphanumeric_pass(value):
    validate_cnpj(value)


@pytest.mark.parametrize("value", ["12.ABC.345/01DE-36", "11222333000182", "1122233300018", "ABC"])
def test_cnpj_with_wrong_check_digits_or_length_is_refused(value):
    with pytest.raises(ValidationError):
        validate_cnpj(value)


def test_cnpj_is_stored_without_punctuation_in_upper_case():
    assert normalize_cnpj(" 12.abc.345/01de-35 ") == "12ABC34501DE35"


@pytest.mark.parametrize("value", ["7891000315507", "96385074", "036000291452", "10036000291459"])
def test_gtin_8_12_13_14_with_right_check_digit_pass(value):
    validate_gtin(value)


@pytest.mark.parametrize("value", ["7891000315508", "789100031550", "78910003155O7", "123"])
def test_gtin_with_wrong_check_digit_or_length_is_refused(value):
    with pytest.raises(ValidationError):
        validate_gtin(value)


@pytest.mark.django_db
def test_supplier_saves_the_normalized_cnpj_and_two_suppliers_cannot_share_one():
    supplier = SupplierFactory(cnpj=ALPHANUMERIC_CNPJ)
    supplier.refresh_from_db()
    assert supplier.cnpj == "12ABC34501DE35"
    SupplierFactory(cnpj="")
    SupplierFactory(cnpj="")  # blank is not a value: many suppliers have none
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierFactory(cnpj="12abc34501de35")


@pytest.mark.django_db
def test_product_ean_is_unique_when_set_and_checked_in_the_database():
    ProductFactory(ean="7891000315507")
    ProductFactory(ean="")
    ProductFactory(ean="")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(ean="7891000315507")
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(ean="").update(ean="12AB")


@pytest.mark.django_db
def test_full_clean_refuses_a_bad_ean_and_a_bad_cnpj():
    with pytest.raises(ValidationError) as error:
        ProductFactory.build(ean="7891000315508").full_clean(exclude=["product_model", "category"])
    assert "ean" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        Supplier(name="X", cnpj="11222333000182").full_clean()
    assert "cnpj" in error.value.message_dict


@pytest.mark.django_db
def test_api_takes_and_gives_the_new_fields(role_user):
    api = client_for(role_user("Admin"))
    response = api.post(
        f"{API}suppliers/",
        {"name": "Acme", "cnpj": ALPHANUMERIC_CNPJ, "contact_name": "Ana"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["cnpj"] == "12ABC34501DE35"
    bad = api.post(f"{API}suppliers/", {"name": "B", "cnpj": "11222333000182"}, format="json")
    assert bad.status_code == 400 and "cnpj" in bad.json()["errors"], bad.content
    product = ProductFactory()
    response = api.patch(f"{API}products/{product.pk}/", {"ean": "7891000315507"}, format="json")
    assert response.status_code == 200, response.content
    assert api.get(f"{API}products/").json()["results"][0]["ean"] == "7891000315507"
    bad = api.patch(f"{API}products/{product.pk}/", {"ean": "7891000315508"}, format="json")
    assert bad.status_code == 400, bad.content


def test_import_columns_check_and_normalize_cnpj_and_ean():
    from catalog.resources import CNPJWidget, GTINWidget

    assert CNPJWidget().clean(ALPHANUMERIC_CNPJ.lower()) == "12ABC34501DE35"
    assert CNPJWidget().clean("") == ""
    with pytest.raises(ValueError):
        CNPJWidget().clean("11222333000182")
    assert GTINWidget().clean("7891000315507") == "7891000315507"
    with pytest.raises(ValueError):
        GTINWidget().clean("7891000315508")
