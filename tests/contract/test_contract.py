"""The contract every connector keeps, run against each vendor's stub over loopback HTTP.

Each test says what the runtime relies on: a repeat has no second effect, a status change
lands, faults come back as the right ConnectorError (retryable or not), nothing is half-done.
"""

from __future__ import annotations

import pytest

from leadflow.adapters.crm.base import (
    AuthFailed,
    Credentials,
    MalformedReply,
    NotConfigured,
    SyncResult,
    Throttled,
    Unavailable,
    UnknownCampaign,
)
from tests.contract.harness import Harness, texts


def test_a_first_sync_creates_the_person_and_the_member(crm: Harness) -> None:
    result = crm.connector().sync_member(crm.member(1))

    assert result.created_person
    assert result.created_member
    assert result.change_id == "chg-1-None"
    assert len(crm.people()) == 1
    assert crm.status_of(result.external_person_id) == crm.shown(crm.statuses[0])


def test_the_person_gets_the_contact_s_email_and_names(crm: Harness) -> None:
    crm.connector().sync_member(crm.member(7))

    [person] = crm.people()
    flat = {text.lower() for text in texts(person)}
    assert {"person7@example.com", "jane", "doe7"} <= flat


def test_a_repeat_creates_no_second_person_and_no_second_member(crm: Harness) -> None:
    connector = crm.connector()
    first = connector.sync_member(crm.member(1))
    again = connector.sync_member(crm.member(1))

    assert not again.created_person
    assert not again.created_member
    assert again.external_person_id == first.external_person_id
    assert len(crm.people()) == 1
    assert len(crm.members()) == 1


def test_a_status_change_updates_the_membership(crm: Harness) -> None:
    connector = crm.connector()
    first = connector.sync_member(crm.member(1))
    later, responded = crm.statuses
    changed = connector.sync_member(crm.member(1, status=responded, previous=later))

    assert changed.external_person_id == first.external_person_id
    assert not changed.created_person
    assert not changed.created_member
    assert crm.status_of(first.external_person_id) == crm.shown(responded)
    assert len(crm.members()) == 1


def test_a_status_change_for_a_member_the_crm_lost_adds_it_again(crm: Harness) -> None:
    # the event says "changed", but the CRM has no member (deleted there): the change still lands
    result = crm.connector().sync_member(crm.member(3, status=crm.statuses[1], previous=crm.statuses[0]))

    assert result.created_member
    assert crm.status_of(result.external_person_id) == crm.shown(crm.statuses[1])


def test_a_person_already_a_member_is_updated_not_duplicated(crm: Harness) -> None:
    person_id = crm.add_existing_member("person1@example.com", crm.statuses[0])

    result = crm.connector().sync_member(crm.member(1, status=crm.statuses[1]))

    assert result.external_person_id == person_id
    assert not result.created_person
    assert not result.created_member
    assert len(crm.people()) == 1
    assert len(crm.members()) == 1
    assert crm.status_of(person_id) == crm.shown(crm.statuses[1])


def test_an_expired_token_is_replaced_once_and_the_call_succeeds(crm: Harness) -> None:
    connector = crm.connector()
    connector.sync_member(crm.member(1))
    crm.stub.fail_next("expire_token")

    result = connector.sync_member(crm.member(2))

    assert result.created_member
    assert len(crm.members()) == 2


def test_a_warm_container_reuses_its_token(crm: Harness) -> None:
    crm.connector().sync_member(crm.member(1))
    crm.connector().sync_member(crm.member(2))  # a new connector object, the same container cache

    assert sum(1 for r in crm.stub.requests if crm.stub.is_token_request(r)) == 1


def test_throttling_is_retryable_and_changes_nothing(crm: Harness) -> None:
    crm.stub.fail_next("throttle")

    with pytest.raises(Throttled) as caught:
        crm.connector().sync_member(crm.member(1))

    assert caught.value.retryable
    assert crm.members() == []
    assert crm.connector().sync_member(crm.member(1)).created_member  # the retry works


def test_a_5xx_is_retryable(crm: Harness) -> None:
    crm.stub.fail_next("error_500")

    with pytest.raises(Unavailable) as caught:
        crm.connector().sync_member(crm.member(1))

    assert caught.value.retryable
    assert caught.value.status is not None
    assert caught.value.status >= 500


def test_a_reply_that_is_not_json_is_a_retryable_malformed_reply(crm: Harness) -> None:
    crm.stub.fail_next("not_json")

    with pytest.raises(MalformedReply) as caught:
        crm.connector().sync_member(crm.member(1))

    assert caught.value.retryable
    assert "not JSON" in caught.value.message


def test_an_unknown_campaign_is_a_non_retryable_error_naming_it(crm: Harness) -> None:
    with pytest.raises(UnknownCampaign) as caught:
        crm.connector().sync_member(crm.member(1, campaign=crm.unknown_campaign))

    assert not caught.value.retryable
    assert caught.value.external_campaign_id == crm.unknown_campaign
    assert crm.unknown_campaign in str(caught.value)


def test_wrong_credentials_fail_without_retry(crm: Harness) -> None:
    wrong = Credentials(dict.fromkeys(crm.credentials().values, "wrong"))

    with pytest.raises(AuthFailed) as caught:
        crm.connector(credentials=wrong).sync_member(crm.member(1))

    assert not caught.value.retryable
    assert "wrong" not in str(caught.value)


def test_no_credentials_means_not_configured(crm: Harness) -> None:
    from leadflow.adapters.crm.registry import connector_for

    with pytest.raises(NotConfigured) as caught:
        connector_for(crm.config(), None)

    assert caught.value.code == "NOT_CONFIGURED"
    assert crm.stub.requests == []


def test_a_batch_gives_one_outcome_per_row_in_order(crm: Harness) -> None:
    crm.add_existing_member("person2@example.com", crm.statuses[0])
    rows = [
        crm.member(1),
        crm.member(2, status=crm.statuses[1]),
        crm.member(3, campaign=crm.unknown_campaign),
        crm.member(4),
    ]

    outcomes = crm.connector().sync_members(rows)

    assert [type(o).__name__ for o in outcomes] == [
        "SyncResult",
        "SyncResult",
        "UnknownCampaign",
        "SyncResult",
    ]
    assert [o.change_id for o in outcomes if isinstance(o, SyncResult)] == [
        "chg-1-None",
        "chg-2-Responded",
        "chg-4-None",
    ]
    assert len(crm.members()) == 3
    assert crm.status_of(outcomes[1].external_person_id) == crm.shown(crm.statuses[1])  # type: ignore[union-attr]


def test_a_repeated_batch_has_no_second_effect(crm: Harness) -> None:
    rows = [crm.member(n) for n in range(1, 6)]
    connector = crm.connector()
    connector.sync_members(rows)

    again = connector.sync_members(rows)

    assert all(isinstance(o, SyncResult) and not o.created_member and not o.created_person for o in again)
    assert len(crm.people()) == 5
    assert len(crm.members()) == 5
