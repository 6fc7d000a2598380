import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_unhandled_view_error_and_failing_task_reach_sentry():
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    result = subprocess.run(
        [sys.executable, "-m", "project.tests.sentry_probe"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    captured = result.stdout.split()
    assert "ViewBoom" in captured, result.stdout + result.stderr
    assert "TaskBoom" in captured, result.stdout + result.stderr


def test_sentry_is_off_without_a_dsn():
    import sentry_sdk

    assert not sentry_sdk.get_client().is_active()


def _sentry_settings(**environ) -> dict:
    """The SENTRY_* settings as project/settings.py reads them from this environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    code = (
        "import django, json; django.setup(); from django.conf import settings;"
        "print(json.dumps({n: getattr(settings, n) for n in dir(settings)"
        " if n.startswith('SENTRY_')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "project.settings", **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sentry_settings_are_read_from_the_environment_with_their_defaults():
    assert _sentry_settings() == {
        "SENTRY_DSN": "",
        "SENTRY_ENVIRONMENT": "production",
        "SENTRY_RELEASE": "",
        "SENTRY_TRACES_SAMPLE_RATE": 0.0,
        "SENTRY_SEND_DEFAULT_PII": False,
    }
    assert _sentry_settings(
        SENTRY_ENVIRONMENT="staging",
        SENTRY_RELEASE="v42",
        SENTRY_TRACES_SAMPLE_RATE="0.25",
        SENTRY_SEND_DEFAULT_PII="1",
    ) == {
        "SENTRY_DSN": "",
        "SENTRY_ENVIRONMENT": "staging",
        "SENTRY_RELEASE": "v42",
        "SENTRY_TRACES_SAMPLE_RATE": 0.25,
        "SENTRY_SEND_DEFAULT_PII": True,
    }


def test_no_personal_data_by_default(monkeypatch):
    from project import sentry

    seen = {}
    monkeypatch.setattr(sentry.sentry_sdk, "init", lambda **options: seen.update(options))
    sentry.init_sentry(
        dsn="https://public@sentry.invalid/1",
        environment="production",
        release="",
        traces_sample_rate=0.0,
        send_default_pii=_sentry_settings()["SENTRY_SEND_DEFAULT_PII"],
    )
    assert seen["send_default_pii"] is False
    assert seen["release"] is None  # empty: Sentry's own guess, not ""
    assert {type(i).__name__ for i in seen["integrations"]} == {
        "DjangoIntegration",
        "CeleryIntegration",
    }
