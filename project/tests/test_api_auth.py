"""The JWT flow as an external system lives it, and every token it must refuse."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from project.api.testing import (
    API,
    access_token,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
    reset_token_throttle,
)

pytestmark = pytest.mark.django_db
PASSWORD = "x-pass-123456"
PRODUCTS = f"{API}products/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    reset_token_throttle()
    yield
    reset_token_throttle()


@pytest.fixture
def operator(role_user):
    return role_user("Operator")


def _post(path, body, client=None):
    return (client or APIClient()).post(f"{API}{path}", body, format="json")


def _bearer(token: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _assert_401(response, code=None):
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert {"code", "detail"} <= set(body)
    if code:
        assert body["code"] == code


def _login(user):
    response = _post("token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def test_token_refresh_verify_logout_flow(operator):
    tokens = _login(operator)
    assert set(tokens) == {"access", "refresh"}
    assert _bearer(tokens["access"]).get(PRODUCTS).status_code == 200
    assert _post("token/verify/", {"token": tokens["access"]}).status_code == 200

    refreshed = _post("token/refresh/", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != tokens["refresh"]
    assert _bearer(new["access"]).get(PRODUCTS).status_code == 200

    # Rotation: the spent refresh token is blacklisted.
    _assert_401(_post("token/refresh/", {"refresh": tokens["refresh"]}), "token_not_valid")
    _assert_401(_post("token/verify/", {"token": tokens["refresh"]}), "token_not_valid")

    # Logout revokes the current refresh token.
    assert _post("token/logout/", {"refresh": new["refresh"]}).status_code == 204
    _assert_401(_post("token/refresh/", {"refresh": new["refresh"]}), "token_not_valid")
    _assert_401(_post("token/logout/", {"refresh": new["refresh"]}), "token_not_valid")


def test_token_lifetimes_are_30_minutes_and_7_days(operator):
    tokens = _login(operator)
    access, refresh = AccessToken(tokens["access"]), RefreshToken(tokens["refresh"])
    assert access["exp"] - access["iat"] == 30 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600


def test_wrong_password_is_401_and_brute_force_gets_429(operator):
    # Other usernames each time: the same one would meet the login lockout
    # first (project/tests/test_login_lockout.py); the throttle counts them all.
    for attempt in range(10):
        response = _post("token/", {"username": f"guess-{attempt}", "password": "wrong"})
        _assert_401(response, "no_active_account")
    throttled = _post("token/", {"username": operator.username, "password": PASSWORD})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_token_with_missing_fields_is_400(operator):
    response = _post("token/", {"username": operator.username})
    assert response.status_code == 400
    assert response.json()["errors"] == {"password": ["This field is required."]}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _bad_tokens(user) -> dict[str, str]:
    good = str(AccessToken.for_user(user))
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    expired = AccessToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    other_claims = {**claims, "user_id": str(user.pk + 1000)}
    return {
        "garbage": "not-a-token",
        "tampered payload": f"{header}.{_b64({**claims, 'user_id': '999'})}.{signature}",
        "tampered signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "expired": str(expired),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "other key": jwt.encode(claims, "another-key-" * 4, algorithm="HS256"),
        "HS512": jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS512"),
        "refresh as access": str(RefreshToken.for_user(user)),
        "unknown user": jwt.encode(
            other_claims, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256"
        ),
    }


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_every_bad_access_token_is_a_json_401(operator):
    for name, token in _bad_tokens(operator).items():
        response = _bearer(token).get(PRODUCTS)
        assert response.status_code == 401, name
        assert response.json()["code"] in {"token_not_valid", "user_not_found"}, name
        assert response["WWW-Authenticate"].startswith("Bearer"), name


def test_missing_or_malformed_authorization_is_401(operator):
    _assert_401(APIClient().get(PRODUCTS), "not_authenticated")
    empty = APIClient()
    empty.credentials(HTTP_AUTHORIZATION="Bearer")
    _assert_401(empty.get(PRODUCTS))
    spaces = APIClient()
    spaces.credentials(HTTP_AUTHORIZATION="Bearer a b")
    _assert_401(spaces.get(PRODUCTS))


def test_access_token_of_deactivated_or_deleted_user_is_401(operator):
    client = client_for(operator)
    assert client.get(PRODUCTS).status_code == 200  # user and token now cached
    operator.is_active = False
    operator.save()
    _assert_401(client.get(PRODUCTS), "user_inactive")
    operator.delete()
    _assert_401(client.get(PRODUCTS), "user_not_found")


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_refresh_and_verify_for_deactivated_or_deleted_user_are_401_not_500(operator, change):
    refresh = _login(operator)["refresh"]
    if change == "delete":
        operator.delete()
        code = "user_not_found"
    else:
        operator.is_active = False
        operator.save()
        code = "user_inactive"
    _assert_401(_post("token/refresh/", {"refresh": refresh}), code)
    _assert_401(_post("token/verify/", {"token": refresh}), code)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_bad_refresh_tokens_are_401(operator):
    access = str(AccessToken.for_user(operator))
    _assert_401(_post("token/refresh/", {"refresh": access}), "token_not_valid")
    for name, token in _bad_tokens(operator).items():
        if name in {"refresh as access", "unknown user"}:
            continue
        response = _post("token/refresh/", {"refresh": token})
        assert response.status_code == 401, name
        assert _post("token/verify/", {"token": token}).status_code == 401, name


def test_a_role_change_applies_to_the_next_request(operator):
    client = client_for(operator)
    assert client.post(f"{API}outflows/", {}).status_code == 400  # may add: bad input
    operator.groups.clear()
    assert client.post(f"{API}outflows/", {}).status_code == 403


def test_cors_only_for_configured_origins(settings, operator):
    settings.CORS_ALLOWED_ORIGINS = ["https://erp.example.com"]
    client = client_for(operator)
    allowed = client.get(PRODUCTS, HTTP_ORIGIN="https://erp.example.com")
    assert allowed["Access-Control-Allow-Origin"] == "https://erp.example.com"
    other = client.get(PRODUCTS, HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in other
    preflight = APIClient().options(
        PRODUCTS,
        HTTP_ORIGIN="https://erp.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert preflight.status_code == 200
    assert "authorization" in preflight["Access-Control-Allow-Headers"]


def test_schema_and_swagger_ui_are_served(operator):
    schema = APIClient().get(f"{API}schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/products/{id}/movements/" in paths
    assert "409" in paths["/api/v1/outflows/"]["post"]["responses"]
    docs = APIClient().get(f"{API}docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    # Served from our static files (drf-spectacular-sidecar), never a CDN.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content
    assert b"cdn.jsdelivr" not in docs.content


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(operator, scheme):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {access_token(operator)}")
    assert client.get(f"{API}products/").status_code == 200


def test_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_production_refuses_a_short_jwt_signing_key(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "JWT_SIGNING_KEY": "too-short", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "JWT_SIGNING_KEY must be at least 32 bytes" in result.stderr
