"""Bearer tokens of people and of API clients.

A client's token (from ``clients/token/``) carries its id and scopes. Each
request checks that the client is still allowed (not revoked, not expired,
from an allowed address) against a per-process copy of its row re-read at
most every ``CLIENT_RECHECK_SECONDS``: a revocation reaches every process
within that time without a query per request.
"""

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed

from integrations import services
from integrations.models import ApiClient
from project.api import authentication
from project.lockout import client_address

CLIENT_RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class ClientState:
    pk: int
    client_id: str
    name: str
    rate_limit: str
    model: ApiClient
    read_at: float


_clients: dict[str, ClientState] = {}
_usage: dict[int, int] = {}
_usage_flushed = [time.monotonic()]
_lock = threading.Lock()


def forget_clients(**_) -> None:
    with _lock:
        _clients.clear()


def _state(client_id: str) -> ClientState | None:
    now = time.monotonic()
    cached = _clients.get(client_id)
    if cached is not None and now - cached.read_at < CLIENT_RECHECK_SECONDS:
        return cached
    client = ApiClient.objects.filter(client_id=client_id).first()
    if client is None:
        return None
    state = ClientState(client.pk, client.client_id, client.name, client.rate_limit, client, now)
    with _lock:
        _clients[client_id] = state
    return state


def _count_request(pk: int) -> None:
    # Requests are counted in memory and written at most once per
    # API_CLIENT_USAGE_FLUSH_SECONDS per process: one UPDATE per request would
    # queue every request of a client on its row.
    now = time.monotonic()
    with _lock:
        _usage[pk] = _usage.get(pk, 0) + 1
        if now - _usage_flushed[0] < settings.API_CLIENT_USAGE_FLUSH_SECONDS:
            return
        pending = dict(_usage)
        _usage.clear()
        _usage_flushed[0] = now
    at = timezone.now()
    for client_pk, requests in pending.items():
        services.record_usage(client_pk=client_pk, requests=requests, at=at)


class JWTAuthentication(authentication.JWTAuthentication):
    """People's tokens as before; a client's token also checks the client."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        _user, token = result
        client_id = token.get("client")
        if client_id is None:
            return result
        state = _state(client_id)
        if state is None:
            raise AuthenticationFailed(
                _("This API client no longer exists."), code="client_unknown"
            )
        refusal = state.model.refusal()
        if refusal:
            raise AuthenticationFailed(refusal, code="client_refused")
        if not state.model.allows_address(client_address(request)):
            raise AuthenticationFailed(
                _("This API client may not be used from this address."), code="client_address"
            )
        _count_request(state.pk)
        # For the throttle and the rate-limit headers (the Django request
        # outlives DRF's wrapper into the middleware).
        request._request.api_client = state
        return result


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI bearer scheme for this subclass, as for simplejwt's own."""

    target_class = "integrations.authentication.JWTAuthentication"
    name = "jwtAuth"


post_save.connect(forget_clients, sender=ApiClient, dispatch_uid="integrations-forget-save")
post_delete.connect(forget_clients, sender=ApiClient, dispatch_uid="integrations-forget-delete")
