"""CSV imports into CRM campaigns through the admin routes and the import worker, on moto."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from leadflow.services.imports import csv_import, people
from tests.support import functions, queues
from tests.support.events import LambdaContext
from tests.support.imports import contact_by_email, import_bundle, import_view, run_imports

CSV = {"content-type": "text/csv"}

GOOD_AND_BAD = (
    "\ufeffEmail,First_Name,notes,Status\r\n"  # row 1: BOM, any case
    'ann@example.com,Ann,"Met at the booth, hall 2\r\nwants a demo",Registered\r\n'  # row 2
    "not-an-email,Bob,,\r\n"  # row 3
    "cy@example.com,Cy,,Vip\r\n"  # row 4: no such status
    ",,,\r\n"  # row 5: blank
    "ANN@example.com,Annie,,\r\n"  # row 6: the same email as row 2
    "dee@example.com,Dee,,\r\n"  # row 7: the campaign's default status
).encode() + b"caf\xe9@example.com,Caf\xe9,,\r\n"  # row 8: not UTF-8


def _post(
    admin: Any, body: bytes, campaign: str = "expo-2026", headers: dict[str, str] | None = None
) -> dict:
    return admin(
        "POST",
        f"/v1/admin/campaigns/{campaign}/imports",
        body=body,
        headers={**CSV, **(headers or {})},
        iam=True,
    )


def _import(aws: Any, admin: Any, body: bytes, **kwargs: Any) -> dict[str, Any]:
    response = _post(admin, body, **kwargs)
    assert response["statusCode"] == 202, response["body"]
    import_id = json.loads(response["body"])["import_id"]
    run_imports(aws)
    return import_view(admin, import_id)


def _crm(admin: Any, email: str) -> dict[str, str]:
    return {item["campaign_id"]: item["status"] for item in contact_by_email(admin, email)["crm_campaigns"]}


@pytest.fixture
def bundle(apply_bundle: Any) -> Iterator[dict[str, Any]]:
    """The import bundle applied, on a moto whose transactions cost what they touch (as the local
    stack's): moto copies whole tables per transaction, which makes a 1,000-row file quadratic."""
    from leadflow_local.moto_speedups import DynamoSpeedups

    speedups = DynamoSpeedups()
    speedups.install()
    bundle = import_bundle()
    apply_bundle(bundle)
    yield bundle
    speedups.uninstall()


def test_good_rows_are_imported_and_bad_rows_reported(aws, admin, bundle) -> None:
    view = _import(aws, admin, GOOD_AND_BAD)
    assert view["status"] == "completed"
    counts = view["counts"]
    assert (counts["rows"], counts["created"], counts["errors"], counts["blank"]) == (6, 2, 4, 1)
    assert counts["members_added"] == 2
    errors = {(item["row"], item["column"]) for item in view["errors"]}
    assert errors == {(3, "email"), (4, "status"), (6, "email"), (8, None)}
    ann = contact_by_email(admin, "ann@example.com")
    assert ann["fields"] == {"first_name": "Ann", "notes": "Met at the booth, hall 2\r\nwants a demo"}
    assert ann["ma_campaign_id"] is None
    assert _crm(admin, "ann@example.com") == {"expo-2026": "Registered"}
    assert _crm(admin, "dee@example.com") == {"expo-2026": "Invited"}
    with pytest.raises(AssertionError):
        contact_by_email(admin, "cy@example.com")  # nothing half-written: no contact without its row


def test_the_same_file_again_is_the_same_import_and_changes_nothing(aws, admin, bundle) -> None:
    first = _import(aws, admin, GOOD_AND_BAD)
    ann = contact_by_email(admin, "ann@example.com")
    again = _post(admin, gzip.compress(GOOD_AND_BAD), headers={"content-encoding": "gzip"})
    assert again["statusCode"] == 202
    assert json.loads(again["body"])["import_id"] == first["import_id"]
    run_imports(aws)
    assert import_view(admin, first["import_id"]) == first
    assert contact_by_email(admin, "ann@example.com") == ann


def test_another_file_with_the_same_rows_changes_nothing_either(aws, admin, bundle) -> None:
    _import(aws, admin, GOOD_AND_BAD)
    ann = contact_by_email(admin, "ann@example.com")
    view = _import(aws, admin, GOOD_AND_BAD + b"\r\n")
    counts = view["counts"]
    assert (counts["created"], counts["updated"], counts["unchanged"]) == (0, 0, 2)
    assert (counts["members_added"], counts["members_unchanged"]) == (0, 2)
    assert contact_by_email(admin, "ann@example.com") == ann


def test_statuses_only_move_forward(aws, admin, bundle) -> None:
    _import(aws, admin, b"email,status\nann@example.com,Attended\n")
    view = _import(aws, admin, b"email,status\nann@example.com,Registered\n")
    assert view["counts"]["members_unchanged"] == 1
    assert _crm(admin, "ann@example.com") == {"expo-2026": "Attended"}


def test_an_existing_contact_is_updated_not_duplicated(aws, admin, bundle, capture) -> None:
    from tests.support.forms import submitted_contact

    contact_id = submitted_contact(
        capture, {"email": "ann@example.com", "first_name": "Ann", "company": "Acme", "consent": True}
    )
    view = _import(aws, admin, b"email,company,time_zone\nAnn@Example.com,Acme GmbH,Europe/Berlin\n")
    assert (view["counts"]["created"], view["counts"]["updated"]) == (0, 1)
    ann = contact_by_email(admin, "ann@example.com")
    assert ann["id"] == contact_id
    assert ann["fields"] == {"first_name": "Ann", "company": "Acme GmbH", "time_zone": "Europe/Berlin"}
    assert ann["ma_campaign_id"] == "webinar-q3"  # kept as the form set it; the import joins none


def test_an_interrupted_chunk_resumes_without_duplicating(aws, admin, bundle, monkeypatch) -> None:
    monkeypatch.setattr(csv_import, "CHECKPOINT_ROWS", 2)
    body = ("email,first_name\n" + "".join(f"p{n}@example.com,P{n}\n" for n in range(7))).encode()
    response = _post(admin, body)
    import_id = json.loads(response["body"])["import_id"]
    handler = functions.load("imports").lambda_handler
    queues.deliver(handler, aws.queues["ImportQueue"])  # the plan
    event, _ = queues.receive_event(aws.queues["ImportQueue"])
    real_upsert = people.upsert
    calls = {"n": 0}

    def crash_on_the_sixth_row(context: Any, person: Any, known: Any = None) -> Any:
        calls["n"] += 1
        result = real_upsert(context, person, known)
        if calls["n"] == 6:
            raise RuntimeError("the Lambda timed out here")
        return result

    monkeypatch.setattr(people, "upsert", crash_on_the_sixth_row)
    with pytest.raises(BatchProcessingError):  # its only record failed: the message returns to the queue
        handler(event, LambdaContext(function_name="imports"))
    running = import_view(admin, import_id)
    assert running["status"] == "running"
    assert running["counts"]["created"] == 4  # the last checkpoint

    monkeypatch.setattr(people, "upsert", real_upsert)
    assert (
        handler(event, LambdaContext(function_name="imports"))["batchItemFailures"] == []
    )  # SQS delivers the same message again
    view = import_view(admin, import_id)
    assert view["status"] == "completed"
    assert (view["counts"]["rows"], view["counts"]["created"], view["counts"]["updated"]) == (7, 7, 0)
    assert view["counts"]["members_added"] + view["counts"]["members_unchanged"] == 7
    contact = contact_by_email(admin, "p5@example.com")
    imported = [item for item in contact["activities"] if item["type"] == "contact_imported"]
    assert len(imported) == 1
    assert _crm(admin, "p5@example.com") == {"expo-2026": "Invited"}


@pytest.mark.parametrize(
    ("head", "fields"),
    [
        (b"name,company\nann,Acme\n", {"email", "name"}),
        (b"email,favourite colour,shoe size\n", {"favourite colour", "shoe size"}),
        (b"email,consent\n", {"consent"}),
    ],
)
def test_a_wrong_header_is_refused_with_each_column(
    aws, admin, bundle, head: bytes, fields: set[str]
) -> None:
    response = _post(admin, head)
    assert response["statusCode"] == 422
    assert set(json.loads(response["body"])["error"]["fields"]) == fields


@pytest.mark.parametrize(("campaign", "status"), [("nope", 404), ("webinar-q3", 409), ("old-expo", 409)])
def test_only_open_crm_campaigns_take_imports(aws, admin, bundle, campaign: str, status: int) -> None:
    assert _post(admin, b"email\nann@example.com\n", campaign=campaign)["statusCode"] == status


def test_bodies_the_import_cannot_take(aws, admin, bundle) -> None:
    assert _post(admin, b"")["statusCode"] == 422
    assert _post(admin, gzip.compress(b"email\n"))["statusCode"] == 422  # gzip without its header
    assert _post(admin, b"not gzip", headers={"content-encoding": "gzip"})["statusCode"] == 422
    assert _post(admin, b"email\n", headers={"content-encoding": "br"})["statusCode"] == 422
    too_big = _post(admin, b"email\n" + b"a@example.com\n" * (5 * 1024 * 1024 // 14))
    assert too_big["statusCode"] == 413
    assert "upload" in json.loads(too_big["body"])["error"]["message"]
    json_not_upload = admin(
        "POST",
        "/v1/admin/campaigns/expo-2026/imports",
        body=b'{"upload": false}',
        headers={"content-type": "application/json"},
        iam=True,
    )
    assert json_not_upload["statusCode"] == 422
    wrong = admin(
        "POST",
        "/v1/admin/campaigns/expo-2026/imports",
        body=b"x",
        headers={"content-type": "text/html"},
        iam=True,
    )
    assert wrong["statusCode"] == 415


def test_megabytes_of_junk_after_a_good_header_are_per_row_errors(aws, admin, bundle) -> None:
    junk = random.Random(7).randbytes(3 * 1024 * 1024)
    view = _import(aws, admin, b"email,first_name\n" + junk)
    assert view["status"] == "completed"
    assert view["counts"]["created"] == 0
    assert view["counts"]["errors"] > 1000
    assert len(view["errors"]) == 100
    assert view["errors_total"] >= view["counts"]["errors"]


def test_a_large_file_goes_through_an_upload(aws, admin, bundle, monkeypatch) -> None:
    monkeypatch.setattr(csv_import, "ROWS_PER_CHUNK", 100)  # several chunks, without moto's slow big queues
    offer = admin(
        "POST",
        "/v1/admin/campaigns/expo-2026/imports",
        body=b'{"upload": true}',
        headers={"content-type": "application/json"},
        iam=True,
    )
    assert offer["statusCode"] == 201, offer["body"]
    upload = json.loads(offer["body"])
    path = urlparse(upload["upload_url"]).path
    key = path[path.index("uploads/") :]
    start = f"/v1/admin/imports/{upload['upload_id']}/start"
    assert admin("POST", start, iam=True)["statusCode"] == 409  # nothing uploaded yet
    body = b"email,first_name\n" + b"".join(f"u{n}@example.com,U{n}\n".encode() for n in range(250))
    boto3.client("s3").put_object(Bucket=aws.environment()["IMPORT_BUCKET"], Key=key, Body=body)
    started = admin("POST", start, iam=True)
    assert started["statusCode"] == 202, started["body"]
    run_imports(aws)
    view = import_view(admin, json.loads(started["body"])["import_id"])
    assert (view["status"], view["rows_total"], view["counts"]["created"]) == ("completed", 250, 250)
    assert admin("POST", "/v1/admin/imports/upl_nope/start", iam=True)["statusCode"] == 404


def test_an_unknown_import_is_404(aws, admin, bundle) -> None:
    assert admin("GET", "/v1/admin/imports/imp_nope", iam=True)["statusCode"] == 404


def test_an_erased_address_is_not_brought_back_by_an_import(aws, admin, bundle) -> None:
    first = _import(aws, admin, b"email,first_name\r\nera@example.com,Era\r\n")
    assert first["counts"]["created"] == 1
    era = contact_by_email(admin, "era@example.com")
    erased = admin(
        "DELETE", f"/v1/admin/contacts/{era['id']}", iam=True, path_parameters={"contact_id": era["id"]}
    )
    assert erased["statusCode"] == 204, erased["body"]
    again = _import(aws, admin, b"email,first_name\r\nERA@example.com,Era\r\nnew@example.com,New\r\n")
    assert (again["counts"]["created"], again["counts"]["errors"]) == (1, 1)
    assert [(item["row"], item["column"]) for item in again["errors"]] == [(2, "email")]
    assert "erased" in again["errors"][0]["reason"]
    with pytest.raises(AssertionError):
        contact_by_email(admin, "era@example.com")


def _run_counting_dynamodb_calls(aws: Any) -> dict[str, int]:
    """Runs the queued imports; the DynamoDB requests they made, by operation."""
    from leadflow import aws as clients

    calls: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        calls[operation] = calls.get(operation, 0) + 1

    client = clients.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", count)
    try:
        run_imports(aws)
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    return calls


def test_a_chunk_reads_its_rows_addresses_in_batches(aws, admin, bundle, monkeypatch) -> None:
    """New rows cost their two transactions, not four reads each: the email guards and erasure
    markers of up to 100 rows come in two BatchGetItem requests, and a new member's membership and
    contact are not read back."""
    from leadflow.settings import reset_settings

    monkeypatch.setenv("DEFINITIONS_CACHE_SECONDS", "300")  # as deployed: the bundle is not read per row
    reset_settings()

    body = ("email,first_name\n" + "".join(f"b{n}@example.com,B{n}\n" for n in range(120))).encode()
    response = _post(admin, body)
    assert response["statusCode"] == 202, response["body"]
    import_id = json.loads(response["body"])["import_id"]
    calls = _run_counting_dynamodb_calls(aws)
    view = import_view(admin, import_id)
    assert (view["status"], view["counts"]["created"], view["counts"]["members_added"]) == (
        "completed",
        120,
        120,
    )
    assert calls["BatchGetItem"] == 3  # 100 rows (200 keys: two requests), then 20 rows
    assert 240 <= calls["TransactWriteItems"] <= 242  # each row: its contact, then its membership
    assert calls.get("GetItem", 0) <= 4  # the import's own record, never a row's


def test_updated_rows_read_their_contacts_in_batches(aws, admin, bundle, monkeypatch) -> None:
    """A file that changes contacts already in the campaign: the profiles come in a batch read
    beside the addresses, the membership service is handed the contact the row has just written
    instead of reading it again, and each row reads only its membership (to move it forward)."""
    from leadflow.settings import reset_settings

    monkeypatch.setenv("DEFINITIONS_CACHE_SECONDS", "300")
    reset_settings()
    first = ("email,first_name\n" + "".join(f"u{n}@example.com,U{n}\n" for n in range(50))).encode()
    assert _post(admin, first)["statusCode"] == 202
    run_imports(aws)
    changed = "email,first_name,status\n" + "".join(f"u{n}@example.com,V{n},Attended\n" for n in range(50))
    response = _post(admin, changed.encode())
    import_id = json.loads(response["body"])["import_id"]
    calls = _run_counting_dynamodb_calls(aws)
    view = import_view(admin, import_id)
    assert (view["status"], view["counts"]["updated"], view["counts"]["errors"]) == ("completed", 50, 0)
    assert 50 <= calls.get("GetItem", 0) <= 50 + 4  # a membership a row (before: a contact, twice, too)
    assert calls["BatchGetItem"] == 2  # the addresses, then the profiles they point to
    assert 100 <= calls["TransactWriteItems"] <= 102  # each row: its contact, then its status change
    members = json.loads(
        admin("GET", "/v1/admin/campaigns/expo-2026/members?status=Attended", iam=True)["body"]
    )
    assert len(members["members"]) == 50


def test_keys_dynamodb_leaves_unprocessed_are_asked_again(aws, admin, bundle) -> None:
    """DynamoDB may answer a batch read in part (throttling): the rest is asked again, so no row
    is taken for new because its guard was not read."""
    from botocore.awsrequest import AWSResponse

    from leadflow import aws as clients

    first = _import(aws, admin, b"email,first_name\r\nuna@example.com,Una\r\n")
    assert first["counts"]["created"] == 1
    answered = {"partly": 0}

    def unprocessed_first(params: dict[str, Any], **_: Any) -> Any:
        if answered["partly"]:
            return None
        answered["partly"] += 1
        request = json.loads(params["body"])["RequestItems"]
        return AWSResponse("http://dynamodb", 200, {}, None), {"Responses": {}, "UnprocessedKeys": request}

    client = clients.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.BatchGetItem", unprocessed_first)
    try:
        again = _import(aws, admin, b"email,first_name\r\nuna@example.com,Una B\r\n")
    finally:
        client.meta.events.unregister("before-call.dynamodb.BatchGetItem", unprocessed_first)
    assert answered["partly"] == 1
    assert (again["counts"]["created"], again["counts"]["updated"]) == (0, 1)
    assert contact_by_email(admin, "una@example.com")["fields"]["first_name"] == "Una B"
