"""CPU time per request, split between the server, the database and the load generator.

Requests per second alone do not say what limits them. On a machine where
gunicorn, PostgreSQL and wrk share the cores, the CPU time each spends per
request does: when their sum times the requests per second is close to
the number of cores, the figure is CPU-bound and only a cheaper request
raises it; when it is well below, the processes wait (on a commit's flush,
on a round trip) and more concurrency would help.

Read from ``/proc`` (Linux), for processes on this machine: the gunicorn
workers (children of the master), the PostgreSQL backends serving this
database (their pids from ``pg_stat_activity``) and wrk (the children's
times of this process). Anything unreadable (another OS, a remote
database) counts as ``None``, and the benchmark goes on without it.
"""

import os
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process, None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def _database_backends() -> list[int]:
    """The backends connected to this database, other than this process's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]


def _is_postgres_backend(pid: int) -> bool:
    """Whether local ``pid`` is a PostgreSQL backend (a remote or containerised
    server's pids would name unrelated local processes)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().startswith(b"postgres:")
    except OSError:
        return False


def _total(pids: list[int]) -> dict[int, float]:
    return {pid: seconds for pid in pids if (seconds := _seconds(pid)) is not None}


@dataclass
class CpuPerRequest:
    """Milliseconds of CPU per request; ``None`` where it could not be read."""

    server_ms: float | None = None
    database_ms: float | None = None
    client_ms: float | None = None
    requests: int = 0

    def as_dict(self) -> dict:
        parts = (self.server_ms, self.database_ms, self.client_ms)
        total = None if None in parts else sum(parts)
        cores = os.cpu_count() or 1
        return {
            "server_ms": self.server_ms,
            "database_ms": self.database_ms,
            "client_ms": self.client_ms,
            "total_ms": round(total, 3) if total is not None else None,
            # What the cores allow at this cost, if nothing ever waited.
            "cpu_bound_rps": round(cores * 1000 / total) if total else None,
        }


@contextmanager
def cpu_per_request(server_pid: int, figures: dict):
    """Measure around a wrk run; ``figures`` is wrk's result, filled in by the caller.

    The database's backends are those connected when the run starts (the
    workers connect during the warm-up that precedes it).
    """
    result = CpuPerRequest()
    vendor_is_postgres = connection.vendor == "postgresql"
    backends = _database_backends() if vendor_is_postgres else []
    local_backends = [pid for pid in backends if _is_postgres_backend(pid)]
    # This process's own backend is not measured; close it rather than keep
    # it idle beside the measured ones.
    connection.close()
    workers = _children(server_pid)
    server_before, database_before = _total(workers), _total(local_backends)
    client_before = os.times()
    yield result
    client_after = os.times()
    server_after, database_after = _total(workers), _total(local_backends)
    requests = figures.get("requests") or 0
    if not requests:
        return
    result.requests = requests

    def per_request(before: dict, after: dict) -> float | None:
        common = before.keys() & after.keys()
        if not common:
            return None
        return round(sum(after[pid] - before[pid] for pid in common) / requests * 1000, 3)

    result.server_ms = per_request(server_before, server_after)
    # No backend connected: the requests used no database (the ceiling).
    result.database_ms = per_request(database_before, database_after) if backends else 0.0
    client = (client_after.children_user + client_after.children_system) - (
        client_before.children_user + client_before.children_system
    )
    result.client_ms = round(client / requests * 1000, 3)
