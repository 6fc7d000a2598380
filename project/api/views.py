"""Base classes for the resources and the API's own small views."""

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` that always ends with the primary key.

    Without a unique last key, rows with equal values may swap between two
    queries and a client paging through would miss or repeat some.
    """

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(term.lstrip("-") in ("pk", "id") for term in ordering):
            ordering.append("-pk" if ordering and ordering[0].startswith("-") else "pk")
        return ordering


class FastListMixin:
    """``list`` from ``.values()``: no model instances, no serializer per row.

    On a page of 50 products a ModelSerializer costs more than the query; the
    rows are dicts the orjson renderer writes as they are. ``list_fields``
    are model fields (foreign keys give their id), ``list_expressions``
    computed columns. The serializer stays the contract (schema, detail,
    create); a test checks that both give the same keys and values.
    """

    list_fields: tuple[str, ...] = ()
    list_expressions: dict = {}

    def list_rows(self, queryset):
        return queryset.values(*self.list_fields, **self.list_expressions)

    def list(self, request, *args, **kwargs):
        queryset = self.list_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(page)


class ApiViewSetMixin:
    def initial(self, request, *args, **kwargs):
        # PostgreSQL refuses NUL in text: stop it here as a 400, not a 500.
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise ValidationError({name.replace("\x00", ""): ["NUL characters are refused."]})
        super().initial(request, *args, **kwargs)


class ModelViewSet(ApiViewSetMixin, FastListMixin, viewsets.ModelViewSet):
    pass


class ReadCreateViewSet(
    ApiViewSetMixin,
    FastListMixin,
    viewsets.mixins.CreateModelMixin,
    viewsets.mixins.RetrieveModelMixin,
    viewsets.mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Append-only resources: list, retrieve, create; never update or delete."""


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([AllowAny])
def not_found(request, *args, **kwargs):
    raise NotFound()
