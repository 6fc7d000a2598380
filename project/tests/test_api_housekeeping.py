from datetime import timedelta

import pytest
from django.utils import timezone

from backoffice.tasks import flush_expired_tokens
from movements.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def test_daily_api_housekeeping_purges_old_idempotency_keys(django_user_model):
    user = django_user_model.objects.create_user("client", password="x-pass-123456")
    old = IdempotencyKey.objects.create(
        user=user, key="old", path="/api/v1/outflows/", fingerprint="a" * 64
    )
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    IdempotencyKey.objects.create(
        user=user, key="fresh", path="/api/v1/outflows/", fingerprint="b" * 64
    )
    result = flush_expired_tokens()
    assert result["idempotency_keys_purged"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
