"""Each role may open exactly what its README row promises (issue 14)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = {
    "users": "admin:auth_user_changelist",
    "groups": "admin:auth_group_changelist",
    "schedules": "admin:django_celery_beat_periodictask_changelist",
    "task results": "admin:django_celery_results_taskresult_changelist",
    "products": "admin:catalog_product_changelist",
    "outflows": "admin:movements_outflow_changelist",
    "jobs": "admin:dataio_tasknotification_changelist",
}
# README.md, "Roles": what each role reads.
READS = {
    "Admin": set(PAGES),
    "Manager": {"schedules", "task results", "products", "outflows", "jobs"},
    "Analyst": {"schedules", "task results", "products", "outflows", "jobs"},
    "Operator": {"products", "outflows", "jobs"},
}


@pytest.mark.parametrize("role", sorted(READS))
def test_a_role_opens_what_the_readme_promises_and_nothing_else(client, role_user, role):
    client.force_login(role_user(role))
    opened = {page for page, name in PAGES.items() if client.get(reverse(name)).status_code == 200}
    assert opened == READS[role]
