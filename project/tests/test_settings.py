import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(**overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "CELERY_BROKER_URL"}
    }
    env.update(overrides)
    return env


def _manage(*args, env, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _manage("check", env=_env(DEBUG="0", VAR_DIR=str(tmp_path)))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = _manage("check", env=_env(DEBUG="0", SECRET_KEY="short", VAR_DIR=str(tmp_path)))
    assert result.returncode != 0
    assert "SECRET_KEY is too short" in result.stderr


def test_a_malformed_boolean_is_a_clear_error(tmp_path):
    result = _manage("check", env=_env(DEBUG="maybe", VAR_DIR=str(tmp_path)))
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_embedded_default_runs_migrate_seed_ledger_and_a_real_worker(tmp_path):
    """No DATABASE_URL, no REDIS_URL: SQLite, file cache, filesystem broker, real worker."""
    env = _env(DEBUG="1", VAR_DIR=str(tmp_path), ALLOWED_HOSTS="localhost,testserver")
    for args in (
        ("migrate", "--noinput", "-v0"),
        ("seed_demo", "--products", "15", "--movements", "120"),
        ("check_ledger",),
    ):
        result = _manage(*args, env=env)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "db.sqlite3").exists()

    # The admin's pages on SQLite, product page with its ledger included.
    pages = _manage(
        "shell",
        "-c",
        "from django.test import Client; from django.contrib.auth.models import User;"
        "from catalog.models import Product;"
        "c = Client(); c.force_login(User.objects.create_superuser('smoke', 's@x.io', 'pw'));"
        "urls = ['/admin/', '/admin/catalog/product/', '/admin/movements/outflow/',"
        " f'/admin/catalog/product/{Product.objects.first().pk}/change/'];"
        "print([c.get(u).status_code for u in urls])",
        env=env,
    )
    assert pages.returncode == 0, pages.stderr
    assert "[200, 200, 200, 200]" in pages.stdout, pages.stdout + pages.stderr

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool=solo", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        result = _manage(
            "shell",
            "-c",
            "from reports.tasks.transfers import check_ledger_nightly;"
            "print(check_ledger_nightly.delay().get(timeout=90, interval=0.5))",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "{'differences': 0}" in result.stdout
    finally:
        worker.terminate()
        worker.wait(timeout=30)
