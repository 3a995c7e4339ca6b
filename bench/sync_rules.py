"""Sync rules: what a rule-driven CRM membership change costs, and how soon it is there.

Run: ``.venv/bin/python -m bench.sync_rules`` (in-process: AWS requests and write units per
activity on moto, and the pass's CPU as the rule set grows), and
``.venv/bin/python -m bench.sync_rules --local [--posts 50]`` (the local stack: from a form post
to the membership a rule makes being visible in the admin API, p50 and p99).

The AWS figures compare the same form post processed with and without rules, so the difference
is what the rules add: the membership row, its history row, and nothing read (the decision is
made from the contact's profile, which the activity's transaction writes anyway).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from typing import Any

RULE_COUNTS = (10, 100, 1000)
SAMPLES = 2000
_STATUSES = [{"name": "Invited", "default": True}, {"name": "Registered"}, {"name": "Attended"}]
#: The anchors' documented sync intervals, for the table beside the local figure.
ANCHORS = (
    ("HubSpot (Salesforce sync)", "15 min"),
    ("Marketo (Salesforce sync cycle)", "~5 min + the cycle"),
    ("Account Engagement (Pardot)", "2 min at best"),
)


def _rules(count: int, campaign: str = "crm-webinar") -> list[dict[str, Any]]:
    """``count`` MA->CRM rules keyed the way real rule sets are: tags, lists, forms, scores."""
    rules: list[dict[str, Any]] = []
    for index in range(count):
        kind = index % 4
        when: dict[str, Any] = (
            {"has_tag": f"tag-{index}"},
            {"in_list": "vips"},
            {"activity": "form_submit", "form": "ebook"},
            {"score_at_least": 1000 + index},
        )[kind]
        rules.append(
            {
                "id": f"rule-{index}",
                "direction": "ma_to_crm",
                "when": when,
                "then": {"add_to_crm_campaign": campaign, "status": "Registered"},
            }
        )
    return rules


def _bundle(sync_rules: list[dict[str, Any]]) -> dict[str, Any]:
    from tests.support.bundles import scoring_bundle

    bundle = scoring_bundle()
    bundle["campaigns"].append(
        {
            "id": "crm-webinar",
            "kind": "crm",
            "name": "Webinar",
            "status": "active",
            "member_statuses": _STATUSES,
        }
    )
    bundle["lists"].append({"id": "vips", "kind": "static"})
    bundle["sync_rules"] = sync_rules
    return bundle


WEBINAR_RULE = {
    "id": "webinar-to-crm",
    "direction": "ma_to_crm",
    "when": {"activity": "form_submit", "form": "webinar-signup"},
    "then": {"add_to_crm_campaign": "crm-webinar", "status": "Registered"},
}
BACK_RULE = {
    "id": "registered-to-list",
    "direction": "crm_to_ma",
    "when": {"crm_campaign": "crm-webinar", "status": "Registered"},
    "then": {"add_to_list": "vips", "add_tags": ["registered"]},
}


# ---------------------------------------------------------------- AWS requests per activity (moto)


def aws_per_change(posts: int = 20) -> dict[str, dict[str, float]]:
    """Requests and write units per form post's processing, for each rule set (in-process moto)."""
    import json

    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack
    from leadflow import aws
    from leadflow.services import capture, crm_members, definitions, processor
    from leadflow.settings import get_settings

    cases = {
        "no sync rules": [],
        "1 MA->CRM rule (1 membership)": [WEBINAR_RULE],
        "+ 1 CRM->MA rule (list, tag)": [WEBINAR_RULE, BACK_RULE],
    }
    results: dict[str, dict[str, float]] = {}
    for label, rules in cases.items():
        with moto_stack():
            definitions.apply(
                json.dumps(_bundle(rules)), content_type="application/json", dry_run=False, applied_by=None
            )
            sqs = aws.client("sqs")
            queue = get_settings().activity_queue_url

            for number in range(posts):
                request = capture.SubmissionRequest(
                    fields={"email": f"p{number}@example.com", "consent": True}
                )
                capture.submit("webinar-signup", request)
            activities = _pending(sqs, queue)
            meter = Meter()
            for service in ("dynamodb", "sqs", "events"):
                meter.attach(aws.client(service))
            for activity in activities:
                processor.handle(activity)
            results[label] = _row(meter, len(activities))
            if label.startswith("+"):
                # an admin's status change (the service's own transaction + send), then its processing
                contact_ids = [activity.contact_id for activity in activities if activity.contact_id]
                meter.reset()
                for contact_id in contact_ids:
                    crm_members.change_membership(
                        "crm-webinar", contact_id, "Attended", source="manual", mode="set"
                    )
                results["admin status change (service)"] = _row(meter, len(contact_ids))
                recorded = _pending(sqs, queue)
                meter.reset()
                for activity in recorded:
                    processor.handle(activity)
                results["... its crm_status_changed"] = _row(meter, len(recorded))
    return results


def _pending(sqs: Any, queue: str) -> list[Any]:
    """Takes every activity waiting on the queue (the benchmark applies them itself)."""
    from leadflow.domain.activities import Activity

    found = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(Activity.from_message(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def _row(meter: Any, count: int) -> dict[str, float]:
    writes = meter.dynamodb_writes()
    return {
        "reads": (meter.count("dynamodb") - writes) / count,
        "writes": writes / count,
        "wcu": meter.write_units / count,
        "sqs": meter.count("sqs") / count,
        "events": meter.count("events") / count,
    }


# ---------------------------------------------------------------- the pass's CPU as the rule set grows


def cpu_per_pass(count: int) -> dict[str, float]:
    """A form post for a contact no rule matches, then one that one rule matches, with ``count`` rules."""
    from leadflow.definitions import Bundle
    from leadflow.domain.activities import Activity
    from leadflow.domain.processing import process
    from leadflow.domain.state import ContactState

    bundle = Bundle.model_validate(_bundle([*_rules(count), WEBINAR_RULE]))
    state = ContactState(contact_id="c1", score=40, tags={"tag-1", "x"}, stage="lead")
    activity = Activity(
        activity_id="a1",
        type="form_submit",
        occurred_at=datetime(2026, 11, 24, tzinfo=UTC),
        contact_id="c1",
        properties={"form_id": "webinar-signup"},
    )
    assert process(bundle, state, activity).crm_memberships  # the webinar rule fires
    for _ in range(200):
        process(bundle, state, activity)
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter_ns()
        process(bundle, state, activity)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p99_ms": samples[int(len(samples) * 0.99)]}


# ---------------------------------------------------------------- local stack: post -> membership


LOCAL_BUNDLE = """
campaigns:
  - {id: bench-webinar, kind: ma, name: Bench webinar}
  - id: crm-bench
    kind: crm
    name: Bench CRM campaign
    status: active
    member_statuses: [{name: Invited, default: true}, {name: Registered}]
forms:
  - id: bench-signup
    campaign: bench-webinar
    fields:
      - {name: email, type: email, required: true}
      - {name: consent, type: consent, required: true, text: "Email me"}
    allowed_origins: ["*"]
scoring:
  rules:
    - {id: form, when: {activity: form_submit}, points: 5}
sync_rules:
  - id: signup-to-crm
    direction: ma_to_crm
    when: {activity: form_submit, form: bench-signup}
    then: {add_to_crm_campaign: crm-bench, status: Registered}
"""


def local_latency(posts: int) -> tuple[list[float], list[float]]:
    """Milliseconds from each post to the rule's membership in the admin contact view, and to the
    post's own reply. The whole asynchronous path of ``make dev``: capture, SQS, the poller (the
    template's batching window), the processor's pass and transaction, the admin read."""
    import contextlib
    import http.client
    import io
    import json
    import tempfile
    from pathlib import Path
    from urllib.parse import quote, urlsplit

    from leadflow_local.stack import DevStack

    latencies: list[float] = []
    replies: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.yaml"
        path.write_text(LOCAL_BUNDLE)
        with (
            contextlib.redirect_stdout(io.StringIO()),
            DevStack(port=0, definitions=path, admin_token="bench") as stack,
        ):
            address = urlsplit(stack.url)
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
            admin = {"Authorization": "Bearer bench"}
            for number in range(posts):
                email = f"rule{number}@example.com"
                body = json.dumps({"fields": {"email": email, "consent": True}})
                start = time.perf_counter()
                connection.request(
                    "POST",
                    "/v1/forms/bench-signup/submissions",
                    body=body,
                    headers={"Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
                assert response.status == 202, response.status
                replies.append((time.perf_counter() - start) * 1000)
                while True:
                    connection.request("GET", f"/v1/admin/contacts?email={quote(email)}", headers=admin)
                    reply = connection.getresponse()
                    payload = reply.read()
                    if reply.status == 200 and any(
                        m["campaign_id"] == "crm-bench" and m["status"] == "Registered"
                        for m in json.loads(payload).get("crm_campaigns", [])
                    ):
                        break
                    if time.perf_counter() - start > 30:
                        raise TimeoutError(f"the membership of {email} was not visible after 30 s")
                    time.sleep(0.01)
                latencies.append((time.perf_counter() - start) * 1000)
    return latencies, replies


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(len(ordered) * 0.99) - 1)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_rules", description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="measure post -> membership on the local stack")
    parser.add_argument("--posts", type=int, default=50)
    args = parser.parse_args(argv)
    if args.local:
        latencies, replies = local_latency(args.posts)
        print(
            f"Form post -> rule-made CRM membership visible in the admin API, local stack, {args.posts} posts"
        )
        print(f"{'p50 ms':>7} {'p99 ms':>7} {'min ms':>7} {'max ms':>7} {'post reply p50 ms':>18}")
        print(
            f"{statistics.median(latencies):>7.0f} {_p99(latencies):>7.0f} {min(latencies):>7.0f}"
            f" {max(latencies):>7.0f} {statistics.median(replies):>18.0f}"
        )
        print("\nThe anchors' documented sync intervals, for comparison:")
        for name, interval in ANCHORS:
            print(f"  {name:34} {interval}")
        return
    print("Processor: AWS requests per form post processed (mean, in-process moto, botocore hooks)")
    print(f"{'case':34} {'DDB reads':>9} {'DDB writes':>10} {'WCU':>6} {'SQS':>5} {'PutEvents':>9}")
    for label, row in aws_per_change().items():
        print(
            f"{label:34} {row['reads']:>9.1f} {row['writes']:>10.1f} {row['wcu']:>6.1f}"
            f" {row['sqs']:>5.1f} {row['events']:>9.1f}"
        )
    print(f"\nThe pass's CPU per form post with N MA->CRM rules, one of which fires ({SAMPLES} samples)")
    print(f"{'rules':>6} {'median ms':>10} {'p99 ms':>8}")
    for count in RULE_COUNTS:
        row = cpu_per_pass(count)
        print(f"{count:>6} {row['median_ms']:>10.3f} {row['p99_ms']:>8.3f}")


if __name__ == "__main__":
    main()
