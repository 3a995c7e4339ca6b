"""What only Salesforce does: SOQL escaping, Contact before Lead, collections, Limit-Info, inbound."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from leadflow.adapters.crm.base import AuthFailed, RemoteRejected, SyncResult, Unavailable
from leadflow.adapters.crm.salesforce import soql_string
from tests.contract.harness import Harness


def queries(crm: Harness) -> list[str]:
    return [r.arg("q") for r in crm.stub.requests if r.path.endswith("/query")]


@pytest.mark.parametrize(
    "email",
    ["o'brien@example.com", "back\\slash@example.com", 'quo"te@example.com', "x' OR Email != 'y@example.com"],
)
def test_emails_with_quotes_are_escaped_so_the_query_finds_that_person_only(
    salesforce: Harness, email: str
) -> None:
    salesforce.stub.seed(
        {"leads": [{"Email": "someone.else@example.com", "LastName": "Else", "Company": "X"}]}
    )
    exact = salesforce.stub.add(
        "Lead", {"Email": email, "LastName": "Q", "Company": "X", "IsConverted": False}
    )

    result = salesforce.connector().sync_member(salesforce.member(1, email=email))

    assert result.external_person_id == exact["Id"]
    assert not result.created_person
    assert len(salesforce.stub.state["Lead"]) == 2


def test_soql_string_escapes_backslash_before_quotes() -> None:
    assert soql_string("a\\'b") == "'a\\\\\\'b'"
    assert soql_string("line\nbreak") == "'line\\nbreak'"


def test_a_contact_is_preferred_to_a_lead_with_the_same_email(salesforce: Harness) -> None:
    salesforce.stub.seed({"leads": [{"Email": "person1@example.com", "LastName": "L", "Company": "X"}]})
    contact = salesforce.stub.add("Contact", {"Email": "Person1@Example.com", "LastName": "C"})

    result = salesforce.connector().sync_member(salesforce.member(1))

    assert result.external_person_id == contact["Id"]
    [member] = salesforce.members()
    assert member["ContactId"] == contact["Id"]
    assert "LeadId" not in member


def test_a_converted_lead_is_not_reused(salesforce: Harness) -> None:
    salesforce.stub.seed(
        {"leads": [{"Email": "person1@example.com", "LastName": "L", "Company": "X", "IsConverted": True}]}
    )

    result = salesforce.connector().sync_member(salesforce.member(1))

    assert result.created_person


def test_a_lead_without_names_or_company_gets_not_provided(salesforce: Harness) -> None:
    from leadflow.adapters.crm.base import ContactRecord, MemberSync

    bare = MemberSync(ContactRecord("c9", "bare@example.com"), salesforce.campaign, "Sent", False, "chg-9")

    salesforce.connector().sync_member(bare)

    [lead] = salesforce.stub.state["Lead"]
    assert lead["LastName"] == "[not provided]"
    assert lead["Company"] == "[not provided]"
    assert "FirstName" not in lead


def test_a_session_refused_twice_is_auth_failed(salesforce: Harness) -> None:
    connector = salesforce.connector()
    connector.sync_member(salesforce.member(1))
    salesforce.stub.tokens.clear()
    original = salesforce.stub._token
    salesforce.stub._token = lambda request: (original(request), salesforce.stub.tokens.clear())[0]

    with pytest.raises(AuthFailed) as caught:
        connector.sync_member(salesforce.member(2))

    assert caught.value.code == "INVALID_SESSION_ID"
    assert not caught.value.retryable


def test_limit_info_is_exposed_so_the_runtime_can_slow_down(salesforce: Harness) -> None:
    salesforce.stub.api_limit = 10
    connector = salesforce.connector()
    assert connector.usage() is None

    connector.sync_member(salesforce.member(1))  # a Contact query, a Lead query, a Lead, a member

    usage = connector.usage()
    assert usage is not None
    assert (usage.used, usage.limit) == (4, 10)
    assert not usage.near_limit(0.8)
    connector.sync_member(salesforce.member(2))
    assert connector.usage().near_limit(0.8)  # type: ignore[union-attr]


def test_a_collection_row_locked_is_retryable_and_the_others_succeed(salesforce: Harness) -> None:
    salesforce.stub.row_faults = ["UNABLE_TO_LOCK_ROW"]

    outcomes = salesforce.connector().sync_members([salesforce.member(n) for n in range(1, 4)])

    assert isinstance(outcomes[0], Unavailable)
    assert outcomes[0].code == "UNABLE_TO_LOCK_ROW"
    assert outcomes[0].retryable
    assert all(isinstance(o, SyncResult) for o in outcomes[1:])


def test_a_collection_row_refused_is_recorded_with_its_fields(salesforce: Harness) -> None:
    salesforce.stub.row_faults = ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]

    outcomes = salesforce.connector().sync_members([salesforce.member(1), salesforce.member(2)])

    assert isinstance(outcomes[0], RemoteRejected)
    assert not outcomes[0].retryable
    assert outcomes[0].code == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    assert isinstance(outcomes[1], SyncResult)


def test_collections_carry_at_most_200_records(salesforce: Harness) -> None:
    outcomes = salesforce.connector().sync_members([salesforce.member(n) for n in range(450)])

    posts = [r for r in salesforce.stub.requests if r.path.endswith("/composite/sobjects")]
    assert all(len(r.json()["records"]) <= 200 for r in posts)
    assert all(r.json()["allOrNone"] is False for r in posts)
    assert len(posts) == 6  # 3 for the Leads, 3 for the members
    assert all(isinstance(o, SyncResult) and o.created_member for o in outcomes)
    assert len(salesforce.members()) == 450


def test_a_member_made_meanwhile_in_a_batch_is_updated(salesforce: Harness) -> None:
    connector = salesforce.connector()
    connector.sync_member(salesforce.member(1))
    # someone adds person 2 between the batch's member query and its create
    original = salesforce.stub._collection

    def racing(request):  # type: ignore[no-untyped-def]
        if (
            request.json()["records"][0]["attributes"]["type"] == "CampaignMember"
            and request.method == "POST"
        ):
            lead = salesforce.stub.records["Lead"]
            person2 = next(r for r in lead.values() if r["Email"] == "person2@example.com")
            if not any(m.get("LeadId") == person2["Id"] for m in salesforce.members()):
                salesforce.stub.add(
                    "CampaignMember",
                    {"CampaignId": salesforce.campaign, "LeadId": person2["Id"], "Status": "Sent"},
                )
        return original(request)

    salesforce.stub._collection = racing
    outcomes = connector.sync_members([salesforce.member(2, status="Responded")])

    assert isinstance(outcomes[0], SyncResult)
    assert not outcomes[0].created_member
    assert salesforce.status_of(outcomes[0].external_person_id) == "Responded"
    assert len(salesforce.members()) == 2


def test_long_email_lists_are_split_so_each_query_url_stays_short(salesforce: Harness) -> None:
    rows = [salesforce.member(n, email=f"{'x' * 200}{n}@example.com") for n in range(200)]

    salesforce.connector().sync_members(rows)

    assert (
        max(len(urlsplit(r.path + "?q=" + (r.arg("q") or "")).geturl()) for r in salesforce.stub.requests)
        < 16_000
    )
    assert len(salesforce.stub.state["Lead"]) == 200


def test_changes_since_pages_by_salesforce_s_own_stamps_without_losing_ties(salesforce: Harness) -> None:
    connector = salesforce.connector()
    salesforce.stub.same_stamp = True  # five members share one SystemModstamp
    connector.sync_members([salesforce.member(n) for n in range(5)])
    salesforce.stub.same_stamp = False

    seen, watermark, pages = [], None, 0
    while True:
        page = connector.changes_since(watermark, limit=2)
        seen += [c.external_member_id for c in page.changes]
        watermark, pages = page.watermark, pages + 1
        if not page.more:
            break

    assert sorted(seen) == sorted(m["Id"] for m in salesforce.members())
    assert len(seen) == len(set(seen)) == 5
    assert watermark
    assert watermark.startswith(salesforce.members()[0]["SystemModstamp"])
    assert connector.changes_since(watermark, limit=2).changes == []


def test_changes_since_sees_a_status_changed_in_salesforce(salesforce: Harness) -> None:
    connector = salesforce.connector()
    result = connector.sync_member(salesforce.member(1))
    mark = connector.changes_since(None, limit=10).watermark
    salesforce.stub._update("CampaignMember", result.external_member_id, {"Status": "Responded"})

    [change] = connector.changes_since(mark, limit=10).changes

    assert (change.external_member_id, change.status, change.email) == (
        result.external_member_id,
        "Responded",
        "person1@example.com",
    )
    assert (
        change.modified_at
        == salesforce.stub.records["CampaignMember"][result.external_member_id]["SystemModstamp"]
    )
    assert "ORDER BY SystemModstamp, Id" in queries(salesforce)[-1]


@pytest.mark.parametrize(
    "mark", ["2026-12-01T09:00:00Z OR Id != null", "yesterday", "2026-12-01T09:00:00.000+0000|x' OR '1"]
)
def test_a_forged_watermark_is_refused_before_any_query(salesforce: Harness, mark: str) -> None:
    with pytest.raises(RemoteRejected):
        salesforce.connector().changes_since(mark, limit=10)
    assert queries(salesforce) == []


def test_the_token_request_is_a_client_credentials_form(salesforce: Harness) -> None:
    salesforce.connector().sync_member(salesforce.member(1))

    token = salesforce.stub.requests[0]
    assert token.path == "/services/oauth2/token"
    assert parse_qs(token.body.decode())["grant_type"] == ["client_credentials"]
    api = salesforce.stub.requests[1]
    assert api.headers["authorization"].startswith("Bearer ")
    assert api.path.startswith("/services/data/v62.0/")
