"""``Idempotency-Key`` on POST: a retried request is answered, not repeated.

The key row is inserted in the same transaction as the movement it guards,
under a unique constraint on (user, key). A concurrent request with the
same key blocks on that unique index until the first one commits, then
finds the row and replays its response; if the first one fails, its row is
rolled back with it and the second one runs. Only successful responses are
stored, so a refused request (400, 409) may be retried with the same key.
"""

import hashlib
import json
import re
from datetime import timedelta

import orjson
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from movements.models import IdempotencyKey
from project.api.exceptions import Unprocessable
from project.api.renderers import ORJSONRenderer

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY_RE = re.compile(KEY_PATTERN)


def _fingerprint(request) -> str:
    # The standard library, not orjson: a client may send integers of any size.
    body = json.dumps(request.data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(part)
        digest.update(b"\x00")
    return digest.hexdigest()


def idempotent(request, create) -> Response:
    """Run ``create()`` (which returns a Response) at most once per key."""
    key = request.headers.get(HEADER)
    if key is None:
        return create()
    if not _KEY_RE.match(key):
        raise ValidationError({HEADER: [_("1 to 255 visible ASCII characters.")]})
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        # get_or_create inserts in a savepoint; a concurrent holder of the
        # same key makes this wait, then IntegrityError, then the get sees
        # its committed row (READ COMMITTED takes a new snapshot).
        record, created = IdempotencyKey.objects.get_or_create(
            user=request.user, key=key, defaults={"fingerprint": fingerprint, "path": request.path}
        )
        if not created:
            if record.fingerprint != fingerprint:
                raise Unprocessable(
                    _("This Idempotency-Key was used with another request."),
                    code="idempotency_key_reused",
                )
            response = Response(record.response_body, status=record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response
        response = create()
        # Stored as rendered (money as strings, times in UTC), so a replay
        # carries the same values; jsonb keeps the keys in its own order.
        record.response_status = response.status_code
        record.response_body = orjson.loads(ORJSONRenderer().render(response.data))
        record.save(update_fields=["response_status", "response_body"])
        return response


def idempotency_keys_purge(*, older_than=timedelta(days=1)) -> int:
    """Delete keys older than ``older_than``; a retry comes within minutes, not days.

    Meant for a daily scheduled task; returns how many keys went.
    """
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
