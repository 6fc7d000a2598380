"""The Resources: one definition of columns and rules, used by every path."""

from decimal import Decimal

import pytest
import tablib

from catalog.models import Product
from catalog.resources import (
    FlagWidget,
    MoneyWidget,
    ProductResource,
    TextWidget,
    WholeNumberWidget,
)
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductModelFactory


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12.5", Decimal("12.50")),
        ("1.234,56", Decimal("1234.56")),
        ("1,234.56", Decimal("1234.56")),
        (7, Decimal("7.00")),
        (2.25, Decimal("2.25")),
        ("", Decimal("0.00")),
        ("-0.00", Decimal("0.00")),
    ],
)
def test_money_widget_reads_both_decimal_marks(raw, value):
    assert MoneyWidget().clean(raw) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-1", "Cannot be negative"),
        ("abc", "is not a number"),
        ("1.234", "2 decimal places"),
        ("NaN", "is not a number"),
        ("1e20", "Too large"),
        # As Excel writes a huge number, and as a JSON file may hold one.
        (1e30, "Too large"),
        ("1E+30", "Too large"),
        (Decimal("1E+999"), "Too large"),
        (float("inf"), "is not a number"),
        ({"price": 1}, "JSON object"),
    ],
)
def test_money_widget_refuses_bad_values(raw, message):
    with pytest.raises(ValueError, match=message):
        MoneyWidget().clean(raw)


def test_text_number_and_flag_widgets():
    with pytest.raises(ValueError, match="required"):
        TextWidget(required=True).clean("  ")
    with pytest.raises(ValueError, match="At most 3"):
        TextWidget(max_length=3).clean("abcd")
    # Formula-like text is text (every export quotes it); NUL and JSON
    # structures are refused before they can reach the database.
    assert TextWidget().clean("-Promo 20%") == "-Promo 20%"
    assert TextWidget().clean("=1+1") == "=1+1"
    with pytest.raises(ValueError, match="NUL"):
        TextWidget().clean("bad\x00text")
    with pytest.raises(ValueError, match="JSON object"):
        TextWidget().clean({"a": 1})
    with pytest.raises(ValueError, match="JSON list"):
        TextWidget().clean([1, 2])
    assert TextWidget().clean(12345.0) == "12345"
    assert WholeNumberWidget().clean("3.0") == 3
    with pytest.raises(ValueError, match="at least 1"):
        WholeNumberWidget(minimum=1).clean("0")
    assert FlagWidget().clean("sim") is True and FlagWidget().clean("0") is False
    assert FlagWidget().clean("") is True


@pytest.mark.django_db
def test_django_import_export_default_path_uses_the_same_rules():
    model = ProductModelFactory(name="Galaxy", brand__name="Samsung")
    category = CategoryFactory(name="Phones")
    ProductFactory(serial_number="OLD-1", product_model=model, category=category, title="Old")
    dataset = tablib.Dataset(
        ["NEW-1", "New", "Samsung", "Galaxy", "Phones", "1.50", "2"],
        ["OLD-1", "Renamed", "Samsung", "Galaxy", "Phones", "1", "2"],
        ["BAD-1", "Bad", "Samsung", "Galaxy", "Phones", "-1", "2"],
        headers=[
            "serial_number",
            "title",
            "brand",
            "product_model",
            "category",
            "cost_price",
            "sell_price",
        ],
    )
    result = ProductResource().import_data(dataset, dry_run=True)
    assert result.has_validation_errors()
    invalid = result.invalid_rows[0]
    assert "Cannot be negative" in str(invalid.error_dict)
    assert Product.objects.count() == 1

    result = ProductResource().import_data(dataset.subset(rows=[0, 1]), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Product.objects.get(serial_number="OLD-1").title == "Renamed"
    assert Product.objects.get(serial_number="NEW-1").cost_price == Decimal("1.50")


@pytest.mark.django_db
def test_default_export_and_fast_export_have_the_same_columns():
    from dataio.exports import export_columns

    ProductFactory()
    resource = ProductResource()
    exported = resource.export(Product.objects.all())
    assert exported.headers == [header for header, _path, _kind in export_columns(resource)]
