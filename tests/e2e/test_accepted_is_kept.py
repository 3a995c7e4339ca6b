"""Accepted means kept, end to end on the local stack (issue 11).

Hostile-but-valid form posts and tracking events go in over HTTP; once the queues settle, no
queue holds a message (none failing, none dead-lettered) and every accepted event is in the
contact's history. The events the store could not keep are refused in the reply instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN, admin_headers

pytestmark = pytest.mark.e2e

BUNDLE = Path(__file__).resolve().parent / "accepted_bundle.yaml"
WRITE_KEY = "wk_e2e_accepted_kept"
ORIGIN = "https://www.example.com"
EMAIL = "zoe.kept@example.com"
VISITOR = "visitor-kept-1"


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    with DevStack(port=0, definitions=BUNDLE, admin_token=TOKEN) as running:
        yield running


def _deep(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": "end"}
    for _ in range(depth - 2):
        value = {"k": value}
    return {"case": "deep", "nest": value}


def _custom(case: str, **properties: Any) -> dict[str, Any]:
    return {"type": "custom", "email": EMAIL, "properties": {"name": "e2e", "case": case, **properties}}


def _page(**changes: Any) -> dict[str, Any]:
    return {"type": "page_view", "anonymous_id": VISITOR, "url": "https://www.example.com/pricing", **changes}


#: Each is at the edge of a rule, on the side that is kept.
KEPT: list[dict[str, Any]] = [
    _page(),
    _page(),
    _page(),  # three identical events with neither event_id nor occurred_at: three page views
    _page(
        title="\u05de\u05d7\u05d9\u05e8\u05d9\u05dd \u200f| Pricing",
        referrer="https://search.example/?q=\u00e9",
    ),
    _custom(
        "numbers",
        big=9.999e125,
        tiny=1e-130,
        round=10**39,
        digits=12345678901234567890123456789012345678,
        zero=0,
        negative=-0.5,
    ),
    {**_custom("deep"), "properties": {"name": "e2e", **_deep(16)}},
    _custom(
        "text",
        multiline="line one\nline two\twith a tab",
        emoji="\U0001f600" * 50,
        empty="",
        nothing=None,
        flags=[True, False],
        lists=[[], {}, [1, "two", None]],
        **{"\U0001f511 key": "emoji key", "k" * 255: "longest key"},
    ),
    {**_custom("event-id"), "event_id": "e2e-once"},
    {**_custom("stated-time"), "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
]
#: The same event_id again in the same batch: reported as a duplicate, counted once.
DUPLICATE = {**_custom("event-id"), "event_id": "e2e-once"}
#: Each was answered 202 before and then dead-lettered (or failed the batch): now refused.
REFUSED: list[tuple[dict[str, Any], str]] = [
    (_custom("x", n=1e300), "properties.n: number too large"),
    (_custom("x", n=1e-300), "properties.n: number too small"),
    (_custom("x", n=10**40 + 1), "properties.n: more than 38 significant digits"),
    ({**_custom("x"), "properties": {"name": "e2e", **_deep(17)}}, "nested more than 16 levels"),
    (_custom("x", **{"": "empty key"}), "a key must be non-empty text"),
    (_page(title="NUL \u0000"), "title: must not contain a NUL character"),
    (_page(title="\u202egnp.exe"), "title: must not contain a bidirectional control character"),
    (_page(occurred_at="0001-01-01T00:00:00+01:00"), "occurred_at: expected an ISO 8601 timestamp"),
]


def _decimal(number: float) -> Decimal:
    return Decimal(repr(number))


def _submit_forms(stack: DevStack, http: requests.Session) -> None:
    json_post = http.post(
        f"{stack.url}/v1/forms/e2e-kept/submissions",
        json={
            "fields": {
                "email": EMAIL,
                "first_name": "Zo\u00eb \u05e9\u05dc\u05d5\u05dd\u200f \U0001f600",
                "notes": "first line\r\nsecond\tline",
                "seats": "1e125",
                "consent": True,
            },
            "context": {"anonymous_id": VISITOR, "utm_source": "e2e"},
        },
        headers={"Idempotency-Key": "\u00e9" * 255},
    )
    assert json_post.status_code == 202, json_post.text
    native = http.post(
        f"{stack.url}/v1/forms/e2e-kept/submissions",
        data={"email": EMAIL, "notes": "native\r\npost", "consent": "on", "anonymous_id": VISITOR},
        allow_redirects=False,
    )
    assert native.status_code in (200, 303), native.text


def _send_events(stack: DevStack, http: requests.Session) -> dict[str, Any]:
    events = [*KEPT, DUPLICATE, *(raw for raw, _ in REFUSED)]
    response = http.post(
        f"{stack.url}/v1/events", json={"write_key": WRITE_KEY, "events": events}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 202, response.text
    return response.json()


def test_hostile_but_valid_input_is_kept_and_no_queue_holds_a_message(
    stack: DevStack, http: requests.Session
) -> None:
    _submit_forms(stack, http)
    reply = _send_events(stack, http)
    # The reply counts every kept event once, names the duplicate, and refuses what cannot be kept
    assert reply["accepted"] == len(KEPT)
    assert reply["duplicates"] == [{"index": len(KEPT), "duplicate_of": KEPT.index(DUPLICATE)}]
    first_refused = len(KEPT) + 1
    assert [item["index"] for item in reply["rejected"]] == list(
        range(first_refused, first_refused + len(REFUSED))
    )
    for item, (_, reason) in zip(reply["rejected"], REFUSED, strict=True):
        assert reason in item["error"]

    # When the queues settle
    assert http.post(f"{stack.url}/_local/drain").status_code == 200
    # Then no queue holds a message: none waits for a retry, none reached a dead-letter queue
    queues = http.get(f"{stack.url}/_local/queues").json()
    assert any("DeadLetter" in name for name in queues), queues
    held = {name: counts for name, counts in queues.items() if any(counts.values())}
    assert held == {}

    # And every accepted event is in the contact's history, with what it carried
    response = http.get(f"{stack.url}/v1/admin/contacts", params={"email": EMAIL}, headers=admin_headers())
    assert response.status_code == 200, response.text
    contact = response.json()
    activities = contact["activities"]
    assert sorted(activity["type"] for activity in activities) == sorted(
        ["form_submit"] * 2 + [event["type"] for event in KEPT]
    )
    cases = {a["properties"]["case"]: a["properties"] for a in activities if a["type"] == "custom"}
    assert set(cases) == {"numbers", "deep", "text", "event-id", "stated-time"}
    # DynamoDB keeps decimal numbers: 9.999e125 comes back as the integer it is in decimal
    assert _decimal(cases["numbers"]["big"]) == Decimal("9.999e125")
    assert _decimal(cases["numbers"]["tiny"]) == Decimal("1e-130")
    assert cases["numbers"]["round"] == 10**39
    assert cases["numbers"]["digits"] == 12345678901234567890123456789012345678
    assert cases["text"]["multiline"] == "line one\nline two\twith a tab"
    assert cases["text"]["k" * 255] == "longest key"
    assert cases["text"]["\U0001f511 key"] == "emoji key"
    leaf = cases["deep"]["nest"]
    while "k" in leaf:
        leaf = leaf["k"]
    assert leaf == {"leaf": "end"}
    assert contact["fields"]["first_name"] == "Zo\u00eb \u05e9\u05dc\u05d5\u05dd\u200f \U0001f600"
    assert _decimal(contact["fields"]["seats"]) == Decimal("1e125")
    # And each kept event scored once: 2 forms x 5, 4 page views and 5 custom events x 1
    assert contact["score"] == 2 * 5 + 4 + 5
