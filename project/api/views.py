"""Base classes for the resources and the API's own small views."""

from datetime import UTC

import psycopg
from django.db import connection, models
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import viewsets
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import AllowAny
from rest_framework.response import Response


class FilterBackend(DjangoFilterBackend):
    """django-filter, skipped when the request names none of its filters.

    Building and validating the FilterSet's form costs more than the page
    query on an unfiltered list, the most frequent request.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        params = request.query_params
        if not any(name in params for name in filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 datetime, compared in UTC.

    PostgreSQL refuses offsets beyond +-15:59 that ISO 8601 allows; in UTC
    every valid instant is a plain value. One outside the calendar matches
    nothing.
    """

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                return qs.none()
        return super().filter(qs, value)


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` that always ends with the primary key.

    Without a unique last key, rows with equal values may swap between two
    queries and a client paging through would miss or repeat some.
    """

    def remove_invalid_fields(self, queryset, fields, view, request):
        # DRF drops unknown fields silently, so ?ordering=pasword would give
        # an unsorted list that looks sorted; say so instead.
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        unknown = [term for term in fields if term and term not in valid]
        if unknown:
            allowed = [name for name, _label in self.get_valid_fields(queryset, view, {})]
            raise ValidationError(
                {
                    self.ordering_param: [
                        _("Unknown ordering field(s): %(unknown)s. Use: %(allowed)s.")
                        % {"unknown": ", ".join(unknown), "allowed": ", ".join(allowed)}
                    ]
                }
            )
        return valid

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(term.lstrip("-") in ("pk", "id") for term in ordering):
            ordering.append("-pk" if ordering and ordering[0].startswith("-") else "pk")
        return ordering


class _PreparedBinaryCursor(psycopg.Cursor):
    """Server-side parameters, binary results, a prepared statement per connection."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True, binary=True, **kwargs)

    def _maybe_prepare_gen(self, pgq, **kwargs):
        # psycopg records the statement only when it does not prepare it;
        # Django's query log (connection.queries, assertNumQueries) reads it.
        self._query = pgq
        yield from super()._maybe_prepare_gen(pgq, **kwargs)


# Marks a money column the plain list selects as text (see _plain_rows).
_AS_TEXT = "__as_text"


class _CompiledRows:
    """A list query compiled once; sliced by the paginator like a queryset.

    It runs on a cursor with server-side parameters and binary results:
    psycopg builds the integers and datetimes in C (its text timestamptz
    parsing was the slowest part of a page), and the statement is prepared
    once per connection, so PostgreSQL no longer plans it on every request
    (Django leaves statements unprepared by default for the sake of
    transaction-mode poolers, which this topology does not have). It goes
    through Django's cursor wrapper, so query logging and
    ``assertNumQueries`` still see it.
    """

    def __init__(self, sql: str, params: tuple):
        self.sql = f"{sql} LIMIT %s OFFSET %s"
        self.params = params
        self.names: list[str] | None = None

    def __getitem__(self, window: slice) -> list[dict]:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
        raw = _PreparedBinaryCursor(connection.connection)
        with connection._prepare_cursor(raw) as cursor:
            cursor.execute(self.sql, [*self.params, window.stop - window.start, window.start])
            rows = cursor.fetchall()
            if self.names is None:  # the same statement always has the same columns
                self.names = [col.name.removesuffix(_AS_TEXT) for col in cursor.description]
        names = self.names
        return [dict(zip(names, row, strict=False)) for row in rows]


class FastListMixin:
    """``list`` from ``.values()``: no model instances, no serializer per row.

    On a page of 50 products a ModelSerializer costs more than the query; the
    rows are dicts the orjson renderer writes as they are. ``list_fields``
    are model fields (foreign keys give their id), ``list_expressions``
    computed columns. The serializer stays the contract (schema, detail,
    create); a test checks that both give the same keys and values.

    The most frequent request, a page with no filter, search or ordering,
    reuses SQL compiled once per process: building the query with the ORM
    costs more than running it. PostgreSQL only: the raw rows skip Django's
    converters, which SQLite needs (decimals, booleans, datetimes).
    """

    list_fields: tuple[str, ...] = ()
    list_expressions: dict = {}
    PLAIN_PARAMS = frozenset({"page", "page_size"})

    def list_rows(self, queryset):
        return queryset.values(*self.list_fields, **self.list_expressions)

    def _plain_rows(self):
        compiled = self.__class__.__dict__.get("_compiled_plain_list")
        if compiled is None:
            queryset = self.filter_queryset(self.get_queryset())
            # Money as PostgreSQL writes numeric(12, 2) ("10.00"), the string
            # DRF gives: cheaper than a Decimal per cell turned back into text.
            opts = queryset.model._meta
            money = {
                name
                for name in self.list_fields
                if isinstance(opts.get_field(name), models.DecimalField)
            }
            as_text = {f"{name}{_AS_TEXT}": Cast(name, models.TextField()) for name in money}
            fields = [name for name in self.list_fields if name not in money]
            queryset = queryset.values(*fields, **self.list_expressions, **as_text)
            compiled = _CompiledRows(*queryset.query.sql_with_params())
            self.__class__._compiled_plain_list = compiled
        return compiled

    def list(self, request, *args, **kwargs):
        plain = self.PLAIN_PARAMS.issuperset(request.query_params)
        if plain and connection.vendor == "postgresql":
            rows = self._plain_rows()
        else:
            rows = self.list_rows(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(page)


class ApiViewSetMixin:
    def initial(self, request, *args, **kwargs):
        # PostgreSQL refuses NUL in text: stop it here as a 400, not a 500.
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise ValidationError(
                    {name.replace("\x00", ""): [_("NUL characters are refused.")]}
                )
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


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated once per process: it changes only with the code.

    It is public (integrators read it before they have a token), and
    generating it takes a noticeable fraction of a second.
    """

    _schema = None

    def _get_schema_response(self, request):
        if request.GET.get("lang"):
            return super()._get_schema_response(request)
        if SchemaView._schema is None:
            SchemaView._schema = super()._get_schema_response(request).data
        return Response(
            data=SchemaView._schema,
            headers={"Content-Disposition": 'inline; filename="schema.yaml"'},
        )
