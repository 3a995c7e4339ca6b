"""Sync rules through the process handler on moto: MA->CRM rules, CRM->MA rules, the connected
campaign, flow triggers and steps, and no two-way sync. Every write is read back from the tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadflow.services import crm_members
from leadflow.store import campaigns as campaigns_store
from leadflow.store import contacts as contacts_store
from leadflow.store import enrollments as enrollments_store
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import LambdaContext
from tests.support.forms import submitted_contact

STATUSES = [
    {"name": "Invited", "default": True},
    {"name": "Registered"},
    {"name": "Attended", "responded": True},
]
WAIT = [{"id": "pause", "wait": "30d"}]


def sync_bundle(*extra_rules: dict[str, Any]) -> dict[str, Any]:
    bundle = scoring_bundle()
    webinar = next(c for c in bundle["campaigns"] if c["id"] == "webinar-q3")
    webinar["connected_crm_campaign"] = "crm-webinar-mirror"
    bundle["campaigns"] += [
        {
            "id": "crm-webinar",
            "kind": "crm",
            "name": "Webinar",
            "status": "active",
            "member_statuses": STATUSES,
        },
        {"id": "crm-webinar-mirror", "kind": "crm", "name": "Mirror", "status": "active"},
        {"id": "crm-sales", "kind": "crm", "name": "Sales follow-up", "status": "active"},
    ]
    bundle["lists"].append({"id": "attendees", "kind": "static"})
    bundle["flows"] = [
        {"id": "post-webinar", "trigger": {"tag_added": "never"}, "steps": WAIT},
        {
            "id": "registered-welcome",
            "trigger": {"crm_member_status": {"campaign": "crm-webinar", "status": "Registered"}},
            "steps": WAIT,
        },
    ]
    bundle["sync_rules"] = [
        {
            "id": "hot-webinar-to-sales",
            "direction": "ma_to_crm",
            "when": {"ma_campaign": "webinar-q3", "score_at_least": 5},
            "then": {"add_to_crm_campaign": "crm-webinar", "status": "Registered"},
        },
        {
            "id": "attendees-to-nurture",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "crm-webinar", "status": "Attended"},
            "then": {"add_to_list": "attendees", "enroll": "post-webinar", "add_tags": ["attended"]},
        },
        *extra_rules,
    ]
    return bundle


@pytest.fixture
def tap(aws):
    return queues.bus_tap(aws.buses["EventBus"])


def process_all(aws) -> None:
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])


def member_events(tap) -> list[tuple[str, str, str | None, str, str]]:
    return [
        (
            e["detail-type"],
            e["detail"]["campaign_id"],
            e["detail"].get("previous_status"),
            e["detail"]["status"],
            e["detail"]["source"],
        )
        for e in queues.read_all(tap)
        if e["detail-type"].startswith("CrmCampaignMember")
    ]


def statuses(contact_id: str) -> dict[str, tuple[str, str]]:
    """The contact's CRM memberships (capture keeps the MA campaign's row, ``joined``, beside them)."""
    return {
        m.campaign_id: (m.status, m.source)
        for m in campaigns_store.memberships_of(contact_id)
        if m.campaign_id.startswith("crm-")
    }


def history(contact_id: str, campaign_id: str) -> list[tuple[str | None, str | None, str]]:
    return [
        (row.get("from"), row.get("to"), row["source"])
        for row in campaigns_store.membership_history_of(contact_id, campaign_id)
    ]


def test_a_form_post_makes_the_rule_membership_and_the_connected_mirror_once(aws, apply_bundle, capture, tap):
    apply_bundle(sync_bundle())
    contact_id = submitted_contact(capture, {"email": "ann@example.com", "consent": True})
    event, _ = queues.receive_event(aws.queues["ActivityQueue"])
    process = functions.load("process").lambda_handler
    process(event, LambdaContext(function_name="process"))
    assert statuses(contact_id) == {
        "crm-webinar-mirror": ("Sent", "connected"),
        "crm-webinar": ("Registered", "rule"),
    }
    first = queues.read_all(tap)
    # the batch delivered again: no new membership, no new history, only the same event ids
    process(event, LambdaContext(function_name="process"))
    again = queues.read_all(tap)
    assert statuses(contact_id) == {
        "crm-webinar-mirror": ("Sent", "connected"),
        "crm-webinar": ("Registered", "rule"),
    }
    assert history(contact_id, "crm-webinar") == [(None, "Registered", "rule")]
    crm = lambda events: {  # noqa: E731
        e["detail"]["event_id"]: (e["detail-type"], e["detail"]["campaign_id"], e["detail"]["source"])
        for e in events
        if e["detail-type"].startswith("CrmCampaignMember")
    }
    assert sorted(crm(first).values()) == [
        ("CrmCampaignMemberAdded", "crm-webinar", "rule"),
        ("CrmCampaignMemberAdded", "crm-webinar-mirror", "connected"),
    ]
    assert crm(again).keys() <= crm(first).keys()
    # and the crm_member_status trigger enrolled the contact when Registered was reached
    assert enrollments_store.get(contact_id, "registered-welcome") is not None
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert contact.ma_campaign_id == "webinar-q3"
    assert contact.crm == {"crm-webinar-mirror": "Sent", "crm-webinar": "Registered"}


def test_a_manual_crm_status_runs_crm_to_ma_rules_and_never_changes_the_ma_campaign(
    aws, apply_bundle, capture, tap
):
    apply_bundle(sync_bundle())
    contact_id = submitted_contact(capture, {"email": "bo@example.com", "consent": True}, form="ebook")
    process_all(aws)
    queues.read_all(tap)
    before = contacts_store.get_contact(contact_id, consistent=True)
    assert before is not None
    assert before.ma_campaign_id == "ebook-q4"
    crm_members.change_membership("crm-webinar", contact_id, "Attended", source="manual", mode="set")
    process_all(aws)
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert contact.ma_campaign_id == "ebook-q4"  # a CRM add never joins or changes an MA campaign
    assert "attended" in contact.tags
    assert "attendees" in contact.lists
    assert enrollments_store.get(contact_id, "post-webinar") is not None
    members, _ = campaigns_store.list_members("attendees", cursor=None, limit=10)
    assert [m["contact_id"] for m in members] == [contact_id]
    # the webinar's connected mirror is an MA->CRM link: a CRM member is never mirrored back
    assert "crm-webinar-mirror" not in statuses(contact_id)
    assert member_events(tap) == [("CrmCampaignMemberAdded", "crm-webinar", None, "Attended", "manual")]


def test_a_rule_loop_ends_in_one_pass_and_a_membership_changed_twice_is_one_row_with_two_history_rows(
    aws, apply_bundle, capture, tap
):
    # hot-webinar-to-sales: Registered -> tag registered -> crm-sales -> tag followed-up ->
    # Attended -> list attendees (attendees-to-nurture) -> crm-sales again, tag registered again
    loop = [
        {
            "id": "registered-tag",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "crm-webinar", "status": "Registered"},
            "then": {"add_tags": ["registered"]},
        },
        {
            "id": "registered-to-sales",
            "direction": "ma_to_crm",
            "when": {"has_tag": "registered"},
            "then": {"add_to_crm_campaign": "crm-sales"},
        },
        {
            "id": "sales-tags",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "crm-sales"},
            "then": {"add_tags": ["followed-up"]},
        },
        {
            "id": "followed-up-attended",
            "direction": "ma_to_crm",
            "when": {"has_tag": "followed-up"},
            "then": {"add_to_crm_campaign": "crm-webinar", "status": "Attended"},
        },
        {
            "id": "attendees-to-sales",
            "direction": "ma_to_crm",
            "when": {"in_list": "attendees"},
            "then": {"add_to_crm_campaign": "crm-sales"},
        },
        {
            "id": "attended-tag",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "crm-webinar", "status": "Attended"},
            "then": {"add_tags": ["registered"]},
        },
        {  # the mirror moves forward in the same pass the connection added it
            "id": "mirror-forward",
            "direction": "ma_to_crm",
            "when": {"activity": "form_submit", "form": "webinar-signup"},
            "then": {"add_to_crm_campaign": "crm-webinar-mirror", "status": "Responded"},
        },
    ]
    apply_bundle(sync_bundle(*loop))
    contact_id = submitted_contact(capture, {"email": "cy@example.com", "consent": True})
    process_all(aws)
    assert statuses(contact_id) == {
        "crm-webinar-mirror": ("Responded", "connected"),
        "crm-webinar": ("Attended", "rule"),
        "crm-sales": ("Sent", "rule"),
    }
    # both changes share the pass's time, so the history is compared as a set
    mirror = history(contact_id, "crm-webinar-mirror")
    assert len(mirror) == 2
    assert set(mirror) == {(None, "Sent", "connected"), ("Sent", "Responded", "rule")}
    webinar = history(contact_id, "crm-webinar")
    assert len(webinar) == 2
    assert set(webinar) == {(None, "Registered", "rule"), ("Registered", "Attended", "rule")}
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert {"attended", "followed-up"} <= set(contact.tags)
    assert "attendees" in contact.lists
    # five changes, each announced once: the rules that matched again changed nothing
    assert len(member_events(tap)) == 5


def test_a_rule_for_a_closed_campaign_changes_nothing(aws, apply_bundle, capture, tap):
    bundle = sync_bundle()
    next(c for c in bundle["campaigns"] if c["id"] == "crm-webinar")["status"] = "completed"
    apply_bundle(bundle)
    contact_id = submitted_contact(capture, {"email": "di@example.com", "consent": True})
    process_all(aws)
    assert "crm-webinar" not in statuses(contact_id)
    assert statuses(contact_id) == {"crm-webinar-mirror": ("Sent", "connected")}  # the rest still applies
    assert [kind for kind, campaign, *_ in member_events(tap) if campaign == "crm-webinar"] == []


def test_a_flow_step_adds_through_the_same_path_and_sets_off_crm_to_ma_rules(aws, apply_bundle, capture, tap):
    bundle = sync_bundle()
    bundle["flows"].append(
        {
            "id": "invite-to-webinar",
            "trigger": {"form_submitted": "ebook"},
            "steps": [
                {"id": "add", "add_to_crm_campaign": {"campaign": "crm-webinar", "status": "Attended"}}
            ],
        }
    )
    apply_bundle(bundle)
    contact_id = submitted_contact(capture, {"email": "ed@example.com"}, form="ebook")
    process_all(aws)
    queues.drain(functions.load("nurture").lambda_handler, aws.queues["StepQueue"])
    assert statuses(contact_id)["crm-webinar"] == ("Attended", "flow")
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert "attended" in contact.tags
    assert "attendees" in contact.lists
    assert contact.ma_campaign_id == "ebook-q4"
    events = member_events(tap)
    assert ("CrmCampaignMemberAdded", "crm-webinar", None, "Attended", "flow") in events


def test_apply_refuses_rules_and_links_that_name_what_does_not_exist(apply_bundle, admin):
    bundle = sync_bundle(
        {
            "id": "bad-target",
            "direction": "ma_to_crm",
            "when": {"has_tag": "x"},
            "then": {"add_to_crm_campaign": "webinar-q3"},
        },
        {
            "id": "bad-status",
            "direction": "ma_to_crm",
            "when": {"has_tag": "x"},
            "then": {"add_to_crm_campaign": "crm-webinar", "status": "Won"},
        },
        {
            "id": "bad-back",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "crm-gone"},
            "then": {"enroll": "no-flow", "add_to_list": "no-list"},
        },
    )
    bundle["campaigns"].append(
        {"id": "copycat", "kind": "ma", "name": "Copycat", "connected_crm_campaign": "crm-webinar-mirror"}
    )
    reply = admin(
        "PUT",
        "/v1/admin/definitions",
        iam=True,
        body=json.dumps(bundle),
        headers={"content-type": "application/json"},
    )
    assert reply["statusCode"] == 422, reply["body"]
    fields = json.loads(reply["body"])["error"]["fields"]
    assert set(fields) >= {
        "sync_rules[2].then.add_to_crm_campaign",
        "sync_rules[3].then.status",
        "sync_rules[4].when.crm_campaign",
        "sync_rules[4].then.enroll",
        "sync_rules[4].then.add_to_list",
    }
    assert any(path.endswith(".connected_crm_campaign") for path in fields)


def test_a_flow_update_or_list_step_sets_off_ma_to_crm_rules(aws, apply_bundle, capture, tap):
    bundle = sync_bundle(
        {
            "id": "nurtured-to-sales",
            "direction": "ma_to_crm",
            "when": {"has_tag": "nurtured"},
            "then": {"add_to_crm_campaign": "crm-sales"},
        },
        {
            "id": "attendees-to-webinar",
            "direction": "ma_to_crm",
            "when": {"in_list": "attendees"},
            "then": {"add_to_crm_campaign": "crm-webinar", "status": "Registered"},
        },
    )
    bundle["flows"].append(
        {
            "id": "ebook-nurture",
            "trigger": {"form_submitted": "ebook"},
            "steps": [
                {"id": "tag", "update": {"add_tags": ["nurtured"]}},
                {"id": "list", "add_to_list": "attendees"},
            ],
        }
    )
    apply_bundle(bundle)
    contact_id = submitted_contact(capture, {"email": "fay@example.com"}, form="ebook")
    process_all(aws)
    queues.drain(functions.load("nurture").lambda_handler, aws.queues["StepQueue"])
    assert statuses(contact_id) == {"crm-sales": ("Sent", "rule"), "crm-webinar": ("Registered", "rule")}
    events = member_events(tap)
    assert ("CrmCampaignMemberAdded", "crm-sales", None, "Sent", "rule") in events
    assert ("CrmCampaignMemberAdded", "crm-webinar", None, "Registered", "rule") in events
    contact = contacts_store.get_contact(contact_id, consistent=True)
    assert contact is not None
    assert contact.crm == {"crm-sales": "Sent", "crm-webinar": "Registered"}
    assert contact.ma_campaign_id == "ebook-q4"
