"""seed_demo into empty tables on PostgreSQL: indexes and foreign keys dropped, then built again.

What comes back must be exactly what the migrations made (names, definitions,
validated foreign keys, triggers, table comments), whether the load ends,
fails, or is killed half way (then the next seed_demo builds them first).
"""

import pytest
from django.core.management import call_command
from django.db import connection

from movements import demo
from movements.models import DailyRollup, Inflow, Outflow

pytestmark = [pytest.mark.postgresql_only, pytest.mark.django_db(transaction=True)]

TABLES = [model._meta.db_table for model in demo._BULK_TABLES]


def _schema() -> dict[str, set]:
    """Every index, constraint, user trigger and comment of the bulk-loaded tables."""
    queries = {
        "indexes": "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
        "FROM pg_index WHERE indrelid = ANY(%(t)s::regclass[])",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), "
        "convalidated, condeferrable, condeferred FROM pg_constraint "
        "WHERE conrelid = ANY(%(t)s::regclass[]) OR confrelid = ANY(%(t)s::regclass[])",
        "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) "
        "FROM pg_trigger WHERE tgrelid = ANY(%(t)s::regclass[]) AND NOT tgisinternal",
        "comments": "SELECT t, obj_description(t::regclass, 'pg_class') "
        "FROM unnest(%(t)s::text[]) t",
    }
    with connection.cursor() as cursor:
        schema = {}
        for name, sql in queries.items():
            cursor.execute(sql, {"t": TABLES})
            schema[name] = set(cursor.fetchall())
        return schema


def _index_names(schema) -> set[str]:
    return {name for name, _definition in schema["indexes"]}


def _ledger_consistent(capsys, products) -> None:
    capsys.readouterr()
    call_command("check_ledger")
    assert f"Ledger consistent: {products} product(s)" in capsys.readouterr().out


def test_a_seed_into_empty_tables_loads_without_secondary_indexes_and_builds_them_again(
    monkeypatch, capsys
):
    before = _schema()
    during = {}
    copy_batches = demo._copy_batches

    def spy(*args, **kwargs):
        during.update(_schema())
        return copy_batches(*args, **kwargs)

    monkeypatch.setattr(demo, "_copy_batches", spy)
    call_command("seed_demo", products=60, movements=900, seed=7, reset=True)

    # During the load: primary keys, CHECK constraints and the rollups'
    # unique constraint (the triggers' ON CONFLICT target) only.
    assert _index_names(during) == {f"{table}_pkey" for table in TABLES} | {
        "movements_dailyrollup_product_day_uniq"
    }
    # Their own foreign keys (other tables' keys pointing at them stay).
    definitions = [d for table, _name, d, *_ in during["constraints"] if table in TABLES]
    assert not any(definition.startswith("FOREIGN KEY") for definition in definitions)
    assert any(definition.startswith("CHECK") for definition in definitions)
    assert any(name.endswith("_rollup") for _t, name, _d in during["triggers"])
    # The record of what was dropped, for a load that dies half way.
    assert any(comment and comment.startswith(demo._MARK) for _t, comment in during["comments"])

    assert _schema() == before
    assert "catalog_product_title_trgm" in _index_names(before)  # database-only, kept too
    _ledger_consistent(capsys, 60)


def test_a_load_killed_after_the_drop_is_repaired_by_the_next_seed(capsys):
    before = _schema()
    demo._set_aside()  # what a killed load leaves: the drop committed, no rebuild
    assert _index_names(_schema()) < _index_names(before)

    call_command("seed_demo", products=25, movements=300, seed=2, reset=True)
    assert _schema() == before
    _ledger_consistent(capsys, 25)


def test_a_failing_load_still_puts_everything_back(monkeypatch):
    before = _schema()
    product = demo._Ledger.product
    made = []

    def failing(self, batch, count):
        if len(made) == 30:
            raise RuntimeError("generator failed")
        made.append(count)
        return product(self, batch, count)

    monkeypatch.setattr(demo._Ledger, "product", failing)
    with pytest.raises(RuntimeError, match="generator failed"):
        demo.seed_demo(products=60, movements=900, seed=3, password="x", batch_movements=100)
    assert _schema() == before
    # Whole products only were committed, with a consistent ledger and rollups.
    assert 0 < Inflow.objects.count() + Outflow.objects.count() < 900
    call_command("check_ledger")
    assert DailyRollup.objects.exists()


def test_tables_that_are_not_empty_keep_their_indexes(monkeypatch, capsys):
    call_command("seed_demo", products=10, movements=100, seed=4, reset=True)
    before = _schema()
    monkeypatch.setattr(demo, "_set_aside", lambda: pytest.fail("dropped with rows present"))
    demo.seed_demo(products=10, movements=100, seed=5, password="x")
    assert _schema() == before
    _ledger_consistent(capsys, 20)
