"""The admin's paginator for tables of millions of rows (``ModelAdmin.paginator``).

Django's paginator costs two things that grow with the table:

- ``count``: an exact ``COUNT(*)`` reads every matching row (or index entry),
  on each list page, only to number the pages. Here the count stops after a
  threshold: a shorter result gets its exact count; a longer one shows the
  planner's own row estimate (``EXPLAIN``, which reads ``pg_class.reltuples``
  and the column statistics), close enough to page through, as large Django
  admins do.
- deep pages: ``OFFSET n`` fetches and joins the ``n`` rows before the page
  only to skip them. Past the first pages the page's ids are read first,
  alone (an index-only scan of the ordering's index), then only those rows
  with their joins: a "deferred join".

Both apply on PostgreSQL; elsewhere (the embedded SQLite default, small by
design) it is Django's paginator.
"""

import json
from functools import cached_property

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet


def search_exact_count_limit() -> int:
    """The exact-count limit of a search (``settings.ADMIN_SEARCH_EXACT_COUNT_LIMIT``).

    Lower than a list's: a list's count reads index entries, a search's
    reads and rechecks table rows (a trigram index cannot tell a match for
    sure, and a one- or two-letter term has no trigram to look up).
    """
    return settings.ADMIN_SEARCH_EXACT_COUNT_LIMIT


def planner_row_estimate(queryset: QuerySet) -> int:
    """The rows PostgreSQL's planner expects ``queryset`` to return (no rows are read)."""
    # Ordering and joins for display do not change the row count; leaving
    # them out keeps the plan (and its planning time) small.
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Estimated count on big results and deferred joins on deep pages (see the module)."""

    # unfold's changelist includes the paginator's template_name: the count
    # reads "about N" when it is an estimate.
    template_name = "admin/pagination_estimated.html"
    # Set by ``count`` when the count is the planner's estimate.
    count_is_estimate = False

    # None: ``settings.ADMIN_EXACT_COUNT_LIMIT``; an admin may set another
    # for a page whose matches cost more to count (a search).
    _exact_count_limit: int | None = None

    @property
    def exact_count_limit(self) -> int:
        if self._exact_count_limit is not None:
            return self._exact_count_limit
        return settings.ADMIN_EXACT_COUNT_LIMIT

    @exact_count_limit.setter
    def exact_count_limit(self, value: int) -> None:
        self._exact_count_limit = value

    @property
    def deferred_join_offset(self) -> int:
        return settings.ADMIN_DEFERRED_JOIN_OFFSET

    def _on_postgresql(self) -> bool:
        return (
            isinstance(self.object_list, QuerySet)
            and connections[self.object_list.db].vendor == "postgresql"
        )

    @cached_property
    def count(self) -> int:
        if not self._on_postgresql():
            return super().count
        # Counting stops after the limit: exact for a short result whatever
        # the planner expected, and never more than limit + 1 rows read.
        limit = self.exact_count_limit
        counted = self.object_list.order_by().values("pk")[: limit + 1].count()
        if counted <= limit:
            return counted
        self.count_is_estimate = True
        return max(planner_row_estimate(self.object_list), counted)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self._on_postgresql() or bottom < self.deferred_join_offset:
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        # The admin's ordering is total (it ends with the primary key), so
        # the rows of these ids sort back into the same order.
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)
