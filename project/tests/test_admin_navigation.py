"""The sidebar lights up one Purchasing link per page."""

from django.test import RequestFactory

from project.admin_navigation import sidebar_navigation


def _lit(path: str) -> list[str]:
    request = RequestFactory().get(path)
    purchasing = sidebar_navigation(request)[2]["items"]
    return [
        str(item["title"])
        for item in purchasing
        if callable(item.get("active")) and item["active"](request)
    ]


def test_the_suggestions_page_lights_up_suggestions_not_the_orders():
    assert _lit("/admin/purchasing/purchaseorder/suggestions/") == []
    assert _lit("/admin/purchasing/purchaseorder/") == ["Purchase orders"]
    assert _lit("/admin/purchasing/purchaseorder/3/change/") == ["Purchase orders"]
