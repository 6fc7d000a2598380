"""Reading and purging the change feed (the triggers are in changefeed.py)."""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.changefeed import TABLE
from integrations.models import Change, FeedPurge
from project.errors import UserFacingError

CURSOR_RE = re.compile(r"^(\d{1,19})\.(\d{1,19})$")
MAX_POSITION = 2**63 - 1


class BadCursor(UserFacingError):
    pass


class CursorExpired(UserFacingError):
    pass


@dataclass(frozen=True, order=True)
class Cursor:
    txid: int = 0
    change_id: int = 0

    def __str__(self) -> str:
        return f"{self.txid}.{self.change_id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        match = CURSOR_RE.match(text or "")
        if not match or any(int(part) > MAX_POSITION for part in match.groups()):
            raise BadCursor(_("Not a cursor of this feed: pass back the cursor it gave you."))
        return cls(int(match[1]), int(match[2]))


def _settled_below() -> str:
    """SQL for the transaction id below which every writer has ended."""
    if connection.vendor == "postgresql":
        return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    return str(MAX_POSITION)  # SQLite: one writer; a committed row is final


def _purged() -> Cursor:
    state = FeedPurge.objects.order_by("pk").first()
    return Cursor(state.txid, state.change_id) if state else Cursor()


def changes_after(after: Cursor, *, kinds: list[str], limit: int) -> tuple[list[dict], Cursor]:
    """Up to ``limit`` changes after ``after``, in commit order, and the cursor to ask from next."""
    if after < _purged():
        raise CursorExpired(
            _(
                "Changes after this cursor were purged (kept %(days)s days): "
                "sync the lists again, then follow the feed from its latest cursor."
            )
            % {"days": settings.CHANGE_FEED_RETENTION_DAYS}
        )
    placeholders = ", ".join(["%s"] * len(kinds))
    sql = f"""
        SELECT id, txid, kind, object_id, op, at FROM {TABLE}
        WHERE (txid > %s OR (txid = %s AND id > %s))
          AND txid < {_settled_below()}
          AND kind IN ({placeholders})
        ORDER BY txid, id
        LIMIT %s
    """
    rows = list(Change.objects.raw(sql, [after.txid, after.txid, after.change_id, *kinds, limit]))
    changes = [
        {
            "cursor": str(Cursor(row.txid, row.id)),
            "kind": row.kind,
            "id": row.object_id,
            "op": row.op,
            "at": row.at,
        }
        for row in rows
    ]
    last = Cursor(rows[-1].txid, rows[-1].id) if rows else after
    return changes, last


def latest_cursor() -> Cursor:
    """The feed's end as of now: where a client that just synced the lists starts following."""
    sql = f"""
        SELECT txid, id FROM {TABLE} WHERE txid < {_settled_below()}
        ORDER BY txid DESC, id DESC LIMIT 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return Cursor(*row) if row else _purged()


@transaction.atomic
def purge_older_than(days: int | None = None) -> int:
    """Delete changes older than ``days`` and remember where the purge stopped."""
    days = settings.CHANGE_FEED_RETENTION_DAYS if days is None else days
    before = timezone.now() - timedelta(days=days)
    last = Change.objects.filter(at__lt=before).order_by("-txid", "-id").first()
    if last is None:
        return 0
    deleted, _ = Change.objects.filter(txid__lt=last.txid).delete()
    more, _ = Change.objects.filter(txid=last.txid, id__lte=last.id).delete()
    state = FeedPurge.objects.order_by("pk").first() or FeedPurge()
    state.txid, state.change_id, state.purged_at = last.txid, last.id, timezone.now()
    state.save()
    return deleted + more
