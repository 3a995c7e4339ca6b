"""Per-kind connector settings and credentials: what the bundle and the credentials body may say."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from leadflow.domain.crm_connectors import (
    CREDENTIALS_BY_KIND,
    DynamicsSettings,
    SalesforceSettings,
    SugarSettings,
    check_external_id,
    check_url,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.my.salesforce.com",
        "https://acme.crm.dynamics.com/",
        "http://127.0.0.1:8765",
        "http://localhost:9000",
        "http://LOCALHOST",
        "http://[::1]:8080",
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert check_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://acme.my.salesforce.com", "https"),
        ("http://127.0.0.2", "https"),  # the rule names 127.0.0.1, not the whole /8
        ("http://localhost.evil.com", "https"),
        ("http://127.0.0.1.nip.io", "https"),
        ("ftp://acme.example.com", "https"),
        ("javascript:alert(1)", "host"),
        ("https://", "host"),
        ("https://user:pw@acme.my.salesforce.com", "credentials"),
        ("https://acme.my.salesforce.com/?x=1", "query"),
        ("https://acme.my.salesforce.com/#top", "query"),
        ("https://acme.my.salesforce.com:99999", "valid"),
        ("https://acme .my.salesforce.com", "spaces"),
        ("https://acme.my.salesforce.com/\r\nHost: evil", "spaces"),
        ("https://" + "a" * 2100 + ".com", "2048"),
    ],
)
def test_other_urls_are_refused_with_a_reason(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_url(url)


def test_salesforce_settings_need_a_url_and_take_a_version() -> None:
    settings = SalesforceSettings(
        id="sfdc", instance_url="https://acme.my.salesforce.com", api_version="61.0"
    )
    assert settings.api_version == "61.0"
    assert SalesforceSettings(id="sfdc", instance_url="https://acme.my.salesforce.com").api_version == "62.0"
    with pytest.raises(ValidationError):
        SalesforceSettings(id="sfdc", instance_url="https://acme.my.salesforce.com", api_version="v62")
    with pytest.raises(ValidationError):
        SalesforceSettings(id="sfdc", instance_url="https://acme.my.salesforce.com", region="eu")  # type: ignore[call-arg]


def test_dynamics_settings_need_a_tenant_and_check_the_login_url() -> None:
    settings = DynamicsSettings(
        id="d365",
        instance_url="https://acme.crm.dynamics.com",
        tenant_id="3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    )
    assert settings.login_url == "https://login.microsoftonline.com"
    assert DynamicsSettings(
        id="d", instance_url="https://a.crm.dynamics.com", tenant_id="contoso.onmicrosoft.com"
    )
    with pytest.raises(ValidationError):
        DynamicsSettings(id="d365", instance_url="https://acme.crm.dynamics.com")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        DynamicsSettings(id="d", instance_url="https://a.crm.dynamics.com", tenant_id="../x")
    with pytest.raises(ValidationError):
        DynamicsSettings(
            id="d",
            instance_url="https://a.crm.dynamics.com",
            tenant_id="contoso.com",
            login_url="http://login.example",
        )


def test_sugar_settings_have_their_own_platform() -> None:
    assert SugarSettings(id="sugar", instance_url="https://acme.sugarondemand.com").platform == "leadflow"
    with pytest.raises(ValidationError):
        SugarSettings(id="sugar", instance_url="https://acme.sugarondemand.com", platform="has space")


@pytest.mark.parametrize("connector_id", ["", "Upper", "a" * 64, "with space", "../x"])
def test_connector_ids_are_short_slugs(connector_id: str) -> None:
    with pytest.raises(ValidationError):
        SalesforceSettings(id=connector_id, instance_url="https://acme.my.salesforce.com")


def test_credentials_are_strict_per_kind() -> None:
    assert CREDENTIALS_BY_KIND["salesforce"].model_validate({"client_id": "a", "client_secret": "b"})
    with pytest.raises(ValidationError):
        CREDENTIALS_BY_KIND["salesforce"].model_validate({"client_id": "a"})
    with pytest.raises(ValidationError):
        CREDENTIALS_BY_KIND["dynamics"].model_validate({"client_id": "a", "client_secret": "b", "extra": "c"})
    with pytest.raises(ValidationError):
        CREDENTIALS_BY_KIND["sugarcrm"].model_validate({"username": "u", "password": "line\nbreak"})
    assert CREDENTIALS_BY_KIND["sugarcrm"].model_validate({"username": "u", "password": "p"})


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        ("salesforce", "701000000000001AAA", "701000000000001AA'"),
        ("salesforce", "701000000000001", "7010"),
        ("dynamics", "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "3f2504e0"),
        ("sugarcrm", "a7c1e2d4-5b6f-4a8e-9c0d-1e2f3a4b5c01", "../Users"),
    ],
)
def test_external_ids_have_the_vendor_s_shape(kind: str, good: str, bad: str) -> None:
    assert check_external_id(kind, good) == good
    with pytest.raises(ValueError, match=kind):
        check_external_id(kind, bad)


def test_an_unknown_kind_has_no_external_ids() -> None:
    with pytest.raises(ValueError, match="unknown connector kind"):
        check_external_id("hubspot", "123")
