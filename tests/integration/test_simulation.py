"""Simulation before change: the last 30 days replayed through a new scoring model, nothing written."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from leadflow import clock
from leadflow.adapters import activity_queue
from leadflow.domain.activities import Activity
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.events import json_body
from tests.support.forms import submitted_contact


def test_simulation_reports_who_would_change_and_writes_nothing(aws, apply_bundle, capture, admin):
    # Given two contacts with 30 days of history under today's model
    bundle = scoring_bundle()
    apply_bundle(bundle)
    ids = [
        submitted_contact(capture, {"email": email, "consent": True})
        for email in ("one@example.com", "two@example.com")
    ]
    for number in range(3):
        activity_queue.send(
            Activity(
                activity_id=f"pv-{number}",
                type="page_view",
                occurred_at=clock.now(),
                contact_id=ids[0],
                properties={"url": f"https://x.com/docs/{number}"},
            )
        )
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    before = json_body(admin("GET", f"/v1/admin/contacts/{ids[0]}", iam=True))
    assert before["score"] == 5 + 3 * 2
    # When a model that makes page views worth 20 and forms worth 0 is simulated
    proposed = copy.deepcopy(bundle)
    for rule in proposed["scoring"]["rules"]:
        if rule["id"] == "page":
            rule["points"] = 20
        if rule["id"] == "form":
            rule["points"] = 0
    response = admin(
        "PUT",
        "/v1/admin/definitions",
        body=json.dumps(proposed),
        headers={"content-type": "application/json"},
        query={"simulate": "true"},
        iam=True,
    )
    assert response["statusCode"] == 200, response["body"]
    result = json_body(response)
    simulation = result["simulation"]
    # Then it says who would change and how, and stored nothing
    assert result["dry_run"] is True
    assert simulation["contacts_sampled"] == 2
    assert simulation["sample_is_complete"] is True
    assert simulation["activities_replayed"] == 5
    assert simulation["would_change"] == {"score": 2, "temperature": 1, "stage": 0}
    example = next(item for item in simulation["examples"] if item["contact_id"] == ids[0])
    assert example["score"] == {"now": 11, "would_be": 60}
    assert example["temperature"] == {"now": "cold", "would_be": "warm"}
    assert json_body(admin("GET", f"/v1/admin/contacts/{ids[0]}", iam=True))["score"] == 11
    assert json_body(admin("GET", "/v1/admin/definitions", iam=True))["version"] == result["previous_version"]


def test_contacts_inactive_for_30_days_are_not_replayed(aws, apply_bundle, capture, admin):
    apply_bundle(scoring_bundle())
    submitted_contact(capture, {"email": "old@example.com", "consent": True})
    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    later = clock.AdjustableClock(speed=1e-9)
    later.advance(timedelta(days=31))
    previous = clock.install(later)
    try:
        response = admin(
            "PUT",
            "/v1/admin/definitions",
            body=json.dumps(scoring_bundle()),
            headers={"content-type": "application/json"},
            query={"simulate": "true"},
            iam=True,
        )
    finally:
        clock.install(previous)
    assert json_body(response)["simulation"]["contacts_sampled"] == 0
