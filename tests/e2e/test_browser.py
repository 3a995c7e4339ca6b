"""A real browser on the local stack: the snippet on a customer's site, and the demo page end to end.

Headless Chromium (Debian's ``/usr/bin/chromium``, which ``make test`` installs) driven by Playwright
for Python with that system browser: no browser is ever downloaded, and a missing one fails the test
with the reason. It waits on network responses, network idle and drained queues, never sleeps.

The stack is what ``make dev`` runs (examples/demo.yaml), on a free port: not 3000, so the demo page
only works because the bundle's local origins follow the served port. The "customer's site" is a
page on another host (``127.0.0.2``) with the snippet tag, whose origin the demo site is given.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import pytest
import requests

from leadflow.definitions.document import read_document
from leadflow_local.stack import DEFAULT_DEFINITIONS, DevStack
from tests.e2e.conftest import admin_headers

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright, Response

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium calls home at start, which a closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000
IDLE_TIMEOUT_MS = 10_000  # network idle is 500 ms without a request in flight: seconds are plenty
SCREENSHOT = Path("/tmp/leadflow-demo.png")
WRITE_KEY = "wk_demo_local"
FORM = "contact-us"
PRICING = "/pricing"
EMAIL = "ada.browser@example.com"
SITE_HOST = "127.0.0.2"  # another loopback address: another site than the API's 127.0.0.1


def demo_definitions() -> dict[str, Any]:
    """examples/demo.yaml, read as the admin API reads it (YAML 1.2 core rules)."""
    return read_document(DEFAULT_DEFINITIONS.read_bytes())


def is_events_post(response: Response) -> bool:
    return response.url.endswith("/v1/events") and response.request.method == "POST"


def expected_rules(rules: list[dict[str, Any]], activities: list[dict[str, str]]) -> list[str]:
    """The scoring rules that fire for ``activities`` (one day), read from the bundle's own rules.

    An activity here is known by its type, form and url only: a rule that asks for anything else (an
    asset type, an event name, a contact field) cannot hold for it.
    """
    fired: list[str] = []
    for activity in activities:
        for rule in rules:
            when = rule["when"]
            holds = all(
                fnmatch.fnmatchcase(activity.get(key, ""), str(value))
                if key == "url"
                else activity.get(key) == value
                for key, value in when.items()
            )
            if holds and fired.count(rule["id"]) < rule.get("max_per_day", len(activities)):
                fired.append(rule["id"])
    return fired


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
    )
    from playwright.sync_api import sync_playwright  # the dev extra pins it; never `playwright install`

    with sync_playwright() as driver:
        yield driver


class CustomerSite:
    """A customer's page on its own origin, carrying the snippet tag that points at the stack's API."""

    def __init__(self, api: str) -> None:
        page = (
            "<!doctype html><html><head><title>Acme pricing</title>"
            f'<script src="{api}/v1/leadflow.js" data-write-key="{WRITE_KEY}" defer></script>'
            "</head><body><h1>Pricing</h1></body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = self.path.split("?")[0] == "/"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page) if found else 0))
                self.end_headers()
                if found:
                    self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((SITE_HOST, 0), Handler)
        self.origin = f"http://{SITE_HOST}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def customer_site(demo_stack: DevStack) -> Iterator[CustomerSite]:
    """The site, with its origin added to the demo site's allowed origins through the admin API."""
    site = CustomerSite(demo_stack.url)
    try:
        active = requests.get(f"{demo_stack.url}/v1/admin/definitions", headers=admin_headers(), timeout=10)
        assert active.status_code == 200, active.text
        bundle = active.json()["bundle"]
        [demo_site] = [entry for entry in bundle["sites"] if entry["write_key"] == WRITE_KEY]
        demo_site["allowed_origins"].append(site.origin)
        applied = requests.put(
            f"{demo_stack.url}/v1/admin/definitions", json=bundle, headers=admin_headers(), timeout=30
        )
        assert applied.status_code == 200, applied.text
        yield site
    finally:
        site.close()


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh Chromium profile (its own user-data dir): no cookie from any earlier run."""
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "chromium-profile",
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def demo_page_gaps(stack: DevStack) -> list[str]:
    """What the test needs from the stack's demo pages and does not find (a clear failure, not a timeout)."""
    gaps = []
    for path in ("/", PRICING):
        response = stack.request("GET", path)
        scripts = re.findall(r"<script\b[^>]*>", response.body.decode(errors="replace"))
        if response.status != 200:
            gaps.append(f"GET {path} answers {response.status}")
        elif not any("/v1/leadflow.js" in tag and f'data-write-key="{WRITE_KEY}"' in tag for tag in scripts):
            gaps.append(f'GET {path} has no <script src=".../v1/leadflow.js" data-write-key="{WRITE_KEY}">')
    return gaps


def visit(page: Page, url: str) -> dict[str, Any]:
    """Open ``url`` until network idle, with the snippet's page view accepted; the event it sent."""
    with page.expect_response(is_events_post) as accepted:
        page.goto(url, wait_until="networkidle", timeout=IDLE_TIMEOUT_MS)
    response = accepted.value
    # Only the status: the snippet reads the body itself, and a keepalive body is not readable over CDP.
    assert response.status == 202, f"POST /v1/events answered {response.status}"
    sent = json.loads(response.request.post_data or "{}")
    assert sent["write_key"] == WRITE_KEY
    [event] = sent["events"]
    assert event["type"] == "page_view"
    assert event["url"] == url
    return event


def test_a_customers_page_with_the_snippet_reaches_network_idle(
    customer_site: CustomerSite, browser: BrowserContext
) -> None:
    # Given a customer's page, on another site than the API, with the snippet on it
    page = browser.pages[0] if browser.pages else browser.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    # When the site's own test opens it and waits for network idle (it hung on an unread fetch body)
    event = visit(page, f"{customer_site.origin}/")
    # Then it got there, with the page view sent cross-site and accepted
    assert event["url"] == f"{customer_site.origin}/"
    # And an event tracked later finishes too: the request ends, nothing stays in flight
    with (
        page.expect_response(is_events_post) as tracked,
        page.expect_event(
            "requestfinished", lambda request: request.url.endswith("/v1/events"), timeout=IDLE_TIMEOUT_MS
        ),
    ):
        page.evaluate("leadflow.track('custom', {name: 'pricing_calculator_used'})")
    assert tracked.value.status == 202
    assert tracked.value.request.all_headers()["origin"] == customer_site.origin
    page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
    assert failed == [], "a request of the snippet failed or was aborted"


def test_the_visitors_page_views_are_stitched_to_the_new_contact_and_scored(
    demo_stack: DevStack, browser: BrowserContext, http: requests.Session
) -> None:
    gaps = demo_page_gaps(demo_stack)
    assert not gaps, "the demo pages lack what the browser test drives: " + "; ".join(gaps)
    base = demo_stack.url
    page = browser.pages[0] if browser.pages else browser.new_page()

    # Given a visitor who reads the pricing page, then the demo page with the contact form
    pricing_view = visit(page, f"{base}{PRICING}")
    demo_view = visit(page, f"{base}/")
    page.screenshot(path=SCREENSHOT, full_page=True)
    [anonymous_id] = [cookie["value"] for cookie in browser.cookies(base) if cookie["name"] == "lf_anon"]
    assert pricing_view["anonymous_id"] == demo_view["anonymous_id"] == anonymous_id
    # (processed before they convert, as page views seconds apart would be)
    demo_stack.drain()

    # When they fill in the contact form and submit it natively
    form = page.locator(f'form[action$="/v1/forms/{FORM}/submissions"]')
    form.locator('input[name="email"]').fill(EMAIL)
    form.locator('input[name="first_name"]').fill("Ada")
    with page.expect_response(
        lambda response: (
            response.url.endswith(f"/v1/forms/{FORM}/submissions") and response.request.method == "POST"
        )
    ) as submitted:
        form.locator('button[type="submit"]').click()
    posted = submitted.value
    sent = parse_qs(posted.request.post_data or "")
    assert sent["email"] == [EMAIL]
    assert sent["anonymous_id"] == [anonymous_id]
    assert sent["page_url"] == [f"{base}/"]
    if posted.status == 303:
        page.wait_for_url(posted.headers["location"])
    else:
        assert posted.status == 200, posted.text()
        page.get_by_role("heading", name="Thank you!").wait_for()
    demo_stack.drain()

    # Then the contact holds both page views, under this browser's anonymous id
    response = http.get(f"{base}/v1/admin/contacts", params={"email": EMAIL}, headers=admin_headers())
    assert response.status_code == 200, response.text
    contact = response.json()
    views = [activity for activity in contact["activities"] if activity["type"] == "page_view"]
    assert sorted(view["properties"]["url"] for view in views) == [f"{base}/", f"{base}{PRICING}"]
    assert [view["context"]["anonymous_id"] for view in views] == [anonymous_id, anonymous_id]
    assert Counter(activity["type"] for activity in contact["activities"]) == {
        "page_view": 2,
        "form_submit": 1,
    }

    # And it is scored for exactly what the visitor did, by examples/demo.yaml's rules
    rules = demo_definitions()["scoring"]["rules"]
    did = [
        {"activity": "page_view", "url": f"{base}{PRICING}"},
        {"activity": "page_view", "url": f"{base}/"},
        {"activity": "form_submit", "form": FORM},
    ]
    fired = expected_rules(rules, did)
    points = {rule["id"]: rule["points"] for rule in rules}
    ledger = http.get(f"{base}/v1/admin/contacts/{contact['id']}/score", headers=admin_headers()).json()
    assert sorted(entry["rule_id"] for entry in ledger["entries"]) == sorted(fired)
    assert contact["score"] == sum(points[rule_id] for rule_id in fired)


def test_without_fetch_the_snippet_sends_by_beacon_and_the_page_still_reaches_network_idle(
    customer_site: CustomerSite, browser: BrowserContext
) -> None:
    # Given a browser without fetch (the snippet then hands every batch to sendBeacon)
    page = browser.pages[0] if browser.pages else browser.new_page()
    page.add_init_script("delete window.fetch; window.fetch = undefined;")
    # When the customer's page is opened and its test waits for network idle
    with page.expect_response(is_events_post) as accepted:
        page.goto(f"{customer_site.origin}/", wait_until="networkidle", timeout=IDLE_TIMEOUT_MS)
    # Then the page got there, with the page view sent as a beacon and accepted
    assert page.evaluate("typeof window.fetch") == "undefined"
    beacon = accepted.value
    assert beacon.status == 202, f"POST /v1/events answered {beacon.status}"
    assert beacon.request.resource_type == "ping"  # what Chromium calls a sendBeacon request
