"""Driving imports in integration tests: the bundle they import into, posting files, running the worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import functions, queues
from tests.support.bundles import capture_bundle

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PINPOINT_EXPORT = FIXTURES / "pinpoint" / "export.jsonl"
PINPOINT_EXPORT_GZ = FIXTURES / "pinpoint" / "export.jsonl.gz"


def import_bundle() -> dict[str, Any]:
    """The capture bundle (its form defines first_name, company, role...) with CRM campaigns and lists."""
    bundle = capture_bundle()
    bundle["campaigns"] += [
        {
            "id": "expo-2026",
            "kind": "crm",
            "name": "Expo 2026",
            "status": "active",
            "member_statuses": [
                {"name": "Invited", "default": True},
                {"name": "Registered"},
                {"name": "Attended", "responded": True},
            ],
        },
        {"id": "old-expo", "kind": "crm", "name": "Old expo", "status": "completed"},
    ]
    bundle["lists"] = [
        *bundle.get("lists", []),
        {"id": "pinpoint-users", "kind": "static"},
        {"id": "engaged", "kind": "segment", "where": {"subscribed": True}},
    ]
    return bundle


def run_imports(aws: Any, *, rounds: int = 200) -> int:
    """Runs the import worker until its queue is empty; returns the batches run."""
    handler = functions.load("imports").lambda_handler
    return queues.drain(handler, aws.queues["ImportQueue"], rounds=rounds)


def import_view(admin: Any, import_id: str) -> dict[str, Any]:
    response = admin("GET", f"/v1/admin/imports/{import_id}", iam=True)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def contact_by_email(admin: Any, email: str) -> dict[str, Any]:
    response = admin("GET", "/v1/admin/contacts", query={"email": email}, iam=True)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])
