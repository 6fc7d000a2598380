"""One person's walk through the back office in chromium, watched for what goes wrong.

A Flow wraps a Playwright page and records every problem the walk shows
without failing on it at once: a console error, an uncaught page error, a
request that failed, an HTTP answer >= 400 the flow did not announce, English
left on a Portuguese page. ``step`` names a moment of the walk: it checks the
page's language and keeps a screenshot (deleted when the test passes, kept
under test-results/ when it fails, or always with KEEP_SCREENSHOTS=1).
``finish`` asserts the walk was clean.
"""

import os
import re
import shutil
from pathlib import Path

from django.conf import settings

RESULTS = Path(settings.BASE_DIR) / "test-results"

# Words and phrases that are English and are not Portuguese too ("total",
# "status", "item", "no", "email", "dashboard", "upload", "serial", "crontab",
# "ago" (August), "back" (Brazilians say "back office") are both, and left
# out); case is ignored. The
# test data (names, titles, usernames) is chosen so none of it matches.
ENGLISH = (
    "the",
    "and",
    "with",
    "your",
    "you",
    "this",
    "these",
    "which",
    "from",
    "has",
    "have",
    "been",
    "will",
    "there",
    "is",
    "are",
    "of",
    "to",
    "by",
    "or",
    "at",
    "on",
    "in",
    "an",
    "Add",
    "Save",
    "Delete",
    "Search",
    "Filter",
    "Filters",
    "Welcome",
    "Return to site",
    "Select",
    "Export",
    "Import",
    "Log in",
    "Log out",
    "Sign in",
    "Sign out",
    "Password",
    "Username",
    "History",
    "Change",
    "View",
    "Home",
    "Notifications",
    "Products",
    "Product",
    "Inflows",
    "Inflow",
    "Outflows",
    "Outflow",
    "Reverse",
    "Confirm",
    "Cancel",
    "Download",
    "Completed",
    "Failed",
    "Pending",
    "Processing",
    "Yes",
    "Show",
    "Hide",
    "Clear",
    "Apply",
    "Submit",
    "Next",
    "Previous",
    "results",
    "Recent",
    "Actions",
    "Type to search",
    "every",
    "minutes",
    "Name",
    "Description",
    "Category",
    "Categories",
    "Brand",
    "Brands",
    "Supplier",
    "Suppliers",
    "Quantity",
    "Price",
    "Cost",
    "Note",
    "Reason",
    "Created",
    "Updated",
    "Stock",
    "Sales",
    "Revenue",
    "units",
    "rows",
    "row",
    "file",
    "error",
    "errors",
    "Users",
    "Groups",
    "Tasks",
    "Periodic",
    "Schedule",
    "Forbidden",
    "Not Found",
    "Permission",
    "denied",
    "selected",
    "Language",
    "Theme",
    "Welcome back",
    "Model",
    "Models",
    "Title",
    "active",
    "inactive",
    "Recorded",
    "reversed",
    "reversal",
    "Invalid",
    "New",
    "Unchanged",
    "administration",
    "Not enough",
    "available",
    "Needs fixing",
    "Format",
    "Roles",
    "Intervals",
    "Task results",
    "Run",
    "Sale",
    "Correction",
    "Purchase",
    "Return",
    "Other",
    "updated",
    "today",
    "Low",
    "Value",
    "Profit",
    "Top",
    "Daily",
    "Open",
    "Close",
    "Read",
    "Unread",
)
_ENGLISH = re.compile(
    r"(?<![\w-])(" + "|".join(re.escape(word) for word in ENGLISH) + r")(?![\w-])",
    re.IGNORECASE,
)

# The visible words of the page, plus those a person reads that innerText
# leaves out: placeholders, the labels of input buttons, the tab's title.
_VISIBLE_TEXT = """() => {
    // Icons are ligatures of the Material Symbols font: their text ("add",
    // "history") is drawn as a picture, never read.
    const icon = "[class*=material-symbols]";
    const parts = [document.title];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (!node.textContent.trim() || !parent || parent.closest(icon)) continue;
        // Code the person types as is: file column names, serial numbers.
        if (parent.closest("script, style, template, noscript, code, kbd, .font-mono")) continue;
        if (!parent.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
        parts.push(node.textContent);
    }
    for (const element of document.querySelectorAll("[placeholder]")) {
        if (element.checkVisibility()) parts.push(element.getAttribute("placeholder"));
    }
    for (const element of document.querySelectorAll("input[type=submit], input[type=button]")) {
        if (element.checkVisibility()) parts.push(element.value);
    }
    return parts.join("\\n");
}"""


def english_in(text: str) -> list[str]:
    """The English words of ``ENGLISH`` found in ``text``, once each, in order."""
    return list(dict.fromkeys(match.group(1) for match in _ENGLISH.finditer(text)))


class Flow:
    def __init__(self, browser, base_url: str, language: str, name: str):
        self.base_url = base_url
        self.language = language
        self.problems: list[str] = []
        self.expected: list[tuple[int, str]] = []
        self.shots = RESULTS / re.sub(r"[^\w.-]+", "_", name)
        shutil.rmtree(self.shots, ignore_errors=True)
        self.steps = 0
        self.context = browser.new_context(
            viewport={"width": 1440, "height": 1000},
            locale="en-US",  # the browser stays English: the language comes from the app
            accept_downloads=True,
        )
        self.context.set_default_timeout(15_000)
        self.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}]
        )
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on(
            "pageerror",
            lambda error: self.problems.append(f"page error on {self.page.url}: {error}"),
        )
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)

    # --- what the browser reports

    def _console(self, message) -> None:
        if message.type != "error":
            return
        # Chromium logs every answer >= 400 to the console too ("Failed to
        # load resource: ... status of 403"): one the flow announced is no error.
        url = message.location.get("url", "")
        if self._expected(url) and "Failed to load resource" in message.text:
            return
        self.problems.append(f"console error: {message.text} ({message.location})")

    def _request_failed(self, request) -> None:
        # A download is a navigation the browser hands to its download
        # manager: Chromium reports it "aborted" although the file arrived.
        # select2 cancels its previous search when the person types on.
        # Chromium fetches the favicon on its own and drops that fetch when
        # the flow navigates on before it ends (a favicon that is missing is
        # a 404, which _response reports).
        aborted = request.failure == "net::ERR_ABORTED"
        dropped = ("/download/", "/admin/autocomplete/", "/favicon.")
        if aborted and any(part in request.url for part in dropped):
            return
        self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400 and response.status not in self._expected(response.url):
            path = response.url.removeprefix(self.base_url)
            self.problems.append(f"HTTP {response.status}: {response.request.method} {path}")

    def _expected(self, url: str) -> set[int]:
        """The statuses the flow announced for ``url``."""
        path = url.removeprefix(self.base_url)
        return {status for status, prefix in self.expected if path.startswith(prefix)}

    # --- the walk

    def expect_status(self, status: int, path: str) -> None:
        """The flow means to get ``status`` from URLs starting with ``path``."""
        self.expected.append((status, path))

    def goto(self, path: str, *, status: int = 200):
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status == status, (path, response.status)
        return response

    def login(self, username: str, password: str, *, next_path: str = "/admin/") -> None:
        self.goto(f"/admin/login/?next={next_path}")
        self.step("login page")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        assert "/admin/login/" not in self.page.url, f"{username} could not log in"

    def step(self, name: str) -> None:
        """A moment of the flow: keep its picture, check its language."""
        self.steps += 1
        self.page.wait_for_load_state("load")
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{self.steps:02d}-{_slug(name)}.png"))
        if self.language != "en":
            english = english_in(self.page.evaluate(_VISIBLE_TEXT))
            if english:
                self.problems.append(f"English on {self.page.url} ({name}): {english}")

    def text(self, selector: str = "body") -> str:
        return self.page.inner_text(selector)

    def finish(self) -> None:
        assert not self.problems, "\n".join(self.problems)

    def close(self, *, failed: bool) -> None:
        self.context.close()
        # KEEP_SCREENSHOTS=1 keeps them for a passing test too (to look at the pages).
        if not failed and not os.environ.get("KEEP_SCREENSHOTS"):
            shutil.rmtree(self.shots, ignore_errors=True)


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text).strip("-")[:60]
