"""The Content-Security-Policy in a real browser: Debian's chromium driven by Playwright.

Loads, as a superuser, the pages that carry the most script: the admin index
(the dashboard and its Chart.js charts), a change list, a change form whose
autocomplete asks the server for choices, and Swagger UI at /api/v1/docs/.
Every console message, uncaught page error and `securitypolicyviolation`
event is collected; the test asserts there are none, and that each page
actually worked under the policy (charts drawn, choices listed, operations
rendered), so a policy that silently disables a feature fails too.
"""

import shutil

import pytest

from catalog.models import Product, ProductModel
from movements.demo import seed_demo
from project.tests.processes import CHROMIUM, launch_chromium

PASSWORD = "csp-browser-pass-2024"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"),
]

# Registered before any page script runs; records what the browser refused.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push({
        directive: event.violatedDirective,
        blocked: event.blockedURI,
        sample: event.sample,
        source: event.sourceFile + ":" + event.lineNumber,
    });
});
"""


def note_console(message, problems: list[str]) -> None:
    # The browser asks for /favicon.ico by itself; the site has none (unfold
    # shows its own icon), which is not the pages' doing.
    if message.location.get("url", "").endswith("/favicon.ico"):
        return
    problems.append(f"console {message.type}: {message.text} ({message.location})")


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_admin_dashboard_autocomplete_and_swagger_run_under_the_csp_without_violations(
    live_server, browser_settings, django_user_model
):
    from playwright.sync_api import sync_playwright

    seed_demo(products=40, movements=600, seed=11, password=PASSWORD)
    django_user_model.objects.create_superuser("csp_admin", "csp@example.com", PASSWORD)
    product = Product.objects.select_related("product_model").order_by("pk").first()
    other_model = ProductModel.objects.exclude(pk=product.product_model_id).order_by("pk").first()

    problems: list[str] = []
    headers: dict[str, str] = {}

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="en-US")
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            page.on("console", lambda message: note_console(message, problems))
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

            def visit(path: str) -> None:
                response = page.goto(f"{live_server.url}{path}")
                assert response.status == 200, (path, response.status)
                headers[path] = response.headers.get("content-security-policy", "")

            def violations(where: str) -> None:
                for violation in page.evaluate("window.__cspViolations"):
                    problems.append(f"violation on {where}: {violation}")

            visit("/admin/login/?next=/admin/")
            page.fill("input[name=username]", "csp_admin")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#dashboard-charts canvas.chart")
            page.wait_for_load_state("networkidle")
            drawn = page.evaluate(
                """() => Array.from(document.querySelectorAll("canvas.chart"))
                    .filter((canvas) => window.Chart && Chart.getChart(canvas)).length"""
            )
            assert drawn == 5, drawn
            # Alpine ran its x-data expressions (it needs the policy's 'unsafe-eval').
            assert page.evaluate("() => Boolean(window.Alpine && Alpine.version)")
            violations("the dashboard")

            visit("/admin/catalog/product/")
            page.wait_for_selector("#result_list tbody tr")
            page.wait_for_load_state("networkidle")
            violations("the product list")

            visit(f"/admin/catalog/product/{product.pk}/change/")
            page.click("#id_product_model + .select2 .select2-selection")
            page.fill(".select2-search__field", other_model.name[:3])
            page.wait_for_selector(f".select2-results__option:has-text('{other_model.name}')")
            page.wait_for_load_state("networkidle")
            violations("the product form's autocomplete")

            visit("/api/v1/docs/")
            page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
            page.wait_for_load_state("networkidle")
            violations("Swagger UI")
        finally:
            browser.close()

    assert not problems, "\n".join(problems)
    for path, policy in headers.items():
        parsed = directives(policy)
        assert "'unsafe-inline'" not in parsed["script-src"], (path, policy)
        assert parsed["object-src"] == ["'none'"], (path, policy)
        assert parsed["frame-ancestors"] == ["'none'"], (path, policy)
    # The one inline script (Swagger UI's start) ran because it carried the nonce.
    swagger = directives(headers["/api/v1/docs/"])["script-src"]
    assert any(source.startswith("'nonce-") for source in swagger), swagger
