import os
from pathlib import Path

import pytest

from project.tests.processes import free_port, running_gunicorn, server_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def api_server(django_db_setup, django_db_blocker):
    """A real gunicorn (2 processes x 16 threads) on loopback, on the test database.

    Requests run in other processes with their own connections, so the
    transactions they open really do run side by side; only tests marked
    ``django_db(transaction=True)`` commit data it can see.
    """
    with django_db_blocker.unblock():
        database_url = server_database_url()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        # No persistent connections: the test database is dropped at the end.
        "DB_CONN_MAX_AGE": "0",
    }
    arguments = [
        "project.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--worker-class=gthread",
        "--threads=16",
        "--log-level=warning",
    ]
    with running_gunicorn(arguments, port=port, env=env, probe="/api/v1/schema/") as base:
        yield base
