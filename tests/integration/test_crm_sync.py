"""The sync function on moto, against the Salesforce stub over HTTP on loopback: membership events
from the bus through the template's rule and queue to the CRM, credentials, retries, dead letters,
replay, the connector view and the contact view's crm_sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from leadflow import clock
from leadflow.domain.activities import Activity
from leadflow.ids import stable_id
from leadflow.services import crm_sync
from leadflow.store import crm_sync as sync_store
from tests.support import functions, queues
from tests.support.bundles import scoring_bundle
from tests.support.crm_stub import StubServer
from tests.support.crm_stub.salesforce import CLIENT_ID, CLIENT_SECRET, SalesforceStub
from tests.support.events import LambdaContext, json_body
from tests.support.forms import submitted_contact

CAMPAIGN = "701000000000001AAA"
CREDENTIALS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer(SalesforceStub()).start()
    server.stub.seed({"campaigns": [CAMPAIGN]})
    yield server
    server.stop()


def sync_bundle(url: str) -> dict[str, Any]:
    bundle = scoring_bundle()
    bundle["connectors"] = [{"id": "sfdc", "kind": "salesforce", "instance_url": url, "api_version": "62.0"}]
    for campaign in bundle["campaigns"]:
        if campaign["id"] == "crm-inbound-mql":
            campaign["external"] = {"connector": "sfdc", "id": CAMPAIGN}
    bundle["sync_rules"] = [
        {
            "id": "contacted-by-sales",
            "direction": "crm_to_ma",
            "when": {"crm_campaign": "crm-inbound-mql", "status": "Contacted"},
            "then": {"add_tags": ["sales-contacted"]},
        }
    ]
    return bundle


def _wire_rule(stack: Any) -> None:
    """The template's rule gets its target in moto (the local stack's bus does this with a tap)."""
    events = boto3.client("events")
    bus = stack.buses["EventBus"]
    sqs = boto3.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=stack.queues["SyncQueue"], AttributeNames=["QueueArn"])
    rule = next(r for r in stack.model.rules if r.logical_id == "SyncMembershipEvents")
    events.put_targets(
        Rule=rule.name, EventBusName=bus, Targets=[{"Id": "sync", "Arn": arn["Attributes"]["QueueArn"]}]
    )


@pytest.fixture
def world(aws, apply_bundle, capture, admin, stub):
    apply_bundle(sync_bundle(stub.url))
    _wire_rule(aws)
    crm_sync.forget_usage()
    process = functions.load("process").lambda_handler
    sync = functions.load("sync").lambda_handler

    class World:
        stack = aws
        crm = stub.stub

        def qualify(self, email: str, **fields: Any) -> str:
            values = {"email": email, "first_name": "Ann", "consent": True, **fields}
            contact_id = submitted_contact(capture, values)
            trial = Activity(
                activity_id=stable_id("t", "trial", contact_id),
                type="trial_signup",
                occurred_at=clock.now(),
                contact_id=contact_id,
            )
            from leadflow.adapters import activity_queue

            activity_queue.send(trial)
            queues.drain(process, aws.queues["ActivityQueue"])
            return contact_id

        def sync_once(self) -> dict[str, Any]:
            return queues.deliver(sync, aws.queues["SyncQueue"])

        def sync_all(self) -> int:
            return queues.drain(sync, aws.queues["SyncQueue"])

        def poll(self) -> dict[str, Any]:
            sample = json.loads((functions.ROOT / "events" / "sync-poll.json").read_text())
            reply = sync(sample, LambdaContext(function_name="sync"))
            queues.drain(process, aws.queues["ActivityQueue"])
            return reply

        def process(self) -> int:
            return queues.drain(process, aws.queues["ActivityQueue"])

        def messages(self, queue: str = "SyncQueue") -> list[dict[str, Any]]:
            return queues.read_all(aws.queues[queue])

        def put_credentials(self, body: Any, connector: str = "sfdc") -> dict[str, Any]:
            return admin(
                "PUT",
                f"/v1/admin/connectors/{connector}/credentials",
                body=json.dumps(body),
                headers={"content-type": "application/json"},
                iam=True,
            )

        def connector(self, connector: str = "sfdc") -> dict[str, Any]:
            return admin("GET", f"/v1/admin/connectors/{connector}", iam=True)

        def contact(self, contact_id: str) -> dict[str, Any]:
            return json_body(admin("GET", f"/v1/admin/contacts/{contact_id}", iam=True))

    return World()


def _visible(queue_url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_qualified_lead_becomes_a_campaign_member_in_salesforce_once(world) -> None:
    world.put_credentials(CREDENTIALS)
    contact_id = world.qualify("ann@example.com", company="Initech")
    assert world.sync_all() >= 1
    [lead] = world.crm.state["Lead"]
    assert lead["Email"] == "ann@example.com"
    assert lead["LastName"] == "[not provided]"
    assert lead["Company"] == "Initech"
    [member] = world.crm.members(CAMPAIGN)
    assert member["LeadId"] == lead["Id"]
    assert member["Status"] == "Sent"
    view = world.contact(contact_id)["crm_sync"]
    assert view == [
        {
            "connector_id": "sfdc",
            "state": "synced",
            "reason": None,
            "external_id": lead["Id"],
            "member_ids": {"crm-inbound-mql": member["Id"]},
            "last_error": None,
            "updated_at": view[0]["updated_at"],
        }
    ]
    status = json_body(world.connector())
    assert status["configured"] is True
    assert status["pending"] == 0
    assert status["failed"] == 0
    assert status["last_success_at"] is not None
    # the same event again (at-least-once delivery): nothing more reaches Salesforce
    requests = world.crm.request_count()
    state = sync_store.get_state(contact_id, "sfdc")
    event = crm_sync.resync_body(contact_id, "crm-inbound-mql", cause="redelivery")
    from leadflow.adapters import sync_queue

    sync_queue.send_many([event, event])
    world.sync_all()
    assert world.crm.request_count() == requests
    assert sync_store.get_state(contact_id, "sfdc").revision == state.revision


def test_without_credentials_memberships_wait_then_go_when_credentials_arrive(world) -> None:
    contact_id = world.qualify("bo@example.com")
    world.sync_all()
    assert world.crm.members(CAMPAIGN) == []
    assert world.crm.request_count() == 0
    [view] = world.contact(contact_id)["crm_sync"]
    assert view["state"] == "pending"
    assert view["reason"] == "not_configured"
    assert view["last_error"]["code"] == "NOT_CONFIGURED"
    status = json_body(world.connector())
    assert status["configured"] is False
    assert status["pending"] == 1
    assert status["last_error"]["code"] == "NOT_CONFIGURED"
    assert world.messages() == []  # waiting in the sync state, not looping in the queue

    reply = world.put_credentials(CREDENTIALS)
    assert reply["statusCode"] == 204
    assert reply["body"] in ("", None)
    world.sync_all()
    [member] = world.crm.members(CAMPAIGN)
    assert member["Status"] == "Sent"
    [view] = world.contact(contact_id)["crm_sync"]
    assert view["state"] == "synced"
    assert json_body(world.connector())["pending"] == 0


def test_credentials_are_validated_per_kind_and_never_returned(world) -> None:
    cases = [
        ({"client_id": "x"}, 422),
        ({"client_id": "x", "client_secret": "y", "password": "z"}, 422),
        ({"username": "u", "password": "p"}, 422),
        ({"client_id": "", "client_secret": "y"}, 422),
        ({"client_id": "x", "client_secret": "line\nbreak"}, 422),
        ({"client_id": 1, "client_secret": "y"}, 422),
        ([], 422),
    ]
    for body, status in cases:
        reply = world.put_credentials(body)
        assert reply["statusCode"] == status, (body, reply["body"])
        assert "y" not in json.dumps(list(json_body(reply)["error"].get("fields", {}).values()))
    assert world.put_credentials(CREDENTIALS, connector="nope")["statusCode"] == 404
    not_json = world.put_credentials("{")
    assert not_json["statusCode"] == 422
    assert json_body(world.connector("nope"))["error"]["code"] == "not_found"
    reply = world.put_credentials(CREDENTIALS)
    assert reply["statusCode"] == 204
    shown = json.dumps(json_body(world.connector()))
    assert CLIENT_SECRET not in shown
    secret = boto3.client("secretsmanager").get_secret_value(SecretId="leadflow-test/connectors/sfdc")
    assert json.loads(secret["SecretString"]) == CREDENTIALS


def test_a_throttled_crm_is_retried_later_with_backoff_then_succeeds(world) -> None:
    world.put_credentials(CREDENTIALS)
    contact_id = world.qualify("cy@example.com")
    world.crm.fail_next("throttle", times=1)
    reply = world.sync_once()
    assert len(reply["batchItemFailures"]) == 1
    state = sync_store.get_state(contact_id, "sfdc")
    assert state.state == "pending"
    assert state.reason == "retrying"
    assert state.last_error is not None
    assert state.last_error.code == "REQUEST_LIMIT_EXCEEDED"
    # the message is back later, not at once: its visibility was set to the backoff
    assert world.sync_once().get("empty") is True
    [message] = boto3.client("sqs").receive_message(
        QueueUrl=world.stack.queues["SyncQueue"], VisibilityTimeout=0, AttributeNames=["All"]
    ).get("Messages", []) or [None]
    assert message is None
    # a new receive after the backoff (SQS's clock): make it visible now and deliver
    _make_visible(world.stack.queues["SyncQueue"])
    world.sync_all()
    assert [m["Status"] for m in world.crm.members(CAMPAIGN)] == ["Sent"]
    assert sync_store.get_state(contact_id, "sfdc").state == "synced"


def _make_visible(queue_url: str) -> None:
    """Ends every in-flight message's backoff at once (what waiting the backoff out would do)."""
    from moto.backends import get_backend

    backend = get_backend("sqs")["123456789012"]["us-east-1"]
    queue = backend.queues[queue_url.rsplit("/", 1)[-1]]
    for message in queue._messages:
        message.change_visibility(0)


def test_a_campaign_salesforce_does_not_know_fails_to_the_dead_letter_queue_and_replays(world) -> None:
    world.put_credentials(CREDENTIALS)
    world.crm.records["Campaign"].clear()  # the campaign was deleted in Salesforce
    contact_id = world.qualify("di@example.com")
    world.sync_all()
    state = sync_store.get_state(contact_id, "sfdc")
    assert state.state == "failed"
    assert state.reason == "rejected"
    assert world.messages() == []
    status = json_body(world.connector())
    assert status["failed"] == 1
    assert status["dead_letters"] == 1
    [view] = world.contact(contact_id)["crm_sync"]
    assert view["state"] == "failed"
    assert view["last_error"]["at"]
    # fixed in Salesforce, replayed
    world.crm.seed({"campaigns": [CAMPAIGN]})
    from tests.integration.conftest import _invoker

    admin = _invoker("admin")
    reply = json_body(admin("POST", "/v1/admin/connectors/sfdc/replay", iam=True))
    assert reply == {"connector_id": "sfdc", "replayed": 1, "other_connectors": 0}
    world.sync_all()
    assert [m["Status"] for m in world.crm.members(CAMPAIGN)] == ["Sent"]
    assert sync_store.get_state(contact_id, "sfdc").state == "synced"
    assert json_body(world.connector())["failed"] == 0


def test_retries_are_bounded_then_the_message_is_dead_lettered(world) -> None:
    world.put_credentials(CREDENTIALS)
    contact_id = world.qualify("ed@example.com")
    world.crm.fail_next("error_500", times=100)
    sync = functions.load("sync")
    for _ in range(sync.MAX_RECEIVES):
        _make_visible(world.stack.queues["SyncQueue"])
        world.sync_once()
    state = sync_store.get_state(contact_id, "sfdc")
    assert state.state == "failed"
    assert state.reason == "retries_exhausted"
    assert _visible(world.stack.queues["SyncDeadLetterQueue"]) == 1
    assert world.crm.members(CAMPAIGN) == []


def test_an_erased_contact_is_not_sent(world) -> None:
    world.put_credentials(CREDENTIALS)
    contact_id = world.qualify("fa@example.com")
    table = world.stack.tables["ContactsTable"]
    boto3.client("dynamodb").update_item(
        TableName=table,
        Key={"pk": {"S": f"CONTACT#{contact_id}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET #s = :erased",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":erased": {"S": "erased"}},
    )
    world.sync_all()
    assert world.crm.request_count() == 0


def test_changes_from_the_crm_are_not_echoed_and_campaigns_without_a_connector_are_skipped(world) -> None:
    world.put_credentials(CREDENTIALS)
    contact_id = world.qualify("gu@example.com")
    world.sync_all()
    requests = world.crm.request_count()
    from leadflow.adapters import sync_queue

    echo = crm_sync.resync_body(contact_id, "crm-inbound-mql", cause="x")
    echo["detail"]["source"] = "crm"
    other = crm_sync.resync_body(contact_id, "webinar-q3", cause="y")  # an MA campaign: no external
    sync_queue.send_many([echo, other, {"detail-type": "x"}])
    world.sync_all()
    assert world.crm.request_count() == requests
    assert _visible(world.stack.queues["SyncDeadLetterQueue"]) == 1  # the malformed one, kept for a look


def test_sync_message_sample_event(world) -> None:
    """events/sync-member-added.json is what the rule puts on the queue (the sample events test runs it)."""
    sample = json.loads((functions.ROOT / "events" / "sync-member-added.json").read_text())
    body = json.loads(sample["Records"][0]["body"])
    message = crm_sync.SyncMessage.model_validate(body)
    assert message.detail_type == "CrmCampaignMemberAdded"
    reply = functions.load("sync").lambda_handler(sample, LambdaContext(function_name="sync"))
    assert reply == {"batchItemFailures": []}


def test_a_status_sales_set_in_salesforce_comes_back_runs_crm_to_ma_and_is_not_echoed(world) -> None:
    world.put_credentials(CREDENTIALS)
    contact_id = world.qualify("ha@example.com")
    world.sync_all()
    [member] = world.crm.members(CAMPAIGN)
    first = world.poll()  # reads the member Leadflow made: already its status, nothing changes
    assert first["read"] == 1
    world.crm._update("CampaignMember", member["Id"], {"Status": "Contacted"})  # sales, in Salesforce
    reply = world.poll()
    assert reply["read"] == 1
    assert reply["applied"] == 1
    contact = world.contact(contact_id)
    assert [(m["campaign_id"], m["status"]) for m in contact["crm_campaigns"]] == [
        ("crm-inbound-mql", "Contacted")
    ]
    assert "sales-contacted" in contact["tags"]  # the crm_to_ma rule on Contacted ran
    changed = [a for a in contact["activities"] if a["type"] == "crm_status_changed"]
    assert changed[0]["properties"]["status"] == "Contacted"
    assert changed[0]["properties"]["source"] == "crm"
    assert changed[0]["properties"]["connector"] == "sfdc"  # where the change was made, in the CRM's terms
    assert changed[0]["properties"]["external_id"] == member["Id"]
    assert changed[0]["properties"]["external_modified_at"]
    # the change's own event is not sent back to Salesforce, and a re-read changes nothing
    requests = world.crm.request_count()
    world.sync_all()
    again = world.poll()
    assert again["read"] == 0
    assert world.crm.request_count() == requests + 1  # the poll's one query (token cached); no send
    assert world.crm.members(CAMPAIGN)[0]["Status"] == "Contacted"
    assert len(
        [a for a in world.contact(contact_id)["activities"] if a["type"] == "crm_status_changed"]
    ) == len(changed)


def test_the_poll_skips_unknown_people_and_campaigns_and_keeps_its_watermark(world) -> None:
    world.put_credentials(CREDENTIALS)
    world.crm.seed(
        {"campaigns": ["701000000000009AAA"], "leads": [{"Email": "zz@example.com", "LastName": "Z"}]}
    )
    lead = world.crm.state["Lead"][0]
    world.crm.add(
        "CampaignMember", {"CampaignId": "701000000000009AAA", "LeadId": lead["Id"], "Status": "Sent"}
    )
    world.crm.add("CampaignMember", {"CampaignId": CAMPAIGN, "LeadId": lead["Id"], "Status": "Sent"})
    reply = world.poll()
    assert reply["applied"] == 0
    assert reply["skipped"] == {"unknown_campaign": 1, "unknown_contact": 1}
    mark = sync_store.get_watermark("sfdc")
    assert mark is not None
    assert mark.startswith(world.crm.members()[-1]["SystemModstamp"])
    assert world.poll()["read"] == 0


def test_the_poll_without_credentials_reads_nothing(world) -> None:
    assert world.poll() == {
        "connectors": 0,
        "read": 0,
        "applied": 0,
        "skipped": {"not_configured": 1},
        "errors": {},
    }
    assert world.crm.request_count() == 0


def test_an_event_relay_event_reads_the_orgs_changes_at_once(world) -> None:
    world.put_credentials(CREDENTIALS)
    contact_id = world.qualify("io@example.com")
    world.sync_all()
    world.poll()
    [member] = world.crm.members(CAMPAIGN)
    world.crm._update("CampaignMember", member["Id"], {"Status": "Contacted"})
    relayed = json.loads((functions.ROOT / "events" / "sync-event-relay.json").read_text())
    reply = functions.load("sync").lambda_handler(relayed, LambdaContext(function_name="sync"))
    assert reply["applied"] == 1
    world.process()
    assert [m["status"] for m in world.contact(contact_id)["crm_campaigns"]] == ["Contacted"]


def test_an_invocation_that_is_neither_a_batch_a_poll_nor_a_relay_event_is_refused(world) -> None:
    from leadflow.observability import RedactedError

    with pytest.raises(RedactedError):
        functions.load("sync").lambda_handler(
            {"source": "someone.else", "id": "x"}, LambdaContext(function_name="sync")
        )
    assert world.crm.request_count() == 0
