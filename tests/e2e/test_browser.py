"""A real browser on the local stack: the snippet's page views become the contact's, scored.

Headless Chromium (Debian's ``/usr/bin/chromium``, which ``make test`` installs) driven by Playwright
for Python with that system browser: no browser is ever downloaded. The test is skipped, with the
reason, where either is missing. It waits on network responses and drains the queues, never sleeps.

The stack applies ``examples/demo.yaml`` (what ``make dev`` applies) with one change: the stack's own
origin is allowed for the demo site and the contact form, since the test runs on a free port and the
demo bundle allows ``http://127.0.0.1:3000``.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import pytest
import requests
import yaml

from leadflow.definitions.document import read_document
from leadflow_local.stack import DEFAULT_DEFINITIONS, DevStack
from tests.e2e.conftest import LEADFLOW_FUNCTIONS, TOKEN, admin_headers, missing_handlers

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Playwright

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
SCREENSHOT = Path("/tmp/leadflow-demo.png")
WRITE_KEY = "wk_demo_local"
FORM = "contact-us"
PRICING = "/pricing"
EMAIL = "ada.browser@example.com"


def demo_definitions() -> dict[str, Any]:
    """examples/demo.yaml, read as the admin API reads it (YAML 1.2 core rules)."""
    return read_document(DEFAULT_DEFINITIONS.read_bytes())


def demo_bundle(origin: str) -> dict[str, Any]:
    """examples/demo.yaml, with ``origin`` allowed for the demo site and the contact form."""
    bundle = demo_definitions()
    sites = [site for site in bundle["sites"] if site["write_key"] == WRITE_KEY]
    forms = [form for form in bundle["forms"] if form["id"] == FORM]
    assert sites, f"examples/demo.yaml has no site with write key {WRITE_KEY}"
    assert forms, f"examples/demo.yaml has no form {FORM}"
    for item in (*sites, *forms):
        item["allowed_origins"] = [*item.get("allowed_origins", []), origin]
    return bundle


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
    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "Playwright for Python is not installed (the dev extra pins it; never `playwright install`)"
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def demo_stack(playwright: Playwright) -> Iterator[DevStack]:
    """The local stack on a free port with the demo bundle applied through the admin API."""
    missing = missing_handlers((*LEADFLOW_FUNCTIONS, "track"))
    if missing:
        pytest.skip(f"needs Leadflow's handlers: functions/{{{','.join(missing)}}}/app.py do not exist yet")
    with DevStack(port=0, admin_token=TOKEN) as stack:
        response = stack.request(
            "PUT",
            "/v1/admin/definitions",
            body=yaml.safe_dump(demo_bundle(stack.url), sort_keys=False).encode(),
            headers={"Content-Type": "application/yaml", **admin_headers()},
        )
        assert response.status == 200, response.body.decode()
        yield stack


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
    """Open ``url`` and wait until the snippet's page view is accepted; the event it sent."""
    with page.expect_response(
        lambda response: response.url.endswith("/v1/events") and response.request.method == "POST"
    ) as accepted:
        page.goto(url)
    response = accepted.value
    # Only the status: the body of a keepalive fetch cannot be read over CDP (Playwright waits forever).
    assert response.status == 202, f"POST /v1/events answered {response.status}"
    sent = json.loads(response.request.post_data or "{}")
    assert sent["write_key"] == WRITE_KEY
    [event] = sent["events"]
    assert event["type"] == "page_view"
    assert event["url"] == url
    return event


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
