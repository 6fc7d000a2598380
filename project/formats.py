"""Numbers and money as the active language writes them (grouping always on)."""

from decimal import Decimal

from django.conf import settings
from django.utils.formats import number_format


def _currency() -> str:
    return settings.METRICS_CURRENCY_SYMBOL


# A no-break space keeps "R$" and "%" on the line of their number.
NBSP = "\u00a0"


def money(value, places: int = 2) -> str:
    amount = number_format(Decimal(value), places, force_grouping=True)
    return f"{_currency()}{NBSP}{amount}"


def integer(value) -> str:
    return number_format(value, 0, force_grouping=True)


def percent(value) -> str:
    return "-" if value is None else f"{number_format(value, 1)}{NBSP}%"
