"""Paths and parameters as API Gateway delivers them reach the right handler, whatever they hold.

API Gateway picks the route on the encoded path and hands the function the decoded one, so a
token with ``%2F`` arrives with a slash, and any character may arrive in a parameter. Hostile
inputs found by the API fuzz (tests/e2e/test_api_fuzz.py) live here as plain examples.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from leadflow.api.resolver import route_pattern
from tests.integration.test_tracking import get_link, queued, sign, signing_secret, track  # noqa: F401
from tests.support.bundles import scoring_bundle
from tests.support.events import json_body

#: Decoded tokens: a slash (from %2F), URI delimiters, dots, a NUL and other controls, scripts
#: and emoji, a percent sign (from %25), spaces, quotes and backslashes.
ODD_TOKENS = [
    "a/b",
    "/",
    "a/b/c/",
    '"#?&=',
    ".",
    "..",
    "\x00",
    "a\nb",
    "\t",
    "ünïcødé",
    "日本",
    "😀",
    "%41",
    " x ",
    "`\\'",
]


def _gif(response: dict[str, Any]) -> bytes:
    assert response["isBase64Encoded"] is True
    return base64.b64decode(response["body"])


@pytest.mark.parametrize("token", ODD_TOKENS)
def test_the_open_pixel_answers_the_gif_to_any_token(track, aws, token):  # noqa: F811
    response = get_link(track, "o", token)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "image/gif"
    assert _gif(response).startswith(b"GIF89a")
    assert queued(aws) == []


@pytest.mark.parametrize("token", ODD_TOKENS)
def test_a_click_with_any_odd_token_is_its_documented_400(track, aws, token):  # noqa: F811
    response = get_link(track, "c", token)
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "validation_failed"
    assert "Location" not in response["headers"]


def test_a_genuine_pixel_token_still_records_its_open(track, aws):  # noqa: F811
    assert get_link(track, "o", sign("o"))["statusCode"] == 200
    assert [message["type"] for message in queued(aws)] == ["email_open"]


def test_a_contact_id_with_a_decoded_slash_is_no_route_in_the_error_shape(admin):
    response = admin("GET", "/v1/admin/contacts/a/b", iam=True)
    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("rule", "path", "matches"),
    [
        ("/v1/leadflow.js", "/v1/leadflow.js", True),
        ("/v1/leadflow.js", "/v1/leadflowXjs", False),  # a dot is a dot
        ("/v1/leadflow.js", "/v1/leadflow.js\n", False),  # the whole path, not up to a newline
        ("/v1/admin/contacts/<contact_id>", "/v1/admin/contacts/c_1", True),
        ("/v1/admin/contacts/<contact_id>", "/v1/admin/contacts/c_1/score", False),
        ("/v1/admin/contacts/<contact_id>/score", '/v1/admin/contacts/"#?\x00😀/score', True),
        ("/v1/t/o/<token>", "/v1/t/o/a/b/c", True),  # a token takes the rest of the path
        ("/v1/t/o/<token>", "/v1/t/o/", False),
    ],
)
def test_route_patterns_match_whole_decoded_paths(rule, path, matches):
    assert bool(route_pattern(rule).match(path)) is matches


def _cursor(state: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _cursor([]),
        _cursor({"shard": 99, "key": None}),
        _cursor({"shard": -1, "key": None}),
        _cursor({"shard": 0, "key": "x"}),  # reached DynamoDB as ExclusiveStartKey: a 500
        _cursor({"shard": 0, "key": {"pk": {"S": "LIST#other#00"}, "sk": {"S": "CONTACT#c_1"}}}),
        _cursor({"shard": 0, "key": {"pk": {"S": "LIST#hot-leads#00"}, "sk": {"N": "1"}}}),
        _cursor(
            {"shard": 0, "key": {"pk": {"S": "LIST#hot-leads#00"}, "sk": {"S": "CONTACT#" + "x" * 1100}}}
        ),
    ],
)
def test_a_list_cursor_this_api_did_not_return_is_422(admin, apply_bundle, cursor):
    apply_bundle(scoring_bundle())
    response = admin("GET", "/v1/admin/segments/hot-leads/members", query={"cursor": cursor}, iam=True)
    assert response["statusCode"] == 422, response["body"]
    assert json_body(response)["error"]["fields"] == {"cursor": "not a cursor this API returned"}
