"""Bugs the browser flows found, fixed: each test walks to the one place the bug showed.

In Portuguese only: the language check is part of what they watch, and each
costs a database flush.
"""

import shutil

import pytest

from backoffice.tests.browser.conftest import PASSWORD
from dataio.models import TaskNotification
from movements import services
from project.tests.processes import CHROMIUM

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.parametrize("language", ["pt-br"]),
]


def test_a_running_job_s_progress_is_in_the_page_s_language(flow, staff, language):
    user = staff("analista", "Analyst")
    TaskNotification.objects.create(
        user=user,
        task_type=TaskNotification.TaskType.EXPORT,
        status=TaskNotification.Status.PROCESSING,
        model="catalog.product",
        format="csv",
        progress=40,
        processed_rows=12000,
    )
    flow.login("analista", PASSWORD, next_path="/admin/dataio/tasknotification/")
    flow.step("a job running")
    assert "12.000" in flow.text("#result_list"), flow.text("#result_list")
    flow.finish()


def test_the_403_page_names_the_back_office_not_django(flow, staff, language):
    staff("operador", "Operator")
    flow.expect_status(403, "/admin/auth/user/")
    flow.login("operador", PASSWORD)
    flow.goto("/admin/auth/user/", status=403)
    flow.step("forbidden")
    assert "Django" not in flow.text("#page, body")
    flow.finish()


def test_a_reversed_movement_s_page_says_so_once(flow, staff, shop, language):
    staff("analista", "Analyst")
    sale = services.outflow_create(product=shop["products"][0], quantity=3)
    services.movement_reverse(movement=sale)
    flow.login("analista", PASSWORD, next_path=f"/admin/movements/outflow/{sale.pk}/change/")
    flow.step("the reversed sale")
    assert flow.text().count("estornado por") == 1
    flow.finish()
