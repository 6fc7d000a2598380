"""The API's daily housekeeping; its schedule is a beat row (backoffice migrations)."""

from celery import shared_task
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from movements.idempotency import idempotency_keys_purge


@shared_task(name="backoffice.flush_expired_tokens")
def flush_expired_tokens() -> dict:
    """The API's daily housekeeping.

    Deletes expired outstanding JWT refresh tokens (and their blacklist rows)
    and idempotency keys too old for any client to retry with.
    """
    expired = OutstandingToken.objects.filter(expires_at__lte=timezone.now()).count()
    call_command("flushexpiredtokens")
    return {"flushed": expired, "idempotency_keys_purged": idempotency_keys_purge()}
