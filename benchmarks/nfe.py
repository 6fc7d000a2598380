"""NF-e receipt of a 500-line note (issue 15): preview at most 2 s, confirm at most 2 s.

Makes (once) 500 products with a supplier, half of them found by EAN and
half by the supplier's code (pack sizes 1 and 6), writes one authorized
NF-e with a line for each, freight and a discount in its totals, then
measures, in the same run (median of 3 after a warm-up):

- ``parse_s``: the baseline, nfelib's own parse of the XML into its bindings;
- ``preview_s``: ``nfe_preview``: safe read, parse, checks, matching, costs,
  the preview's JSON (what the preview job does after reading the file);
- ``confirm_s``: ``nfe_receive`` of a fresh note (new access key), every
  line an inflow through the ledger; rolled back after each run so the
  database stays as it was;
- ``ledger_s``: the second baseline, the ledger's own floor: as many plain
  ``inflow_create`` calls (one per line, the products locked first), no
  NF-e at all, rolled back the same way. The confirm is that plus the
  receipt's own rows: its figure moves with the database's round trips,
  which this machine's load changes from run to run.
"""

import statistics
import time
from decimal import Decimal

from django.db import transaction

from catalog.models import Brand, Category, Product, ProductModel, Supplier
from purchasing.models import SupplierProduct
from purchasing.nfe import services
from purchasing.tests.nfe_factory import ISSUER_CNPJ, XLine, nfe_xml

PREFIX = "NFE-BENCH-"
TARGET_S = 2.0


def _ean(index: int) -> str:
    from catalog.validators import gtin_check_digit

    body = f"789{index:09d}"
    return body + str(gtin_check_digit(body))


def _ensure_products(lines: int) -> Supplier:
    supplier, _ = Supplier.objects.get_or_create(
        cnpj=ISSUER_CNPJ, defaults={"name": "NF-e bench supplier"}
    )
    have = Product.objects.filter(serial_number__startswith=PREFIX).count()
    if have >= lines:
        return supplier
    brand, _ = Brand.objects.get_or_create(name="NF-e bench")
    model, _ = ProductModel.objects.get_or_create(brand=brand, name="NF-e bench")
    category, _ = Category.objects.get_or_create(name="NF-e bench")
    products = Product.objects.bulk_create(
        [
            Product(
                title=f"NF-e bench product {index}",
                serial_number=f"{PREFIX}{index:05d}",
                product_model=model,
                category=category,
                cost_price=Decimal("1.00"),
                sell_price=Decimal("2.00"),
                ean=_ean(index) if index % 2 == 0 else "",
            )
            for index in range(have, lines)
        ]
    )
    SupplierProduct.objects.bulk_create(
        [
            SupplierProduct(
                supplier=supplier,
                product=product,
                supplier_code=f"C{product.serial_number[len(PREFIX) :]}",
                pack_size=6 if index % 3 == 0 else 1,
            )
            for index, product in enumerate(products, start=have)
            if index % 2 == 1
        ]
    )
    return supplier


def _note(lines: int, number: int) -> bytes:
    return nfe_xml(
        [
            XLine(
                f"C{index:05d}",
                quantity=f"{1 + index % 5}.0000",
                value=f"{(index % 97) + 1.37:.2f}",
                ean=_ean(index) if index % 2 == 0 else "SEM GTIN",
                description=f"PRODUTO {index}",
            )
            for index in range(lines)
        ],
        number=number,
        freight="123.45",
        discount="67.89",
        recipient_cnpj="",
    )


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _parse_only(data: bytes):
    from nfelib.nfe.bindings.v4_0.proc_nfe_v4_00 import NfeProc
    from xsdata.formats.dataclass.parsers import XmlParser

    return XmlParser().from_bytes(data, NfeProc)


def _receive(data: bytes) -> None:
    with transaction.atomic():
        receipts = services.nfe_receive(
            documents=[services.Document(name="bench.xml", data=data)], user=None
        )
        assert receipts and receipts[0].lines.count() > 0
        transaction.set_rollback(True)


def _ledger_only(data: bytes) -> None:
    from movements import services as ledger

    preview = services.nfe_preview(documents=[services.Document(name="bench.xml", data=data)])
    lines = [line for note in preview["notes"] for line in note["lines"]]
    supplier = Supplier.objects.get(cnpj=ISSUER_CNPJ)
    with transaction.atomic():
        ledger.lock_products(line["product"] for line in lines)
        for line in lines:
            ledger.inflow_create(
                product=line["product"],
                quantity=line["units"],
                supplier=supplier,
                unit_cost=Decimal(line["unit_cost"]),
                note="bench",
            )
        transaction.set_rollback(True)


def run(*, rows: int = 500, **_ignored) -> dict:
    _ensure_products(rows)
    data = _note(rows, number=900_001)
    document = [services.Document(name="bench.xml", data=data)]
    preview = services.nfe_preview(documents=document)  # warm-up
    assert preview["ready"], preview["notes"][0].get("error") or preview["counts"]
    _receive(data)  # warm-up
    parse = [_timed(lambda: _parse_only(data)) for _ in range(3)]
    previews = [_timed(lambda: services.nfe_preview(documents=document)) for _ in range(3)]
    confirms = [_timed(lambda: _receive(data)) for _ in range(3)]
    ledger = [_timed(lambda: _ledger_only(data)) for _ in range(3)]
    preview_s = statistics.median(previews)
    confirm_s = statistics.median(confirms)
    return {
        "benchmark": "nfe_receipt",
        "lines": rows,
        "bytes": len(data),
        "parse_s": round(statistics.median(parse), 3),
        "preview_s": round(preview_s, 3),
        "confirm_s": round(confirm_s, 3),
        "ledger_s": round(statistics.median(ledger), 3),
        "target_s": TARGET_S,
        "ok": preview_s <= TARGET_S and confirm_s <= TARGET_S,
    }
