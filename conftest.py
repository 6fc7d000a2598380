import importlib
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from catalog.tests.factories import ProductFactory, SupplierFactory
from movements import services


def pytest_sessionstart(session):
    # WhiteNoise warns at start-up when STATIC_ROOT is missing; tests serve
    # static files through the finders and never run collectstatic. Before
    # collection: a test module builds a WSGI application when imported.
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session", autouse=True)
def _sqlite_flush_bypasses_append_only_triggers():
    """On SQLite, a flush lifts the movements' append-only triggers while it empties the tables.

    A transactional test ends with a flush. PostgreSQL's flush is a TRUNCATE,
    which row triggers do not see; SQLite's is a DELETE per table, which the
    append-only triggers refuse, leaving every row for the next test. The
    flush drops the triggers, deletes and re-creates them in its one
    transaction, the migration's own statements, so they are what a
    migrated database has.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    triggers = importlib.import_module("movements.migrations.0002_append_only_triggers")
    operations = type(connection.ops)
    sql_flush = operations.sql_flush

    def flush_around_triggers(self, style, tables, **options):
        statements = sql_flush(self, style, tables, **options)
        if not statements or not set(triggers.TABLES) & set(tables):
            return statements
        return [*triggers.SQLITE_BACKWARD, *statements, *triggers.SQLITE_FORWARD]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "sql_flush", flush_around_triggers)
        yield


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Production uses the hashed manifest that collectstatic writes; tests
    # render pages without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture
def supplier(db):
    return SupplierFactory()


@pytest.fixture
def stocked_product(db, supplier):
    """A product with 10 units received through the ledger service."""

    def make(quantity=10, **fields):
        product = ProductFactory(**fields)
        if quantity:
            services.inflow_create(product=product, quantity=quantity, supplier=supplier)
        product.refresh_from_db()
        return product

    return make


@pytest.fixture
def role_user(db, django_user_model):
    """A staff user in one of the role groups."""

    def make(role, username=None):
        user = django_user_model.objects.create_user(
            username=username or f"{role.lower()}-user", password="x-pass-123456", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture(autouse=True)
def _no_known_pending_refresh():
    # A process remembers a dashboard refresh it knows is coming (see
    # dashboard.refresh); each test starts without that memory.
    from dashboard import refresh

    refresh.forget_local_refresh_eta()


@pytest.fixture
def browser_settings(settings, monkeypatch):
    """Settings for a browser test against the live server (Playwright + chromium)."""
    # Playwright's sync API runs an event loop in this thread; Django then
    # refuses ORM calls from it unless told they are safe (they are: the
    # loop only drives the browser).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_CODE = "en"
    return settings
