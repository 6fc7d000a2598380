"""Money and percentages follow the language and never wrap away from their number (issue 14)."""

from decimal import Decimal

from django.utils import translation

from project.formats import integer, money, percent


def test_english_grouping_with_the_unit_tied_to_the_number():
    with translation.override("en"):
        assert money(Decimal("1234567.891")) == "R$\u00a01,234,567.89"
        assert percent(Decimal("12.34")) == "12.3\u00a0%"
        assert integer(1234567) == "1,234,567"


def test_portuguese_grouping_with_the_unit_tied_to_the_number():
    with translation.override("pt-br"):
        assert money(Decimal("1234567.891")) == "R$\u00a01.234.567,89"
        assert percent(Decimal("12.34")) == "12,3\u00a0%"
        assert integer(1234567) == "1.234.567"
    assert percent(None) == "-"
