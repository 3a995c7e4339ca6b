"""Validating submissions against a form: each field type, every error at once, context."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.definitions import Bundle
from leadflow.domain.emails import InvalidEmail, normalise_email
from leadflow.domain.submissions import InvalidFieldsError, clean_idempotency_key, clean_submission
from tests.support.bundles import capture_bundle

FORM = Bundle.model_validate(capture_bundle()).form("webinar-signup")
GOOD: dict[str, Any] = {"email": " Ann@Example.COM ", "consent": "on"}


def clean(fields: dict[str, Any], context: dict[str, Any] | None = None):
    assert FORM is not None
    return clean_submission(FORM, fields, context or {})


def errors_of(fields: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidFieldsError) as caught:
        clean(fields)
    return caught.value.errors


def test_email_keeps_the_local_part_and_dedupes_case_insensitively():
    email = normalise_email(" Ann.Lee@Example.COM ")
    assert email.address == "Ann.Lee@example.com"
    assert email.key == "ann.lee@example.com"
    with pytest.raises(InvalidEmail):
        normalise_email("ann@")


def test_values_are_typed_and_the_visit_is_context():
    result = clean(
        {
            **GOOD,
            "seats": "12",
            "start": "2026-12-01",
            "newsletter": "on",
            "role": "Manager",
            "utm_source": "mail",
            "anonymous_id": "v1",
            "extra": "x",
        },
    )
    assert result.email.address == "Ann@example.com"
    assert result.fields == {"seats": 12, "start": "2026-12-01", "newsletter": True, "role": "Manager"}
    assert result.consent_given is True
    assert result.consent_text == "Email me about the webinar"
    assert result.context.utm_source == "mail"
    assert result.context.anonymous_id == "v1"
    assert result.ignored_fields == ["extra"]


def test_unticked_optional_checkbox_is_false_and_unknown_context_keys_are_reported():
    result = clean(GOOD, {"utm_campaign": "q3", "weird": 1})
    assert result.fields["newsletter"] is False
    assert result.ignored_fields == ["context.weird"]


def test_every_problem_is_reported_together():
    errors = errors_of(
        {
            "email": "no",
            "seats": "x",
            "phone": "abc",
            "start": "tomorrow",
            "role": "CEO",
            "first_name": "y" * 300,
            "consent": "maybe",
        }
    )
    assert set(errors) == {"email", "seats", "phone", "start", "role", "first_name", "consent"}


def test_repeated_value_for_a_single_field_is_refused():
    assert errors_of({**GOOD, "company": ["A", "B"]}) == {"company": "expected a single value"}


def test_honeypot_is_detected_without_failing_validation():
    assert clean({**GOOD, "website": "http://spam"}).honeypot_tripped is True
    assert clean({**GOOD, "website": ""}).honeypot_tripped is False


def test_submission_id_field_is_the_idempotency_key():
    assert clean({**GOOD, "submission_id": "abc"}).submission_id == "abc"
    assert errors_of({**GOOD, "submission_id": "x" * 300}) == {"submission_id": "1 to 255 characters"}


# ---------------------------------------------------------------- the text rule and what the store can keep


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("first_name", "Ann\x00", "must not contain a NUL character (U+0000)"),
        ("company", "Acme \u202egnp.exe", "must not contain a bidirectional control character (U+202E)"),
        ("company", "Acme\u2066", "must not contain a bidirectional control character (U+2066)"),
        ("company", "line\nbreak", "must not contain a line break (U+000A)"),
        ("ref", "a\x1b[31m", "must not contain a control character (U+001B)"),
        ("notes", "fine\nbut\x00not", "must not contain a NUL character (U+0000)"),
        ("notes", "lone \ud800", "must not contain a lone surrogate (U+D800)"),
        ("email", "ann\u202e@example.com", "must not contain a bidirectional control character (U+202E)"),
        ("phone", "+44 20 7946 0958\n", None),  # stripped like any surrounding space
    ],
)
def test_form_fields_follow_the_text_rule(name, value, message):
    if message is None:
        assert clean({**GOOD, name: value}).fields[name] == value.strip()
    else:
        assert errors_of({**GOOD, name: value}) == {name: message}


def test_a_textarea_keeps_its_line_breaks_and_tabs():
    assert clean({**GOOD, "notes": "one\r\ntwo\tthree"}).fields["notes"] == "one\r\ntwo\tthree"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"utm_source": "news\x00"}, "must not contain a NUL character (U+0000)"),
        ({"page_url": "https://x.example/\u202e"}, "must not contain a bidirectional control character"),
        ({"anonymous_id": "x" * 2000}, "1 to 128 letters"),
        ({"anonymous_id": "has space"}, "1 to 128 letters"),
    ],
)
def test_context_follows_the_text_rule_and_the_visitor_id_the_tracking_rule(context, message):
    name = next(iter(context))
    with pytest.raises(InvalidFieldsError) as caught:
        clean(GOOD, context)
    assert message in caught.value.errors[f"context.{name}"]


@pytest.mark.parametrize("value", ["1e300", "-1e300", "1e-300", "1e126"])
def test_a_number_field_refuses_what_dynamodb_cannot_hold(value):
    # float("1e300") is finite, and was answered 202 and then failed in the store
    assert "number too" in errors_of({**GOOD, "seats": value})["seats"]


@pytest.mark.parametrize(("value", "kept"), [("1e100", 1e100), ("12", 12), ("9007199254740991", 2**53 - 1)])
def test_a_large_integral_number_stays_a_float_rather_than_a_101_digit_integer(value, kept):
    # int(1e100) has 101 digits, 84 of them noise, and more than DynamoDB's 38
    result = clean({**GOOD, "seats": value}).fields["seats"]
    assert result == kept
    assert type(result) is type(kept)


def test_a_submission_id_follows_the_text_rule():
    assert "must not contain" in errors_of({**GOOD, "submission_id": "key\u202e"})["submission_id"]


@pytest.mark.parametrize(
    ("header", "expected"), [(None, None), ("  ", None), (" k-1 ", "k-1"), ("x" * 255, "x" * 255)]
)
def test_an_idempotency_key_is_trimmed_and_blank_means_none(header, expected):
    assert clean_idempotency_key(header) == expected


@pytest.mark.parametrize(
    ("header", "message"),
    [("x" * 256, "1 to 255 characters"), ("k\x00", "NUL"), ("k\u2067", "bidirectional")],
)
def test_an_idempotency_key_is_bounded_and_follows_the_text_rule(header, message):
    with pytest.raises(InvalidFieldsError) as caught:
        clean_idempotency_key(header)
    assert message in caught.value.errors["Idempotency-Key"]
