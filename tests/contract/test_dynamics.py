"""What only Dynamics 365 does: Entra ID tokens with expiry, alternate keys, Retry-After, responses."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote

import pytest

from leadflow import clock
from leadflow.adapters.crm.base import NotSupported, RemoteRejected, SyncResult, Throttled
from tests.contract.harness import Harness


def test_the_token_is_asked_for_the_org_s_default_scope_at_the_tenant(dynamics: Harness) -> None:
    from tests.support.crm_stub.dynamics import TENANT

    dynamics.connector().sync_member(dynamics.member(1))

    token = dynamics.stub.requests[0]
    assert token.path == f"/{TENANT}/oauth2/v2.0/token"
    form = parse_qs(token.body.decode())
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == [f"{dynamics.server.url}/.default"]


def test_a_token_is_renewed_once_its_lifetime_is_over(dynamics: Harness) -> None:
    previous = clock.install(clock.AdjustableClock())
    try:
        connector = dynamics.connector()
        connector.sync_member(dynamics.member(1))
        connector.sync_member(dynamics.member(2))
        assert sum(dynamics.stub.is_token_request(r) for r in dynamics.stub.requests) == 1
        clock.current().advance(timedelta(seconds=3599))  # type: ignore[attr-defined]
        connector.sync_member(dynamics.member(3))
    finally:
        clock.install(previous)

    assert sum(dynamics.stub.is_token_request(r) for r in dynamics.stub.requests) == 2


@pytest.mark.parametrize(("header", "expected"), [("7", 7.0), ("120", 120.0), ("86400", 900.0)])
def test_429_honours_retry_after_seconds_capped(dynamics: Harness, header: str, expected: float) -> None:
    dynamics.stub.fail_next("throttle")
    original = dynamics.stub.fault_reply

    def reply(fault: str):  # type: ignore[no-untyped-def]
        answer = original(fault)
        answer.headers["Retry-After"] = header
        return answer

    dynamics.stub.fault_reply = reply

    with pytest.raises(Throttled) as caught:
        dynamics.connector().sync_member(dynamics.member(1))

    assert caught.value.retry_after == expected
    assert caught.value.code == "0x80072322"


def test_429_with_an_http_date_retry_after(dynamics: Harness) -> None:
    previous = clock.install(clock.AdjustableClock())
    try:
        when = format_datetime(clock.now() + timedelta(seconds=30), usegmt=True)
        dynamics.stub.fail_next("throttle")
        original = dynamics.stub.fault_reply
        dynamics.stub.fault_reply = lambda fault: (
            r := original(fault),
            r.headers.update({"Retry-After": when}),
        )[0]
        with pytest.raises(Throttled) as caught:
            dynamics.connector().sync_member(dynamics.member(1))
    finally:
        clock.install(previous)

    assert caught.value.retry_after is not None
    assert 28 <= caught.value.retry_after <= 30


def test_a_throttled_batch_stops_and_hands_back_the_rest_untried(dynamics: Harness) -> None:
    connector = dynamics.connector()
    connector.sync_member(dynamics.member(1))
    dynamics.stub.fail_next("throttle")
    before = dynamics.stub.request_count()

    outcomes = connector.sync_members([dynamics.member(n) for n in range(2, 6)])

    assert all(isinstance(o, Throttled) and o.retry_after == 7.0 for o in outcomes)
    assert dynamics.stub.request_count() == before + 1


def test_an_email_with_a_quote_is_escaped_in_the_filter(dynamics: Harness) -> None:
    other = dynamics.stub.add_lead({"emailaddress1": "someone@example.com", "lastname": "S"})
    exact = dynamics.stub.add_lead({"emailaddress1": "o'brien@example.com", "lastname": "O"})

    result = dynamics.connector().sync_member(dynamics.member(1, email="o'brien@example.com"))

    assert result.external_person_id == exact["leadid"] != other["leadid"]
    assert not result.created_person


def test_the_alternate_key_is_used_when_configured(dynamics: Harness) -> None:
    from leadflow.adapters.crm.base import ConnectorConfig
    from leadflow.adapters.crm.registry import connector_for

    dynamics.stub.alternate_key = True
    lead = dynamics.stub.add_lead({"emailaddress1": "o'brien@example.com", "lastname": "O"})
    config = dynamics.config()
    keyed = ConnectorConfig(
        config.id, config.kind, config.instance_url, None, {**config.options, "email_key": "emailaddress1"}
    )
    connector = connector_for(keyed, dynamics.credentials(), token_cache=dynamics.tokens)

    found = connector.sync_member(dynamics.member(1, email="o'brien@example.com"))
    new = connector.sync_member(dynamics.member(2))

    assert found.external_person_id == lead["leadid"]
    assert new.created_person
    lookups = [r.path for r in dynamics.stub.requests if r.method == "GET" and "/leads(" in r.path]
    assert unquote(lookups[0]).endswith("/leads(emailaddress1='o''brien@example.com')")


def test_a_responded_status_is_one_campaign_response_per_change(dynamics: Harness) -> None:
    connector = dynamics.connector()
    connector.sync_member(dynamics.member(1))
    change = dynamics.member(1, status="Responded", previous="Sent", change="evt-42")

    connector.sync_member(change)
    connector.sync_member(change)  # the queue delivered it twice

    [response] = dynamics.stub.responses
    assert response["subject"] == "Responded (Leadflow evt-42)"
    assert response["_regardingobjectid_value"] == dynamics.stub.lists[dynamics.campaign]["campaignid"]


def test_a_list_without_a_campaign_cannot_record_a_response(dynamics: Harness) -> None:
    dynamics.stub.lists[dynamics.campaign]["campaignid"] = None

    with pytest.raises(RemoteRejected) as caught:
        dynamics.connector().sync_member(dynamics.member(1, status="Responded"))

    assert caught.value.code == "NO_CAMPAIGN"
    assert not caught.value.retryable
    assert len(dynamics.members()) == 1  # the membership itself is there; a retry will not add it twice


def test_a_non_responded_status_change_sends_no_response(dynamics: Harness) -> None:
    connector = dynamics.connector()
    connector.sync_member(dynamics.member(1))
    result = connector.sync_member(dynamics.member(1, status="Opened", previous="Sent"))

    assert isinstance(result, SyncResult)
    assert not result.created_member
    assert dynamics.stub.responses == []


def test_usage_comes_from_the_burst_remaining_header(dynamics: Harness) -> None:
    connector = dynamics.connector()
    connector.sync_member(dynamics.member(1))

    usage = connector.usage()
    assert usage is not None
    assert usage.limit == 6000
    assert usage.used == dynamics.stub.api_calls


def test_inbound_is_not_supported(dynamics: Harness) -> None:
    with pytest.raises(NotSupported):
        dynamics.connector().changes_since(None, limit=10)


def test_an_invalid_list_id_is_refused_before_any_call(dynamics: Harness) -> None:
    with pytest.raises(RemoteRejected) as caught:
        dynamics.connector().sync_member(dynamics.member(1, campaign="not-a-guid"))
    assert caught.value.code == "INVALID_ID"
    assert dynamics.stub.requests == []
