"""The dashboard in a real browser: Debian's chromium driven by Playwright.

Logs in through the login form as the demo Analyst, checks that the cards
show the seeded figures (computed here independently, straight from the
rows) and that every chart canvas holds a drawn Chart.js chart, and saves a
screenshot in test-results/dashboard.png.
"""

import shutil
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from catalog.models import Product
from movements.demo import seed_demo
from movements.models import Outflow
from project.tests.processes import CHROMIUM, launch_chromium

PASSWORD = "browser-test-pass-2024"
RESULTS = Path(settings.BASE_DIR) / "test-results"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]


_AXIS = """() => Chart.getChart(
    document.querySelector('[data-chart="daily_sales"] canvas.chart')).scales.y.ticks"""


def _axis_labels(page) -> list[str]:
    return page.evaluate(f"() => ({_AXIS})().map((tick) => tick.label)")


def _formatted(page, locale: str) -> list[str]:
    """The same ticks as Intl writes them in ``locale``; one of them in the thousands."""
    values = page.evaluate(f"() => ({_AXIS})().map((tick) => tick.value)")
    assert max(values) >= 1000, values
    return page.evaluate(
        "([values, locale]) => values.map((v) => new Intl.NumberFormat(locale).format(v))",
        [values, locale],
    )


def _money(value) -> str:
    return f"R$\u00a0{value:,.2f}"


def _expected_figures() -> dict:
    """The figures the cards must show, from the rows, without dashboard.metrics."""
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    since = datetime.combine(today - timedelta(days=29), time.min, tzinfo=tz)
    revenue = sum(
        quantity * price
        for quantity, price in Outflow.objects.filter(
            reason=Outflow.Reason.SALE, created_at__gte=since
        ).values_list("quantity", "unit_price")
    )
    products = list(Product.objects.values_list("quantity", "cost_price"))
    return {
        "Stock units": f"{sum(quantity for quantity, _ in products):,}",
        "Stock value at cost": _money(sum(quantity * cost for quantity, cost in products)),
        "Sales, 30 days": _money(revenue),
    }


def test_dashboard_in_chromium_shows_seeded_cards_and_every_chart(live_server, browser_settings):
    from playwright.sync_api import sync_playwright

    seed_demo(products=80, movements=2400, seed=7, password=PASSWORD)
    # Make sure at least one product is low: reorder level at its stock.
    low = Product.objects.filter(is_active=True, quantity__gt=0).order_by("pk").first()
    Product.objects.filter(pk=low.pk).update(reorder_level=low.quantity)
    expected = _expected_figures()

    RESULTS.mkdir(exist_ok=True)
    screenshot = RESULTS / "dashboard.png"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_context(
                viewport={"width": 1440, "height": 1000}, locale="en-US"
            ).new_page()
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("input[name=username]", "demo_analyst")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#dashboard-charts canvas.chart")
            page.screenshot(path=str(screenshot), full_page=True)

            cards = {
                element.get_attribute("data-card"): element.inner_text().strip()
                for element in page.query_selector_all(".dashboard-card-value")
            }
            for title, value in expected.items():
                assert cards[title] == value, title

            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll("canvas.chart")).map((canvas) => {
                    const chart = window.Chart && Chart.getChart(canvas);
                    const pixels = canvas.getContext("2d")
                        .getImageData(0, 0, canvas.width, canvas.height).data;
                    let painted = 0;
                    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
                    return {
                        key: canvas.closest("[data-chart]").dataset.chart,
                        chart: Boolean(chart),
                        width: canvas.width,
                        height: canvas.height,
                        painted: painted,
                    };
                })"""
            )
            assert [chart["key"] for chart in charts] == [
                "daily_sales",
                "flows",
                "stock_by_category",
                "stock_by_brand",
                "top_products",
            ]
            for chart in charts:
                assert chart["chart"], chart
                assert chart["width"] > 100 and chart["height"] > 100, chart
                assert chart["painted"] > 500, chart

            rows = page.query_selector_all("#dashboard-low-stock tbody tr a")
            assert rows, "the low-stock table lists products with links"
            links = [row.get_attribute("href") for row in rows]
            assert f"/admin/catalog/product/{low.pk}/change/" in links
            assert "updated" in page.inner_text("#dashboard-age")

            # Axis numbers follow the page's language (Chart.js "locale"), not
            # the browser's: here an English browser, Portuguese chosen in the app.
            assert _axis_labels(page) == _formatted(page, "en")
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
            context.add_cookies(
                [{"name": "django_language", "value": "pt-br", "url": live_server.url}]
            )
            pt = context.new_page()
            pt.goto(f"{live_server.url}/admin/login/?next=/admin/")
            pt.fill("input[name=username]", "demo_analyst")
            pt.fill("input[name=password]", PASSWORD)
            pt.click("button[type=submit]")
            pt.wait_for_selector("#dashboard-charts canvas.chart")
            labels = _axis_labels(pt)
            assert labels == _formatted(pt, "pt-BR")
            assert any("." in label for label in labels), labels  # 16.000, not 16,000
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
