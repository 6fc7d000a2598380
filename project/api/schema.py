"""OpenAPI generation: every operation documents the errors it can answer."""

from drf_spectacular import openapi
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import PolymorphicProxySerializer, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable code, e.g. `not_found`.")
    detail = serializers.CharField(help_text="A sentence for a person.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.JSONField()),
        required=False,
        help_text="Invalid input only: messages per field (`non_field_errors` for the whole).",
    )

    class Meta:
        ref_name = "Error"
        # Present only on some errors: every other key of a response is always there.
        optional_in_response = ("errors",)


ProductRefSerializer = inline_serializer(
    "ProductRef",
    fields={
        "id": serializers.IntegerField(),
        "serial_number": serializers.CharField(),
        "title": serializers.CharField(),
    },
)


class InsufficientStockSerializer(ErrorSerializer):
    code = serializers.ChoiceField(choices=["insufficient_stock"])
    product = ProductRefSerializer
    requested = serializers.IntegerField(help_text="Units asked.")
    available = serializers.IntegerField(help_text="Units in stock when the request ran.")

    class Meta:
        ref_name = "InsufficientStockError"
        optional_in_response = ("errors",)


class ConflictErrorSerializer(ErrorSerializer):
    code = serializers.ChoiceField(
        choices=["conflict", "out_of_range"],
        help_text="`conflict`: a concurrent change got there first (retry); "
        "`out_of_range`: a number beyond what can be stored.",
    )

    class Meta:
        ref_name = "ConflictError"
        optional_in_response = ("errors",)


# Every 409 an outflow can answer, told apart by ``code`` (a generated client
# picks the right type instead of failing on the fields of another).
OutflowConflictSerializer = PolymorphicProxySerializer(
    component_name="OutflowConflict",
    serializers={
        "insufficient_stock": InsufficientStockSerializer,
        "conflict": ConflictErrorSerializer,
        "out_of_range": ConflictErrorSerializer,
    },
    resource_type_field_name="code",
)


ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `errors` says which field and why.",
    "401": "No token, or a token that is not a valid access token (expired, tampered, "
    "blacklisted, a refresh token, an unknown or inactive user).",
    "403": "Authenticated, but the user's role does not give this permission.",
    "404": "No such object, or one the user may not see; on a list, a page past the last.",
    "409": "Conflicts with the current state (stock, references, uniqueness).",
    "413": "The request body is larger than the server accepts.",
    "422": "The Idempotency-Key was already used with another request body.",
    "429": "Too many attempts; wait for the number of seconds in Retry-After.",
    "503": "Not available yet.",
}


class AutoSchema(openapi.AutoSchema):
    def _map_basic_serializer(self, serializer, direction):
        # A response carries every field of its serializer (DRF writes them
        # all), so typed clients get plain attributes rather than "maybe
        # unset"; a serializer names the exceptions in Meta.optional_in_response.
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "response" and "properties" in schema:
            meta = getattr(force_instance(serializer), "Meta", None)
            optional = set(getattr(meta, "optional_in_response", ()))
            schema["required"] = [name for name in schema["properties"] if name not in optional]
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # spectacular's pattern for a decimal string admits a sign; an amount
        # that cannot be negative says so, so a client validates as the server does.
        min_value = getattr(field, "min_value", None)
        pattern = schema.get("pattern", "") if isinstance(schema, dict) else ""
        if min_value is not None and min_value >= 0 and pattern.startswith("^-?"):
            schema["pattern"] = "^" + pattern[3:]
            schema["description"] = " ".join(
                filter(None, [schema.get("description"), f"At least {min_value}."])
            )
        return schema

    def _error_codes(self) -> dict[str, type[serializers.Serializer]]:
        codes = {}
        public = any(issubclass(p, AllowAny) for p in self.view.permission_classes)
        if not public:
            codes["401"] = ErrorSerializer
            codes["403"] = ErrorSerializer
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes["400"] = ErrorSerializer
        if "{" in self.path or self._is_list_view():
            codes["404"] = ErrorSerializer
        if self.method in ("POST", "PUT", "PATCH"):
            codes["413"] = ErrorSerializer
        for code, serializer in (
            getattr(self.view, "error_responses", {}).get(self.method, {}).items()
        ):
            codes[str(code)] = serializer
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, serializer in sorted(self._error_codes().items()):
            if code not in responses:
                response = self._get_response_for_code(serializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS.get(code, "")
                responses[code] = response
        return responses


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Requests this API client may make per period (its rate limit).",
    "X-RateLimit-Remaining": "Requests left in the current period.",
    "X-RateLimit-Reset": "Seconds until a request of the period is freed.",
}


def declare_rate_limit_headers(result, generator, request, public):
    """A drf-spectacular postprocessing hook: API clients' responses carry X-RateLimit-*.

    Sent on every answer to a request authenticated as an API client
    (integrations/throttling.py), so declared on every operation that takes
    a bearer token.
    """
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            if all(not requirement for requirement in operation["security"]):
                continue  # public: no token, no client
            for response in operation.get("responses", {}).values():
                headers = response.setdefault("headers", {})
                for name, description in RATE_LIMIT_HEADERS.items():
                    headers.setdefault(
                        name,
                        {
                            "schema": {"type": "integer", "minimum": 0},
                            "description": f"API clients only. {description}",
                        },
                    )
    return result
