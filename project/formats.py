"""Numbers and money as the active language writes them (grouping always on)."""

from decimal import Decimal

from django.conf import settings
from django.utils.formats import number_format


def _currency() -> str:
    return settings.METRICS_CURRENCY_SYMBOL


def money(value) -> str:
    amount = number_format(Decimal(value), 2, force_grouping=True)
    return f"{_currency()} {amount}"


def integer(value) -> str:
    return number_format(value, 0, force_grouping=True)


def percent(value) -> str:
    return "-" if value is None else f"{number_format(value, 1)} %"
