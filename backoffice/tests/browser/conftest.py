"""What the browser flows share: one chromium, one live server, one Celery worker.

Starting chromium (~1 s) and a worker once per module, not per test, keeps
the suite of flows in both languages short. Each test still gets its own browser context
(cookies, language) and its own data: the tests are transactional (the
worker and the live server read committed rows), so the database is emptied
after each one and the roles' groups come back with ``post_migrate``.
"""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from backoffice.tests.browser.flow import Flow
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductModelFactory,
    SupplierFactory,
)
from movements import services

# Autouse: MD5 instead of PBKDF2's million rounds for the logins.
from project.api.testing import fast_password_hasher  # noqa: F401
from project.tests.processes import celery_worker_thread, launch_chromium

PASSWORD = "flow-pass-2024-xyz"
# The worker consumes a queue of its own: no other worker takes our jobs and
# ours takes no one else's.
QUEUE = f"browser-flows-{uuid.uuid4().hex[:8]}"
LANGUAGES = ["en", "pt-br"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.flow_failed = report.failed
    return report


# Module scope, not session: while Playwright's sync API is open an event loop
# runs in this thread, and tests of other modules (their own Playwright, or
# asyncio.run) must not find it there.
@pytest.fixture(scope="module")
def chromium(django_db_setup):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread for the whole
    # session; Django refuses ORM calls from such a thread unless told they
    # are safe (they are: the loop only drives the browser).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def flow_worker(django_db_blocker):
    """A real Celery worker (a thread of this process) for exports and imports."""
    with celery_worker_thread(QUEUE, django_db_blocker) as worker:
        yield worker


@pytest.fixture
def flow_settings(browser_settings, tmp_path):
    settings = browser_settings
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""  # no nginx: the view streams the file
    settings.TRANSFER_TASK_QUEUE = QUEUE
    settings.METRICS_REFRESH_QUEUE = QUEUE
    settings.METRICS_REFRESH_DEBOUNCE = 1
    return settings


@pytest.fixture
def staff(django_user_model):
    """A staff user in a role group (or a superuser for role None), password PASSWORD."""

    def make(username: str, role: str | None):
        if role is None:
            return django_user_model.objects.create_superuser(username, "", PASSWORD)
        user = django_user_model.objects.create_user(username, "", PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def open_flow(request, chromium, live_server, flow_settings, transactional_db):
    """Opens Flows (one per person) in the test's ``language`` parameter.

    Their screenshots are deleted when the test passes, kept when it fails.
    """
    language = request.node.callspec.params["language"]
    test_name = request.node.nodeid.split("::")[-1]
    opened: list[Flow] = []

    def open_one(person: str = "") -> Flow:
        name = f"{test_name}-{person}" if person else test_name
        opened.append(Flow(chromium, live_server.url, language, name))
        return opened[-1]

    yield open_one
    for one in opened:
        one.close(failed=getattr(request.node, "flow_failed", True))


@pytest.fixture
def flow(open_flow):
    return open_flow()


@pytest.fixture
def shop(db):
    """A small catalog whose names are neither English nor Portuguese words."""
    model = ProductModelFactory(name="Galaxy Z9", brand__name="Samsung")
    category = CategoryFactory(name="Celulares")
    supplier = SupplierFactory(name="Distribuidora Sul")
    products = [
        ProductFactory(
            title=f"Celular Z9 {n}",
            serial_number=f"Z9-{n:03d}",
            product_model=model,
            category=category,
            cost_price=Decimal("100.00"),
            sell_price=Decimal("150.00"),
        )
        for n in range(1, 13)
    ]
    for product in products[:6]:
        services.inflow_create(product=product, quantity=10, supplier=supplier)
    # The dashboard reads cached metrics: write them for this shop now, so a
    # page opened before the debounced refresh runs shows this shop and not
    # the previous test's (the cache outlives the database flush).
    from dashboard.metrics import metrics_refresh

    metrics_refresh()
    return {"model": model, "category": category, "supplier": supplier, "products": products}
