"""Validating submissions against a form: each field type, every error at once, context."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.definitions import Bundle
from leadflow.domain.emails import InvalidEmail, normalise_email
from leadflow.domain.submissions import InvalidFieldsError, clean_submission
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
