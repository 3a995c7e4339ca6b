"""Shared fixtures: a small valid bundle to break on purpose, and a helper that lists its problems."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leadflow.definitions import DefinitionsError, parse_bundle

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[3] / "examples"

_SMALL: dict[str, Any] = {
    "campaigns": [
        {"id": "webinar", "kind": "ma", "name": "Webinar", "connected_crm_campaign": "crm-webinar"},
        {
            "id": "crm-webinar",
            "kind": "crm",
            "name": "Webinar (sales)",
            "member_statuses": [
                {"name": "Sent", "default": True},
                {"name": "Registered", "responded": True},
                {"name": "Attended", "responded": True},
            ],
        },
        {"id": "crm-events", "kind": "crm", "name": "Events"},
    ],
    "forms": [
        {
            "id": "signup",
            "campaign": "webinar",
            "fields": [
                {"name": "email", "type": "email", "required": True},
                {"name": "first_name", "type": "text"},
            ],
            "allowed_origins": ["https://www.example.com"],
            "on_submit": [{"add_tags": ["webinar"]}, {"enroll": "followup"}, {"add_to_list": "registrants"}],
        }
    ],
    "scoring": {
        "rules": [{"id": "open", "when": {"activity": "email_open"}, "points": 10}],
        "qualify": {"mql_score": 100, "actions": [{"add_to_crm_campaign": {"campaign": "crm-events"}}]},
    },
    "lists": [
        {"id": "registrants", "kind": "static"},
        {"id": "hot", "kind": "segment", "where": {"temperature": "hot"}},
    ],
    "flows": [
        {
            "id": "followup",
            "campaign": "webinar",
            "trigger": {"form_submitted": "signup"},
            "steps": [
                {"id": "invite", "send_email": {"template": "invite"}},
                {"id": "pause", "wait": "2d"},
                {"id": "check", "branch": {"if": {"score_at_least": 50}, "then": "call", "else": "end"}},
                {"id": "call", "sales_task": {"channel": "phone", "note": "call"}},
            ],
        }
    ],
    "email_templates": [{"id": "invite", "subject": "Hi {{ first_name }}", "html": "<p>Hi</p>"}],
    "sync_rules": [
        {
            "id": "to-sales",
            "direction": "ma_to_crm",
            "when": {"ma_campaign": "webinar", "score_at_least": 50},
            "then": {"add_to_crm_campaign": "crm-webinar", "status": "Registered"},
        },
        {
            "id": "attendees",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "crm-webinar", "status": "Attended"},
            "then": {"add_to_list": "registrants", "enroll": "followup"},
        },
    ],
    "sites": [{"id": "www", "write_key": "wk_www_123456", "allowed_origins": ["https://www.example.com"]}],
}


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of a small, valid bundle that exercises every section; tests break it on purpose."""
    return copy.deepcopy(_SMALL)


@pytest.fixture
def problems() -> Callable[..., list[str]]:
    """``problems(document)``: the problem lines ``parse_bundle`` reports; fails the test when it accepts."""

    def run(document: Any, **kwargs: Any) -> list[str]:
        with pytest.raises(DefinitionsError) as caught:
            parse_bundle(document, **kwargs)
        return [str(problem) for problem in caught.value.problems]

    return run


@pytest.fixture
def example_text() -> Callable[[str], str]:
    """The text of a bundle in examples/ or in this folder's fixtures/."""

    def read(name: str) -> str:
        path = EXAMPLES / name if (EXAMPLES / name).exists() else FIXTURES / name
        return path.read_text(encoding="utf-8")

    return read
