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


def _cursor(state: object) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        _cursor([1]),
        _cursor({"shard": 99}),
        _cursor({"shard": 0, "key": {"pk": {"N": "1"}, "sk": {"S": "CONTACT#x"}}}),
        _cursor({"shard": 0, "key": {"pk": {"S": "LIST#other-list#00"}, "sk": {"S": "CONTACT#x"}}}),
        _cursor({"shard": 0, "key": {"pk": {"S": "LIST#hot-leads#00"}, "sk": {"S": "CONTACT#" + "x" * 500}}}),
        _cursor({"shard": 0, "key": "[[[["}),
    ],
)
def test_a_cursor_that_is_not_one_this_api_returned_is_422(admin, aws, apply_bundle, cursor):
    # The client sends the cursor back: it became DynamoDB's ExclusiveStartKey as it was
    from tests.support.bundles import scoring_bundle

    apply_bundle(scoring_bundle())
    response = admin(
        "GET",
        "/v1/admin/segments/hot-leads/members",
        iam=True,
        path_parameters={"list_id": "hot-leads"},
        query={"cursor": cursor},
    )
    assert response["statusCode"] == 422, response["body"]
    assert "cursor" in json_body(response)["error"]["fields"]
