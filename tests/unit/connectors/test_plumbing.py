"""The shared plumbing: registry checks, Retry-After, JSON replies, the token cache, no secrets shown."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadflow import clock
from leadflow.adapters.crm.base import (
    ConnectorConfig,
    ContactRecord,
    Credentials,
    MalformedReply,
    NotConfigured,
    Token,
    TokenCache,
    Unavailable,
)
from leadflow.adapters.crm.http import HttpResponse, Urllib3Http, json_body, retry_after
from leadflow.adapters.crm.registry import connector_for, credentials_for, settings_for
from leadflow.adapters.crm.salesforce import soql_string
from tests.support.crm_stub.soql import parse


def reply(status: int = 200, body: bytes = b"{}", **headers: str) -> HttpResponse:
    return HttpResponse(status, {k.lower().replace("_", "-"): v for k, v in headers.items()}, body)


def test_settings_for_an_unknown_kind_is_not_configured() -> None:
    with pytest.raises(NotConfigured) as caught:
        settings_for(ConnectorConfig("x", "hubspot", "https://api.hubapi.com"))
    assert caught.value.code == "UNKNOWN_KIND"


def test_settings_for_a_bad_url_names_the_field() -> None:
    with pytest.raises(NotConfigured) as caught:
        settings_for(ConnectorConfig("sfdc", "salesforce", "http://acme.my.salesforce.com"))
    assert caught.value.code == "INVALID_CONFIG"
    assert "instance_url" in caught.value.fields


def test_dynamics_options_come_from_the_config_options() -> None:
    settings = settings_for(
        ConnectorConfig("d", "dynamics", "https://acme.crm.dynamics.com", "9.2", {"tenant_id": "contoso.com"})
    )
    assert settings.model_dump()["tenant_id"] == "contoso.com"


def test_incomplete_credentials_are_not_configured_and_not_echoed() -> None:
    with pytest.raises(NotConfigured) as caught:
        credentials_for("salesforce", Credentials({"client_id": "sekret-id"}), "sfdc")
    assert "sekret" not in str(caught.value) + repr(caught.value) + str(caught.value.fields)
    assert caught.value.fields == {"client_secret": "missing"}


def test_connector_for_without_credentials_makes_no_client() -> None:
    with pytest.raises(NotConfigured):
        connector_for(ConnectorConfig("sfdc", "salesforce", "https://acme.my.salesforce.com"), None)


def test_secrets_and_personal_data_stay_out_of_reprs() -> None:
    assert "hunter2" not in repr(Credentials({"client_secret": "hunter2"}))
    assert "jane@example.com" not in repr(ContactRecord("c1", "jane@example.com", "Jane"))
    assert "tok" not in repr(Token("tok-123"))


@pytest.mark.parametrize(
    ("header", "seconds"), [("0", 0.0), ("12", 12.0), ("1.5", 1.5), ("-3", 0.0), ("99999", 900.0)]
)
def test_retry_after_in_seconds_is_bounded(header: str, seconds: float) -> None:
    assert retry_after(reply(429, retry_after=header)) == seconds


def test_retry_after_as_an_http_date() -> None:
    previous = clock.install(clock.AdjustableClock(start=datetime(2026, 12, 1, 12, tzinfo=UTC)))
    try:
        when = format_datetime(datetime(2026, 12, 1, 12, 0, 40, tzinfo=UTC), usegmt=True)
        assert retry_after(reply(429, retry_after=when)) == pytest.approx(40, abs=1)
    finally:
        clock.install(previous)


@pytest.mark.parametrize("header", ["soon", "nan", "", "Mon, 99 Foo"])
def test_a_retry_after_that_means_nothing_is_none(header: str) -> None:
    assert retry_after(reply(429, retry_after=header)) is None


@pytest.mark.parametrize("body", [b"<html>down</html>", b"\xff\xfe", b'{"cut": '])
def test_a_body_that_is_not_json_is_malformed_and_retryable(body: bytes) -> None:
    with pytest.raises(MalformedReply) as caught:
        json_body(reply(200, body, content_type="text/html"))
    assert caught.value.retryable


def test_an_empty_body_is_malformed_unless_allowed() -> None:
    assert json_body(reply(204, b""), allow_empty=True) is None
    with pytest.raises(MalformedReply):
        json_body(reply(200, b""))


def test_a_closed_port_is_unavailable_without_the_url_in_the_message() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Unavailable) as caught:
        Urllib3Http(connect_timeout=1, read_timeout=1).request(
            "GET", f"http://127.0.0.1:{port}/q?email=jane@example.com", headers={}
        )
    assert caught.value.retryable
    assert "jane" not in str(caught.value)


def test_the_token_cache_serves_fresh_tokens_only() -> None:
    previous = clock.install(clock.AdjustableClock())
    try:
        cache = TokenCache()
        cache.put(("c", "k"), Token("t", expires_at=clock.now() + timedelta(minutes=5)))
        assert cache.get(("c", "k")) is not None
        clock.current().advance(timedelta(minutes=4, seconds=1))  # type: ignore[attr-defined]
        assert cache.get(("c", "k")) is None  # within the minute's margin: treat as gone
        assert cache.peek(("c", "k")) is not None  # its refresh token may still be used
    finally:
        clock.install(previous)


@given(st.text(max_size=80))
def test_any_text_survives_soql_escaping_as_one_literal(text: str) -> None:
    query = parse(f"SELECT Id FROM Lead WHERE Email = {soql_string(text)}")  # noqa: S608 (the point)
    assert query.where({"Email": text})
    assert not query.where({"Email": text + "x"})
