"""The rules of unsubscribe, confirmation and eligibility to receive email (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadflow.domain.contacts import Consent, Contact, SubscriptionStatus
from leadflow.domain.mail.eligibility import confirmation_refusal, marketing_refusal
from leadflow.domain.preferences import Outcome, confirm_outcome, confirmed_consent, unsubscribe_outcome

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CONSENT = Consent(given_at=datetime(2026, 11, 1, tzinfo=UTC), form_id="signup", text="Email me")


def contact(status: str, consent: Consent | None = CONSENT) -> Contact:
    return Contact(
        contact_id="c_1",
        email="a@example.com",
        email_key="a@example.com",
        status=SubscriptionStatus(status),
        consent=consent,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("subscribed", Outcome.UNSUBSCRIBED),
        ("pending", Outcome.UNSUBSCRIBED),
        ("unsubscribed", Outcome.ALREADY_UNSUBSCRIBED),
        ("bounced", Outcome.ALREADY_UNSUBSCRIBED),  # stays bounced: a bounce says more
        ("complained", Outcome.ALREADY_UNSUBSCRIBED),
    ],
)
def test_unsubscribing_is_always_honoured_and_never_softens_a_suppression(status: str, outcome: Outcome):
    assert unsubscribe_outcome(SubscriptionStatus(status)) is outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("pending", Outcome.CONFIRMED),
        ("subscribed", Outcome.ALREADY_CONFIRMED),
        ("unsubscribed", Outcome.NOT_PENDING),
        ("bounced", Outcome.NOT_PENDING),
        ("complained", Outcome.NOT_PENDING),
    ],
)
def test_only_a_pending_contact_is_confirmed(status: str, outcome: Outcome):
    assert confirm_outcome(SubscriptionStatus(status)) is outcome


def test_confirming_keeps_the_forms_consent_and_adds_the_time():
    kept = confirmed_consent(contact("pending"), form_id="other", now=NOW)
    assert (kept.given_at, kept.form_id, kept.text, kept.confirmed_at) == (
        CONSENT.given_at,
        "signup",
        "Email me",
        NOW,
    )


def test_confirming_without_a_consent_box_makes_the_confirmation_the_consent():
    made = confirmed_consent(contact("pending", consent=None), form_id="newsletter", now=NOW)
    assert (made.given_at, made.form_id, made.text, made.confirmed_at) == (NOW, "newsletter", None, NOW)


@pytest.mark.parametrize(
    ("status", "consent", "refused"),
    [
        ("subscribed", CONSENT, None),
        ("subscribed", None, "no consent is recorded for the contact"),
        ("pending", CONSENT, "the contact has not confirmed the double opt-in yet"),
        ("unsubscribed", CONSENT, "the contact unsubscribed"),
        ("bounced", CONSENT, "the address bounced"),
        ("complained", CONSENT, "the contact complained (marked an email as spam)"),
    ],
)
def test_marketing_email_goes_only_to_subscribed_contacts_with_consent(status, consent, refused):
    assert marketing_refusal(contact(status, consent)) == refused


def test_an_erased_contact_gets_nothing_and_only_pending_ones_get_the_confirmation():
    assert marketing_refusal(None) == "the contact was erased"
    assert confirmation_refusal(None) == "the contact was erased"
    assert confirmation_refusal(contact("pending", None)) is None
    assert confirmation_refusal(contact("subscribed")) == "the contact is subscribed, not pending"


def test_the_confirm_pages_cover_every_outcome_of_a_confirmation():
    from leadflow.api.routes.preferences import _CONFIRM_PAGES

    confirmable = {confirm_outcome(status) for status in SubscriptionStatus} | {Outcome.UNKNOWN_CONTACT}
    assert set(_CONFIRM_PAGES) == {str(outcome) for outcome in confirmable}
