"""The group permission picker shows a screenful of permissions, not 4-6 rows (issue 14)."""

import pytest

from project.tests.processes import launch_chromium

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_permission_picker_is_tall_enough_to_work_with(
    live_server, browser_settings, django_user_model
):
    from playwright.sync_api import sync_playwright

    django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-0123456789")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
            page.goto(f"{live_server.url}/admin/login/?next=/admin/auth/group/add/")
            page.fill("input[name=username]", "boss")
            page.fill("input[name=password]", "pw-0123456789")
            page.click("button[type=submit]")
            page.wait_for_selector("#id_permissions_from")
            height, row = (
                page.evaluate(f"() => document.querySelector('{selector}').offsetHeight")
                for selector in ("#id_permissions_from", "#id_permissions_from option")
            )
        finally:
            browser.close()
    assert height >= 15 * row, (height, row)
