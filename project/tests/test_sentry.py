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


def test_no_personal_data_by_default(monkeypatch):
    from project import sentry

    seen = {}
    monkeypatch.setattr(sentry.sentry_sdk, "init", lambda **options: seen.update(options))
    monkeypatch.delenv("SENTRY_SEND_DEFAULT_PII", raising=False)
    sentry.init_sentry("https://public@sentry.invalid/1")
    assert seen["send_default_pii"] is False
    assert {type(i).__name__ for i in seen["integrations"]} == {
        "DjangoIntegration",
        "CeleryIntegration",
    }
