"""Connectors (per-kind settings, the URL rule) and CRM campaigns' ``external`` links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadflow.definitions import bundle_diff, parse_bundle, removals
from leadflow.domain.crm_connectors import DynamicsSettings, SalesforceSettings, SugarSettings

SFDC = {
    "id": "sfdc",
    "kind": "salesforce",
    "instance_url": "https://acme.my.salesforce.com",
    "api_version": "62.0",
}


def _with_connectors(doc: dict[str, Any], *connectors: dict[str, Any]) -> dict[str, Any]:
    doc["connectors"] = list(connectors)
    return doc


def test_each_kind_parses_with_its_settings(doc: dict[str, Any]) -> None:
    bundle = parse_bundle(
        _with_connectors(
            doc,
            SFDC,
            {
                "id": "d365",
                "kind": "dynamics",
                "instance_url": "https://acme.crm.dynamics.com",
                "tenant_id": "contoso.onmicrosoft.com",
            },
            {"id": "sugar", "kind": "sugarcrm", "instance_url": "https://acme.sugarondemand.com/"},
        )
    )
    sfdc, d365, sugar = bundle.connectors
    assert isinstance(sfdc, SalesforceSettings)
    assert sfdc.api_version == "62.0"
    assert isinstance(d365, DynamicsSettings)
    assert d365.login_url == "https://login.microsoftonline.com"
    assert isinstance(sugar, SugarSettings)
    assert sugar.platform == "leadflow"
    assert sugar.instance_url == "https://acme.sugarondemand.com"  # the trailing slash goes
    assert bundle.connector("d365") is d365
    assert bundle.connector("nope") is None
    assert parse_bundle(bundle.to_json_dict()) == bundle


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://acme.my.salesforce.com", True),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765", True),
        ("http://[::1]:8765", True),
        ("http://acme.my.salesforce.com", False),
        ("http://127.0.0.1.example.com", False),
        ("http://localhost.evil.com:80", False),
        ("ftp://acme.my.salesforce.com", False),
        ("https://user:secret@acme.my.salesforce.com", False),
        ("https://acme.my.salesforce.com?x=1", False),
        ("https://acme.my.salesforce.com:99999", False),
        ("acme.my.salesforce.com", False),
        ("https://", False),
    ],
)
def test_urls_are_https_except_on_loopback(
    doc: dict[str, Any], problems: Callable[..., list[str]], url: str, ok: bool
) -> None:
    _with_connectors(doc, {**SFDC, "instance_url": url})
    found = problems(doc) if not ok else []
    if ok:
        parse_bundle(doc)
    else:
        assert len(found) == 1
        assert found[0].startswith("connectors[0].instance_url: ")


def test_shape_errors_per_kind(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _with_connectors(
        doc,
        {"id": "a", "kind": "hubspot"},
        {"id": "b", "kind": "salesforce"},
        {"id": "c", "kind": "dynamics", "instance_url": "https://x.crm.dynamics.com"},
        {
            "id": "d",
            "kind": "sugarcrm",
            "instance_url": "https://x.example.com",
            "url": "https://y.example.com",
        },
        {**SFDC, "id": "e", "api_version": "v62", "client_secret": "s3cret"},
    )
    assert problems(doc) == [
        "connectors[0]: kind must be salesforce, dynamics or sugarcrm",
        "connectors[1].instance_url: required",
        "connectors[2].tenant_id: required",
        "connectors[3].url: unknown key; allowed here: api_version, client_id, id, instance_url, kind, platform",
        "connectors[4].api_version: String should match pattern '^[1-9][0-9]{1,2}\\.0$' (got \"v62\")",
        "connectors[4].client_secret: unknown key; allowed here: api_version, id, instance_url, kind",
    ]


def test_external_campaign_references(doc: dict[str, Any], problems: Callable[..., list[str]]) -> None:
    _with_connectors(doc, SFDC, {**SFDC})
    doc["campaigns"][1]["external"] = {"connector": "sfdc", "id": "701000000000001AAA"}
    doc["campaigns"][2]["external"] = {"connector": "sfdc", "id": "701000000000001AAA"}
    doc["campaigns"].append(
        {"id": "crm-x", "kind": "crm", "name": "X", "external": {"connector": "zz", "id": "1"}}
    )
    doc["campaigns"][0]["external"] = {"connector": "sfdc", "id": "701000000000002AAA"}
    doc["campaigns"].append(
        {"id": "crm-y", "kind": "crm", "name": "Y", "external": {"connector": "sfdc", "id": "a b"}}
    )
    assert problems(doc) == [
        "campaigns[0].external: external is for CRM campaigns (kind: crm), not MA campaigns",
        'campaigns[2].external.id: sfdc campaign "701000000000001AAA" is already the external campaign of '
        '"crm-webinar"; one external campaign stands for one Leadflow campaign',
        'campaigns[3].external.connector: unknown connector "zz"',
        "campaigns[4].external.id: String should match pattern '^[A-Za-z0-9-]{1,64}$' (got \"a b\")",
        'connectors[1].id: duplicate id "sfdc" (also connectors[0])',
    ]


def test_removing_a_connector_must_be_confirmed(doc: dict[str, Any]) -> None:
    old = parse_bundle(_with_connectors(doc, SFDC))
    new = parse_bundle({**doc, "connectors": []})
    diff = bundle_diff(old, new)
    assert diff["connectors"] == {"added": [], "removed": ["sfdc"], "changed": []}
    assert removals(diff) == {"connectors": ["sfdc"]}
    changed = parse_bundle({**doc, "connectors": [{**SFDC, "api_version": "63.0"}]})
    assert bundle_diff(old, changed)["connectors"]["changed"] == ["sfdc"]


def test_external_ids_must_be_ids_of_the_connectors_kind(
    doc: dict[str, Any], problems: Callable[..., list[str]]
) -> None:
    _with_connectors(
        doc,
        SFDC,
        {"id": "d365", "kind": "dynamics", "instance_url": "https://x.crm.dynamics.com", "tenant_id": "t"},
    )
    doc["campaigns"][1]["external"] = {"connector": "sfdc", "id": "not-a-salesforce-id"}
    doc["campaigns"][2]["external"] = {"connector": "d365", "id": "701000000000001AAA"}
    assert problems(doc) == [
        "campaigns[1].external.id: 'not-a-salesforce-id' is not a salesforce record id",
        "campaigns[2].external.id: '701000000000001AAA' is not a dynamics record id",
    ]
