import pytest
from django.urls import reverse

from project.celery import app as celery_app

pytestmark = pytest.mark.django_db

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


def test_health_is_200_when_database_cache_and_broker_answer(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"database": "ok", "cache": "ok", "broker": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


def test_health_is_503_and_names_the_cache_when_redis_is_down(client, settings, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
        }
    }
    monkeypatch.setattr(celery_app.conf, "broker_url", CLOSED_PORT_REDIS)
    response = client.get(reverse("health"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"] == {"database": "ok", "cache": "down", "broker": "down"}


def test_health_needs_no_login_and_shows_no_secrets(client, settings):
    response = client.get(reverse("health"))
    text = response.content.decode()
    assert settings.SECRET_KEY not in text
    assert "postgres" not in text and "redis://" not in text


def test_health_refuses_other_methods(client):
    assert client.post(reverse("health")).status_code == 405
