"""The outbound sync's cost per membership: AWS requests and CRM requests, Salesforce stub.

Run: ``.venv/bin/python -m bench.crm_sync``. In-process moto with the template's resources and the
Salesforce stub on loopback; a CRM campaign with ``external`` is applied, a contact is added to it
(``crm_members.change_membership``, as an admin would) and the sync worker handles that membership
event; then the same event again (a redelivery), then a status change. AWS requests are counted
with botocore hooks on the core's clients (Secrets Manager's one read per minute per container is
in the first row), CRM requests by the stub; the OAuth token is fetched on the first call only.
"""

from __future__ import annotations

from typing import Any


def _message(contact_id: str, campaign_id: str, event_id: str) -> Any:
    from leadflow.services import crm_sync

    return crm_sync.SyncMessage.model_validate(
        {
            "source": "leadflow",
            "detail-type": "CrmCampaignMemberStatusChanged",
            "detail": {
                "event_id": event_id,
                "contact_id": contact_id,
                "campaign_id": campaign_id,
                "source": "manual",
            },
        }
    )


def measure() -> list[tuple[str, dict[str, int], int]]:
    from bench.aws_meter import Meter
    from bench.moto_env import moto_stack
    from leadflow import aws
    from leadflow.adapters import secrets
    from leadflow.services import crm_members, crm_sync, definitions
    from tests.support import functions
    from tests.support.crm_stub import StubServer
    from tests.support.crm_stub.salesforce import CLIENT_ID, CLIENT_SECRET, SalesforceStub
    from tests.support.events import LambdaContext, http_event, json_body

    server = StubServer(SalesforceStub()).start()
    server.stub.seed({"campaigns": ["701000000000001AAA"]})
    rows: list[tuple[str, dict[str, int], int]] = []
    with moto_stack():
        bundle = f"""
connectors: [{{id: sfdc, kind: salesforce, instance_url: "{server.url}"}}]
campaigns:
  - {{id: ma, kind: ma, name: MA}}
  - id: crm
    kind: crm
    name: CRM
    status: active
    member_statuses: [{{name: Sent, default: true}}, {{name: Attended, responded: true}}]
    external: {{connector: sfdc, id: 701000000000001AAA}}
forms:
  - {{id: f, campaign: ma, fields: [{{name: email, type: email, required: true}}], allowed_origins: ["*"]}}
"""
        definitions.apply(bundle, content_type="application/yaml", dry_run=False, applied_by=None)
        secrets.put_connector_credentials("sfdc", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
        posted = functions.load("capture").lambda_handler(
            http_event(
                "POST",
                "/v1/forms/f/submissions",
                body='{"fields": {"email": "bench@example.com"}}',
                headers={"content-type": "application/json"},
                path_parameters={"form_id": "f"},
            ),
            LambdaContext(function_name="capture"),
        )
        contact_id = json_body(posted)["contact_id"]
        meter = Meter()
        for service in ("dynamodb", "secretsmanager", "sqs"):
            meter.attach(aws.client(service))
        crm_members.change_membership("crm", contact_id, None, source="manual", mode="set", change_id="c1")
        for label, event_id, change in (
            ("first sync (new Lead and member)", "e1", None),
            ("the same event again", "e1", None),
            ("a status change", "e2", "Attended"),
        ):
            if change is not None:
                crm_members.change_membership(
                    "crm", contact_id, change, source="manual", mode="set", change_id="c2"
                )
            meter.reset()
            server.stub.reset_counts()
            crm_sync.handle(_message(contact_id, "crm", event_id))
            counts = {
                "dynamodb": meter.count("dynamodb"),
                "secretsmanager": meter.count("secretsmanager"),
                "sqs": meter.count("sqs"),
            }
            rows.append((label, counts, server.stub.request_count()))
    server.stop()
    return rows


def main() -> None:
    rows = measure()
    print("Outbound sync of one membership, Salesforce stub: requests")
    print(f"{'case':36} {'DynamoDB':>9} {'Secrets':>8} {'SQS':>4} {'Salesforce':>11}")
    for label, counts, crm in rows:
        print(
            f"{label:36} {counts['dynamodb']:>9} {counts['secretsmanager']:>8} {counts['sqs']:>4} {crm:>11}"
        )


if __name__ == "__main__":
    main()
