"""token/, token/refresh/, token/verify/, token/logout/.

simplejwt's own serializers are almost right; these differ where an
external client would notice: a refresh or verify for a user who was deleted
or deactivated is a 401 (simplejwt answers 500 for a deleted one), a
blacklisted token on verify is a 401 (not a 400), and two concurrent
refreshes with the same token cannot both succeed.
"""

from axes.helpers import get_cool_off
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from project.api.schema import ErrorSerializer
from project.api.throttling import TokenThrottle


def _token(token_class, raw: str):
    try:
        return token_class(raw)
    except TokenError as exc:
        raise InvalidToken(exc.args[0]) from None


def _active_user(token):
    """The token's user, refused with 401 if deleted or deactivated."""
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    if user is None:
        raise AuthenticationFailed(_("User not found."), code="user_not_found")
    if not api_settings.USER_AUTHENTICATION_RULE(user):
        raise AuthenticationFailed(_("User is inactive."), code="user_inactive")
    return user


def _is_blacklisted(jti: str) -> bool:
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


class TokenPairSerializer(TokenObtainPairSerializer):
    # Declared for the schema: the parent adds them as data, not fields.
    access = serializers.CharField(read_only=True, help_text="Access token, valid 30 minutes.")
    refresh = serializers.CharField(read_only=True, help_text="Refresh token, valid 7 days.")


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token; it is spent by this call.")
    access = serializers.CharField(read_only=True)

    def validate(self, attrs):
        token = _token(RefreshToken, attrs["refresh"])
        jti = token[api_settings.JTI_CLAIM]
        with transaction.atomic():
            # Lock the token's row: of two concurrent refreshes with the same
            # token, the second waits here and then finds it blacklisted.
            OutstandingToken.objects.select_for_update().filter(jti=jti).first()
            if _is_blacklisted(jti):
                raise InvalidToken(_("Token is blacklisted"))
            _active_user(token)
            data = {"access": str(token.access_token)}
            # Rotation: the old refresh token is spent, a new one is issued.
            token.blacklist()
            token.set_jti()
            token.set_exp()
            token.set_iat()
            token.outstand()
        data["refresh"] = str(token)
        return data


class RefreshResponseSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="The new refresh token; the old one is spent.")


class VerifySerializer(serializers.Serializer):
    token = serializers.CharField(help_text="An access or refresh token.")

    def validate(self, attrs):
        token = _token(UntypedToken, attrs["token"])
        if _is_blacklisted(token.get(api_settings.JTI_CLAIM)):
            raise InvalidToken(_("Token is blacklisted"))
        _active_user(token)
        return {}


class LogoutSerializer(serializers.Serializer):
    refresh = serializers.CharField(help_text="The refresh token to revoke.")

    def validate(self, attrs):
        token = _token(RefreshToken, attrs["refresh"])
        token.blacklist()
        return {}


class LockedOut(exceptions.APIException):
    """429: the login lockout refuses this username from this address."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _(
        "Too many failed logins for this account from your address; "
        "try again later or ask an administrator to unlock it."
    )
    default_code = "locked_out"

    def __init__(self, cool_off):
        super().__init__()
        # DRF's exception handler turns it into Retry-After.
        self.wait = int(cool_off.total_seconds()) if cool_off else None


class _TokenView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    serializer_class: type[serializers.Serializer]
    error_responses = {"POST": {401: ErrorSerializer}}

    def get_authenticate_header(self, request):
        # Refused tokens and credentials are 401s with a challenge, even
        # though these views authenticate nobody from the request headers.
        return 'Bearer realm="api"'

    def get_serializer(self, *args, **kwargs):
        kwargs.setdefault("context", {"request": self.request})
        return self.serializer_class(*args, **kwargs)

    def validated(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


_PAIR = {"access": "eyJhbGciOiJIUzI1NiIs...", "refresh": "eyJhbGciOiJIUzI1NiIs..."}


class TokenObtainView(_TokenView):
    """Username and password in, an access and a refresh token out."""

    serializer_class = TokenPairSerializer
    throttle_classes = (TokenThrottle,)
    error_responses = {"POST": {401: ErrorSerializer, 429: ErrorSerializer}}

    @extend_schema(
        tags=["auth"],
        auth=[],
        responses={200: TokenPairSerializer},
        parameters=[
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[429],
                description="Seconds to wait before the next attempt.",
            )
        ],
        examples=[
            OpenApiExample(
                "Credentials",
                value={"username": "erp", "password": "secret"},
                request_only=True,
            ),
            OpenApiExample("Tokens", value=_PAIR, response_only=True),
        ],
    )
    def post(self, request):
        try:
            return Response(self.validated(request))
        except exceptions.AuthenticationFailed:
            # authenticate() counts the failure with the admin's login
            # lockout (django-axes, project/lockout.py): a locked-out username
            # gets no token either, and is told so instead of "wrong password".
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(get_cool_off(request)) from None
            raise


class TokenRefreshView(_TokenView):
    """A refresh token in, a new access and a new refresh token out (rotation)."""

    serializer_class = RefreshSerializer

    @extend_schema(
        tags=["auth"],
        auth=[],
        responses={200: RefreshResponseSerializer},
        examples=[OpenApiExample("Tokens", value=_PAIR, response_only=True)],
    )
    def post(self, request):
        return Response(self.validated(request))


class TokenVerifyView(_TokenView):
    """200 if the token is valid, unexpired, not revoked and its user active."""

    serializer_class = VerifySerializer

    @extend_schema(
        tags=["auth"],
        auth=[],
        responses={
            200: OpenApiResponse(
                response=OpenApiTypes.OBJECT, description="An empty object: the token is valid."
            )
        },
    )
    def post(self, request):
        self.validated(request)
        return Response({})


class TokenLogoutView(_TokenView):
    """Revoke a refresh token (blacklist); access tokens expire on their own."""

    serializer_class = LogoutSerializer

    @extend_schema(tags=["auth"], auth=[], responses={204: None})
    def post(self, request):
        self.validated(request)
        return Response(status=status.HTTP_204_NO_CONTENT)
