"""Which product each line of a note is: by EAN, then by the supplier's code, or by hand.

A constant number of queries whatever the number of lines: one for the
EANs, one for the supplier's codes, one for the pack sizes, one for the
products picked by hand.
"""

from dataclasses import dataclass
from decimal import Decimal

from catalog.models import Product
from purchasing.models import SupplierProduct
from purchasing.nfe.parsing import Line

EAN = "ean"
CODE = "code"
MANUAL = "manual"


@dataclass
class Match:
    product: Product | None
    matched_by: str = ""
    pack_size: int = 1


def _ean_key(code: str) -> str:
    # GTIN-8/12/13 written as 14 digits carry leading zeros: the same product.
    return code.lstrip("0")


def _ean_variants(code: str) -> set[str]:
    key = _ean_key(code)
    return {key.zfill(length) for length in (8, 12, 13, 14) if len(key) <= length}


def match_lines(
    lines: list[Line], *, supplier_id: int | None, picks: dict[int, int] | None = None
) -> list[Match]:
    """One ``Match`` per line: a pick by hand first, then the EAN, then the supplier's code.

    ``picks`` maps a line's item number to a product id chosen in the preview.
    A product the supplier already sells under the line's code is found by
    that code next time (the receipt writes the link).
    """
    picks = picks or {}
    variants = set()
    for line in lines:
        for code in line.eans:
            variants |= _ean_variants(code)
    by_ean: dict[str, Product] = {}
    if variants:
        for product in Product.objects.filter(ean__in=variants).only(
            "pk", "title", "serial_number", "ean", "is_active"
        ):
            by_ean[_ean_key(product.ean)] = product
    by_code: dict[str, SupplierProduct] = {}
    codes = {line.code for line in lines if line.code}
    if supplier_id is not None and codes:
        for link in SupplierProduct.objects.filter(
            supplier_id=supplier_id, supplier_code__in=codes
        ).select_related("product"):
            by_code[link.supplier_code] = link
    picked = {}
    if picks:
        picked = Product.objects.in_bulk([pk for pk in picks.values() if isinstance(pk, int)])
    matches = []
    for line in lines:
        product = picked.get(picks.get(line.item))
        how = MANUAL if product is not None else ""
        if product is None:
            product = next((by_ean[_ean_key(c)] for c in line.eans if _ean_key(c) in by_ean), None)
            how = EAN if product is not None else ""
        if product is None and line.code in by_code:
            product = by_code[line.code].product
            how = CODE
        matches.append(Match(product=product, matched_by=how))
    if supplier_id is not None:
        ids = {m.product.pk for m in matches if m.product is not None}
        packs = dict(
            SupplierProduct.objects.filter(supplier_id=supplier_id, product_id__in=ids).values_list(
                "product_id", "pack_size"
            )
        )
        for match in matches:
            if match.product is not None:
                match.pack_size = packs.get(match.product.pk, 1)
    return matches


def units(quantity: Decimal, pack_size: int) -> int | None:
    """Units in stock for ``quantity`` purchase units; None when not a whole number."""
    total = quantity * pack_size
    if total != total.to_integral_value() or total <= 0:
        return None
    return int(total)
