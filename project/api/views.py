"""Base classes for the resources and the API's own small views."""

from datetime import UTC

from django import forms
from django.db import connections, models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import viewsets
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
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


class OffsetDateTimeField(IsoDateTimeField):
    """An ISO 8601 datetime that must say its offset (``Z`` or ``-03:00``).

    Without one the instant is ambiguous: Django would read it in the
    server's time zone (São Paulo), and a client sending ``utcnow()`` would
    silently skip three hours of changes. Refused with a 400 that says so.
    """

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            try:
                written = parse_datetime(value.strip())
            except ValueError:
                written = None  # not a datetime at all: the parent says so
            if written is not None and not timezone.is_aware(written):
                raise forms.ValidationError(
                    _(
                        "Give the time zone offset, e.g. 2026-11-30T15:43:58Z "
                        "or 2026-11-30T12:43:58-03:00."
                    ),
                    code="offset_required",
                )
        return super().to_python(value)


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 datetime with its offset, compared in UTC.

    PostgreSQL refuses offsets beyond +-15:59 that ISO 8601 allows; in UTC
    every valid instant is a plain value. One outside the calendar matches
    nothing.
    """

    field_class = OffsetDateTimeField

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

    def get_schema_operation_parameters(self, view):
        # The allowed terms, so a client knows them before a 400 tells it.
        names = [name for name, _label in self.get_valid_fields(view.get_queryset(), view, {})]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by these fields, comma-separated; `-` for descending.",
                "style": "form",
                "explode": False,
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": [*names, *(f"-{n}" for n in names)]},
                },
            }
        ]

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(term.lstrip("-") in ("pk", "id") for term in ordering):
            ordering.append("-pk" if ordering and ordering[0].startswith("-") else "pk")
        return ordering


class UTCText(models.Func):
    """A PostgreSQL timestamptz as the text UTCDateTimeField gives it.

    ``2026-11-30T18:08:52.446689Z``, or ``2026-11-30T18:00:00Z`` on a whole
    second, as Python's ``isoformat()`` in UTC with a ``Z``. PostgreSQL
    writes it in C; psycopg would build each datetime through Django's
    time-zone loader, in Python, and that took a third of a page's time.
    """

    output_field = models.TextField()
    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        " || CASE WHEN date_trunc('second', %(expressions)s) = %(expressions)s"
        " THEN 'Z' ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US\"Z\"') END"
    )


class _Rows:
    """A ``values_list`` queryset whose slices are dicts keyed by ``names``.

    The paginator slices it like the queryset (``LIMIT``/``OFFSET`` in SQL).
    """

    def __init__(self, queryset, names: tuple[str, ...]):
        self.queryset = queryset
        self.names = names

    def __getitem__(self, window: slice) -> list[dict]:
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.queryset[window]]


class _SQLRows:
    """A page of ``sql`` (parameters: LIMIT, OFFSET) as dicts keyed by ``names``."""

    def __init__(self, sql: str, names: tuple[str, ...], using: str):
        self.sql = sql
        self.names = names
        self.using = using

    def __getitem__(self, window: slice) -> list[dict]:
        names = self.names
        with connections[self.using].cursor() as cursor:
            cursor.execute(self.sql, [window.stop - window.start, window.start])
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


class FastListMixin:
    """``list`` from ``.values_list()``: no model instances, no serializer per row.

    On a page of 50 products a ModelSerializer costs more than the query; the
    rows are dicts the orjson renderer writes as they are (a Decimal as its
    string, "10.00", as DRF writes money). ``list_fields`` name the keys in
    order: a model field (a foreign key gives its id) or a key of
    ``list_paths``, which maps it to a field path through a relation.
    ``list_extra`` may add keys computed from a page's rows. The serializer
    stays the contract (schema, detail, create); a test checks that both give
    the same keys and values.

    Nothing compiled is kept between requests: the SQL is built per request
    from the request's filters. What a view declares with its class, as DRF
    declares ``queryset``, is that queryset with its columns resolved
    (``list_base``, cloned per request); a view whose ``get_queryset``
    depends on the request resolves them per request, so a queryset that
    depends on the user is honoured. Building the query is most of a page's
    cost (each column costs name resolution and each ORM expression more),
    so columns are plain field paths where they can be: a key computed from
    other columns belongs in ``list_extra``. Reusing the statement's plan
    across requests is left to psycopg, configured by the documented
    database options (``server_side_binding`` and ``prepare_threshold``;
    with Django's default client-side binding it prepares nothing).
    """

    list_fields: tuple[str, ...] = ()
    list_paths: dict[str, str] = {}
    # PostgreSQL: the SQL of the plain list (the declared queryset in the
    # default ordering, no filter, search or ordering asked), written once
    # by a selector; its parameters are the page's LIMIT and OFFSET. The
    # request's other lists go through the ORM.
    list_plain_sql: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The plain SQL lists what the class that writes it lists, in its
        # ordering: a subclass (another queryset, ordering or columns) does
        # not inherit it, and goes through the ORM unless it writes its own.
        if "list_plain_sql" not in cls.__dict__:
            cls.list_plain_sql = None
        # Declared with the class, as DRF's ``queryset`` is, never while
        # serving: the class's ``queryset`` with the list's columns resolved.
        queryset = getattr(cls, "queryset", None)
        if queryset is not None and cls.list_fields:
            cls.list_base = cls.list_columns(queryset.all())
            cls.list_base_of = queryset

    @classmethod
    def list_columns(cls, queryset) -> models.QuerySet:
        """``queryset`` with the list's columns (``.values_list``)."""
        opts = queryset.model._meta
        utc_text = connections[queryset.db].vendor == "postgresql"
        columns = []
        for name in cls.list_fields:
            if name in cls.list_paths:
                columns.append(cls.list_paths[name])
            elif utc_text and isinstance(opts.get_field(name), models.DateTimeField):
                columns.append(UTCText(name))
            else:
                columns.append(name)
        return queryset.values_list(*columns)

    def list_queryset(self) -> models.QuerySet:
        """The rows to list, before the request's filters.

        A view that keeps DRF's own ``get_queryset`` lists its class's
        ``queryset``, the same for every request: its columns were resolved
        with the class (``list_base``) and each request clones that, as DRF
        clones ``queryset`` (resolving the columns per request was a quarter
        of a page's time). A view whose ``get_queryset`` depends on the
        request (the user, say), or whose ``queryset`` was replaced since,
        gets its columns resolved per request.
        """
        if self.lists_declared_queryset():
            return self.list_base.all()
        return self.list_columns(self.get_queryset())

    def lists_declared_queryset(self) -> bool:
        return (
            type(self).get_queryset is GenericAPIView.get_queryset
            and getattr(self, "list_base_of", None) is self.queryset
        )

    def list_rows(self):
        """The rows to page through: the request's filters on ``list_queryset()``.

        The plain list runs ``list_plain_sql`` when the view declares it: the
        request names nothing but the page, and the view lists its declared
        queryset (one that depends on the request never takes it).
        """
        names = tuple(self.list_fields)
        paginator = self.paginator
        if (
            self.list_plain_sql is not None
            and paginator is not None
            and {paginator.page_query_param, paginator.page_size_query_param}.issuperset(
                self.request.query_params
            )
            and self.lists_declared_queryset()
            and connections[self.queryset.db].vendor == "postgresql"
        ):
            return _SQLRows(self.list_plain_sql, names, self.queryset.db)
        return _Rows(self.filter_queryset(self.list_queryset()), names)

    def list_extra(self, rows: list[dict]) -> list[dict]:
        return rows

    def list(self, request, *args, **kwargs):
        page = self.list_extra(self.paginate_queryset(self.list_rows()))
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
        extension = "json" if request.accepted_renderer.format.startswith("json") else "yaml"
        return Response(
            data=SchemaView._schema,
            headers={"Content-Disposition": f'inline; filename="schema.{extension}"'},
        )
