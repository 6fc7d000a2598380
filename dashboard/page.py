"""The admin index as a dashboard (unfold ``DASHBOARD_CALLBACK``).

The page reads the cached metrics only (``dashboard.metrics.metrics_get``); on
a cache miss the metrics are computed once and stored, and when the cache does
not answer they are computed live for this page with a visible notice.

What a user sees depends on permissions: with ``dashboard.view_financials``
(the Admin, Manager and Analyst roles, superusers, or anyone an admin grants
it to) everything; anyone else who may view products (Operators) sees the
stock and units figures without money (no values, revenue or profit); a
staff user with neither sees a short notice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from dashboard.metrics import metrics_get, oldest_computed_at
from project.formats import integer, money, percent

logger = logging.getLogger(__name__)

FULL = "full"
STOCK = "stock"
# Money figures on the dashboard and in the API's metrics: a permission, so
# an admin can grant it to a user or a group; backoffice.roles gives it to the
# Admin, Manager and Analyst roles.
VIEW_FINANCIALS = "dashboard.view_financials"

PRIMARY = "var(--color-primary-600)"
PRIMARY_LIGHT = "var(--color-primary-300)"
MUTED = "var(--color-base-400)"


def sees_money_figures(user) -> bool:
    """Values, revenue and profit: for holders of ``dashboard.view_financials``.

    The one rule for the dashboard page and the API's metrics endpoint.
    """
    return user.is_active and user.has_perm(VIEW_FINANCIALS)


def dashboard_access(user) -> str | None:
    """``"full"``, ``"stock"`` (no money figures) or None (no dashboard)."""
    if not (user.is_active and user.is_staff):
        return None
    if sees_money_figures(user):
        return FULL
    if user.has_perm("catalog.view_product"):
        return STOCK
    return None


# --- formatting -------------------------------------------------------------


def age_text(seconds: int) -> str:
    if seconds < 120:
        return ngettext("updated %(n)d second ago", "updated %(n)d seconds ago", seconds) % {
            "n": seconds
        }
    minutes = seconds // 60
    if minutes < 120:
        return ngettext("updated %(n)d minute ago", "updated %(n)d minutes ago", minutes) % {
            "n": minutes
        }
    hours = minutes // 60
    return ngettext("updated %(n)d hour ago", "updated %(n)d hours ago", hours) % {"n": hours}


def _floats(values) -> list[float]:
    return [float(value) for value in values]


def _short_label(iso_day: str) -> str:
    return datetime.fromisoformat(iso_day).strftime("%d/%m")


# --- charts -----------------------------------------------------------------


def _chart_options(*, legend=True, second_axis=False, horizontal=False, units=True) -> str:
    """Chart.js options close to unfold's defaults, plus legend and axes we need.

    ``units``: the value axis counts units, so its ticks are whole numbers (a
    day of one sale otherwise shows 0.1, 0.2 ... 1.0); the second axis
    always counts units.
    """
    ticks = {"color": "#9ca3af"}
    whole = {**ticks, "precision": 0}
    value_axis = {
        "beginAtZero": True,
        "ticks": whole if units else ticks,
        "border": {"display": False},
    }
    category_axis = {
        "ticks": {**ticks, "autoSkip": not horizontal},
        "grid": {"display": False},
        "border": {"display": False},
    }
    scales = (
        {"x": value_axis, "y": category_axis}
        if horizontal
        else {"x": category_axis, "y": value_axis}
    )
    if second_axis:
        scales["y1"] = {
            "beginAtZero": True,
            "position": "right",
            "ticks": whole,
            "grid": {"display": False},
            "border": {"display": False},
        }
    options = {
        # Chart.js formats axis and tooltip numbers with Intl for this
        # locale: 16.000.000 in pt-BR, 16,000,000 in English.
        "locale": get_language() or settings.LANGUAGE_CODE,
        "responsive": True,
        "maintainAspectRatio": False,
        "animation": False,
        "plugins": {
            "legend": {
                "display": legend,
                "align": "end",
                "position": "top",
                "labels": {
                    "boxWidth": 8,
                    "boxHeight": 8,
                    "usePointStyle": True,
                    "pointStyle": "circle",
                    "color": "#9ca3af",
                },
            },
            "tooltip": {"enabled": True},
        },
        "scales": scales,
    }
    if horizontal:
        options["indexAxis"] = "y"
    return json.dumps(options)


def _chart(key, title, description, kind, data, options, height=280) -> dict:
    return {
        "height": height,
        "key": key,
        "title": title,
        "description": description,
        "template": f"unfold/components/chart/{kind}.html",
        "data": json.dumps(data),
        "options": options,
    }


def _daily_sales_chart(doc: dict, full: bool) -> dict:
    labels = [_short_label(day) for day in doc["labels"]]
    units = {
        "label": _("Units sold"),
        "data": doc["units"],
        "backgroundColor": PRIMARY_LIGHT,
        "borderColor": PRIMARY_LIGHT,
    }
    if not full:
        return _chart(
            "daily_sales",
            _("Units sold per day"),
            _("Sales over the last 30 days (corrections excluded)"),
            "bar",
            {"labels": labels, "datasets": [units]},
            _chart_options(legend=False),
        )
    revenue = {
        "type": "line",
        "label": _("Revenue"),
        "data": _floats(doc["revenue"]),
        "borderColor": PRIMARY,
        "backgroundColor": PRIMARY,
        "yAxisID": "y",
        "tension": 0.3,
        "pointRadius": 0,
        "order": 0,
    }
    units = {**units, "yAxisID": "y1", "order": 1}
    return _chart(
        "daily_sales",
        _("Daily sales"),
        _("Revenue (line, left axis) and units (bars, right axis), last 30 days"),
        "bar",
        {"labels": labels, "datasets": [revenue, units]},
        _chart_options(second_axis=True, units=False),
    )


def _flows_chart(doc: dict) -> dict:
    return _chart(
        "flows",
        _("Inflows vs outflows"),
        _("Units received and units out (sales and corrections) per day"),
        "bar",
        {
            "labels": [_short_label(day) for day in doc["labels"]],
            "datasets": [
                {"label": _("In"), "data": doc["inflow_units"], "backgroundColor": PRIMARY},
                {"label": _("Out"), "data": doc["outflow_units"], "backgroundColor": MUTED},
            ],
        },
        _chart_options(),
    )


def _group_label(row: dict) -> str:
    # The metrics are computed once for every language: the row that sums
    # the smallest groups is named here, at display time.
    if "groups" in row:
        return _("Other (%(groups)s)") % {"groups": row["groups"]}
    return row["name"]


def _paired_bars(key, title, description, labels, rows, first, second) -> dict:
    """Horizontal bars, two series per row: ``first`` and ``second`` are (label, field)."""
    return _chart(
        key,
        title,
        description,
        "bar",
        {
            "labels": labels,
            "datasets": [
                {
                    "label": label,
                    "data": _floats(row[field] for row in rows),
                    "backgroundColor": color,
                }
                for (label, field), color in ((first, PRIMARY), (second, PRIMARY_LIGHT))
            ],
        },
        _chart_options(horizontal=True, units=False),
        height=360,
    )


def _breakdown_chart(key, doc, title) -> dict:
    rows = doc["rows"]
    return _paired_bars(
        key,
        title,
        _("Stock value at cost and at sell price"),
        [_group_label(row) for row in rows],
        rows,
        (_("At cost"), "value_cost"),
        (_("At sell price"), "value_sell"),
    )


def _top_products_chart(doc: dict) -> dict:
    rows = doc["rows"]
    return _paired_bars(
        "top_products",
        _("Top 10 products by revenue"),
        _("Sales revenue over the last 30 days"),
        # Two products may share a title: the serial number tells them apart.
        [f"{row['title'][:32]} ({row['serial_number']})" for row in rows],
        rows,
        (_("Revenue"), "revenue"),
        (_("Profit"), "profit"),
    )


# --- cards and tables -------------------------------------------------------


def _card(title, value, footer="", icon="", href=""):
    return {"title": title, "value": value, "footer": footer, "icon": icon, "href": href}


def _low_stock_card(product: dict, low_stock_url: str) -> dict:
    return _card(
        _("Low stock"),
        integer(product["low_stock"]),
        _("Active products at or below their reorder level"),
        "warning",
        low_stock_url,
    )


def _stock_cards(product: dict, full: bool, low_stock_url: str) -> list[dict]:
    products_text = ", ".join(
        (
            ngettext("%(count)s product", "%(count)s products", product["products"])
            % {"count": integer(product["products"])},
            ngettext("%(count)s active", "%(count)s active", product["active_products"])
            % {"count": integer(product["active_products"])},
        )
    )
    low = _low_stock_card(product, low_stock_url)
    units = _card(_("Stock units"), integer(product["stock_units"]), products_text, "inventory_2")
    if not full:
        return [units, low]
    # Low stock goes with the sales cards (see _sales_cards): two rows of four.
    return [
        units,
        _card(
            _("Stock value at cost"),
            money(product["stock_value_cost"]),
            _("Units in stock times cost price"),
            "payments",
        ),
        _card(
            _("Stock value at sell price"),
            money(product["stock_value_sell"]),
            _("Units in stock times sell price"),
            "sell",
        ),
        _card(
            _("Potential profit"),
            money(product["potential_profit"]),
            _("Sell value minus cost value of the stock"),
            "trending_up",
        ),
    ]


def _sales_cards(sales: dict, full: bool) -> list[dict]:
    periods = [
        ("today", _("Sales today")),
        ("7d", _("Sales, 7 days")),
        ("30d", _("Sales, 30 days")),
    ]
    cards = []
    for key, title in periods:
        period = sales[key]
        # Two counts, two plural choices (1 venda, 3 unidades).
        counts = ", ".join(
            (
                ngettext("%(count)s sale", "%(count)s sales", period["count"])
                % {"count": integer(period["count"])},
                ngettext("%(units)s unit", "%(units)s units", period["units"])
                % {"units": integer(period["units"])},
            )
        )
        if full:
            footer = _("%(counts)s · profit %(profit)s · margin %(margin)s") % {
                "counts": counts,
                "profit": money(period["profit"]),
                "margin": percent(period["margin_pct"]),
            }
            cards.append(_card(title, money(period["revenue"]), footer, "shopping_cart"))
        else:
            cards.append(_card(title, integer(period["units"]), counts, "shopping_cart"))
    return cards


def _days_left(value) -> str:
    if value is None:
        return _("no sales in 30 days")
    return number_format(value, 1)


def _low_stock_table(doc: dict, can_link: bool) -> dict:
    rows = []
    for row in doc["rows"]:
        title = row["title"]
        if can_link:
            url = reverse("admin:catalog_product_change", args=[row["id"]])
            title = format_html(
                '<a class="text-primary-600 underline" href="{}">{}</a>', url, title
            )
        rows.append(
            [
                title,
                row["serial_number"],
                integer(row["quantity"]),
                integer(row["on_order"]),
                integer(row["reorder_level"]),
                number_format(row["avg_daily_units"], 2),
                _days_left(row["days_left"]),
            ]
        )
    return {
        "headers": [
            _("Product"),
            _("SKU"),
            _("Stock"),
            _("On order"),
            _("Reorder level"),
            _("Sold per day (30 d)"),
            _("Days of stock left"),
        ],
        "rows": rows,
    }


def _body_context(metrics: dict, full: bool, can_link: bool) -> dict:
    # The card counts active products only; the list it links to must too.
    low_stock_url = reverse("admin:catalog_product_changelist") + "?stock=low&is_active__exact=1"
    charts = [_daily_sales_chart(metrics["daily_sales"], full), _flows_chart(metrics["flows"])]
    if full:
        charts += [
            _breakdown_chart("stock_by_category", metrics["stock_by_category"], _("By category")),
            _breakdown_chart("stock_by_brand", metrics["stock_by_brand"], _("By brand")),
            _top_products_chart(metrics["top_products"]),
        ]
    return {
        "full": full,
        "stock_cards": _stock_cards(metrics["product"], full, low_stock_url),
        "sales_cards": _sales_cards(metrics["sales"], full)
        + ([_low_stock_card(metrics["product"], low_stock_url)] if full else []),
        "charts": charts,
        "low_stock": _low_stock_table(metrics["low_stock"], can_link),
        "low_stock_total": metrics["product"]["low_stock"],
        "low_stock_url": low_stock_url,
    }


class _FragmentCache:
    """The rendered cards, charts and table, per metrics version and viewer kind.

    unfold renders each component with its own template render, so the body
    costs tens of milliseconds; it only changes when the metrics do. The key
    holds a digest of the metrics themselves, so a refresh (or another
    language, role or permission) renders anew. Small and per process.
    """

    def __init__(self, size: int = 16):
        self.size = size
        self.items: OrderedDict[tuple, str] = OrderedDict()
        self.lock = threading.Lock()

    def get_or_render(self, key: tuple, render) -> str:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        html = render()
        with self.lock:
            self.items[key] = html
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return html

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


fragments = _FragmentCache()


def render_body(metrics: dict, full: bool, can_link: bool) -> str:
    digest = hashlib.blake2b(
        json.dumps(metrics, sort_keys=True).encode(), digest_size=16
    ).hexdigest()
    key = (digest, full, can_link, get_language(), settings.METRICS_CURRENCY_SYMBOL)
    return fragments.get_or_render(
        key,
        lambda: render_to_string(
            "dashboard/dashboard_body.html", {"body": _body_context(metrics, full, can_link)}
        ),
    )


def build_dashboard(request) -> dict:
    """Everything the dashboard template shows, for this user."""
    access = dashboard_access(request.user)
    if access is None:
        return {"access": None}
    metrics, source = metrics_get()
    oldest = oldest_computed_at(metrics)
    age = max(0, int((timezone.now() - oldest).total_seconds())) if oldest else 0
    body = render_body(metrics, access == FULL, request.user.has_perm("catalog.view_product"))
    return {
        "access": access,
        "source": source,
        "live": source == "live",
        "computed_at": oldest.isoformat() if oldest else "",
        "age_seconds": age,
        "age_text": age_text(age),
        "body": mark_safe(body),  # noqa: S308 - rendered by our template, autoescaped
        "refresh_url": reverse("dashboard:refresh"),
    }


def dashboard_callback(request, context):
    try:
        dashboard = build_dashboard(request)
    except Exception:
        # The admin index is also the way into every other page: a broken
        # metric must not take it down.
        logger.exception("The dashboard could not be built")
        dashboard = {"access": "error"}
    context.update({"dashboard": dashboard, "title": _("Dashboard")})
    return context
