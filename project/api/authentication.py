from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication


class JWTAuthentication(authentication.JWTAuthentication):
    """``Authorization: Bearer <access token>``.

    Only access tokens pass (``token_type`` is checked), signed with HS256 by
    our key (``alg: none`` and other algorithms are refused by the decoder),
    not expired, for a user who still exists and is active.
    """


class JWTScheme(SimpleJWTScheme):
    """Describe our subclass in the OpenAPI schema as simplejwt's bearer scheme."""

    target_class = "project.api.authentication.JWTAuthentication"
