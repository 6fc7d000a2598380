"""Chart axes and tooltips write numbers as the page's language does (issue 14)."""

import html
import json
import re

import pytest

from movements import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold(stocked_product):
    product = stocked_product(quantity=10)
    services.outflow_create(product=product, quantity=4)
    return product


def _chart_locales(content: str) -> set[str]:
    options = re.findall(r'data-options="([^"]*)"', content) or re.findall(
        r"data-options='([^']*)'", content
    )
    return {json.loads(html.unescape(raw)).get("locale") for raw in options}


@pytest.mark.parametrize(("language", "locale"), [("pt-BR", "pt-br"), ("en", "en")])
def test_every_chart_is_told_the_pages_language(admin_client, sold, language, locale):
    content = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert _chart_locales(content) == {locale}


def test_axes_that_count_units_have_whole_number_ticks():
    import json

    from dashboard import page

    units_only = json.loads(page._chart_options(legend=False))
    assert units_only["scales"]["y"]["ticks"]["precision"] == 0
    sales = json.loads(page._chart_options(second_axis=True, units=False))
    assert "precision" not in sales["scales"]["y"]["ticks"]  # revenue, in money
    assert sales["scales"]["y1"]["ticks"]["precision"] == 0  # units
    money_bars = json.loads(page._chart_options(horizontal=True, units=False))
    assert "precision" not in money_bars["scales"]["x"]["ticks"]
