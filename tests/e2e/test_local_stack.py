"""The local stack's machinery on a small fixture app: API Gateway events and replies, auth,
faults, SQS batches with partial failures and redrive, delayed messages, schedules, rules."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta

import pytest
import requests

from leadflow.clock import parse_iso
from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN, admin_headers, scan

pytestmark = pytest.mark.e2e

RESULTS = "leadflow-local-Results"


def echo(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


class TestHttpFront:
    def test_the_handler_gets_a_payload_2_event_with_every_part_of_the_request(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        # When a browser-like request with a path, a query, cookies and headers arrives
        response = http.get(
            f"{fixture_stack.url}/echo/a/b%20c?x=1&x=2&e=a%40b.com",
            headers={"Cookie": "lf_anon=anon1; theme=dark", "X-Custom": "yes"},
        )
        body = echo(response)
        event = body["event"]
        # Then the event carries them the way API Gateway does
        assert event["version"] == "2.0"
        assert event["routeKey"] == "ANY /echo/{proxy+}"
        assert event["pathParameters"] == {"proxy": "a/b c"}
        assert event["rawQueryString"] == "x=1&x=2&e=a%40b.com"
        assert event["queryStringParameters"] == {"x": "1,2", "e": "a@b.com"}
        assert event["cookies"] == ["lf_anon=anon1", "theme=dark"]
        assert event["headers"]["x-custom"] == "yes"
        assert "cookie" not in event["headers"]
        assert event["requestContext"]["requestId"] == response.headers["apigw-requestid"]
        assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
        # And the context and environment are Lambda's, pointed at the local stack
        assert body["function_name"] == "leadflow-local-ApiFunction"
        assert 0 < body["remaining_ms"] <= 5000
        assert body["public_url"] == fixture_stack.url

    def test_form_posts_arrive_base64_encoded(self, fixture_stack: DevStack, http: requests.Session) -> None:
        event = echo(http.post(f"{fixture_stack.url}/echo/form", data={"email": "ada@example.com"}))["event"]
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == b"email=ada%40example.com"

    def test_json_posts_arrive_as_text(self, fixture_stack: DevStack, http: requests.Session) -> None:
        event = echo(http.post(f"{fixture_stack.url}/echo/json", json={"a": 1}))["event"]
        assert event["isBase64Encoded"] is False
        assert json.loads(event["body"]) == {"a": 1}

    def test_reply_status_headers_and_every_cookie(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        response = http.get(f"{fixture_stack.url}/echo/cookies")
        assert response.headers["x-greeting"] == "hello"
        assert response.raw.headers.getlist("Set-Cookie") == ["first=1; Path=/", "second=2; Path=/"]

    def test_binary_reply_is_decoded_from_base64(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        response = http.get(f"{fixture_stack.url}/echo/pixel?shape=binary")
        assert response.content == b"GIF89a-binary"
        assert response.headers["content-type"] == "image/gif"

    def test_a_reply_without_status_code_is_200_json(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        response = http.get(f"{fixture_stack.url}/echo/bare?shape=bare")
        assert (response.status_code, response.json()) == (200, {"bare": True})

    def test_exact_route_beats_path_variable(self, fixture_stack: DevStack, http: requests.Session) -> None:
        assert (
            echo(http.get(f"{fixture_stack.url}/things/special"))["event"]["routeKey"]
            == "GET /things/special"
        )
        event = echo(http.get(f"{fixture_stack.url}/things/t-1"))["event"]
        assert (event["routeKey"], event["pathParameters"]) == ("GET /things/{thing_id}", {"thing_id": "t-1"})

    def test_unknown_route_is_404_in_the_api_error_shape(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        response = http.get(f"{fixture_stack.url}/nowhere")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        assert http.delete(f"{fixture_stack.url}/things/t-1").status_code == 404

    def test_a_raising_handler_answers_500_with_a_request_id_and_the_stack_keeps_serving(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        response = http.post(f"{fixture_stack.url}/boom")
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["code"] == "internal"
        assert error["request_id"] == response.headers["apigw-requestid"]
        assert http.get(f"{fixture_stack.url}/things/special").status_code == 200

    def test_iam_route_needs_the_bearer_token(self, fixture_stack: DevStack, http: requests.Session) -> None:
        url = f"{fixture_stack.url}/private"
        missing = http.get(url)
        assert (missing.status_code, missing.json()["error"]["code"]) == (401, "unauthorized")
        wrong = http.get(url, headers={"Authorization": "Bearer nope"})
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "forbidden")
        event = echo(http.get(url, headers=admin_headers()))["event"]
        assert event["requestContext"]["authorizer"]["iam"]["userArn"].endswith(":user/leadflow-local-admin")
        assert fixture_stack.admin_token == TOKEN


class TestQueues:
    def test_a_poison_message_reaches_the_dlq_after_max_receives_and_its_batch_mates_succeed(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        # Given a poison message and a good one sent together
        for message in ("poison", "good-1"):
            assert http.post(f"{fixture_stack.url}/send", json={"message": message}).status_code == 202
        # When the queue is drained, Then the good one is processed once and the poison one waits
        fixture_stack.drain()
        assert [item["body"] for item in scan(fixture_stack, RESULTS, "work")] == ["good-1"]
        counts = fixture_stack.queue_counts()
        assert counts["leadflow-local-WorkQueue"]["in_flight"] == 1
        assert counts["leadflow-local-WorkDeadLetterQueue"]["visible"] == 0
        # When time passes its visibility timeout twice (maxReceiveCount 2)
        report = fixture_stack.advance("2m")
        # Then it was retried and now waits in the dead-letter queue
        assert report.messages_processed >= 1
        counts = fixture_stack.queue_counts()
        assert counts["leadflow-local-WorkQueue"] == {"visible": 0, "in_flight": 0, "delayed": 0}
        assert counts["leadflow-local-WorkDeadLetterQueue"]["visible"] == 1

    def test_pausing_holds_messages_in_the_queue_until_resumed(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        paused = http.post(f"{fixture_stack.url}/_local/pause", json={"paused": True})
        assert paused.json() == {"paused": True}
        try:
            http.post(f"{fixture_stack.url}/send", json={"message": "held"})
            assert fixture_stack.queue_counts()["leadflow-local-WorkQueue"]["visible"] == 1
            assert "held" not in [item["body"] for item in scan(fixture_stack, RESULTS, "work")]
        finally:
            assert http.post(f"{fixture_stack.url}/_local/pause", json={"paused": False}).json() == {
                "paused": False
            }
        fixture_stack.drain()
        assert "held" in [item["body"] for item in scan(fixture_stack, RESULTS, "work")]

    def test_a_delayed_message_is_processed_when_the_clock_reaches_it(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        sent_at = fixture_stack.now()
        http.post(f"{fixture_stack.url}/send", json={"message": "later", "delay": 600})
        fixture_stack.drain()
        assert "later" not in [item["body"] for item in scan(fixture_stack, RESULTS, "work")]
        fixture_stack.advance("11m")
        (item,) = [item for item in scan(fixture_stack, RESULTS, "work") if item["body"] == "later"]
        assert parse_iso(item["processed_at"]) - sent_at >= timedelta(minutes=10)


class TestTime:
    def test_a_schedule_fires_at_its_rate_on_the_stack_clock(self, fixture_stack: DevStack) -> None:
        before = len(scan(fixture_stack, RESULTS, "tick"))
        report = fixture_stack.advance("15m")
        ticks = scan(fixture_stack, RESULTS, "tick")
        assert report.schedule_firings == 3
        assert len(ticks) == before + 3
        newest = json.loads(ticks[-1]["event"])
        assert newest["kind"] == "tick"
        assert newest["scheduled"].endswith("Z")  # Scheduler's context placeholder was filled in

    def test_a_failing_schedule_is_retried_then_parked_in_its_dead_letter_queue(
        self, fixture_stack: DevStack
    ) -> None:
        # Given a weekly schedule whose job always fails, with one retry and a dead-letter queue
        sqs = fixture_stack.client("sqs")
        url = sqs.get_queue_url(QueueName="leadflow-local-JobsDeadLetterQueue")["QueueUrl"]
        # When a week passes
        fixture_stack.advance("7d")
        # Then the firing was tried twice and parked with Scheduler's attributes, not dropped
        (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
            "Messages"
        ]
        assert json.loads(message["Body"]) == {"kind": "fail"}
        attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
        assert attributes["RETRY_ATTEMPTS"] == "1"
        assert attributes["ERROR_MESSAGE"] == "this job always fails"
        assert attributes["TARGET_ARN"].endswith(":function:leadflow-local-JobsFunction")
        weekly = next(entry for entry in fixture_stack.schedules() if entry["name"] == "JobsFunctionWeekly")
        assert weekly["failures"] == 1

    def test_clock_over_http(self, fixture_stack: DevStack, http: requests.Session) -> None:
        before = http.get(f"{fixture_stack.url}/_local/clock").json()["now"]
        answer = http.post(f"{fixture_stack.url}/_local/clock", json={"advance": "3d"})
        assert answer.status_code == 200, answer.text
        moved = parse_iso(answer.json()["now"]) - parse_iso(before)
        assert 3 * 86400 <= moved.total_seconds() < 3 * 86400 + 60
        refused = http.post(f"{fixture_stack.url}/_local/clock", json={"advance": "soon"})
        assert (refused.status_code, refused.json()["error"]["code"]) == (422, "validation_failed")


class TestEventBridge:
    def test_a_rule_delivers_matching_events_to_its_function(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        http.post(f"{fixture_stack.url}/send", json={"event": "Signal", "detail": {"n": 7}})
        http.post(f"{fixture_stack.url}/send", json={"event": "Unrelated", "detail": {"n": 8}})
        fixture_stack.drain()
        events = [json.loads(item["event"]) for item in scan(fixture_stack, RESULTS, "event")]
        assert [(event["detail-type"], event["detail"]) for event in events] == [("Signal", {"n": 7})]
        assert events[0]["source"] == "fixture"
        assert "ingestion-time" not in events[0]

    def test_a_rule_with_input_path_delivers_to_a_queue(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        http.post(f"{fixture_stack.url}/send", json={"event": "Copy", "detail": {"b": 2}})
        fixture_stack.drain()
        sqs = fixture_stack.client("sqs")
        url = sqs.get_queue_url(QueueName="leadflow-local-CopyQueue")["QueueUrl"]
        (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert json.loads(message["Body"]) == {"b": 2}


class TestResources:
    def test_the_summary_names_what_is_not_needed_locally(self, fixture_stack: DevStack) -> None:
        assert any(
            line.startswith("Not needed locally: ") and "AWS::Logs::LogGroup x1" in line
            for line in fixture_stack.summary
        ), fixture_stack.summary
        assert fixture_stack.warnings == []

    def test_table_ttl_and_generated_secret_exist_as_the_template_says(self, fixture_stack: DevStack) -> None:
        ttl = fixture_stack.client("dynamodb").describe_time_to_live(TableName=RESULTS)[
            "TimeToLiveDescription"
        ]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
        secret = fixture_stack.client("secretsmanager").get_secret_value(
            SecretId=os.environ["SIGNING_SECRET_ARN"]
        )
        assert len(secret["SecretString"]) == 40

    def test_local_routes_describe_queues_and_schedules(
        self, fixture_stack: DevStack, http: requests.Session
    ) -> None:
        assert "leadflow-local-WorkQueue" in http.get(f"{fixture_stack.url}/_local/queues").json()
        schedules = {
            entry["name"]: entry for entry in http.get(f"{fixture_stack.url}/_local/schedules").json()
        }
        assert schedules["JobsFunctionTick"]["expression"] == "rate(5 minutes)"
        assert schedules["JobsFunctionWeekly"]["expression"] == "rate(7 days)"
        assert http.get(f"{fixture_stack.url}/_local/nothing").json()["error"]["code"] == "not_found"
