"""Forbidden, missing and failed pages are themed, translated and offer a way back (issue 14)."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from project import error_pages

pytestmark = pytest.mark.django_db


def _themed(response, status: int) -> str:
    html = response.content.decode()
    assert response.status_code == status
    assert f'data-status="{status}"' in html
    assert f'href="{reverse("admin:index")}"' in html
    return html


def test_a_missing_page_is_themed_with_a_way_back(client):
    html = _themed(client.get("/no-such-page/"), 404)
    assert "Page not found" in html and "Back to the back office" in html


def test_a_missing_page_speaks_portuguese_to_a_portuguese_browser(client):
    html = _themed(client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="pt-BR"), 404)
    assert "Página não encontrada" in html and "Voltar à retaguarda" in html
    assert "Page not found" not in html and "Back to the back office" not in html


def test_a_forbidden_admin_page_is_themed(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="pw-123456789", is_staff=True)
    client.force_login(clerk)
    html = _themed(client.get(reverse("admin:catalog_product_add")), 403)
    assert "Not allowed" in html and "403 Forbidden" not in html


def test_the_500_page_is_themed_and_survives_its_own_failure(monkeypatch, admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    html = _themed(error_pages.server_error(request), 500)
    assert "Something went wrong" in html

    def broken(*args, **kwargs):
        raise RuntimeError("template engine down")

    monkeypatch.setattr(error_pages, "render", broken)
    response = error_pages.server_error(request)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/plain")
    assert b"nothing was half-saved" in response.content


def test_pages_name_the_favicon_and_favicon_ico_leads_to_it(admin_client, client):
    icon = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml"'
    assert icon in admin_client.get(reverse("admin:index")).content.decode()
    assert icon in client.get("/no-such-page/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
