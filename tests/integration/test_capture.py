"""Form capture through the real handler on moto: the contract of POST /v1/forms/{id}/submissions."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from tests.support.bundles import ORIGIN
from tests.support.events import json_body

PATH = "/v1/forms/webinar-signup/submissions"
ROUTE = "POST /v1/forms/{form_id}/submissions"
JSON = {"content-type": "application/json"}
GOOD = {"email": "Ann.Lee@Example.COM", "first_name": "Ann", "consent": True}


def post_json(capture, payload: Any, *, form: str = "webinar-signup", headers: dict[str, str] | None = None):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return capture(
        "POST",
        f"/v1/forms/{form}/submissions",
        body=body,
        headers={**JSON, **(headers or {})},
        route_key=ROUTE,
        path_parameters={"form_id": form},
    )


def post_native(
    capture, fields: dict[str, str], *, form: str = "webinar-signup", headers: dict[str, str] | None = None
):
    return capture(
        "POST",
        f"/v1/forms/{form}/submissions",
        body=urlencode(fields).encode(),
        headers={"content-type": "application/x-www-form-urlencoded", "origin": ORIGIN, **(headers or {})},
        route_key=ROUTE,
        path_parameters={"form_id": form},
    )


def contact_items(stack) -> list[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(stack.tables["ContactsTable"])
    return table.scan()["Items"]


def of_kind(items: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [item for item in items if item["sk"].startswith(prefix)]


def queued_messages(stack) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=stack.queues["ActivityQueue"], MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not batch:
            return messages
        messages += [json.loads(message["Body"]) for message in batch]


# ---------------------------------------------------------------- accepted submissions


def test_json_submission_creates_contact_joins_campaign_and_enqueues(capture, admin, aws, bundle_applied):
    # Given a form in MA campaign webinar-q3, when a JSON submission arrives with context
    response = post_json(
        capture,
        {
            "fields": {**GOOD, "unknown": "x"},
            "context": {"utm_source": "newsletter", "page_url": "https://e.com/w"},
        },
        headers={"origin": ORIGIN},
    )
    # Then the reply is 202 with the ids, the campaign and the ignored field
    assert response["statusCode"] == 202, response["body"]
    reply = json_body(response)
    assert reply["ma_campaign_id"] == "webinar-q3"
    assert reply["ignored_fields"] == ["unknown"]
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    # And the contact, its activity and its first-touch attribution are stored
    view = json_body(
        admin(
            "GET",
            f"/v1/admin/contacts/{reply['contact_id']}",
            iam=True,
            route_key="GET /v1/admin/contacts/{contact_id}",
            path_parameters={"contact_id": reply["contact_id"]},
        )
    )
    assert view["email"] == "Ann.Lee@example.com"
    assert view["status"] == "subscribed"
    assert view["fields"] == {"first_name": "Ann"}
    assert view["attribution"] == {"utm_source": "newsletter", "page_url": "https://e.com/w"}
    assert [activity["type"] for activity in view["activities"]] == ["form_submit"]
    # And the activity went to the processor's queue with what capture did
    [message] = queued_messages(aws)
    assert message["activity_id"] == reply["submission_id"]
    assert message["contact_id"] == reply["contact_id"]
    assert message["facts"]["contact_created"] is True
    assert message["facts"]["ma_campaign_joined"] == "webinar-q3"


def test_native_post_redirects_to_thank_you_page(capture, bundle_applied):
    response = post_native(capture, {"email": "bo@example.com", "consent": "on", "utm_campaign": "q3"})
    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "https://www.example.com/thanks"


def test_native_multipart_post_is_accepted(capture, admin, bundle_applied):
    boundary = "----leadflow"
    parts = [("email", "mp@example.com"), ("consent", "on"), ("first_name", "Zoë")]
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in parts
        )
        + f"--{boundary}--\r\n"
    )
    response = capture(
        "POST",
        PATH,
        body=body.encode(),
        route_key=ROUTE,
        path_parameters={"form_id": "webinar-signup"},
        headers={"content-type": f"multipart/form-data; boundary={boundary}", "origin": ORIGIN},
    )
    assert response["statusCode"] == 303, response["body"]
    view = json_body(admin("GET", "/v1/admin/contacts", query={"email": "mp@example.com"}, iam=True))
    assert view["fields"]["first_name"] == "Zoë"


def test_native_post_without_redirect_url_gets_thank_you_page(capture, apply_bundle):
    from tests.support.bundles import capture_bundle

    apply_bundle(capture_bundle(redirect_url=None))
    response = post_native(capture, {"email": "bo@example.com", "consent": "on"})
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "Thank you" in response["body"]


def test_returning_contact_is_updated_not_duplicated_and_keeps_first_campaign(
    capture, admin, aws, bundle_applied
):
    first = json_body(post_json(capture, {"fields": {**GOOD, "company": "Acme"}}))
    # When the same person (other letter case) submits another campaign's form with an empty company
    second = json_body(
        post_json(capture, {"fields": {"email": "ann.lee@example.com", "company": ""}}, form="ebook")
    )
    third = json_body(
        post_json(
            capture, {"fields": {"email": "ANN.LEE@example.com", "first_name": "Annie", "consent": True}}
        )
    )
    # Then it is one contact, still in its first MA campaign, new non-empty values won, empty ones erased nothing
    assert first["contact_id"] == second["contact_id"] == third["contact_id"]
    assert second["ma_campaign_id"] == "webinar-q3"
    view = json_body(admin("GET", "/v1/admin/contacts", query={"email": "ann.lee@example.com"}, iam=True))
    assert view["fields"] == {"first_name": "Annie", "company": "Acme"}
    assert view["ma_campaign_id"] == "webinar-q3"
    assert len(view["activities"]) == 3
    items = contact_items(aws)
    assert len(of_kind(items, "PROFILE")) == 1


def test_double_opt_in_form_creates_pending_contact(capture, admin, bundle_applied):
    response = post_json(capture, {"fields": {"email": "dee@example.com"}}, form="newsletter")
    assert response["statusCode"] == 202
    view = json_body(admin("GET", "/v1/admin/contacts", query={"email": "dee@example.com"}, iam=True))
    assert view["status"] == "pending"
    assert view["ma_campaign_id"] is None


def test_honeypot_reply_looks_normal_and_stores_nothing(capture, aws, bundle_applied):
    response = post_json(capture, {"fields": {**GOOD, "website": "http://spam.example"}})
    assert response["statusCode"] == 202
    assert json_body(response)["contact_id"]
    assert contact_items(aws) == []
    assert queued_messages(aws) == []


# ---------------------------------------------------------------- idempotency and concurrency


def test_replay_with_same_idempotency_key_returns_first_reply_and_records_once(capture, aws, bundle_applied):
    headers = {"idempotency-key": "abc-123"}
    first = post_json(capture, {"fields": GOOD}, headers=headers)
    second = post_json(capture, {"fields": GOOD}, headers=headers)
    assert first["statusCode"] == second["statusCode"] == 202
    assert json_body(first) == json_body(second)
    assert len(of_kind(contact_items(aws), "ACT#")) == 1
    assert len(queued_messages(aws)) == 1


def test_submission_id_field_works_like_the_header(capture, aws, bundle_applied):
    payload = {"fields": GOOD, "submission_id": "client-42"}
    assert json_body(post_json(capture, payload)) == json_body(post_json(capture, payload))
    assert len(of_kind(contact_items(aws), "ACT#")) == 1


def test_idempotency_key_reused_for_other_payload_is_a_conflict(capture, bundle_applied):
    post_json(capture, {"fields": GOOD}, headers={"idempotency-key": "k1"})
    response = post_json(capture, {"fields": {**GOOD, "company": "Other"}}, headers={"idempotency-key": "k1"})
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["code"] == "conflict"


def test_twenty_concurrent_first_submissions_make_one_contact_and_twenty_activities(aws_server):
    # Given the capture service on moto's threaded server (real HTTP, real retries)
    from leadflow.services import capture, definitions
    from tests.support.bundles import capture_bundle

    definitions.apply(
        json.dumps(capture_bundle()), content_type="application/json", dry_run=False, applied_by=None
    )

    def submit(index: int) -> str:
        request = capture.SubmissionRequest(fields={**GOOD, "company": f"Co {index}"})
        return capture.submit("webinar-signup", request).reply.contact_id

    # When twenty first submissions with one email arrive at once
    with ThreadPoolExecutor(max_workers=20) as pool:
        contact_ids = list(pool.map(submit, range(20)))
    # Then there is exactly one contact, one email guard, and twenty activities
    assert len(set(contact_ids)) == 1
    items = contact_items(aws_server)
    assert len(of_kind(items, "PROFILE")) == 1
    assert len([item for item in items if item["pk"].startswith("EMAIL#")]) == 1
    assert len(of_kind(items, "ACT#")) == 20
    assert len(queued_messages(aws_server)) == 20


def test_database_failure_answers_retryable_5xx_and_leaves_nothing_half_written(capture, aws, bundle_applied):
    from botocore.exceptions import ClientError

    from leadflow import aws as clients

    def fail(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
            "TransactWriteItems",
        )

    clients.client("dynamodb").meta.events.register("before-call.dynamodb.TransactWriteItems", fail)
    try:
        response = post_json(capture, {"fields": GOOD})
    finally:
        clients.client("dynamodb").meta.events.unregister("before-call.dynamodb.TransactWriteItems", fail)
    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "temporarily_unavailable"
    assert contact_items(aws) == []
    assert queued_messages(aws) == []
    # And the client's retry succeeds
    assert post_json(capture, {"fields": GOOD})["statusCode"] == 202


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ('{"fields": {"email": ', "body", "malformed JSON"),
        ("[1, 2]", "body", "expected a JSON object"),
        (b"\xff\xfe{}", "body", "not valid UTF-8"),
        ({"fields": {"first_name": "Ann", "consent": True}}, "email", "required"),
        ({"fields": {"email": "not-an-email", "consent": True}}, "email", "not a valid email"),
        ({"fields": {**GOOD, "first_name": "x" * 21}}, "first_name", "at most 20"),
        ({"fields": {**GOOD, "role": "CEO"}}, "role", "must be one of"),
        ({"fields": {**GOOD, "consent": False}}, "consent", "consent is required"),
        ({"fields": {"email": "a@example.com"}}, "consent", "consent is required"),
        ({"fields": {**GOOD, "seats": "many"}}, "seats", "expected a number"),
        ({"fields": {**GOOD, "phone": "call me"}}, "phone", "not a valid phone"),
        ({"fields": {**GOOD, "start": "31/12/2026"}}, "start", "YYYY-MM-DD"),
        ({"fields": "email=a@b.c"}, "fields", "expected an object"),
        ({"fields": GOOD, "contxt": {}}, "contxt", "unknown key"),
    ],
)
def test_invalid_submission_is_422_with_a_message_per_field(
    capture, aws, bundle_applied, body, field, message
):
    response = post_json(capture, body)
    assert response["statusCode"] == 422, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "validation_failed"
    assert message in error["fields"][field]
    assert contact_items(aws) == []


def test_every_invalid_field_is_reported_at_once(capture, bundle_applied):
    response = post_json(capture, {"fields": {"email": "nope", "role": "CEO", "seats": "x"}})
    fields = json_body(response)["error"]["fields"]
    assert set(fields) == {"email", "role", "seats", "consent"}
    assert json_body(response)["error"]["message"] == "4 fields are invalid"


def test_non_utf8_native_post_is_422(capture, bundle_applied):
    response = capture(
        "POST",
        PATH,
        body=b"email=a%40b.com&first_name=\xe9",
        route_key=ROUTE,
        path_parameters={"form_id": "webinar-signup"},
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response["statusCode"] == 422
    assert "UTF-8" in json_body(response)["error"]["fields"]["body"]


def test_native_validation_error_redirects_to_error_url_when_the_form_has_one(capture, bundle_applied):
    response = post_native(capture, {"email": "bad"}, form="ebook")
    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "https://www.example.com/oops?error=validation_failed"


def test_native_validation_error_without_error_url_is_json_422(capture, bundle_applied):
    response = post_native(capture, {"email": "bad", "consent": "on"})
    assert response["statusCode"] == 422
    assert json_body(response)["error"]["fields"]["email"]


def test_wrong_content_type_is_415(capture, bundle_applied):
    response = capture(
        "POST",
        PATH,
        body=b"<xml/>",
        headers={"content-type": "application/xml"},
        route_key=ROUTE,
        path_parameters={"form_id": "webinar-signup"},
    )
    assert response["statusCode"] == 415
    assert json_body(response)["error"]["code"] == "unsupported_media_type"


def test_body_over_64_kib_is_413(capture, bundle_applied):
    response = post_json(capture, {"fields": {**GOOD, "notes": "x" * (65 * 1024)}})
    assert response["statusCode"] == 413
    assert json_body(response)["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("form", ["no-such-form", "retired"])
def test_unknown_or_disabled_form_is_404(capture, bundle_applied, form):
    response = post_json(capture, {"fields": GOOD}, form=form)
    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "not_found"


def test_origin_not_allowed_is_403(capture, aws, bundle_applied):
    response = post_json(capture, {"fields": GOOD}, headers={"origin": "https://evil.example"})
    assert response["statusCode"] == 403
    assert json_body(response)["error"]["code"] == "forbidden"
    assert contact_items(aws) == []


def test_preflight_allows_the_forms_origins_only(capture, bundle_applied):
    def preflight(origin: str):
        return capture(
            "OPTIONS",
            PATH,
            headers={"origin": origin, "access-control-request-method": "POST"},
            route_key="OPTIONS /v1/forms/{form_id}/submissions",
            path_parameters={"form_id": "webinar-signup"},
        )

    allowed = preflight(ORIGIN)
    assert allowed["statusCode"] == 204
    assert allowed["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed["headers"]["Access-Control-Allow-Methods"]
    assert preflight("https://evil.example")["statusCode"] == 403


# ---------------------------------------------------------------- hostile input: a 4xx, never a 500


def _nested_json(depth: int) -> str:
    return '{"fields": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"fields": ' + "[" * 20_000 + "]" * 20_000 + "}", "nested more than 64 levels"),
        (_nested_json(300), "nested more than 64 levels"),
        ('{"fields": {"email": "a@example.com", "seats": ' + "9" * 5000 + "}}", "more than 1000 digits"),
        ('{"fields": {"email": "a@example.com", "seats": NaN}}', "NaN is not a JSON number"),
        ('{"fields": {"email": "a@example.com", "seats": -Infinity}}', "-Infinity is not a JSON number"),
        ('{"fields": {"email": "a@example.com", "seats": 1e999}}', "out of range"),
    ],
)
def test_unreadable_json_is_422_not_500(capture, aws, bundle_applied, body, message):
    response = post_json(capture, body)
    assert response["statusCode"] == 422, response["body"]
    assert message in json_body(response)["error"]["fields"]["body"]
    assert contact_items(aws) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({**GOOD, "seats": "1e300"}, "seats", "number too large"),
        ({**GOOD, "seats": 1e-300}, "seats", "number too small"),
        ({**GOOD, "first_name": "Ann\u0000"}, "first_name", "NUL character"),
        ({**GOOD, "company": "Acme\u202e"}, "company", "bidirectional control character (U+202E)"),
        ({**GOOD, "notes": "a\ud800"}, "notes", "lone surrogate"),
    ],
)
def test_values_the_store_or_the_text_rule_refuse_are_422(
    capture, aws, bundle_applied, fields, field, message
):
    response = post_json(capture, {"fields": fields})
    assert response["statusCode"] == 422, response["body"]
    assert message in json_body(response)["error"]["fields"][field]
    assert contact_items(aws) == []


def test_a_long_visitor_id_in_the_context_is_422_before_it_reaches_a_key(capture, aws, bundle_applied):
    # the processor keys a visitor's history by it (ANON#<id>): 2,048 characters would fail there
    response = post_json(capture, {"fields": GOOD, "context": {"anonymous_id": "\u00e9" * 2048}})
    assert response["statusCode"] == 422, response["body"]
    assert "1 to 128 letters" in json_body(response)["error"]["fields"]["context.anonymous_id"]


def test_an_idempotency_key_of_3000_characters_is_422_not_500(capture, aws, bundle_applied):
    response = post_json(capture, {"fields": GOOD}, headers={"idempotency-key": "k" * 3000})
    assert response["statusCode"] == 422, response["body"]
    assert "1 to 255 characters" in json_body(response)["error"]["fields"]["Idempotency-Key"]
    assert contact_items(aws) == []


@pytest.mark.parametrize("where", ["header", "field"])
def test_the_longest_key_in_the_widest_characters_still_replays(capture, aws, bundle_applied, where):
    # 255 four-byte characters: 1,020 bytes, which the stored key would have carried verbatim
    key = "\U0001f600" * 255
    payload: dict[str, Any] = {"fields": GOOD}
    headers: dict[str, str] = {}
    if where == "header":
        headers["idempotency-key"] = key
    else:
        payload["submission_id"] = key
    first, second = post_json(capture, payload, headers=headers), post_json(capture, payload, headers=headers)
    assert first["statusCode"] == second["statusCode"] == 202, first["body"]
    assert json_body(first) == json_body(second)
    [claim] = of_kind(contact_items(aws), "REPLY")
    assert len(claim["pk"].encode()) < 100


def test_a_nested_multipart_part_is_422_not_kept_as_an_empty_value(capture, aws, bundle_applied):
    response = capture(
        "POST",
        PATH,
        body=b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nann@example.com\r\n'
        b'--b\r\nContent-Disposition: form-data; name="consent"\r\n\r\non\r\n'
        b'--b\r\nContent-Type: multipart/mixed; boundary="in"\r\n'
        b'Content-Disposition: form-data; name="notes"\r\n\r\n--in\r\n\r\nx\r\n--in--\r\n--b--\r\n',
        headers={"content-type": "multipart/form-data; boundary=b"},
        route_key=ROUTE,
        path_parameters={"form_id": "webinar-signup"},
    )
    assert response["statusCode"] == 422, response["body"]
    assert "nested multipart" in json_body(response)["error"]["fields"]["notes"]
    assert contact_items(aws) == []
