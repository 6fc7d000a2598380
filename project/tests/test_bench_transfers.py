"""``make bench BENCH=import`` and ``BENCH=export`` run end to end, on a tiny size.

The figures are not checked (tests are not benchmarks); what is checked is
that every step runs against today's schema and reports its rows. A new
column without a database default once broke both benchmarks' COPY for
several sessions while the suite stayed green.
"""

import json
import tempfile

import pytest

from benchmarks import exports, imports
from catalog.models import Product

pytestmark = [
    pytest.mark.postgresql_only,  # both benchmarks time PostgreSQL's COPY
    pytest.mark.django_db(transaction=True),  # VACUUM runs outside a transaction
]


@pytest.fixture(autouse=True)
def work_in_this_process(monkeypatch):
    """The timed work runs here, not in a forked child.

    The benchmark forks to measure the work's own peak memory; forking the
    test process, which holds other tests' threads, can deadlock the child
    on a lock a thread held (Python warns of it). What is tested here is
    that every step runs against today's schema, not the memory figure.
    """

    def in_this_process(function, *args):
        return function(*args), 0.0

    monkeypatch.setattr(imports, "in_child", in_this_process)
    monkeypatch.setattr(exports, "in_child", in_this_process)


def test_the_import_benchmark_imports_updates_and_measures_its_baselines(monkeypatch, tmp_path):
    monkeypatch.delenv("IMPORT_BENCH_BEFORE", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its work files

    result = imports.run(rows=120, sample=20)

    assert result["rows"] == result["update"]["rows"] == 120
    assert result["rows_per_s"] > 0 and result["update"]["rows_per_s"] > 0
    assert result["baselines"]["copy_rows_per_s"] > 0
    assert result["baselines"]["import_export_default_rows_per_s"] > 0
    assert json.loads(json.dumps(result)) == result
    # Its rows are its own and go when it ends; the rolled-back baselines leave none.
    assert not Product.objects.filter(serial_number__startswith=imports.PREFIX).exists()
    assert not Product.objects.filter(serial_number__startswith="BC-").exists()


def test_the_export_benchmark_writes_every_format_and_its_memory_run(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its work files

    result = exports.run(rows=120, memory_rows=200, sample=20)

    assert set(result["formats"]) == set(result["memory_at_rows"]) == {"csv", "xlsx", "json"}
    for figures in result["formats"].values():
        assert figures["rows"] == 120 and figures["rows_per_s"] > 0
        assert figures["baselines"]["copy_rows_per_s"] > 0
    assert {figures["rows"] for figures in result["memory_at_rows"].values()} == {200}
    assert json.loads(json.dumps(result)) == result
