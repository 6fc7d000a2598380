import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication

# How long a process may reuse a user's permissions between requests
# (settings.API_USER_CACHE_SECONDS, read once: it is on every request's path).
# Within this process a change to a user, its groups or a group's
# permissions takes effect at once (signals below); in other processes
# within this many seconds. A deactivated, deleted or demoted user is
# refused everywhere within USER_RECHECK_SECONDS (see _still_valid). 0 turns
# the cache off.
USER_CACHE_SECONDS = settings.API_USER_CACHE_SECONDS
# How often a process re-reads a cached user's active and superuser flags:
# one primary-key query per user per second instead of one per request,
# which cost a quarter of the product list's throughput.
USER_RECHECK_SECONDS = 1.0

_users: dict = {}
_tokens: dict = {}
_MAX_TOKENS = 10_000
_lock = threading.Lock()


def forget_users(**_) -> None:
    with _lock:
        _users.clear()
        _tokens.clear()


class JWTAuthentication(authentication.JWTAuthentication):
    """``Authorization: Bearer <access token>``.

    Only access tokens pass (``token_type`` is checked), signed with HS256 by
    our key (``alg: none`` and other algorithms are refused by the decoder),
    not expired, for a user who still exists and is active.

    Loading the user and its permissions costs three queries, more than the
    page of products itself; the user, permissions loaded, is kept for
    ``USER_CACHE_SECONDS`` (see above), and its active and superuser flags
    are re-read by primary key at most every ``USER_RECHECK_SECONDS``.
    """

    def get_raw_token(self, header):
        # An authentication scheme is case-insensitive (RFC 9110 11.1):
        # "bearer" and "BEARER" are "Bearer" too.
        parts = header.split()
        if len(parts) == 2 and parts[0].lower() == b"bearer":
            return parts[1]
        return super().get_raw_token(header)

    def get_validated_token(self, raw_token):
        # The same token string was verified (signature, type, expiry) a
        # moment ago: skip the HMAC and JSON work until it expires.
        if USER_CACHE_SECONDS <= 0:
            return super().get_validated_token(raw_token)
        now = time.time()
        cached = _tokens.get(raw_token)
        if cached and cached[0] > now:
            return cached[1]
        token = super().get_validated_token(raw_token)
        with _lock:
            if len(_tokens) >= _MAX_TOKENS:
                _tokens.clear()
            _tokens[raw_token] = (min(token["exp"], now + USER_CACHE_SECONDS), token)
        return token

    def get_user(self, validated_token):
        if USER_CACHE_SECONDS <= 0:
            return super().get_user(validated_token)
        key = str(validated_token.get("user_id"))
        now = time.time()
        cached = _users.get(key)
        if cached and cached[0] > now:
            expires, user, checked = cached
            if now - checked < USER_RECHECK_SECONDS:
                return user
            if self._still_valid(user):
                with _lock:
                    _users[key] = (expires, user, now)
                return user
        user = super().get_user(validated_token)  # 401 if deleted or inactive
        user.get_all_permissions()  # fills the permission caches on the object
        with _lock:
            _users[key] = (now + USER_CACHE_SECONDS, user, now)
        return user

    @staticmethod
    def _still_valid(user) -> bool:
        """Whether the cached user is still active, with the same superuser flag.

        The signals (end of module) reach only the process that made a change; this
        primary-key lookup makes every process refuse a user deactivated,
        deleted or demoted elsewhere within ``USER_RECHECK_SECONDS``. Group and
        permission changes still follow the cache delay.
        """
        row = (
            type(user)
            ._default_manager.filter(pk=user.pk)
            .values_list("is_active", "is_superuser")
            .first()
        )
        return row == (True, user.is_superuser)


class JWTScheme(SimpleJWTScheme):
    """Describe our subclass in the OpenAPI schema as simplejwt's bearer scheme."""

    target_class = "project.api.authentication.JWTAuthentication"


_User = get_user_model()
for _signal in (post_save, post_delete):
    _signal.connect(forget_users, sender=_User, dispatch_uid=f"api-forget-users-{_signal}")
    _signal.connect(forget_users, sender=Group, dispatch_uid=f"api-forget-groups-{_signal}")
for _through in (_User.groups.through, _User.user_permissions.through, Group.permissions.through):
    m2m_changed.connect(forget_users, sender=_through, dispatch_uid=f"api-forget-{_through}")
