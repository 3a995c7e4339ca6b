"""Replies a CRM (or something in front of it) should never send: each is an error, never a crash.

A connector may only raise ConnectorError subclasses: anything else (KeyError, TypeError) would
be a crash loop in the sync function instead of a recorded, retried or reported failure.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadflow.adapters.crm.base import AuthFailed, ConnectorError, MalformedReply, Throttled, Unavailable
from tests.contract.harness import Harness
from tests.support.crm_stub import Reply, Request


def replace_replies(crm: Harness, wanted: Callable[[Request], bool], reply: Reply) -> None:
    original = crm.stub.answer

    def answer(request: Request) -> Reply:
        return reply if wanted(request) else original(request)

    crm.stub.answer = answer


def token_call(crm: Harness) -> Callable[[Request], bool]:
    return lambda request: crm.stub.is_token_request(request)


def api_call(crm: Harness) -> Callable[[Request], bool]:
    return lambda request: not crm.stub.is_token_request(request)


@pytest.mark.parametrize(
    ("target", "reply", "error"),
    [
        ("token", Reply(200, {"token_type": "Bearer"}), MalformedReply),
        ("token", Reply(200, ["not", "an", "object"]), MalformedReply),
        (
            "token",
            Reply(200, raw=b"<html>login</html>", headers={"Content-Type": "text/html"}),
            MalformedReply,
        ),
        ("token", Reply(503, raw=b"<html>busy</html>", headers={"Content-Type": "text/html"}), Unavailable),
        (
            "token",
            Reply(429, raw=b"<html>slow down</html>", headers={"Content-Type": "text/html"}),
            Throttled,
        ),
        ("token", Reply(401, raw=b"<html>denied</html>", headers={"Content-Type": "text/html"}), AuthFailed),
        ("api", Reply(200, {"unexpected": True}), MalformedReply),
        ("api", Reply(200, []), MalformedReply),
        ("api", Reply(200, None), MalformedReply),
        ("api", Reply(400, raw=b"Bad Request", headers={"Content-Type": "text/plain"}), MalformedReply),
        (
            "api",
            Reply(502, raw=b"<html>Bad Gateway</html>", headers={"Content-Type": "text/html"}),
            Unavailable,
        ),
        ("api", Reply(404, {"something": "else"}), ConnectorError),
    ],
)
def test_a_strange_reply_is_a_connector_error(crm: Harness, target: str, reply: Reply, error: type) -> None:
    replace_replies(crm, token_call(crm) if target == "token" else api_call(crm), reply)

    with pytest.raises(error):
        crm.connector().sync_member(crm.member(1))


def test_a_strange_reply_in_a_batch_is_an_error_not_a_crash(crm: Harness) -> None:
    replace_replies(crm, api_call(crm), Reply(200, {"records": "nope", "value": 3}))

    try:
        outcomes = crm.connector().sync_members([crm.member(1), crm.member(2)])
    except ConnectorError:
        return  # nothing could be tried: also a recorded failure
    assert all(isinstance(o, ConnectorError) for o in outcomes)


def test_a_salesforce_row_without_an_id_is_malformed(salesforce: Harness) -> None:
    replace_replies(
        salesforce,
        api_call(salesforce),
        Reply(200, {"totalSize": 1, "done": True, "records": [{"Name": "x"}]}),
    )

    with pytest.raises(MalformedReply):
        salesforce.connector().sync_member(salesforce.member(1))


def test_an_inbound_row_without_its_stamp_is_malformed(salesforce: Harness) -> None:
    row = {"Id": "00v000000000001AAA", "CampaignId": "701000000000001AAA", "Status": "Sent"}
    replace_replies(
        salesforce, api_call(salesforce), Reply(200, {"totalSize": 1, "done": True, "records": [row]})
    )

    with pytest.raises(MalformedReply):
        salesforce.connector().changes_since(None, limit=10)


def test_a_collection_reply_of_the_wrong_length_is_malformed(salesforce: Harness) -> None:
    replace_replies(
        salesforce,
        lambda r: r.path.endswith("/composite/sobjects"),
        Reply(200, [{"success": True, "id": "x"}]),
    )

    with pytest.raises(MalformedReply):
        salesforce.connector().sync_members([salesforce.member(1), salesforce.member(2)])


def test_a_collection_success_without_an_id_is_malformed(salesforce: Harness) -> None:
    replace_replies(
        salesforce, lambda r: r.path.endswith("/composite/sobjects"), Reply(200, [{"success": True}])
    )

    with pytest.raises(MalformedReply):
        salesforce.connector().sync_members([salesforce.member(1)])
