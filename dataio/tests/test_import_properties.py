"""Property: the preview and the import share one validation.

Random values per column (valid ones, near misses and hostile ones: NUL,
control characters, formula-like text, huge and non-finite numbers, JSON
structures) in CSV, XLSX and JSON files. Whatever the file:

- the preview never ends in an internal error;
- a preview with invalid rows (or a file refused whole) writes nothing;
- a preview with only valid rows imports: the confirm completes, and the
  database holds what the preview counted.

The examples are derived from a fixed seed so that CI is repeatable; set
HYPOTHESIS_PROFILE=deep for a longer, random search.
"""

import json
import math
import os

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from catalog.models import Product
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductModelFactory
from dataio.models import TaskNotification
from dataio.tests.helpers import INTERNAL, confirm, preview, xlsx_bytes
from movements import services as ledger
from movements.models import Inflow, Outflow

pytestmark = pytest.mark.django_db
Status = TaskNotification.Status

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

HOSTILE_TEXT = st.sampled_from(
    ["", " ", "=1+1", "'=SUM(A1)", "''x", "-5", "+", "@risk", "a\x00b", "a\rb", "\t", "x" * 300]
)
TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=40))
NUMBER = st.one_of(
    st.sampled_from(["10.00", "1,50", "1.234,56", "-0.00", "1E+30", "-1", "0.001", "NaN", ""]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(),
    st.integers(min_value=-(10**30), max_value=10**30),
    TEXT,
)
STRUCTURE = st.one_of(st.just({"a": 1}), st.just([1, 2]))
ANYTHING = st.one_of(TEXT, NUMBER, STRUCTURE)


def spoiled(row_strategy):
    """A plausible row with zero to two of its cells replaced by anything.

    Built this way, a good share of files are valid (the import runs) and
    the rest are wrong in one or two places, as real files are.
    """

    @st.composite
    def build(draw):
        row = draw(row_strategy)
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            row[draw(st.sampled_from(sorted(row)))] = draw(ANYTHING)
        return row

    return build()


# Printable text: what a person types (control characters are the hostile side).
WORDS = st.text(
    alphabet=st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=60
).filter(str.strip)
PRICE = st.one_of(
    st.sampled_from(["10.00", "1,50", "1.234,56", "-0.00", "0", ""]),
    st.decimals(min_value=0, max_value=10**9, places=2),
)

PRODUCT_ROW = st.fixed_dictionaries(
    {
        "serial_number": st.sampled_from(["OLD-1", "NEW-1", "NEW-2", "=1", "'-5"]),
        "title": WORDS,
        "brand": st.sampled_from(["Samsung", "Nokia"]),
        "product_model": st.sampled_from(["Galaxy", "Lumia"]),
        "category": st.just("Phones"),
        "cost_price": PRICE,
        "sell_price": PRICE,
        "reorder_level": st.integers(min_value=0, max_value=1000),
        "is_active": st.sampled_from(["1", "0", "sim", "", True]),
        "description": st.one_of(st.just(""), WORDS),
    }
).map(
    # A model's own brand: a mismatch is a near miss the spoiling makes anyway.
    lambda row: {**row, "brand": {"Galaxy": "Samsung", "Lumia": "Nokia"}[row["product_model"]]}
)


MOVEMENT_COMMON = {
    # "1" may be a movement recorded here; "999999" is not.
    "id": st.sampled_from(["", "", "", "1", "999999"]),
    "product": st.sampled_from(["STOCK-1", "STOCK-2"]),
    "note": st.one_of(st.just(""), WORDS),
}
INFLOW_ROW = st.fixed_dictionaries(
    {
        **MOVEMENT_COMMON,
        "quantity": st.one_of(st.integers(1, 12), st.just(ledger.MAX_STOCK)),
        "supplier": st.sampled_from(["Acme", "Acme", ""]),
        "unit_cost": PRICE,
        "reason": st.sampled_from(["purchase", "correction", ""]),
    }
)
OUTFLOW_ROW = st.fixed_dictionaries(
    {
        **MOVEMENT_COMMON,
        "quantity": st.integers(1, 4),
        "unit_price": PRICE,
        "unit_cost": PRICE,
        "reason": st.sampled_from(["sale", "correction", ""]),
    }
)


def _cell(value, fmt):
    """A generated value as the given format can carry it."""
    if fmt == "json":
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        return value if not hasattr(value, "as_tuple") else str(value)
    if fmt == "xlsx" and isinstance(value, bool | int | float) and not isinstance(value, bool):
        return value if math.isfinite(value) and abs(value) < 1e300 else str(value)
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _file(rows: list[dict], fmt: str) -> bytes:
    header = list(rows[0])
    if fmt == "json":
        items = [{key: _cell(row[key], fmt) for key in header} for row in rows]
        return json.dumps(items, default=str).encode()
    if fmt == "xlsx":
        return xlsx_bytes([header, *([_cell(row[key], fmt) for key in header] for row in rows)])
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row[key], fmt) for key in header])
    return buffer.getvalue().encode()


def _snapshot():
    return (
        list(Product.objects.order_by("pk").values_list()),
        Inflow.objects.count(),
        Outflow.objects.count(),
    )


def _check_property(client, url_name, rows, fmt):
    before = _snapshot()
    checked = preview(client, url_name, _file(rows, fmt), fmt=fmt)
    assert checked.status in (Status.COMPLETED, Status.FAILED)
    if checked.status == Status.FAILED or checked.invalid_rows:
        event("refused by the preview")
        if os.environ.get("SHOW_REFUSALS"):
            print(checked.error_message, checked.row_errors[:2])
        assert _snapshot() == before
        return
    if not (checked.new_rows or checked.updated_rows):
        event("nothing to import")
        return
    event("imported")
    done = confirm(client, checked)
    assert INTERNAL not in done.error_message, done.error_message
    assert done.status == Status.COMPLETED, done.error_message
    assert (done.new_rows, done.updated_rows) == (checked.new_rows, checked.updated_rows)
    call_command("check_ledger")


@pytest.fixture
def catalog(db):
    model = ProductModelFactory(name="Galaxy", brand__name="Samsung")
    ProductModelFactory(name="Lumia", brand__name="Nokia")
    category = CategoryFactory(name="Phones")
    ProductFactory(serial_number="OLD-1", product_model=model, category=category)


@PROFILE
@given(
    rows=st.lists(
        spoiled(PRODUCT_ROW),
        min_size=1,
        max_size=3,
        unique_by=lambda row: str(row["serial_number"]),
    ),
    fmt=st.sampled_from(["csv", "xlsx", "json"]),
)
def test_product_files_preview_and_import_agree(admin_client, catalog, rows, fmt):
    _check_property(admin_client, "admin:catalog_product_import", rows, fmt)


@pytest.fixture
def stock(db, stocked_product):
    from catalog.models import Supplier

    Supplier.objects.get_or_create(name="Acme")
    stocked_product(quantity=20, serial_number="STOCK-1")
    stocked_product(quantity=3, serial_number="STOCK-2")


@pytest.mark.parametrize(
    ("url_name", "row"),
    [
        ("admin:movements_inflow_import", INFLOW_ROW),
        ("admin:movements_outflow_import", OUTFLOW_ROW),
    ],
    ids=["inflows", "outflows"],
)
@PROFILE
@given(data=st.data(), fmt=st.sampled_from(["csv", "xlsx", "json"]))
def test_movement_files_preview_and_import_agree(admin_client, stock, url_name, row, data, fmt):
    rows = data.draw(st.lists(spoiled(row), min_size=1, max_size=3), label="rows")
    _check_property(admin_client, url_name, rows, fmt)
