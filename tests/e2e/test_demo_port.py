"""``make dev PORT=<not 3000>``: the demo page's form and snippet work on the port the stack serves.

examples/demo.yaml allows ``http://127.0.0.1:3000`` and ``http://localhost:3000``; the stack here
runs on a free port, and the bundle's local origins follow it (leadflow_local/demo_origins.py).
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import admin_headers

pytestmark = pytest.mark.e2e

FORM = "contact-us"
WRITE_KEY = "wk_demo_local"


def origins(stack: DevStack) -> list[str]:
    return [f"http://127.0.0.1:{stack.port}", f"http://localhost:{stack.port}"]


@pytest.mark.parametrize("which", [0, 1], ids=["127.0.0.1", "localhost"])
def test_the_demo_forms_posted_natively_from_the_served_origin_are_accepted(
    demo_stack: DevStack, http: requests.Session, which: int
) -> None:
    # Given the demo page, served on a port other than 3000
    page = http.get(f"{demo_stack.url}/")
    for form in ("webinar-signup", "contact-us"):
        assert f'<form method="post" action="/v1/forms/{form}/submissions">' in page.text
    origin = origins(demo_stack)[which]
    # When the webinar form (which has a redirect_url) is posted natively, from the page's origin
    webinar = http.post(
        f"{demo_stack.url}/v1/forms/webinar-signup/submissions",
        data={"email": f"webinar{which}@example.com", "consent": "true", "website": ""},
        headers={"Origin": origin},
        allow_redirects=False,
    )
    # Then capture redirects to its thank-you page, as it does on port 3000
    assert webinar.status_code == 303, webinar.text
    assert webinar.headers["location"] == "https://www.example.com/webinar/thanks"
    # And the contact form (no redirect_url) answers its thank-you page, not 403
    contact = http.post(
        f"{demo_stack.url}/v1/forms/{FORM}/submissions",
        data={"email": f"contact{which}@example.com", "first_name": "Ada", "website": ""},
        headers={"Origin": origin},
        allow_redirects=False,
    )
    assert contact.status_code == 200, contact.text
    assert "Thank you!" in contact.text


def test_the_snippet_on_the_demo_page_loads_events_with_202(
    demo_stack: DevStack, http: requests.Session
) -> None:
    # Given the snippet tag the demo page carries, with the demo site's write key
    page = http.get(f"{demo_stack.url}/pricing")
    assert re.search(rf'<script src="/v1/leadflow\.js" data-write-key="{WRITE_KEY}"', page.text)
    assert http.get(f"{demo_stack.url}/v1/leadflow.js").status_code == 200
    # When it posts a page view from the served origin, as the browser does (text/plain, no preflight)
    sent = http.post(
        f"{demo_stack.url}/v1/events",
        data=json.dumps(
            {
                "write_key": WRITE_KEY,
                "events": [
                    {"type": "page_view", "anonymous_id": "anon-port", "url": f"{demo_stack.url}/pricing"}
                ],
            }
        ),
        headers={"Content-Type": "text/plain", "Origin": origins(demo_stack)[0]},
    )
    # Then it is accepted
    assert sent.status_code == 202, sent.text
    assert sent.json()["accepted"] == 1


def test_port_3000_stays_allowed_and_the_start_says_what_it_added(demo_stack: DevStack) -> None:
    bundle = requests.get(
        f"{demo_stack.url}/v1/admin/definitions", headers=admin_headers(), timeout=10
    ).json()["bundle"]
    [site] = [site for site in bundle["sites"] if site["write_key"] == WRITE_KEY]
    assert {"http://127.0.0.1:3000", "http://localhost:3000", *origins(demo_stack)} <= set(
        site["allowed_origins"]
    )
    [www] = [site for site in bundle["sites"] if site["write_key"] != WRITE_KEY]
    assert not set(origins(demo_stack)) & set(www["allowed_origins"])  # no local origin: untouched
    assert any(line.startswith(f"Origins {origins(demo_stack)[0]}") for line in demo_stack.summary)
