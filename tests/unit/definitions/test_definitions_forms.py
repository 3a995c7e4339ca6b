"""Forms: field types and their rules, origins, URLs, and completion actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadflow.definitions import (
    AddTagsAction,
    AddToCrmCampaignAction,
    AddToListAction,
    EnrollAction,
    FieldType,
    FormField,
    parse_bundle,
)


def _with_fields(doc: dict[str, Any], *fields: dict[str, Any]) -> dict[str, Any]:
    doc["forms"][0]["fields"] = [{"name": "email", "type": "email"}, *fields]
    return doc


def test_every_field_type_parses(doc: dict[str, Any]) -> None:
    _with_fields(
        doc,
        {"name": "first_name", "type": "text", "label": "First name"},
        {"name": "message", "type": "textarea"},
        {"name": "employees", "type": "number", "min": 1, "max": 100},
        {"name": "phone", "type": "phone"},
        {"name": "role", "type": "select", "options": ["Engineer", "Manager"]},
        {"name": "newsletter", "type": "checkbox", "text": "Send me news"},
        {"name": "consent", "type": "consent", "required": True, "text": "Email me"},
        {"name": "birthday", "type": "date"},
        {"name": "utm_source", "type": "hidden"},
    )
    form = parse_bundle(doc).forms[0]
    assert [f.type for f in form.fields] == list(FieldType)
    assert form.field("role").options == ["Engineer", "Manager"]  # type: ignore[union-attr]
    assert form.field("consent").text == "Email me"  # type: ignore[union-attr]
    assert (form.field("employees").min, form.field("employees").max) == (1, 100)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field_type", "limit"),
    [("text", 255), ("textarea", 5000), ("email", 254), ("phone", 32), ("date", 10), ("hidden", 1000)],
)
def test_text_like_fields_get_a_default_max_length(field_type: str, limit: int) -> None:
    assert FormField(name="x", type=field_type).max_length == limit  # type: ignore[arg-type]


def test_explicit_max_length_wins_and_other_types_have_none() -> None:
    assert FormField(name="x", type="text", max_length=100).max_length == 100  # type: ignore[arg-type]
    assert FormField(name="x", type="number").max_length is None  # type: ignore[arg-type]
    assert FormField(name="x", type="consent", text="ok").max_length is None  # type: ignore[arg-type]


def test_field_rules_are_reported_at_the_key(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _with_fields(
        doc,
        {"name": "role", "type": "select"},
        {"name": "size", "type": "number", "max_length": 5, "min": 10, "max": 1},
        {"name": "agree", "type": "consent"},
        {"name": "company", "type": "text", "options": ["a"], "min": 1, "text": "x"},
        {"name": "colour", "type": "select", "options": ["red", "red"]},
        {"name": "2bad", "type": "text"},
        {"name": "kind", "type": "emial"},
        {"name": "long", "type": "text", "max_length": 0},
    )
    assert problems(doc) == [
        "forms[0].fields[1].options: a select field needs options, such as [Engineer, Manager]",
        "forms[0].fields[2].max_length: max_length does not apply to a number field",
        "forms[0].fields[2].max: max 1 is less than min 10",
        "forms[0].fields[3].text: a consent field needs text: the wording the person agrees to",
        "forms[0].fields[4].options: options only apply to a select field, not text",
        "forms[0].fields[4].text: text only applies to consent and checkbox fields, not text",
        "forms[0].fields[4].min: min only applies to a number field, not text",
        "forms[0].fields[5].options: options are listed twice: red",
        "forms[0].fields[6].name: a name is a letter or underscore, then letters, digits or underscores "
        '(got "2bad")',
        "forms[0].fields[7].type: should be 'email', 'text', 'textarea', 'number', 'phone', 'select', "
        "'checkbox', 'consent', 'date' or 'hidden' (got \"emial\")",
        "forms[0].fields[8].max_length: should be greater than or equal to 1 (got 0)",
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            [{"name": "first_name", "type": "text"}],
            "a form needs exactly one field of type email, named email",
        ),
        (
            [{"name": "work_email", "type": "email"}],
            "a form needs exactly one field of type email, named email (found: work_email)",
        ),
        (
            [{"name": "email", "type": "email"}, {"name": "other", "type": "email"}],
            "a form needs exactly one field of type email, named email (found: email, other)",
        ),
        (
            [{"name": "email", "type": "email"}, {"name": "email", "type": "text"}],
            "field names are used twice: email",
        ),
        ([], "needs at least 1 item"),
    ],
)
def test_a_form_has_exactly_one_email_field_named_email(
    doc: dict[str, Any], problems: Callable[..., list[str]], fields: list[dict[str, Any]], message: str
) -> None:
    doc["forms"][0]["fields"] = fields
    assert problems(doc) == [f"forms[0].fields: {message}"]


def test_honeypot_must_not_be_a_real_field(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["forms"][0]["honeypot"] = "first_name"
    assert problems(doc) == [
        'forms[0].honeypot: the honeypot "first_name" must not be one of the form\'s fields'
    ]


def test_origins_are_normalised_and_checked(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["forms"][0]["allowed_origins"] = [
        "https://WWW.Example.com/",
        "http://localhost:3000",
        "*",
        "https://*.ex.com",
    ]
    assert parse_bundle(doc).forms[0].allowed_origins == [
        "https://www.example.com",
        "http://localhost:3000",
        "*",
        "https://*.ex.com",
    ]
    doc["forms"][0]["allowed_origins"] = ["https://www.example.com/path", "www.example.com"]
    found = problems(doc)
    assert [line.split(":")[0] for line in found] == [
        "forms[0].allowed_origins[0]",
        "forms[0].allowed_origins[1]",
    ]
    assert 'is not an origin: write scheme and host (and port), such as "https://www.example.com"' in found[0]


def test_redirect_and_error_urls_are_http_urls(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    doc["forms"][0].update(redirect_url="https://www.example.com/thanks", error_url="/oops")
    assert problems(doc) == ['forms[0].error_url: "/oops" is not an http(s) URL']


def test_on_submit_actions_parse_to_typed_models(doc: dict[str, Any]) -> None:
    doc["forms"][0]["on_submit"].append(
        {"add_to_crm_campaign": {"campaign": "crm-webinar", "status": "Registered"}}
    )
    doc["forms"][0]["on_submit"].append({"add_to_crm_campaign": "crm-events"})  # shorthand: default status
    actions = parse_bundle(doc).forms[0].on_submit
    assert [type(a) for a in actions] == [
        AddTagsAction,
        EnrollAction,
        AddToListAction,
        AddToCrmCampaignAction,
        AddToCrmCampaignAction,
    ]
    assert actions[3].add_to_crm_campaign.status == "Registered"  # type: ignore[union-attr]
    assert actions[4].add_to_crm_campaign.campaign == "crm-events"  # type: ignore[union-attr]
    assert actions[4].add_to_crm_campaign.status is None  # type: ignore[union-attr]


def test_action_shape_errors(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["forms"][0]["on_submit"] = [
        {"enroll": "followup", "add_to_list": "registrants"},
        {"notify": "x"},
        {"add_tags": []},
    ]
    assert problems(doc) == [
        "forms[0].on_submit[0]: an action needs exactly one of: add_tags, enroll, add_to_list, "
        "add_to_crm_campaign",
        "forms[0].on_submit[1]: an action needs exactly one of: add_tags, enroll, add_to_list, "
        "add_to_crm_campaign",
        "forms[0].on_submit[2].add_tags: needs at least 1 item",
    ]


def test_form_references(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["forms"][0]["campaign"] = "crm-webinar"
    doc["forms"][0]["on_submit"] = [
        {"enroll": "nope"},
        {"add_to_list": "hot"},
        {"add_to_list": "gone"},
        {"add_to_crm_campaign": {"campaign": "webinar"}},
        {"add_to_crm_campaign": {"campaign": "crm-webinar", "status": "Maybe"}},
        {"add_to_crm_campaign": "nope"},
    ]
    assert problems(doc) == [
        'forms[0].campaign: "crm-webinar" is a CRM campaign; this needs an MA campaign',
        'forms[0].on_submit[0].enroll: unknown flow "nope"',
        'forms[0].on_submit[1].add_to_list: "hot" is a segment; contacts can only be added to a static list',
        'forms[0].on_submit[2].add_to_list: unknown list "gone"',
        'forms[0].on_submit[3].add_to_crm_campaign.campaign: "webinar" is an MA campaign; '
        "this needs a CRM campaign",
        'forms[0].on_submit[4].add_to_crm_campaign.status: unknown member status "Maybe" of campaign '
        '"crm-webinar" (it has: Sent, Registered, Attended)',
        'forms[0].on_submit[5].add_to_crm_campaign.campaign: unknown campaign "nope"',
    ]


def test_form_id_is_a_slug(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    doc["forms"][0]["id"] = "Sign Up"
    assert problems(doc) == [
        'forms[0].id: an id is 1 to 64 lowercase letters, digits, dashes or underscores (got "Sign Up")',
        'flows[0].trigger.form_submitted: unknown form "signup"',
    ]
