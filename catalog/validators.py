"""Brazilian and GS1 identifiers: the supplier's CNPJ and the product's EAN/GTIN."""

from brutils.cnpj import remove_symbols, validate
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

GTIN_LENGTHS = (8, 12, 13, 14)


def normalize_cnpj(value: str) -> str:
    """The 14 characters of a CNPJ as stored: punctuation removed, letters upper case.

    From July 2026 the Receita Federal issues alphanumeric CNPJs
    (``12.ABC.345/01DE-35``); brutils checks their digits in upper case only.
    """
    return remove_symbols((value or "").strip()).replace(" ", "").upper()


def validate_cnpj(value: str) -> None:
    if value and not validate(normalize_cnpj(value)):
        raise ValidationError(
            _("Enter a valid CNPJ (14 characters, check digits included)."), code="invalid_cnpj"
        )


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of ``body`` (the code without its last digit).

    Weights 3 and 1 alternate from the right-most digit of the body.
    """
    total = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(body[::-1]))
    return (10 - total % 10) % 10


def validate_gtin(value: str) -> None:
    if not value:
        return
    if not value.isascii() or not value.isdigit() or len(value) not in GTIN_LENGTHS:
        raise ValidationError(
            _("An EAN/GTIN has 8, 12, 13 or 14 digits."), code="invalid_gtin_length"
        )
    if gtin_check_digit(value[:-1]) != int(value[-1]):
        raise ValidationError(_("The EAN/GTIN check digit is wrong."), code="invalid_gtin")
