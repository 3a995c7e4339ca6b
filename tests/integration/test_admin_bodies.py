"""The admin definitions parser: a bundle no parser can read is a 422 listing why, never a 500."""

from __future__ import annotations

import pytest

from tests.support.events import json_body


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ('{"forms": ' + "[" * 20_000 + "]" * 20_000 + "}", "application/json", "nested too deeply"),
        ("forms: " + "[" * 20_000 + "]" * 20_000, "application/yaml", "YAML syntax error"),
        ('{"forms": ' + "1" * 5000 + "}", "application/json", "JSON error"),
    ],
)
def test_unreadable_bundles_are_422(admin, aws, body, content_type, message):
    response = admin(
        "PUT", "/v1/admin/definitions", body=body, headers={"content-type": content_type}, iam=True
    )
    assert response["statusCode"] == 422, response["body"]
    assert message in json_body(response)["error"]["fields"]["bundle"]
