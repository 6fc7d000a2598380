"""Page-number pagination without a COUNT(*).

Counting 100,000 rows on every request costs more than the page itself, so
a page fetches one row more than it returns: that row says whether there is
a next page. Clients follow ``next`` (or pass ``next_page`` back as ``page``)
until it is null.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_PAGE_SIZE = 500
# Keeps OFFSET far from PostgreSQL's bigint limit whatever a client sends.
MAX_PAGE = 10_000_000


class PagePagination(BasePagination):
    page_query_param = "page"
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def __init__(self):
        self.default_page_size = settings.REST_FRAMEWORK.get("PAGE_SIZE", 50)

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.default_page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({self.page_size_query_param: [_("A whole number.")]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Between 1 and %(max)s.") % {"max": self.max_page_size}
                    ]
                }
            )
        return size

    def _page(self, request) -> int:
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            page = int(raw)
        except ValueError:
            raise ValidationError({self.page_query_param: [_("A whole number.")]}) from None
        if not 1 <= page <= MAX_PAGE:
            raise ValidationError(
                {self.page_query_param: [_("Between 1 and %(max)s.") % {"max": MAX_PAGE}]}
            )
        return page

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self._page_size(request)
        self.page = self._page(request)
        offset = (self.page - 1) * self.page_size
        rows = list(queryset[offset : offset + self.page_size + 1])
        if not rows and self.page > 1:
            # Past the last page: DRF's answer, and a clear end for a client.
            raise NotFound(_("Invalid page."))
        self.has_next = len(rows) > self.page_size
        return rows[: self.page_size]

    def get_next_link(self):
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page + 1)

    def get_previous_link(self):
        if self.page == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.page == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.page - 1)

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                # The numbers too, for a client that keeps its own URLs.
                "next_page": self.page + 1 if self.has_next else None,
                "previous_page": self.page - 1 if self.page > 1 else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "previous", "next_page", "previous_page", "results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "next_page": {
                    "type": "integer",
                    "nullable": True,
                    "minimum": 2,
                    "description": "Pass it back as `page`; null on the last page.",
                },
                "previous_page": {
                    "type": "integer",
                    "nullable": True,
                    "minimum": 1,
                    "description": "Null on the first page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page: {self.default_page_size} by default, "
                f"{self.max_page_size} at most.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]
