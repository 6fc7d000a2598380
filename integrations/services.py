"""API clients: create, change, revoke, rotate the secret, exchange it for a token.

Every write to a client goes through here, so its service user's permissions
always match its scopes.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework_simplejwt.tokens import AccessToken

from integrations.models import ApiClient
from integrations.scopes import SCOPE_PERMISSIONS
from project.errors import UserFacingError


class ExchangeRefused(UserFacingError):
    """Wrong id or secret, or a client that may not call now (revoked, expired, address)."""


def hash_secret(secret: str) -> str:
    # The secret is 256 random bits, not a password a person chose: a plain
    # SHA-256 cannot be brute-forced, and checking it costs microseconds.
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret() -> str:
    return f"sec_{secrets.token_urlsafe(32)}"


def _service_username(name: str) -> str:
    base = f"api-{slugify(name)[:100] or 'client'}"
    User = get_user_model()
    username, suffix = base, 1
    while User._default_manager.filter(username=username).exists():
        suffix += 1
        username = f"{base}-{suffix}"
    return username


def _sync_permissions(client: ApiClient) -> None:
    wanted = {pair for scope in client.scopes for pair in SCOPE_PERMISSIONS.get(scope, ())}
    query = Q(pk__in=[])
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    client.user.user_permissions.set(Permission.objects.filter(query))


@transaction.atomic
def api_client_create(
    *,
    name: str,
    scopes: list[str],
    rate_limit: str = "600/minute",
    allowed_addresses: str = "",
    expires_at=None,
    created_by=None,
) -> tuple[ApiClient, str]:
    """Create a client and its service user; returns the client and its secret (shown once)."""
    user = get_user_model()._default_manager.create_user(username=_service_username(name))
    user.set_unusable_password()  # it never logs in with a password
    user.save(update_fields=["password"])
    secret = _new_secret()
    client = ApiClient(
        name=name,
        scopes=sorted(set(scopes)),
        rate_limit=rate_limit,
        allowed_addresses=allowed_addresses,
        expires_at=expires_at,
        user=user,
        secret_hash=hash_secret(secret),
        created_by=created_by,
    )
    client.full_clean()
    client.save()
    _sync_permissions(client)
    return client, secret


@transaction.atomic
def api_client_update(*, client: ApiClient, **changes) -> ApiClient:
    for name, value in changes.items():
        setattr(client, name, sorted(set(value)) if name == "scopes" else value)
    client.full_clean()
    client.save()
    _sync_permissions(client)
    return client


def api_client_revoke(*, client: ApiClient) -> ApiClient:
    """Refuse the client from its next request on (every process checks within a second)."""
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client


def api_client_rotate_secret(*, client: ApiClient) -> str:
    """A new secret; the old one stops working at once. Tokens already issued run out."""
    secret = _new_secret()
    client.secret_hash = hash_secret(secret)
    client.save(update_fields=["secret_hash"])
    return secret


def token_for(*, client_id: str, secret: str, address: str | None) -> dict:
    """Exchange a client's id and secret for a short-lived access token carrying its scopes."""
    client = ApiClient.objects.select_related("user").filter(client_id=client_id).first()
    given = hash_secret(secret or "")
    if client is None or not hmac.compare_digest(given, client.secret_hash):
        raise ExchangeRefused(_("Unknown client id or wrong secret."))
    refusal = client.refusal()
    if refusal:
        raise ExchangeRefused(refusal)
    if not client.allows_address(address):
        raise ExchangeRefused(_("This API client may not be used from this address."))
    lifetime = timedelta(minutes=settings.API_CLIENT_TOKEN_MINUTES)
    if client.expires_at is not None:
        lifetime = min(lifetime, client.expires_at - timezone.now())
    token = AccessToken.for_user(client.user)
    token.set_exp(lifetime=lifetime)
    token["client"] = client.client_id
    token["scopes"] = list(client.scopes)
    return {
        "access": str(token),
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "scopes": list(client.scopes),
    }


def record_usage(*, client_pk: int, requests: int, at) -> None:
    """Add ``requests`` to the client's count and move its last-used time forward."""
    ApiClient.objects.filter(pk=client_pk).update(
        request_count=F("request_count") + requests, last_used_at=at
    )
