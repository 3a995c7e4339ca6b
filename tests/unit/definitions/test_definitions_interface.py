"""The interface other modules code against: names, fields, lookups, and a cheap import."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from leadflow.definitions import (
    ActivityType,
    Bundle,
    Campaign,
    CampaignKind,
    DefinitionsError,
    FieldType,
    Form,
    FormField,
    Problem,
    bundle_diff,
    parse_bundle,
)


def test_activity_types_are_exactly_the_documented_list() -> None:
    assert [a.value for a in ActivityType] == [
        "form_submit",
        "page_view",
        "download",
        "event_registration",
        "trial_signup",
        "custom",
        "email_sent",
        "email_open",
        "email_click",
        "email_bounced",
        "email_complained",
        "unsubscribe",
        "crm_status_changed",
    ]


def test_bundle_lookups_find_each_item_by_id(doc: dict[str, Any]) -> None:
    # Given a valid bundle
    bundle = parse_bundle(doc)
    # Then each lookup returns the item with that id, and None for an unknown id
    assert bundle.form("signup") is bundle.forms[0]
    assert bundle.campaign("crm-webinar") is bundle.campaigns[1]
    assert bundle.list("hot") is bundle.lists[1]
    assert bundle.flow("followup") is bundle.flows[0]
    assert bundle.template("invite") is bundle.email_templates[0]
    assert bundle.site_by_write_key("wk_www_123456") is bundle.sites[0]
    for lookup in (
        bundle.form,
        bundle.campaign,
        bundle.list,
        bundle.flow,
        bundle.template,
        bundle.site_by_write_key,
    ):
        assert lookup("nope") is None


def test_bundle_indexes_flows_by_trigger_and_rules_by_direction(doc: dict[str, Any]) -> None:
    bundle = parse_bundle(doc)
    assert [flow.id for flow in bundle.flows_with_trigger("form_submitted")] == ["followup"]
    assert bundle.flows_with_trigger("tag_added") == []
    assert [rule.id for rule in bundle.sync_rules_for("crm_to_ma")] == ["attendees"]


def test_empty_bundle_has_empty_sections_and_scoring() -> None:
    bundle = parse_bundle({})
    assert bundle.campaigns == bundle.forms == bundle.lists == bundle.flows == []
    assert bundle.email_templates == bundle.sync_rules == bundle.sites == []
    assert bundle.scoring.rules == []
    assert bundle.version_note is None


def test_form_interface(doc: dict[str, Any]) -> None:
    form = parse_bundle(doc).form("signup")
    assert isinstance(form, Form)
    assert form.campaign == "webinar"
    assert form.honeypot is None
    assert form.redirect_url is None
    assert form.error_url is None
    assert form.name is None
    assert form.double_opt_in is False
    assert form.enabled is True
    assert form.allowed_origins == ["https://www.example.com"]
    email = form.field("email")
    assert isinstance(email, FormField)
    assert email.type is FieldType.EMAIL
    assert email.required
    assert form.field("missing") is None
    assert form.email_field is email


def test_crm_campaign_statuses(doc: dict[str, Any]) -> None:
    bundle = parse_bundle(doc)
    crm = bundle.campaign("crm-webinar")
    assert isinstance(crm, Campaign)
    assert crm.kind is CampaignKind.CRM
    assert crm.default_status() is not None
    assert crm.default_status().name == "Sent"
    assert crm.status_named("Registered") is not None
    assert crm.status_named("registered") is None  # names are exact
    assert [s.name for s in crm.responded_statuses()] == ["Registered", "Attended"]
    ma = bundle.campaign("webinar")
    assert ma is not None
    assert ma.default_status() is None
    assert ma.member_statuses == []


def test_default_status_is_the_first_when_none_is_marked() -> None:
    campaign = Campaign(id="c", kind="crm", name="C", member_statuses=[{"name": "A"}, {"name": "B"}])  # type: ignore[arg-type, list-item]
    assert campaign.default_status().name == "A"  # type: ignore[union-attr]


def test_crm_campaign_without_statuses_gets_the_crm_defaults() -> None:
    campaign = Campaign(id="c", kind="crm", name="C")  # type: ignore[arg-type]
    assert campaign.status_names() == ["Sent", "Responded"]
    assert campaign.default_status().name == "Sent"  # type: ignore[union-attr]
    assert campaign.status == "planned"


def test_models_are_frozen_and_forbid_unknown_keys(doc: dict[str, Any]) -> None:
    form = parse_bundle(doc).forms[0]
    with pytest.raises(ValidationError):
        form.id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        FormField(name="x", type="text", colour="red")  # type: ignore[arg-type, call-arg]


def test_problem_prints_as_path_colon_message() -> None:
    assert (
        str(Problem("flows[0].steps[3].then", 'unknown step "s9"'))
        == 'flows[0].steps[3].then: unknown step "s9"'
    )
    assert str(Problem("", "YAML syntax error")) == "YAML syntax error"


def test_definitions_error_lists_every_problem() -> None:
    error = DefinitionsError([Problem("a", "x"), Problem("b", "y")])
    assert str(error).splitlines() == ["2 problems in the definitions:", "  a: x", "  b: y"]
    assert error.to_dict()["problems"] == [{"path": "a", "message": "x"}, {"path": "b", "message": "y"}]


def test_bundle_model_validate_also_checks_references(doc: dict[str, Any]) -> None:
    # Given a bundle whose form names a flow that does not exist
    doc["forms"][0]["on_submit"] = [{"enroll": "nope"}]
    # When it is validated directly as a model, not through parse_bundle
    with pytest.raises(DefinitionsError) as caught:
        Bundle.model_validate(doc)
    # Then the cross-reference problem is still reported, with its path
    assert [str(p) for p in caught.value.problems] == ['forms[0].on_submit[0].enroll: unknown flow "nope"']


def test_bundle_diff_is_exported() -> None:
    assert bundle_diff(None, parse_bundle({})) == {}


def test_import_is_cheap_and_pure() -> None:
    # Given a fresh interpreter
    code = (
        "import sys, leadflow.definitions as d\n"
        "d.parse_bundle({'forms': []})\n"
        "print(sorted(m for m in ('yaml', 'jinja2', 'boto3', 'botocore', 'email_validator') if m in "
        "sys.modules))"
    )
    # When it imports the package and parses already-parsed data
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # Then neither YAML, Jinja2 nor boto3 was imported
    assert result.stdout.strip() == "[]"


def test_parsing_stored_json_without_template_checks_never_imports_jinja(doc: dict[str, Any]) -> None:
    # Given a bundle as the store keeps it (JSON)
    stored = json.dumps(parse_bundle(doc).to_json_dict())
    code = (
        "import json, sys\nfrom leadflow.definitions import parse_bundle\n"
        "bundle = parse_bundle(sys.stdin.read(), content_type='application/json', check_templates=False)\n"
        "print(bundle.template('invite') is not None, 'jinja2' in sys.modules, 'yaml' in sys.modules)"
    )
    # When a fresh interpreter reads it back, skipping the template check
    result = subprocess.run(
        [sys.executable, "-c", code], input=stored, capture_output=True, text=True, check=True
    )
    # Then it has the bundle without importing Jinja2 or YAML
    assert result.stdout.strip() == "True False False"
