"""Helpers for the API tests (imported by tests only)."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from project.api.throttling import forget

API = "/api/v1/"


def access_token(user) -> str:
    return str(AccessToken.for_user(user))


def refresh_token(user) -> str:
    return str(RefreshToken.for_user(user))


def client_for(user=None) -> APIClient:
    """An API client authenticated as ``user`` with a real JWT (anonymous if None)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token(user)}")
    return client


def reset_token_throttle(address: str = "127.0.0.1") -> None:
    # Throttle counters live in the shared cache; delete only ours (never
    # cache.clear(), which would empty everyone's Redis database).
    forget(f"throttle_token_{address}", settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"])


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Import into a test module: MD5 instead of PBKDF2's million rounds (tests only)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_api_user_cache():
    """Import into a test module: no user cached from another test."""
    from project.api.authentication import forget_users

    forget_users()
    yield
    forget_users()
