"""``changes/``: the change feed over the API (integrations/feed.py)."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import feed
from integrations.models import Change
from integrations.permissions import ScopePermission
from project.api.exceptions import json_error
from project.api.fields import UTCDateTimeField
from project.api.schema import ErrorSerializer

MAX_LIMIT = 1000
# kind -> (the scope an API client needs, the permission a person needs)
KIND_ACCESS = {
    "product": ("catalog:read", "catalog.view_product"),
    "inflow": ("movements:read", "movements.view_inflow"),
    "outflow": ("movements:read", "movements.view_outflow"),
    "purchase_order": ("purchasing:read", "purchasing.view_purchaseorder"),
}


class ChangeSerializer(serializers.Serializer):
    cursor = serializers.CharField(help_text="This change's position; pass it back as `after`.")
    kind = serializers.ChoiceField(choices=Change.Kind.values)
    id = serializers.IntegerField(
        help_text="The product's, inflow's, outflow's or purchase order's id."
    )
    op = serializers.ChoiceField(
        choices=Change.Op.values,
        help_text="`upsert`: created or changed, read it again; `delete`: gone.",
    )
    at = UTCDateTimeField(help_text="When the changing transaction began.")


class ChangePageSerializer(serializers.Serializer):
    changes = ChangeSerializer(many=True)
    cursor = serializers.CharField(help_text="Ask again with `after` set to this.")
    has_more = serializers.BooleanField(help_text="More changes are ready now.")


class LatestCursorSerializer(serializers.Serializer):
    cursor = serializers.CharField()


def _kinds(request) -> list[str]:
    raw = request.query_params.get("kind", "")
    kinds = [kind.strip() for kind in raw.split(",") if kind.strip()] or list(KIND_ACCESS)
    unknown = [kind for kind in kinds if kind not in KIND_ACCESS]
    if unknown:
        raise exceptions.ValidationError(
            {"kind": [_("Unknown kind(s): %(kinds)s.") % {"kinds": ", ".join(unknown)}]}
        )
    return kinds


class FeedView(APIView):
    permission_classes = (IsAuthenticated, ScopePermission)

    def get_api_scopes(self, request):
        return sorted({KIND_ACCESS[kind][0] for kind in _kinds(request)})

    def check_permissions(self, request):
        super().check_permissions(request)
        needed = [KIND_ACCESS[kind][1] for kind in _kinds(request)]
        if not request.user.has_perms(needed):
            raise exceptions.PermissionDenied()


class ChangeFeedView(FeedView):
    """Every change to products, inflows, outflows and purchase orders, in the order they committed.

    Start from `changes/latest/` (taken before a full sync of the lists), then
    ask with `after` set to the last `cursor` you stored: a change is never
    missed or repeated, also under concurrent writers (a change shows once
    every transaction that began before it has ended).
    """

    error_responses = {"GET": {400: ErrorSerializer, 410: ErrorSerializer}}

    @extend_schema(
        tags=["changes"],
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.STR,
                description="A cursor; omit to start from the oldest change kept.",
            ),
            OpenApiParameter(
                "kind",
                OpenApiTypes.STR,
                description=(
                    "Comma-separated: product, inflow, outflow, purchase_order (all by default)."
                ),
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"1 to {MAX_LIMIT}; 500."),
        ],
        responses={200: ChangePageSerializer},
    )
    def get(self, request):
        kinds = _kinds(request)
        try:
            limit = int(request.query_params.get("limit", 500))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            raise exceptions.ValidationError(
                {"limit": [_("Between 1 and %(max)s.") % {"max": MAX_LIMIT}]}
            )
        try:
            after = feed.Cursor.parse(request.query_params.get("after", "0.0"))
            changes, last = feed.changes_after(after, kinds=kinds, limit=limit)
        except feed.BadCursor as exc:
            raise exceptions.ValidationError({"after": [exc.message]}) from None
        except feed.CursorExpired as exc:
            return json_error(status.HTTP_410_GONE, "cursor_expired", exc.message)
        page = {"changes": changes, "cursor": str(last), "has_more": len(changes) == limit}
        return Response(ChangePageSerializer(page).data)


class LatestCursorView(FeedView):
    """The feed's current end: store it before a full sync, then follow the feed from it."""

    @extend_schema(tags=["changes"], responses={200: LatestCursorSerializer})
    def get(self, request):
        return Response({"cursor": str(feed.latest_cursor())})
