"""API Gateway HTTP API (payload 2.0) emulation: route choice, event shape, reply translation."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from leadflow_local.apigw import (
    HttpRequest,
    MalformedResponseError,
    RouteTable,
    build_event,
    error_response,
    is_text,
    translate_response,
)
from leadflow_local.errors import TemplateError
from leadflow_local.template import RouteSpec

NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=UTC)


def route(method: str, path: str, authorizer: str | None = None) -> RouteSpec:
    return RouteSpec(api="Api", method=method, path=path, function="Fn", authorizer=authorizer)


def event_for(
    request: HttpRequest, spec: RouteSpec | None = None, params: dict[str, str] | None = None
) -> dict:
    return build_event(
        spec or route("POST", "/v1/forms/{form_id}/submissions"),
        params or {},
        request,
        request_id="Req1=",
        now=NOW,
        api_id="api",
        account="123456789012",
    )


class TestRouteTable:
    def test_exact_route_wins_over_a_path_variable_and_a_greedy_one(self) -> None:
        # Given an exact, a variable and a greedy route that all match /things/special
        table = RouteTable(
            [route("GET", "/things/{id}"), route("GET", "/things/special"), route("ANY", "/{proxy+}")]
        )
        # When it is matched, Then the exact route is chosen
        assert table.match("GET", "/things/special") == (route("GET", "/things/special"), {})

    def test_path_variable_is_decoded_and_keeps_an_encoded_slash(self) -> None:
        table = RouteTable([route("GET", "/things/{id}")])
        assert table.match("GET", "/things/a%2Fb%20c") == (route("GET", "/things/{id}"), {"id": "a/b c"})

    def test_greedy_variable_takes_the_rest_but_needs_one_segment(self) -> None:
        table = RouteTable([route("ANY", "/v1/admin/{proxy+}")])
        assert table.match("DELETE", "/v1/admin/contacts/c1") == (
            route("ANY", "/v1/admin/{proxy+}"),
            {"proxy": "contacts/c1"},
        )
        assert table.match("GET", "/v1/admin") is None
        assert table.match("GET", "/v1/admin/") is None

    def test_method_must_match_unless_any_and_exact_method_beats_any(self) -> None:
        table = RouteTable([route("POST", "/x"), route("ANY", "/y"), route("GET", "/y")])
        assert table.match("GET", "/x") is None
        assert table.match("GET", "/y") == (route("GET", "/y"), {})
        assert table.match("PUT", "/y") == (route("ANY", "/y"), {})

    def test_default_route_catches_what_nothing_else_matches(self) -> None:
        table = RouteTable([route("GET", "/a"), route("ANY", "$default")])
        assert table.match("POST", "/anything/else") == (route("ANY", "$default"), {})

    def test_a_route_declared_twice_is_refused(self) -> None:
        with pytest.raises(TemplateError, match="declared by"):
            RouteTable([route("GET", "/a"), route("GET", "/a")])


class TestBuildEvent:
    def test_headers_are_lower_case_and_repeated_ones_joined_by_commas(self) -> None:
        request = HttpRequest("GET", "/a", [("X-Tag", "one"), ("x-tag", "two"), ("Host", "127.0.0.1:3000")])
        event = event_for(request, route("GET", "/a"))
        assert event["headers"]["x-tag"] == "one,two"
        assert event["headers"]["host"] == "127.0.0.1:3000"
        assert event["headers"]["x-forwarded-port"] == "3000"

    def test_cookies_leave_the_headers_for_the_cookies_list(self) -> None:
        request = HttpRequest("GET", "/a", [("Cookie", "a=1; b=2"), ("Cookie", "c=3")])
        event = event_for(request, route("GET", "/a"))
        assert event["cookies"] == ["a=1", "b=2", "c=3"]
        assert "cookie" not in event["headers"]

    def test_query_string_is_raw_and_parsed_with_repeats_joined(self) -> None:
        event = event_for(HttpRequest("GET", "/a?x=1&x=2&e=a%40b.com&blank=", []), route("GET", "/a"))
        assert event["rawQueryString"] == "x=1&x=2&e=a%40b.com&blank="
        assert event["queryStringParameters"] == {"x": "1,2", "e": "a@b.com", "blank": ""}

    def test_json_body_is_text(self) -> None:
        body = json.dumps({"fields": {"email": "ada@example.com"}}).encode()
        event = event_for(
            HttpRequest("POST", "/v1/forms/f/submissions", [("Content-Type", "application/json")], body)
        )
        assert event["isBase64Encoded"] is False
        assert event["body"] == body.decode()

    def test_form_post_body_arrives_base64_encoded_as_from_api_gateway(self) -> None:
        body = b"email=ada%40example.com&consent=on"
        request = HttpRequest(
            "POST", "/v1/forms/f/submissions", [("Content-Type", "application/x-www-form-urlencoded")], body
        )
        event = event_for(request, params={"form_id": "f"})
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == body
        assert event["pathParameters"] == {"form_id": "f"}

    def test_no_body_means_no_body_key_and_no_optional_sections(self) -> None:
        event = event_for(HttpRequest("GET", "/a", []), route("GET", "/a"))
        assert not {"body", "queryStringParameters", "pathParameters", "cookies"} & set(event)

    def test_request_context_carries_route_request_id_and_time(self) -> None:
        request = HttpRequest("POST", "/v1/forms/f/submissions", [("User-Agent", "ua")], source_ip="10.0.0.7")
        context = event_for(request)["requestContext"]
        assert context["requestId"] == "Req1="
        assert context["routeKey"] == "POST /v1/forms/{form_id}/submissions"
        assert context["http"] == {
            "method": "POST",
            "path": "/v1/forms/f/submissions",
            "protocol": "HTTP/1.1",
            "sourceIp": "10.0.0.7",
            "userAgent": "ua",
        }
        assert context["time"] == "24/Nov/2026:12:30:05 +0000"
        assert context["timeEpoch"] == int(NOW.timestamp() * 1000)


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("application/problem+json", True),
        ("text/csv", True),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/octet-stream", False),
        (None, False),
    ],
)
def test_which_bodies_api_gateway_passes_as_text(content_type: str | None, text: bool) -> None:
    assert is_text(content_type) is text


class TestTranslateResponse:
    def test_structured_reply_keeps_status_headers_cookies_and_body(self) -> None:
        response = translate_response(
            {"statusCode": 303, "headers": {"Location": "/thanks"}, "cookies": ["a=1", "b=2"], "body": ""}
        )
        assert response.status == 303
        assert ("Location", "/thanks") in response.headers
        assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]

    def test_base64_body_is_decoded(self) -> None:
        gif = b"GIF89a\x01\x00"
        response = translate_response(
            {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(gif).decode()}
        )
        assert response.body == gif

    def test_a_reply_without_status_code_is_json_with_200(self) -> None:
        response = translate_response({"ok": True})
        assert (response.status, response.header("content-type"), response.body) == (
            200,
            "application/json",
            b'{"ok": true}',
        )

    @pytest.mark.parametrize(
        "reply", [{"statusCode": "200"}, {"statusCode": 99}, {"statusCode": 200, "body": {}}]
    )
    def test_malformed_replies_are_refused(self, reply: dict) -> None:
        with pytest.raises(MalformedResponseError):
            translate_response(reply)


def test_error_response_has_the_api_error_shape() -> None:
    response = error_response(404, "not_found", "no route", request_id="r1")
    assert json.loads(response.body) == {
        "error": {"code": "not_found", "message": "no route", "request_id": "r1"}
    }
