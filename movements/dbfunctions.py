"""SQL functions the movements' SQLite triggers need, registered on each new connection.

PostgreSQL converts a timestamp to a local day with ``AT TIME ZONE``; SQLite
knows no time zone but the server's, so the rollup triggers call
``movements_local_day(created_at)``, a Python function that uses
``settings.TIME_ZONE`` like the rest of the project. Registered through
Django's documented ``connection_created`` signal and the ``sqlite3`` module's
``create_function``.
"""

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.backends.signals import connection_created

LOCAL_DAY = "movements_local_day"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(value: str | None) -> str | None:
    """A stored created_at (UTC text, as Django writes it on SQLite) as its local ISO date."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone(settings.TIME_ZONE)).date().isoformat()


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(LOCAL_DAY, 1, local_day, deterministic=True)


def connect() -> None:
    connection_created.connect(_register, dispatch_uid="movements.dbfunctions")
