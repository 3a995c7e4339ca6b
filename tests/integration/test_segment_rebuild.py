"""A changed segment definition is rebuilt in the background, page by page, through the bus."""

from __future__ import annotations

import copy
from typing import Any

from leadflow import clock
from leadflow.adapters import activity_queue
from leadflow.domain.activities import Activity
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import LambdaContext, json_body
from tests.support.forms import submitted_contact


def short_of_time() -> object:
    """A context whose invocation is nearly over (1 s left): the rebuild must hand over after one page."""
    return LambdaContext(timeout_seconds=1.0)


def members(admin, list_id: str) -> set[str]:
    return {
        item["contact_id"]
        for item in json_body(admin("GET", f"/v1/admin/segments/{list_id}/members", iam=True))["members"]
    }


def test_changed_segment_is_rebuilt_through_the_bus(aws, apply_bundle, capture, admin, monkeypatch):
    bundle = scoring_bundle()
    apply_bundle(bundle)
    tap = queues.bus_tap(aws.buses["EventBus"])
    ids = [
        submitted_contact(capture, {"email": f"p{number}@example.com", "consent": True, "role": "Engineer"})
        for number in range(5)
    ]
    for number, contact_id in enumerate(ids[:2]):
        activity_queue.send(
            Activity(
                activity_id=f"dl-{number}",
                type="download",
                occurred_at=clock.now(),
                contact_id=contact_id,
                properties={"asset_type": "whitepaper"},
            )
        )
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert members(admin, "warm-engineers") == set(ids[:2])  # 45 points each; the others have 5
    queues.read_all(tap)

    # When the segment's threshold drops to 5 points
    changed = copy.deepcopy(bundle)
    segment = next(item for item in changed["lists"] if item["id"] == "warm-engineers")
    segment["where"]["score_at_least"] = 5
    apply_bundle(changed)
    [announcement] = [event for event in queues.read_all(tap) if event["detail-type"] == "DefinitionsApplied"]
    assert announcement["detail"]["rebuild_segments"] == ["warm-engineers"]

    # Then housekeeping rebuilds it; a run short of time hands the rest over through the bus
    from leadflow.services import segments

    real_page = segments.rebuild_page
    monkeypatch.setattr(segments, "rebuild_page", lambda ids_, cursor: real_page(ids_, cursor, page_size=2))
    housekeeping = functions.load("housekeeping").lambda_handler
    result: dict[str, Any] = housekeeping(announcement, short_of_time())
    assert result["continues"] is True
    hops = 0
    while result["continues"]:
        [follow_up] = [
            event for event in queues.read_all(tap) if event["detail-type"] == "SegmentRebuildContinued"
        ]
        result = housekeeping(follow_up, short_of_time())
        hops += 1
        assert hops < 100, "the rebuild must end"
    assert members(admin, "warm-engineers") == set(ids)
    assert all(
        "warm-engineers" in json_body(admin("GET", f"/v1/admin/contacts/{cid}", iam=True))["lists"]
        for cid in ids
    )

    # And removing the segment (confirmed: it is live) empties it
    removed = copy.deepcopy(changed)
    removed["lists"] = [item for item in removed["lists"] if item["id"] != "warm-engineers"]
    apply_bundle(removed, allow_removals=True)
    [announcement] = [event for event in queues.read_all(tap) if event["detail-type"] == "DefinitionsApplied"]
    monkeypatch.setattr(segments, "rebuild_page", real_page)
    assert housekeeping(announcement, LambdaContext())["changed"] == 5
    assert all(
        "warm-engineers" not in json_body(admin("GET", f"/v1/admin/contacts/{cid}", iam=True))["lists"]
        for cid in ids
    )


def test_unrelated_changes_rebuild_nothing(aws, apply_bundle):
    from leadflow.definitions import Bundle, segments_to_rebuild
    from leadflow.definitions import bundle_diff as diff_of

    old = Bundle.model_validate(scoring_bundle())
    edited = scoring_bundle()
    edited["scoring"]["rules"][0]["points"] = 6
    new = Bundle.model_validate(edited)
    assert segments_to_rebuild(old, new, diff_of(old, new)) == []
    edited["scoring"]["temperature"] = {"warm": 20, "hot": 60}
    new = Bundle.model_validate(edited)
    assert segments_to_rebuild(old, new, diff_of(old, new)) == ["hot-leads", "warm-engineers"]


def test_a_segment_a_rebuild_moves_contacts_into_sets_off_its_ma_to_crm_rule(
    aws, apply_bundle, capture, admin
):
    """Lowering a segment's threshold brings contacts in through the rebuild, not an activity:
    the rule on that segment adds each of them to its CRM campaign, and the connectors hear of it."""
    bundle = scoring_bundle()
    bundle["sync_rules"] = [
        {
            "id": "warm-engineers-to-sales",
            "direction": "ma_to_crm",
            "when": {"in_list": "warm-engineers"},
            "then": {"add_to_crm_campaign": "crm-inbound-mql"},
        }
    ]
    apply_bundle(bundle)
    ids = [
        submitted_contact(capture, {"email": f"r{number}@example.com", "consent": True, "role": "Engineer"})
        for number in range(3)
    ]
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    assert members(admin, "warm-engineers") == set()  # 5 points each: under 30
    tap = queues.bus_tap(aws.buses["EventBus"])
    changed = copy.deepcopy(bundle)
    segment = next(item for item in changed["lists"] if item["id"] == "warm-engineers")
    segment["where"]["score_at_least"] = 5
    apply_bundle(changed)
    [announcement] = [event for event in queues.read_all(tap) if event["detail-type"] == "DefinitionsApplied"]
    housekeeping = functions.load("housekeeping").lambda_handler
    assert housekeeping(announcement, LambdaContext())["changed"] == 3
    for contact_id in ids:
        contact = json_body(admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True))
        assert [(m["campaign_id"], m["status"], m["source"]) for m in contact["crm_campaigns"]] == [
            ("crm-inbound-mql", "Sent", "rule")
        ]
    added = [event for event in queues.read_all(tap) if event["detail-type"] == "CrmCampaignMemberAdded"]
    assert sorted(event["detail"]["contact_id"] for event in added) == sorted(ids)
    assert housekeeping(announcement, LambdaContext())["changed"] == 0  # a redelivered event: nothing twice
