"""What only SugarCRM does: its own platform, refresh tokens, then a fresh login; target lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadflow import clock
from leadflow.adapters.crm.base import AuthFailed, NotSupported, RemoteRejected, Throttled
from tests.contract.harness import Harness


def grants(sugar: Harness) -> list[str]:
    return [grant for grant, _ in sugar.stub.grants]


def test_the_login_uses_leadflow_s_own_platform(sugar: Harness) -> None:
    sugar.connector().sync_member(sugar.member(1))

    assert sugar.stub.grants == [("password", "leadflow")]
    api = [r for r in sugar.stub.requests if not sugar.stub.is_token_request(r)]
    assert all("oauth-token" in r.headers for r in api)


def test_an_access_token_past_its_lifetime_is_refreshed_not_logged_in_again(sugar: Harness) -> None:
    previous = clock.install(clock.AdjustableClock())
    try:
        connector = sugar.connector()
        connector.sync_member(sugar.member(1))
        clock.current().advance(timedelta(hours=1))  # type: ignore[attr-defined]
        connector.sync_member(sugar.member(2))
    finally:
        clock.install(previous)

    assert grants(sugar) == ["password", "refresh_token"]
    assert sugar.stub.grants[1][1] == "leadflow"


def test_a_401_refreshes_then_retries(sugar: Harness) -> None:
    connector = sugar.connector()
    connector.sync_member(sugar.member(1))
    sugar.stub.fail_next("expire_token")

    assert connector.sync_member(sugar.member(2)).created_member
    assert grants(sugar) == ["password", "refresh_token"]


def test_a_refused_refresh_falls_back_to_a_fresh_login(sugar: Harness) -> None:
    connector = sugar.connector()
    connector.sync_member(sugar.member(1))
    sugar.stub.fail_next("expire_token")
    sugar.stub.revoke_refresh()

    assert connector.sync_member(sugar.member(2)).created_member
    assert grants(sugar) == ["password", "refresh_token", "password"]


def test_a_token_that_keeps_failing_is_auth_failed_after_one_retry(sugar: Harness) -> None:
    connector = sugar.connector()
    connector.sync_member(sugar.member(1))
    original = sugar.stub._token
    sugar.stub._token = lambda body: (_reply := original(body), sugar.stub.tokens.clear())[0]
    sugar.stub.tokens.clear()

    with pytest.raises(AuthFailed):
        connector.sync_member(sugar.member(2))
    assert len(sugar.stub.grants) == 2  # one refresh for the one retry, no loop


def test_throttling_honours_retry_after(sugar: Harness) -> None:
    sugar.stub.fail_next("throttle")

    with pytest.raises(Throttled) as caught:
        sugar.connector().sync_member(sugar.member(1))

    assert caught.value.retry_after == 5.0
    assert caught.value.code == "too_many_requests"


def test_the_lead_is_linked_to_the_target_list(sugar: Harness) -> None:
    result = sugar.connector().sync_member(sugar.member(1))

    links = [r for r in sugar.stub.requests if r.method == "POST" and "/link/leads/" in r.path]
    assert [r.path for r in links] == [
        f"/rest/v11/ProspectLists/{sugar.campaign}/link/leads/{result.external_person_id}"
    ]
    lead = sugar.stub.leads[result.external_person_id]
    assert lead["email"] == [{"email_address": "person1@example.com", "primary_address": True}]
    assert lead["account_name"] == "Acme"


def test_an_email_lookup_is_a_json_filter_not_a_url(sugar: Harness) -> None:
    tricky = "a&b=c'd@example.com"
    lead = sugar.stub.add_lead({"last_name": "T", "email": [{"email_address": tricky}]})

    result = sugar.connector().sync_member(sugar.member(1, email=tricky))

    assert result.external_person_id == lead["id"]


def test_an_invalid_target_list_id_is_refused_before_any_call(sugar: Harness) -> None:
    with pytest.raises(RemoteRejected):
        sugar.connector().sync_member(sugar.member(1, campaign="../Users/1"))
    assert sugar.stub.requests == []


def test_inbound_is_not_supported(sugar: Harness) -> None:
    with pytest.raises(NotSupported):
        sugar.connector().changes_since(None, limit=10)
