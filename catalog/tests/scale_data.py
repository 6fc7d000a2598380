"""A catalog and ledger big enough that PostgreSQL plans as it does at a million rows.

The plan tests of the admin lists (issue 13) need tables where the planner
prefers an index over reading the table, and real statistics: rows written
with ``INSERT ... SELECT generate_series`` and committed, then ``VACUUM
ANALYZE`` (statistics and the visibility map that index-only scans use).
"""

import re
from contextlib import contextmanager

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

PRODUCTS = 60_000
OUTFLOWS = 300_000
# One title in RARE_EVERY carries RARE_WORD: a word search with a known answer.
RARE_WORD = "Zephyr"
RARE_EVERY = 100
# One title in BRAND_EVERY opens with BRAND_WORD: a word clustered at the end
# of the title order, as a brand is in real titles.
BRAND_WORD = "Zylo"
BRAND_EVERY = 20
TABLES = (
    "movements_inflow",
    "movements_outflow",
    "catalog_product",
    "catalog_productmodel",
    "catalog_brand",
    "catalog_category",
)


def sku(number: int) -> str:
    return f"SC-{number:07d}"


FILL = [
    "INSERT INTO catalog_brand (name, description, created_at, updated_at) "
    "SELECT 'Scale brand ' || g, '', now(), now() FROM generate_series(1, 10) g",
    "INSERT INTO catalog_category (name, description, created_at, updated_at) "
    "SELECT 'Scale category ' || g, '', now(), now() FROM generate_series(1, 10) g",
    "INSERT INTO catalog_productmodel (brand_id, name, description, created_at, updated_at) "
    "SELECT id, 'Model ' || id, '', now(), now() FROM catalog_brand",
    # Titles: sometimes the brand, a tool, a colour, sometimes the rare word;
    # SKU SC-0000001...
    f"""
    INSERT INTO catalog_product (title, serial_number, product_model_id, category_id,
        cost_price, sell_price, quantity, reorder_level, is_active, description,
        created_at, updated_at)
    SELECT CASE WHEN g % {BRAND_EVERY} = 0 THEN '{BRAND_WORD} ' ELSE '' END
           || (ARRAY['Drill','Saw','Hammer','Wrench','Sander','Grinder','Router','Plane'])
              [1 + g % 8]
           || ' ' || (ARRAY['Black','Red','Blue','Green','Yellow','White','Grey'])[1 + g / 8 % 7]
           || CASE WHEN g % {RARE_EVERY} = 0 THEN ' {RARE_WORD}' ELSE '' END || ' ' || g,
           'SC-' || lpad(g::text, 7, '0'),
           (SELECT min(id) FROM catalog_productmodel) + g % 10,
           (SELECT min(id) FROM catalog_category) + g % 10,
           10, 15, g % 40, 5, true, '', now(), now()
    FROM generate_series(1, {PRODUCTS}) g
    """,
    f"""
    INSERT INTO movements_outflow (product_id, quantity, note, created_at, reason,
        unit_price, unit_cost)
    SELECT (SELECT min(id) FROM catalog_product) + (g::bigint * 7) % {PRODUCTS}, 1, '',
           timestamptz '2026-01-01' + g * interval '1 minute', 'sale', 15, 10
    FROM generate_series(1, {OUTFLOWS}) g
    """,
]


def _literal(value) -> str:
    if isinstance(value, bool | int):
        return str(int(value)) if not isinstance(value, bool) else str(value).lower()
    return "'" + str(value).replace("'", "''") + "'"


def _with_other_columns(statement: str, model) -> str:
    """``statement`` with the model's other NOT NULL columns set to their defaults.

    Fields added later (an EAN, say) then need no change here.
    """
    head, select = statement.split(")\n    SELECT ", 1)
    given = {name.strip() for name in head.split("(", 1)[1].split(",")}
    others = [
        field
        for field in model._meta.concrete_fields
        if not field.null and not field.primary_key and field.column not in given
    ]
    columns = "".join(f", {field.column}" for field in others)
    values = "".join(f", {_literal(field.get_default())}" for field in others)
    select, source = select.split("\n    FROM ", 1)
    return f"{head}{columns})\n    SELECT {select}{values}\n    FROM {source}"


def fill(*, outflows: bool) -> None:
    from catalog.models import Product
    from movements.models import Outflow

    statements = [*FILL[:3], _with_other_columns(FILL[3], Product)]
    if outflows:
        statements.append(_with_other_columns(FILL[4], Outflow))
    with transaction.atomic(), connection.cursor() as cursor:
        # A bulk load: no change-feed rows for it (integrations.changefeed);
        # a setting nobody reads where the feed is not installed.
        cursor.execute("SET LOCAL inventory.change_feed = 'off'")
        for statement in statements:
            cursor.execute(statement)
    with connection.cursor() as cursor:  # VACUUM runs outside a transaction
        for table in TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")


@contextmanager
def filled(*, outflows: bool):
    """The tables filled for the block, emptied after it (a failed fill included)."""
    try:
        fill(outflows=outflows)
        yield
    finally:
        empty()


def empty() -> None:
    # TRUNCATE: the movements' append-only triggers refuse DELETE row by row.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        for table in TABLES:  # the statistics of empty tables for the next tests
            cursor.execute(f"ANALYZE {table}")


def page_plans(client, url: str, params: dict) -> list[str]:
    """GET the page, then EXPLAIN each SELECT it ran: "the SQL\\nits plan" per query."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN {sql}")
            plans.append(sql + "\n" + "\n".join(row[0] for row in cursor.fetchall()))
    return plans


def seq_scans(plans: list[str], tables: tuple[str, ...]) -> list[str]:
    """The plans that read one of ``tables`` whole ("Seq Scan", parallel or not)."""
    # "Seq Scan on catalog_product " and not "... on catalog_productmodel".
    pattern = re.compile(rf"Seq Scan on ({'|'.join(map(re.escape, tables))})\b(?!_)")
    return [plan for plan in plans if pattern.search(plan)]
