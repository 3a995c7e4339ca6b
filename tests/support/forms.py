"""Submitting a form through the capture handler, as the integration tests' websites do."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.events import json_body


def submitted_contact(
    capture: Callable[..., dict[str, Any]],
    fields: dict[str, Any],
    *,
    context: dict[str, Any] | None = None,
    form: str = "webinar-signup",
) -> str:
    """Posts a JSON submission, insists on 202, and returns the contact id."""
    body: dict[str, Any] = {"fields": fields}
    if context:
        body["context"] = context
    response = capture(
        "POST",
        f"/v1/forms/{form}/submissions",
        body=json.dumps(body),
        headers={"content-type": "application/json"},
        path_parameters={"form_id": form},
    )
    assert response["statusCode"] == 202, response["body"]
    return json_body(response)["contact_id"]
