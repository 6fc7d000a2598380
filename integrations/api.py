"""``clients/token/``: an API client's id and secret in, a short-lived access token out."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import services
from integrations.scopes import SCOPES
from project.api.schema import ErrorSerializer
from project.api.throttling import TokenThrottle
from project.lockout import client_address


class ClientTokenRequestSerializer(serializers.Serializer):
    client_id = serializers.CharField(max_length=40)
    client_secret = serializers.CharField(max_length=200, trim_whitespace=False)


class ClientTokenSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Send as `Authorization: Bearer <access>`.")
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds until the token expires.")
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=sorted(SCOPES)))


class ClientTokenView(APIView):
    """Exchange an API client's id and secret for an access token that carries its scopes.

    No refresh token: ask again with the secret when the token expires
    (``expires_in``). Throttled per address like ``token/``.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (TokenThrottle,)
    error_responses = {"POST": {401: ErrorSerializer, 429: ErrorSerializer}}

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'

    @extend_schema(
        tags=["auth"],
        auth=[],
        request=ClientTokenRequestSerializer,
        responses={200: ClientTokenSerializer},
        examples=[
            OpenApiExample(
                "Client credentials",
                value={"client_id": "cli_4f9c0e1d2b3a49587766", "client_secret": "sec_..."},
                request_only=True,
            )
        ],
    )
    def post(self, request):
        serializer = ClientTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token = services.token_for(
                client_id=serializer.validated_data["client_id"],
                secret=serializer.validated_data["client_secret"],
                address=client_address(request),
            )
        except services.ExchangeRefused as exc:
            raise exceptions.AuthenticationFailed(exc.message, code="client_refused") from None
        return Response(token)
