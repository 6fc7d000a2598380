"""The main flows of the back office in chromium, in English and in Brazilian Portuguese (issue 14).

Each test is one flow walked by a person of the role that does it, through
the pages (forms, buttons, links), never through URLs the pages do not
offer, except to check that a forbidden page stays forbidden. Every flow
asserts no console error, no failed request, no unexpected HTTP error and,
in Portuguese, no English on any page it saw (see flow.py).
"""

import io
import shutil
import time

import openpyxl
import pytest

from backoffice.tests.browser.conftest import LANGUAGES, PASSWORD
from catalog.models import Product
from dataio.models import TaskNotification
from movements import services
from movements.models import Inflow, Outflow
from project.tests.processes import CHROMIUM

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.parametrize("language", LANGUAGES),
]

# What a person reads, per language: the flows check the words, not only the markup.
SAYS = {
    "en": {
        "welcome": "Welcome back",
        "added": "The inflow “Inflow #",
        "not_enough": "Not enough stock",
        "reverses": "reverses",
        "reversed_by": "reversed by",
        "confirm_import": "Confirm the import",
        "forbidden": "403",
    },
    "pt-br": {
        "welcome": "Bem-vindo de volta",
        # Not Django's "O {name} … foi adicionado": "O entrada", "O saída".
        "added": "Inclusão de entrada “Entrada #",
        "not_enough": "Estoque insuficiente",
        "reverses": "estorna",
        "reversed_by": "estornado por",
        "confirm_import": "Confirmar a importação",
        "forbidden": "403",
    },
}


def pick(flow, field: str, text: str) -> None:
    """Choose ``text`` in an autocomplete (select2) field, as a person types it."""
    page = flow.page
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.click(f".select2-results__option:has-text('{text}')")


def wait_until(condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_record_an_inflow_an_outflow_and_an_oversell(flow, staff, shop, language):
    staff("operador", "Operator")
    product = shop["products"][0]
    flow.login("operador", PASSWORD, next_path="/admin/movements/inflow/add/")
    flow.step("inflow form")
    assert flow.page.get_attribute("#id_quantity", "min") == "1"  # one rule: at least 1
    pick(flow, "product", product.title)
    flow.page.fill("#id_quantity", "7")
    pick(flow, "supplier", "Distribuidora Sul")
    flow.page.fill("#id_note", "NF 1234")
    with flow.page.expect_navigation():
        flow.page.click("button[name=_save]")
    flow.step("inflow recorded")
    assert SAYS[language]["added"] in flow.text(), flow.text(".messagelist, #content")
    assert Inflow.objects.filter(product=product, quantity=7, note="NF 1234").exists()

    flow.goto("/admin/movements/outflow/add/")
    flow.step("outflow form")
    pick(flow, "product", product.title)
    flow.page.fill("#id_quantity", "4")
    with flow.page.expect_navigation():
        flow.page.click("button[name=_save]")
    flow.step("outflow recorded")
    added = SAYS[language]["added"].replace("inflow", "outflow").replace("Inflow", "Outflow")
    added = added.replace("entrada", "saída").replace("Entrada", "Saída")
    assert added in flow.text()
    product.refresh_from_db()
    assert product.quantity == 10 + 7 - 4
    assert Outflow.objects.get(product=product).created_by.username == "operador"

    # An oversell: more than the 13 in stock.
    flow.goto("/admin/movements/outflow/add/")
    pick(flow, "product", product.title)
    flow.page.fill("#id_quantity", "14")
    with flow.page.expect_navigation():
        flow.page.click("button[name=_save]")
    flow.step("oversell refused")
    errors = flow.text(".errorlist")
    assert SAYS[language]["not_enough"] in errors, errors
    assert "14" in errors and "13" in errors, errors  # asked and available
    product.refresh_from_db()
    assert product.quantity == 13 and Outflow.objects.count() == 1
    flow.finish()


def test_reverse_a_movement(flow, staff, shop, language):
    staff("operador", "Operator")
    product = shop["products"][0]
    sale = services.outflow_create(product=product, quantity=3)
    flow.login("operador", PASSWORD, next_path=f"/admin/movements/outflow/{sale.pk}/change/")
    flow.step("the sale")
    with flow.page.expect_navigation():
        flow.page.click(f"a[href$='/outflow/{sale.pk}/reverse/']")
    flow.step("confirm the reversal")
    with flow.page.expect_navigation():
        flow.page.click("#content form button[type=submit]")
    flow.step("reversal recorded")
    product.refresh_from_db()
    assert product.quantity == 10
    page_text = flow.text()
    assert SAYS[language]["reverses"] in page_text, page_text
    # The reversed sale says so, and no longer offers Reverse.
    flow.goto(f"/admin/movements/outflow/{sale.pk}/change/")
    flow.step("the reversed sale")
    assert SAYS[language]["reversed_by"] in flow.text()
    assert flow.page.locator(f"a[href$='/outflow/{sale.pk}/reverse/']").count() == 0
    flow.finish()


def wait_for_link(flow, selector: str, timeout: float = 30):
    """Reload the page (as its own refresh does) until ``selector`` shows."""
    deadline = time.monotonic() + timeout
    while flow.page.locator(selector).count() == 0:
        assert time.monotonic() < deadline, f"{selector} never showed on {flow.page.url}"
        time.sleep(0.3)
        flow.page.reload()
    return flow.page.locator(selector).first


def test_export_the_list_and_open_the_file(flow, staff, shop, flow_worker, language):
    staff("analista", "Analyst")
    flow.login("analista", PASSWORD, next_path="/admin/catalog/product/")
    flow.step("product list")
    listed = flow.page.locator("#result_list tbody tr").count()
    assert listed == len(shop["products"])
    with flow.page.expect_navigation():
        flow.page.click("a[href*='/admin/catalog/product/export/']")
    flow.step("export form")
    flow.page.select_option("#id_format", label="xlsx")
    with flow.page.expect_navigation():
        flow.page.click("#content form button[type=submit]")
    # The export may still be running here: its progress is in the page's
    # language too (test_a_running_job_s_progress_is_in_the_page_s_language).
    flow.step("export queued")
    link = wait_for_link(flow, "a[href*='/download/']")
    flow.step("export completed")
    with flow.page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx"), download.value.suggested_filename
    content = io.BytesIO(download.value.path().read_bytes())
    workbook = openpyxl.load_workbook(content, read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert len(rows) - 1 == listed, rows[:3]  # a header, then one row per listed product
    assert {"Z9-001", "Z9-012"} <= {cell for row in rows[1:] for cell in row}
    notification = TaskNotification.objects.get(task_type="export")
    assert notification.status == TaskNotification.Status.COMPLETED
    flow.finish()


HEADER = "serial_number,title,brand,product_model,category,cost_price,sell_price\n"


def test_import_with_errors_then_fixed(flow, staff, shop, flow_worker, language):
    staff("gerente", "Manager")
    bad = (
        HEADER
        + "NV-1,Tablet A,Samsung,Galaxy Z9,Celulares,10.00,15.00\n"
        + "NV-2,Tablet B,Samsung,Galaxy Z9,Tablets,abc,15.00\n"
        + "NV-3,Tablet C,Samsung,Galaxy Z9,Celulares,-5,15.00\n"
        + "NV-4,Tablet D,Nokia,Galaxy Z9,Celulares,10.00,15.00\n"
    )
    fixed = bad.replace("Tablets", "Celulares").replace("abc", "12").replace("-5", "5")
    fixed = fixed.replace("Nokia", "Samsung")

    flow.login("gerente", PASSWORD, next_path="/admin/")
    flow.page.wait_for_selector("#dashboard-charts canvas.chart")
    before = flow.text(".dashboard-card >> nth=0")
    assert "12 " in before, before  # "12 products"

    def upload(content: str, name: str) -> None:
        flow.goto("/admin/catalog/product/")
        with flow.page.expect_navigation():
            flow.page.click("a[href*='/admin/catalog/product/import/']")
        flow.step(f"import form {name}")
        flow.page.select_option("#id_format", label="csv")
        flow.page.set_input_files(
            "#id_import_file",
            {"name": name, "mimeType": "text/csv", "buffer": content.encode()},
        )
        with flow.page.expect_navigation():
            flow.page.click("#content form button[type=submit]")
        flow.page.wait_for_selector("#import-counts", timeout=30_000)
        flow.step(f"preview {name}")

    upload(bad, "com-erros.csv")
    assert flow.text("[data-count=invalid]") == "3"
    errors = flow.text("#import-errors")
    for row, column in (
        ("3", "category"),
        ("3", "cost_price"),
        ("4", "cost_price"),
        ("5", "product_model"),
    ):
        assert any(
            cells[0] == row and cells[1] == column
            for cells in (line.split("\t") for line in errors.splitlines()[1:])
        ), (row, column, errors)
    assert flow.page.locator(f"text={SAYS[language]['confirm_import']}").count() == 0

    upload(fixed, "corrigido.csv")
    assert flow.text("[data-count=new]") == "4"
    assert flow.text("[data-count=invalid]") == "0"
    with flow.page.expect_navigation():
        flow.page.click(f"button:has-text('{SAYS[language]['confirm_import']}')")
    flow.step("import confirmed")
    wait_until(
        lambda: TaskNotification.objects.filter(
            task_type="import", status=TaskNotification.Status.COMPLETED
        ).exists()
    )
    assert Product.objects.filter(serial_number__startswith="NV-").count() == 4
    flow.goto("/admin/catalog/product/?q=NV-")
    flow.step("imported rows listed")
    assert flow.page.locator("#result_list tbody tr").count() == 4

    # The import refreshed the dashboard (debounced, by the worker).
    def dashboard_counts_16() -> bool:
        flow.goto("/admin/")
        return "16 " in flow.text(".dashboard-card >> nth=0")

    wait_until(dashboard_counts_16, timeout=30)
    flow.step("dashboard after import")
    flow.finish()


# What each role of the README's table sees in the sidebar and may open.
# Pages are (path, roles that may open it); the others get the themed 403.
SIDEBAR = {
    "/admin/catalog/product/": {"Admin", "Manager", "Operator", "Analyst"},
    "/admin/movements/inflow/": {"Admin", "Manager", "Operator", "Analyst"},
    "/admin/dataio/tasknotification/": {"Admin", "Manager", "Operator", "Analyst"},
    "/admin/django_celery_results/taskresult/": {"Admin", "Manager", "Analyst"},
    "/admin/django_celery_beat/periodictask/": {"Admin", "Manager", "Analyst"},
    "/admin/auth/user/": {"Admin"},
    "/admin/auth/group/": {"Admin"},
}
PAGES = {
    "/admin/catalog/product/add/": {"Admin", "Manager"},
    "/admin/catalog/product/import/": {"Admin", "Manager"},
    "/admin/movements/outflow/add/": {"Admin", "Operator"},
    "/admin/django_celery_beat/periodictask/": {"Admin", "Manager", "Analyst"},
    "/admin/django_celery_results/taskresult/": {"Admin", "Manager", "Analyst"},
    "/admin/auth/user/": {"Admin"},
}
# Buttons on the pages every role opens: (page, link, roles that see it).
BUTTONS = [
    ("/admin/catalog/product/", "/admin/catalog/product/add/", {"Admin", "Manager"}),
    ("/admin/catalog/product/", "/admin/catalog/product/import/", {"Admin", "Manager"}),
    (
        "/admin/catalog/product/",
        "/admin/catalog/product/export/",
        {"Admin", "Manager", "Operator", "Analyst"},
    ),
    ("/admin/movements/outflow/", "/admin/movements/outflow/add/", {"Admin", "Operator"}),
    (
        "/admin/movements/outflow/{sale}/change/",
        "/admin/movements/outflow/{sale}/reverse/",
        {"Admin", "Operator"},
    ),
]
# The dashboard's money figures: every role but the Operator.
MONEY = {"Admin", "Manager", "Analyst"}


def test_log_in_then_each_role_sees_and_may_do_what_the_readme_says(
    open_flow, staff, shop, language
):
    sale = services.outflow_create(product=shop["products"][0], quantity=1)
    for role in ("Admin", "Manager", "Operator", "Analyst"):
        username = f"pessoa-{role.lower()}"
        staff(username, role)
        flow = open_flow(role)
        for path, allowed in PAGES.items():
            if role not in allowed:
                flow.expect_status(403, path)

        flow.goto("/admin/")  # the admin sends a stranger to its login page
        assert "/admin/login/" in flow.page.url
        flow.step("sent to login")
        assert SAYS[language]["welcome"] in flow.text()
        flow.page.fill("input[name=username]", username)
        flow.page.fill("input[name=password]", PASSWORD)
        with flow.page.expect_navigation():
            flow.page.click("button[type=submit]")
        flow.page.wait_for_selector("#dashboard-charts canvas.chart")
        flow.step("dashboard")
        assert ("R$" in flow.text()) == (role in MONEY), role

        sidebar = {
            link.get_attribute("href").split("?")[0]
            for link in flow.page.locator("nav a[href^='/admin/']").all()
        }
        for path, allowed in SIDEBAR.items():
            assert (path in sidebar) == (role in allowed), (role, path, sorted(sidebar))

        for path, allowed in PAGES.items():
            if role in allowed:
                flow.goto(path)
                flow.step(f"may open {path}")
            else:
                flow.goto(path, status=403)
                flow.step(f"forbidden {path}")
                assert flow.page.locator("#error-page[data-status='403']").count() == 1, path
                assert flow.page.locator("a[href='/admin/']").count() >= 1, "a way back"

        for page in dict.fromkeys(page for page, _, _ in BUTTONS):  # each page once
            flow.goto(page.format(sale=sale.pk))
            for link, allowed in ((ln, a) for p, ln, a in BUTTONS if p == page):
                link = link.format(sale=sale.pk)
                shown = flow.page.locator(f"a[href^='{link}']").count() > 0
                assert shown == (role in allowed), (role, page, link)
        flow.step("buttons")
        flow.finish()
