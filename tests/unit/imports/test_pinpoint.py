"""Pinpoint export lines and the merge of one user's endpoints into one person."""

from __future__ import annotations

import json

import pytest

from leadflow.domain.imports.pinpoint import Endpoint, map_person, normalise_phone, parse_line, person_key


def _endpoint(**data: object) -> Endpoint:
    return Endpoint.model_validate({"ChannelType": "EMAIL", **data})


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"Address": "a@example.com"}', "not an endpoint"),
        (b'{"ChannelType": "PIGEON"}', "unknown ChannelType"),
        (b'{"ChannelType": "EMAIL", "Attributes": {"a": "not a list"}}', "not an endpoint"),
        (b'{"ChannelType": "EMAIL", "Address": "caf\xe9"}', "UTF-8"),
        (b"[" * 100_000, "not JSON"),
    ],
)
def test_lines_that_are_not_endpoints(raw: bytes, problem: str) -> None:
    parsed = parse_line(3, raw)
    assert parsed is not None
    assert parsed.endpoint is None
    assert problem in (parsed.error or "")


def test_blank_lines_are_nothing() -> None:
    assert parse_line(1, b"  \r\n") is None


def test_a_missing_user_makes_a_person_of_its_own() -> None:
    parsed = parse_line(4, json.dumps({"ChannelType": "EMAIL", "Id": "a/b+c"}).encode())
    assert parsed is not None
    assert person_key(parsed) == "line:4"
    parsed = parse_line(5, json.dumps({"ChannelType": "EMAIL", "User": {"UserId": "u1"}}).encode())
    assert parsed is not None
    assert person_key(parsed) == "user:u1"


def test_the_newest_email_wins_and_the_older_one_is_a_warning() -> None:
    mapped = map_person(
        [
            (1, _endpoint(Address="new@example.com", EffectiveDate="2026-02-01T00:00:00Z")),
            (2, _endpoint(Address="old@example.com", EffectiveDate="2025-02-01T00:00:00Z")),
        ]
    )
    assert mapped.person is not None
    assert mapped.person.email.address == "new@example.com"
    assert [(item.row, item.column) for item in mapped.warnings] == [(2, "Address")]
    assert mapped.person.key == 1


def test_user_attributes_win_over_endpoint_attributes() -> None:
    mapped = map_person(
        [
            (
                1,
                _endpoint(
                    Address="a@example.com",
                    Attributes={"plan": ["free"], "tags": ["a", "b"], "empty": []},
                    User={"UserId": "u", "UserAttributes": {"plan": ["pro"]}},
                ),
            )
        ]
    )
    assert mapped.person is not None
    assert mapped.person.fields == {"plan": "pro", "tags": ["a", "b"], "pinpoint_user_id": "u"}


def test_a_user_with_only_sms_is_an_error() -> None:
    mapped = map_person([(9, Endpoint.model_validate({"ChannelType": "SMS", "Address": "+4915112345678"}))])
    assert mapped.person is None
    assert "no EMAIL endpoint" in mapped.errors[0].reason


def test_push_alone_is_skipped_quietly() -> None:
    mapped = map_person([(9, Endpoint.model_validate({"ChannelType": "APNS", "Address": "token"}))])
    assert (mapped.person, mapped.errors, mapped.skipped) == (None, [], 1)


@pytest.mark.parametrize(
    ("raw", "phone", "e164"),
    [
        ("+49 30 1234-5678", "+493012345678", True),
        ("0049 (30) 12345678", "+493012345678", True),
        ("030 5555 1212", "030 5555 1212", False),
        ("+0 123", "+0 123", False),
    ],
)
def test_phone_numbers(raw: str, phone: str, e164: bool) -> None:
    assert normalise_phone(raw) == (phone, e164)


def test_a_bad_time_zone_is_a_warning_not_a_field() -> None:
    mapped = map_person([(1, _endpoint(Address="a@example.com", Demographic={"Timezone": "Moon/Base"}))])
    assert mapped.person is not None
    assert "time_zone" not in mapped.person.fields
    assert mapped.warnings[0].column == "Demographic.Timezone"
