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

    stray_control = ROOT / "control"
    had_stray_control = stray_control.exists()  # left by a checkout from before
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
            "from movements.tasks import check_ledger_nightly;"
            "print(check_ledger_nightly.delay().get(timeout=90, interval=0.5))",
            env=env,
        )
        assert result.returncode == 0, result.stderr
        assert "{'differences': 0}" in result.stdout
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    # The broker's broadcast tables (kombu's control folder) live under
    # VAR_DIR, not in ./control of whatever directory the worker started in.
    assert (tmp_path / "celery" / "control" / "celery.pidbox.exchange").exists()
    assert stray_control.exists() is had_stray_control


def _code_files():
    for app in ("project", "dataio", "catalog", "movements", "dashboard", "backoffice"):
        for path in sorted((ROOT / app).rglob("*.py")):
            if "tests" not in path.parts:
                yield path


def test_the_environment_is_read_in_settings_only():
    """Every variable is read once, in project/settings.py; the rest reads settings.X.

    No other module reads os.environ or calls project.env's readers, and none
    repeats a default with getattr(settings, "NAME", default): settings.py
    defines every setting the project reads.
    """
    import ast

    readers = {"env_str", "env_int", "env_bool", "env_list", "getenv"}
    allowed = {ROOT / "project" / "settings.py", ROOT / "project" / "env.py"}
    found = []
    for path in _code_files():
        if path in allowed:
            continue
        source = path.read_text()
        lines = source.splitlines()
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in readers:
                    found.append(f"{where}:{node.lineno} {name}()")
                if (
                    name == "getattr"
                    and len(node.args) == 3
                    and getattr(node.args[0], "id", None) == "settings"
                ):
                    found.append(f"{where}:{node.lineno} getattr(settings, ..., default)")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr == "environ"
                and getattr(node.value, "id", None) == "os"
                # The entry points name the settings module, as Django's own do.
                and 'os.environ.setdefault("DJANGO_SETTINGS_MODULE"' not in lines[node.lineno - 1]
            ):
                found.append(f"{where}:{node.lineno} os.environ")
    assert found == []


def test_every_variable_settings_reads_is_documented_in_configuration_md():
    import re

    source = (ROOT / "project" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', source))
    documented = set(
        re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "docs/configuration.md").read_text())
    )
    assert read - documented == set()
