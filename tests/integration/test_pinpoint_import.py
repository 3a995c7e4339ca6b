"""Pinpoint endpoint exports through the admin routes and the import worker, on moto."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.support.imports import (
    PINPOINT_EXPORT,
    PINPOINT_EXPORT_GZ,
    contact_by_email,
    import_bundle,
    import_view,
    run_imports,
)

NDJSON = {"content-type": "application/x-ndjson"}


def _post(
    admin: Any, body: bytes, *, query: dict[str, str] | None = None, gzip: bool = False
) -> dict[str, Any]:
    headers = dict(NDJSON)
    if gzip:
        headers["content-encoding"] = "gzip"
    return admin("POST", "/v1/admin/imports/pinpoint", body=body, headers=headers, query=query, iam=True)


def _imported(aws: Any, admin: Any, apply_bundle: Any, **kwargs: Any) -> dict[str, Any]:
    apply_bundle(import_bundle())
    response = _post(admin, PINPOINT_EXPORT_GZ.read_bytes(), gzip=True, **kwargs)
    assert response["statusCode"] == 202, response["body"]
    import_id = json.loads(response["body"])["import_id"]
    run_imports(aws)
    return import_view(admin, import_id)


def test_an_export_becomes_contacts_merged_by_user(aws, admin, apply_bundle) -> None:
    view = _imported(aws, admin, apply_bundle, query={"list": "pinpoint-users"})
    assert view["status"] == "completed"
    counts = view["counts"]
    assert (counts["rows"], counts["created"], counts["errors"], counts["skipped"]) == (11, 4, 3, 2)
    assert counts["members_added"] == 4
    anna = contact_by_email(admin, "anna.schmidt@example.com")
    assert anna["email"] == "Anna.Schmidt@example.com"
    assert anna["status"] == "subscribed"
    assert anna["fields"] == {
        "first_name": "Anna",
        "plan": "pro",
        "Interests": ["webinars", "pricing"],
        "time_zone": "Europe/Berlin",
        "locale": "de_DE",
        "country": "DE",
        "city": "Berlin",
        "postal_code": "10115",
        "phone": "+493012345678",
        "pinpoint_user_id": "user-anna",
    }
    assert anna["lists"] == ["pinpoint-users"]
    assert anna["ma_campaign_id"] is None
    assert anna["crm_campaigns"] == []


def test_opt_out_unsubscribes_and_inactive_suppresses_with_the_reason(aws, admin, apply_bundle) -> None:
    _imported(aws, admin, apply_bundle)
    assert contact_by_email(admin, "bob@example.org")["status"] == "unsubscribed"
    carla = contact_by_email(admin, "carla@example.net")
    assert carla["status"] == "bounced"
    table = aws.tables["ContactsTable"]
    profile = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": f"CONTACT#{carla['id']}"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    reason = profile["suppression"]["M"]
    assert reason["reason"]["S"] == "Pinpoint EndpointStatus INACTIVE"
    assert reason["endpoint_id"]["S"] == "ep+carla/1"


def test_bad_lines_are_reported_by_number_and_the_rest_imported(aws, admin, apply_bundle) -> None:
    view = _imported(aws, admin, apply_bundle)
    by_row = {(item["row"], item["column"]): item for item in view["errors"]}
    assert "not JSON" in by_row[(8, None)]["reason"]
    assert "FAX" in by_row[(9, "ChannelType")]["reason"]
    assert "not an email" in by_row[(10, "Address")]["reason"]
    phone_warning = by_row[(6, "Address")]
    assert phone_warning["warning"] is True
    assert "E.164" in phone_warning["reason"]
    assert contact_by_email(admin, "dan@example.com")["fields"]["phone"] == "030 5555 1212"
    assert view["errors_total"] == 4


def test_the_same_export_again_changes_nothing(aws, admin, apply_bundle) -> None:
    first = _imported(aws, admin, apply_bundle, query={"list": "pinpoint-users"})
    anna = contact_by_email(admin, "anna.schmidt@example.com")
    again = _post(admin, PINPOINT_EXPORT.read_bytes(), query={"list": "pinpoint-users"})  # the same, not gzip
    assert again["statusCode"] == 202
    assert json.loads(again["body"])["import_id"] == first["import_id"]
    run_imports(aws)
    assert import_view(admin, first["import_id"])["counts"] == first["counts"]
    assert contact_by_email(admin, "anna.schmidt@example.com") == anna


def test_a_changed_export_updates_only_what_changed(aws, admin, apply_bundle) -> None:
    _imported(aws, admin, apply_bundle)
    changed = PINPOINT_EXPORT.read_text().replace('"plan":["pro"]', '"plan":["enterprise"]').encode()
    response = _post(admin, changed)
    import_id = json.loads(response["body"])["import_id"]
    run_imports(aws)
    counts = import_view(admin, import_id)["counts"]
    assert (counts["created"], counts["updated"], counts["unchanged"]) == (0, 1, 3)
    assert contact_by_email(admin, "anna.schmidt@example.com")["fields"]["plan"] == "enterprise"


def test_list_must_be_a_static_list(aws, admin, apply_bundle) -> None:
    apply_bundle(import_bundle())
    body = PINPOINT_EXPORT.read_bytes()
    assert _post(admin, body, query={"list": "nope"})["statusCode"] == 404
    assert _post(admin, body, query={"list": "engaged"})["statusCode"] == 409


def test_bodies_the_import_cannot_read(aws, admin, apply_bundle) -> None:
    apply_bundle(import_bundle())
    assert _post(admin, b"")["statusCode"] == 422
    assert _post(admin, b"\x1f\x8bnot really gzip", gzip=True)["statusCode"] == 422
    assert _post(admin, PINPOINT_EXPORT_GZ.read_bytes())["statusCode"] == 422  # gzip without the header
    wrong_type = admin(
        "POST", "/v1/admin/imports/pinpoint", body=b"x", headers={"content-type": "text/csv"}, iam=True
    )
    assert wrong_type["statusCode"] == 415
