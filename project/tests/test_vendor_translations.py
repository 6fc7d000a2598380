"""unfold and beat strings are Portuguese on pt-BR pages (issue 14): they ship no pt_BR catalog."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_login_page_is_portuguese(client):
    html = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "Bem-vindo de volta ao" in html and "Voltar ao site" in html
    assert "Welcome back to" not in html and "Return to site" not in html


def test_the_import_page_and_sidebar_are_portuguese(admin_client):
    url = reverse("admin:catalog_product_import")
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    for english in ("Choose file to upload", "Select format", "Search apps and models"):
        assert english not in html, english
    assert "Escolha o arquivo a enviar" in html and "Buscar aplicações e modelos" in html


def test_the_periodic_tasks_page_is_portuguese(admin_client):
    url = reverse("admin:django_celery_beat_periodictask_changelist")
    html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert "Tarefas periódicas" in html and "a cada 5 minutos" in html
    for english in ("Periodic Tasks", "every 5 minutes", "Type to search"):
        assert english not in html, english
