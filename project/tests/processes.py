"""What tests that start real processes (gunicorn, workers, nginx, chromium) share."""

import contextlib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_database_url() -> str:
    """The URL of the test database, for a server started in another process."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


CHROMIUM = "/usr/bin/chromium"  # Debian's; never a downloaded browser


def launch_chromium(playwright):
    """Debian's chromium, headless, with the flags a sandboxed CI machine needs."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-gpu",
            "--disable-dev-shm-usage",
        ],
    )


@contextlib.contextmanager
def celery_worker_thread(queue: str, django_db_blocker=None):
    """A real Celery worker, a thread of this process, consuming only ``queue``.

    Not eager mode: tasks travel through the configured broker and run with
    the thread's own database connection, so tests need committed data
    (``django_db(transaction=True)``). A queue of its own keeps tasks other
    code queues (the dashboard refresh after a movement) from running here.
    ``django_db_blocker``: given by module-scoped fixtures, which run outside
    a test's database access.
    """
    from celery.contrib.testing.worker import start_worker

    from project.celery import app

    with contextlib.ExitStack() as stack:
        if django_db_blocker is not None:
            stack.enter_context(django_db_blocker.unblock())
        yield stack.enter_context(
            start_worker(
                app,
                pool="solo",
                perform_ping_check=False,
                loglevel="WARNING",
                shutdown_timeout=30,
                queues=[queue],
            )
        )


@contextlib.contextmanager
def running_gunicorn(arguments: list[str], *, port: int, env: dict, probe: str):
    """gunicorn started with ``arguments``; yields its base URL once ``probe`` answers.

    Any HTTP answer counts (a 401 is a server that is up). Stopped at the end,
    killed if it does not stop within 20 s.
    """
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", *arguments], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}{probe}", timeout=5):  # noqa: S310 - loopback
                break
        except urllib.error.HTTPError:
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
