"""Applying definitions through the admin handler: removals of live items must be confirmed, and the
stored bundle is read back as it was applied."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from leadflow import clock
from tests.support.bundles import capture_bundle, scoring_bundle
from tests.support.events import json_body
from tests.support.forms import submitted_contact

EVERYTHING_REMOVED = {
    "campaigns": ["webinar-q3", "ebook-q4", "crm-inbound-mql"],
    "forms": ["webinar-signup", "ebook", "newsletter", "retired"],
    "lists": ["webinar-registrants", "hot-leads", "warm-engineers"],
    "sites": ["www"],
}


def put(admin, bundle: dict[str, Any] | str, **query: str) -> dict[str, Any]:
    body = bundle if isinstance(bundle, str) else json.dumps(bundle)
    return admin(
        "PUT",
        "/v1/admin/definitions",
        body=body,
        headers={"content-type": "application/json"},
        query=query or None,
        iam=True,
    )


def active_version(admin) -> int:
    return int(json_body(admin("GET", "/v1/admin/definitions", iam=True))["version"])


@pytest.mark.parametrize(
    "document", ["{}", "forms: []\ncampaigns: []\nlists: []\nsites: []\n", "forms:\n", "version_note: oops\n"]
)
def test_an_empty_bundle_over_a_live_one_is_refused_and_names_everything_it_would_remove(
    aws, apply_bundle, capture, admin, document
):
    # Given a live bundle with campaigns, forms, lists and a site
    apply_bundle(scoring_bundle())
    # When an empty document is applied without confirming removals
    response = admin(
        "PUT",
        "/v1/admin/definitions",
        body=document,
        headers={"content-type": "application/yaml"},
        iam=True,
    )
    # Then it is refused with a 409 that lists, per kind, every id that would go
    assert response["statusCode"] == 409, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == "conflict"
    assert error["removals"] == EVERYTHING_REMOVED
    assert "4 forms (webinar-signup, ebook, newsletter, retired)" in error["message"]
    assert "1 site (www)" in error["message"]
    assert "allow_removals=true" in error["message"]
    # And nothing changed: the version is the same and the forms still take submissions
    assert active_version(admin) == 1
    submitted_contact(capture, {"email": "still@example.com", "consent": True})


@pytest.mark.parametrize("document", ["", "---\n", "null", "# nothing\n"])
def test_an_empty_file_is_refused_as_empty(aws, apply_bundle, admin, document):
    apply_bundle(capture_bundle())
    response = admin(
        "PUT",
        "/v1/admin/definitions",
        body=document,
        headers={"content-type": "application/yaml"},
        query={"allow_removals": "true"},
        iam=True,
    )
    assert response["statusCode"] == 422
    assert "empty" in json_body(response)["error"]["fields"]["bundle"]
    assert active_version(admin) == 1


def test_a_long_list_of_removals_is_named_in_part_and_listed_in_full(aws, apply_bundle, admin):
    bundle = capture_bundle()
    extra = [
        {"id": f"form-{number:02}", "fields": [{"name": "email", "type": "email", "required": True}]}
        for number in range(12)
    ]
    bundle["forms"] = extra
    apply_bundle(bundle)
    response = put(admin, {"campaigns": bundle["campaigns"]})
    error = json_body(response)["error"]
    assert error["removals"] == {"forms": [form["id"] for form in extra]}
    assert "12 forms (form-00, form-01, " in error["message"]
    assert "form-09 and 2 more)" in error["message"]


def test_removing_one_form_needs_confirmation_then_applies(aws, apply_bundle, capture, admin):
    apply_bundle(capture_bundle())
    without = capture_bundle()
    without["forms"] = [form for form in without["forms"] if form["id"] != "webinar-signup"]

    refused = put(admin, without)
    assert refused["statusCode"] == 409
    assert json_body(refused)["error"]["removals"] == {"forms": ["webinar-signup"]}
    assert "1 form (webinar-signup)" in json_body(refused)["error"]["message"]

    # The dry run shows the same list, stores nothing, and is not refused
    preview = put(admin, without, dry_run="true")
    assert preview["statusCode"] == 200, preview["body"]
    assert json_body(preview)["removals"] == {"forms": ["webinar-signup"]}
    assert json_body(preview)["dry_run"] is True
    assert active_version(admin) == 1

    # Confirmed, it applies, and the reply says what went
    confirmed = put(admin, without, allow_removals="true")
    assert confirmed["statusCode"] == 200, confirmed["body"]
    assert json_body(confirmed)["removals"] == {"forms": ["webinar-signup"]}
    assert json_body(confirmed)["version"] == 2
    gone = capture(
        "POST",
        "/v1/forms/webinar-signup/submissions",
        body=json.dumps({"fields": {"email": "a@example.com", "consent": True}}),
        headers={"content-type": "application/json"},
        path_parameters={"form_id": "webinar-signup"},
    )
    assert gone["statusCode"] == 404


def test_a_flow_removal_is_guarded_too(aws, apply_bundle, admin):
    bundle = capture_bundle()
    bundle["email_templates"] = [
        {"id": "hi", "subject": "Hi", "html": "<p>Hi {{ first_name }}</p>", "from": "news@example.com"}
    ]
    bundle["flows"] = [
        {
            "id": "welcome",
            "trigger": {"form_submitted": "newsletter"},
            "steps": [{"id": "s1", "send_email": {"template": "hi"}, "next": "end"}],
        }
    ]
    apply_bundle(bundle)
    refused = put(admin, capture_bundle())
    assert refused["statusCode"] == 409, refused["body"]
    # Only the live kinds are guarded: the template goes with its flow without a separate mention
    assert json_body(refused)["error"]["removals"] == {"flows": ["welcome"]}


def test_adding_and_changing_never_needs_confirmation(aws, apply_bundle, admin):
    apply_bundle(capture_bundle())
    # Changed forms, a new list and new scoring rules: nothing live goes
    richer = scoring_bundle()
    response = put(admin, richer)
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["removals"] == {}
    # Scoring rules are not guarded: removing one applies straight away
    fewer_rules = copy.deepcopy(richer)
    fewer_rules["scoring"]["rules"] = fewer_rules["scoring"]["rules"][1:]
    response = put(admin, fewer_rules)
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["diff"]["scoring"]["rules"]["removed"] == ["form"]


def test_the_first_bundle_and_an_empty_one_over_nothing_need_no_confirmation(aws, admin):
    assert put(admin, "{}")["statusCode"] == 200
    response = put(admin, capture_bundle())
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["removals"] == {}


def test_allow_removals_takes_only_a_boolean(aws, apply_bundle, admin):
    apply_bundle(capture_bundle())
    response = put(admin, "{}", allow_removals="everything")
    assert response["statusCode"] == 422
    assert "allow_removals" in json_body(response)["error"]["fields"]
    assert active_version(admin) == 1


def test_a_simulation_shows_the_removals_and_stores_nothing(aws, apply_bundle, admin):
    apply_bundle(scoring_bundle())
    response = put(admin, capture_bundle(), simulate="true")
    assert response["statusCode"] == 200, response["body"]
    result = json_body(response)
    assert result["dry_run"] is True
    assert result["removals"] == {
        "campaigns": ["crm-inbound-mql"],
        "lists": ["webinar-registrants", "hot-leads", "warm-engineers"],
        "sites": ["www"],
    }
    assert result["simulation"]["contacts_sampled"] == 0
    assert active_version(admin) == 1


def test_a_stored_bundle_that_todays_checks_refuse_still_loads_and_serves(aws, admin, capture):
    # Given a bundle stored by an older release whose checks allowed what today's refuse:
    # a form that enrols into a flow that does not exist, and a template Jinja2 cannot compile
    from leadflow.definitions import DefinitionsError, parse_bundle
    from leadflow.services import definitions
    from leadflow.store import campaigns as campaigns_store

    stored = capture_bundle(on_submit=[{"enroll": "gone-flow"}])
    stored["email_templates"] = [{"id": "broken", "subject": "Hi {{", "html": "<p>{% if %}</p>"}]
    with pytest.raises(DefinitionsError):
        parse_bundle(stored)
    campaigns_store.save_definitions(stored, expected_version=0, applied_by=None, now=clock.now())
    definitions.forget_cached()
    # When the Lambdas read it back
    active = definitions.active()
    # Then it loads as stored and keeps serving
    assert active.version == 1
    assert active.bundle.form("webinar-signup") is not None
    assert active.bundle.template("broken") is not None
    assert json_body(admin("GET", "/v1/admin/definitions", iam=True))["version"] == 1
    submitted_contact(capture, {"email": "older@example.com", "consent": True}, form="ebook")
    # And the next apply, checked in full, diffs against it and replaces it
    response = put(admin, capture_bundle())
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["diff"]["email_templates"]["removed"] == ["broken"]


def test_a_cache_refresh_runs_no_check_and_compiles_no_template(aws, apply_bundle, monkeypatch):
    from leadflow.definitions import bundle as bundle_module
    from leadflow.definitions import templates
    from leadflow.services import definitions

    bundle = capture_bundle()
    bundle["email_templates"] = [
        {"id": "hi", "subject": "Hi {{ first_name }}", "html": "<p>Hi</p>", "from": "news@example.com"}
    ]
    apply_bundle(bundle)

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stored bundle was checked again")

    monkeypatch.setattr(templates, "check_template_syntax", must_not_run)
    monkeypatch.setattr(bundle_module, "check_bundle", must_not_run)
    definitions.forget_cached()
    refreshed = definitions.active()
    assert refreshed.version == 1
    assert refreshed.bundle.template("hi") is not None


def test_a_template_with_an_unknown_filter_in_a_branch_is_refused_with_its_path(aws, admin):
    # Jinja2 itself would compile it and fail only when a VIP contact is mailed
    bundle = capture_bundle()
    bundle["email_templates"] = [
        {"id": "ok", "subject": "Hi", "html": "<p>Hi</p>"},
        {"id": "vip", "subject": "Hi", "html": "{% if vip %}{{ first_name | shout }}{% endif %}"},
    ]
    response = put(admin, bundle)
    assert response["statusCode"] == 422, response["body"]
    assert json_body(response)["error"]["fields"] == {
        "email_templates[1].html": "template error on line 1: No filter named 'shout'."
    }
