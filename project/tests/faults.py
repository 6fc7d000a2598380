"""Faults made the way production makes them, for the tests that need them.

- ``HungServer``: accepts TCP connections and never answers a byte (a frozen
  Redis, a network partition that still completes the handshake).
- ``closed_port_url``: a Redis URL on which nothing listens (Redis down).
- ``celery_broker``: points the Celery app (and its connection pools) at
  another broker for the duration of a ``with`` block.
"""

import contextlib
import socket
import threading

from kombu import pools as kombu_pools


class HungServer:
    """A listening socket that accepts and then stays silent."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(256)
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(conn)  # held open, never read, never answered

    @property
    def connections(self) -> int:
        return len(self._accepted)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._accepted:
            with contextlib.suppress(OSError):
                conn.close()
        self._socket.close()


def closed_port_url() -> str:
    """A Redis URL on a port that was free a moment ago: connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def _drop_pools(app) -> None:
    # The app keeps a connection pool and a producer pool built from the
    # broker URL it had when first used; both must go for a new URL to count.
    pool = app._pool
    app._pool = None
    if pool is not None:
        with contextlib.suppress(Exception):
            pool.force_close_all()
    app.amqp._producer_pool = None
    # Producer pools are also kept by kombu, per broker URL: a pool closed
    # but still registered would refuse every later publish to that URL.
    with contextlib.suppress(Exception):
        kombu_pools.reset()


@contextlib.contextmanager
def celery_broker(url: str):
    """Publish to ``url`` inside the block; the configured broker again after it."""
    from project.celery import app

    previous = app.conf.broker_url, app.conf.broker_transport
    _drop_pools(app)
    # A URL names its own transport; the embedded default's transport class
    # (settings: CELERY_BROKER_TRANSPORT) would take precedence over it.
    app.conf.broker_url, app.conf.broker_transport = url, None
    try:
        yield app
    finally:
        _drop_pools(app)
        app.conf.broker_url, app.conf.broker_transport = previous


def cache_settings_at(settings, url: str) -> dict:
    """The configured cache (its timeouts and options) pointed at another Redis."""
    default = dict(settings.CACHES["default"])
    default["LOCATION"] = url
    return {**settings.CACHES, "default": default}


def aborted_by_database(sqlstate: str = "40P01"):
    """The OperationalError Django raises when PostgreSQL aborts a transaction
    (40P01: deadlock_detected, 40001: serialization_failure), psycopg's error as its cause."""
    from django.db import OperationalError

    error = OperationalError("deadlock detected")
    error.__cause__ = type("DatabaseAbort", (Exception,), {"sqlstate": sqlstate})()
    return error


def aborted_once(real):
    """``real`` that does its work, then is aborted by the database the first time only.

    Returns the stand-in and the list of its calls (one entry per call).
    """
    calls = []

    def stand_in(*args, **kwargs):
        calls.append(1)
        result = real(*args, **kwargs)  # written, then aborted: all rolled back
        if len(calls) == 1:
            raise aborted_by_database()
        return result

    return stand_in, calls
