"""schemathesis over every operation of /api/v1/schema/, with a valid token.

No answer may be a 5xx, and every answer must be documented: its status
code, content type, headers and body.
"""

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis import checks

from catalog.tests.factories import ProductFactory, SupplierFactory
from movements import services
from project.api.testing import (
    access_token,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
    reset_token_throttle,
)

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def api_token(db, django_user_model):
    # Some rows for the generated ids to find (ids are small integers).
    supplier = SupplierFactory()
    for _ in range(3):
        product = ProductFactory()
        services.inflow_create(product=product, quantity=5, supplier=supplier)
        services.outflow_create(product=product, quantity=1)
    admin = django_user_model.objects.create(username="schemathesis", is_staff=True)
    admin.groups.add(Group.objects.get(name="Admin"))
    return access_token(admin)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # The WSGI handler closes "old" connections around each request; inside
    # the test's transaction that would close it (Django's test client
    # disconnects the same handlers).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    reset_token_throttle()
    yield
    reset_token_throttle()


@schema.parametrize()
@hypothesis_settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, api_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {api_token}"}, checks=CHECKS)
