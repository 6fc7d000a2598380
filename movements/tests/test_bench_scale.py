"""``make bench BENCH=scale``'s plumbing on a tiny size, in the test database.

The benchmark itself (1,000,000 products, 10,000,000 movements) is not part of
the tests; this runs every step of it on 2,000 products and 20,000 movements:
the seed in a child process with its peak memory, the reuse of a seeded
database, each figure of issue 13's table, and the one JSON line.
"""

import json

import pytest
from django.core.management import call_command

from benchmarks import scale
from catalog.models import Product
from movements.models import Inflow, Outflow

PRODUCTS, MOVEMENTS = 2_000, 20_000


@pytest.mark.postgresql_only  # the benchmark seeds with COPY and times PostgreSQL
@pytest.mark.django_db(transaction=True)  # the seed and the API server are other processes
def test_scale_benchmark_reports_every_figure_of_the_table(tmp_path, capsys):
    record = tmp_path / "seed.json"
    measured = scale.measure(
        products=PRODUCTS, movements=MOVEMENTS, api_seconds=1, seed_figures=record
    )

    # Seeded by the child process, consistent, and its figures recorded.
    assert Product.objects.count() == PRODUCTS
    assert Inflow.objects.count() + Outflow.objects.count() >= MOVEMENTS
    call_command("check_ledger")
    assert measured["notes"]["seed_source"] == "measured in this run"
    seed = measured["figures"]
    assert seed["seed_demo_s"] > 0
    assert 50 < seed["seed_demo_peak_rss_mb"] < 1024
    assert json.loads(record.read_text())["seconds"] == seed["seed_demo_s"]

    # A second run reuses the database and reports the recorded seed.
    reused = scale.ensure_seeded(products=PRODUCTS, movements=MOVEMENTS, record=record)
    assert reused["source"].startswith("database reused; last seed measured ")
    assert reused["seconds"] == seed["seed_demo_s"]

    result = scale.combine(measured, measured)
    line = json.dumps(result)
    assert "\n" not in line
    assert set(result["figures"]) == set(scale.TARGETS)
    for name, figure in result["figures"].items():
        assert set(figure) == {"value", "target", "met", "at_tenth", "growth"}, name
        assert figure["target"] == "{} {}".format(*scale.TARGETS[name])
        # Measured here, or said why not: never a hole.
        assert isinstance(figure["value"], int | float) or figure["value"] == scale.NOT_AVAILABLE
    assert isinstance(result["figures"]["dashboard_refresh_s"]["value"], float)
    assert result["figures"]["dashboard_refresh_s"]["growth"] == 1.0
    assert result["sizes"]["full"] == {
        "products": PRODUCTS,
        "movements": MOVEMENTS,
        "import_rows": PRODUCTS,
    }


def test_a_figure_is_met_by_its_own_direction():
    def side(value):
        figures = dict.fromkeys(scale.TARGETS, value)
        return {"size": {}, "figures": figures, "notes": {}}

    result = scale.combine(side(100), side(50))["figures"]
    assert result["dashboard_refresh_s"]["met"] is False  # 100 s > 1 s
    assert result["api_outflow_create_rps"]["met"] is False  # 100 rps < 1,000
    assert result["admin_product_list_ms"]["growth"] == 2.0
    unavailable = scale.combine(side(scale.NOT_AVAILABLE), side(50))["figures"]
    assert unavailable["product_import_s"] == {
        "value": scale.NOT_AVAILABLE,
        "target": "<= 60",
        "met": None,
        "at_tenth": 50,
        "growth": None,
    }
