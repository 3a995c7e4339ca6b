"""The example bundles are valid, and the demo exercises every part of the language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from leadflow.definitions import (
    ActivityType,
    Bundle,
    CampaignKind,
    FieldType,
    ListKind,
    ReentryAfter,
    ReentryMode,
    StepKind,
    SyncDirection,
    TriggerKind,
    WaitUntil,
    parse_bundle,
)


def _demo(example_text: Callable[[str], str]) -> Bundle:
    return parse_bundle(example_text("demo.yaml"))


def test_definitions_md_example_is_valid(example_text: Callable[[str], str]) -> None:
    # Given the example of DEFINITIONS.md, with only what it references but lacks added
    bundle = parse_bundle(example_text("spec_example.yaml"))
    # Then it parses, and reads as the spec says
    flow = bundle.flow("webinar-followup")
    assert flow is not None
    assert [s.id for s in flow.steps] == [
        "invite",
        "wait-open",
        "details",
        "reminder",
        "pause",
        "check",
        "call",
    ]
    assert bundle.campaign("webinar-q3").connected_crm_campaign == "crm-webinar-q3"  # type: ignore[union-attr]
    assert bundle.site_by_write_key("wk_www_7Hq2x9") is not None
    assert [r.id for r in bundle.scoring.rules_for("page_view")] == ["pricing", "page"]


def test_demo_bundle_is_valid_and_round_trips(example_text: Callable[[str], str]) -> None:
    bundle = _demo(example_text)
    assert parse_bundle(bundle.to_json_dict()) == bundle


def test_demo_serves_the_local_demo_page(example_text: Callable[[str], str]) -> None:
    bundle = _demo(example_text)
    local = {"http://127.0.0.1:3000", "http://localhost:3000"}
    for form_id in ("contact-us", "webinar-signup"):
        form = bundle.form(form_id)
        assert form is not None
        assert local <= set(form.allowed_origins)
        campaign = bundle.campaign(form.campaign or "")
        assert campaign is not None
        assert campaign.kind is CampaignKind.MA
    site = bundle.site_by_write_key("wk_demo_local")
    assert site is not None
    assert local <= set(site.allowed_origins)


def test_demo_exercises_every_feature(example_text: Callable[[str], str]) -> None:
    bundle = _demo(example_text)
    assert {c.kind for c in bundle.campaigns} == set(CampaignKind)
    assert any(c.parent for c in bundle.campaigns)
    assert any(c.connected_crm_campaign for c in bundle.campaigns)
    assert {f.type for form in bundle.forms for f in form.fields} == set(FieldType)
    assert any(form.double_opt_in for form in bundle.forms)
    assert {type(a).__name__ for form in bundle.forms for a in form.on_submit} == {
        "AddTagsAction",
        "EnrollAction",
        "AddToListAction",
        "AddToCrmCampaignAction",
    }
    scoring = bundle.scoring
    assert scoring.decay
    assert scoring.temperature
    assert scoring.qualify
    assert any(r.points < 0 for r in scoring.rules)
    assert any(r.tag_from for r in scoring.rules)
    assert any(r.max_per_day for r in scoring.rules)
    assert any(r.when.field for r in scoring.rules)
    assert {lst.kind for lst in bundle.lists} == set(ListKind)
    assert {flow.trigger.kind for flow in bundle.flows} == set(TriggerKind)
    assert {step.kind for flow in bundle.flows for step in flow.steps} == set(StepKind)
    reentries = [flow.reentry for flow in bundle.flows]
    assert ReentryMode.NEVER in reentries
    assert ReentryMode.ALWAYS in reentries
    assert any(isinstance(r, ReentryAfter) for r in reentries)
    assert any(
        isinstance(getattr(step, "wait", None), WaitUntil) for flow in bundle.flows for step in flow.steps
    )
    assert any(
        getattr(step, "send_email", None) and step.send_email.send_time
        for flow in bundle.flows
        for step in flow.steps
    )  # type: ignore[union-attr]
    assert all(flow.quiet_hours for flow in bundle.flows[:1])
    assert any(flow.exit_when for flow in bundle.flows)
    assert {rule.direction for rule in bundle.sync_rules} == set(SyncDirection)
    assert all(template.from_ for template in bundle.email_templates)
    assert ActivityType.TRIAL_SIGNUP in scoring.qualify.or_activity  # type: ignore[union-attr]


FLOW_TEMPLATES = sorted((Path(__file__).parents[3] / "examples" / "flow-templates").glob("*.yaml"))


def test_the_built_in_flow_templates_ship() -> None:
    assert [path.stem for path in FLOW_TEMPLATES] == [
        "abandoned-cart",
        "birthday",
        "customer-education",
        "event-invitation",
        "welcome-series",
    ]


@pytest.mark.parametrize("path", FLOW_TEMPLATES, ids=lambda path: path.stem)
def test_each_flow_template_is_a_valid_bundle(path: Path) -> None:
    bundle = parse_bundle(path.read_text(encoding="utf-8"))
    assert bundle.flows
