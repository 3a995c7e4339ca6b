"""Small definitions bundles for tests (the full demo lives in examples/demo.yaml)."""

from __future__ import annotations

from typing import Any

ORIGIN = "https://www.example.com"


def capture_bundle(**form_overrides: Any) -> dict[str, Any]:
    """Two MA campaigns and forms covering every field type, honeypot, consent and redirects."""
    signup = {
        "id": "webinar-signup",
        "campaign": "webinar-q3",
        "fields": [
            {"name": "email", "type": "email", "required": True},
            {"name": "first_name", "type": "text", "max_length": 20},
            {"name": "company", "type": "text"},
            {"name": "role", "type": "select", "options": ["Engineer", "Manager", "Executive"]},
            {"name": "seats", "type": "number"},
            {"name": "phone", "type": "phone"},
            {"name": "start", "type": "date"},
            {"name": "notes", "type": "textarea"},
            {"name": "newsletter", "type": "checkbox"},
            {"name": "ref", "type": "hidden"},
            {"name": "consent", "type": "consent", "required": True, "text": "Email me about the webinar"},
        ],
        "honeypot": "website",
        "allowed_origins": [ORIGIN],
        "redirect_url": "https://www.example.com/thanks",
        **form_overrides,
    }
    return {
        "campaigns": [
            {"id": "webinar-q3", "kind": "ma", "name": "Q3 webinar"},
            {"id": "ebook-q4", "kind": "ma", "name": "Q4 ebook"},
        ],
        "forms": [
            signup,
            {
                "id": "ebook",
                "campaign": "ebook-q4",
                "fields": [
                    {"name": "email", "type": "email", "required": True},
                    {"name": "company", "type": "text"},
                ],
                "allowed_origins": ["*"],
                "error_url": "https://www.example.com/oops",
            },
            {
                "id": "newsletter",
                "fields": [{"name": "email", "type": "email", "required": True}],
                "double_opt_in": True,
                "allowed_origins": [ORIGIN],
            },
            {
                "id": "retired",
                "campaign": "webinar-q3",
                "enabled": False,
                "fields": [{"name": "email", "type": "email", "required": True}],
            },
        ],
    }


def scoring_bundle() -> dict[str, Any]:
    """capture_bundle plus the scoring model of DEFINITIONS.md, lists, a segment and qualification."""
    bundle = capture_bundle(on_submit=[{"add_tags": ["webinar"]}, {"add_to_list": "webinar-registrants"}])
    bundle["campaigns"].append(
        {
            "id": "crm-inbound-mql",
            "kind": "crm",
            "name": "Inbound MQLs",
            "type": "Other",
            "status": "active",
            "member_statuses": [{"name": "Sent", "default": True}, {"name": "Contacted", "responded": True}],
        }
    )
    bundle["scoring"] = {
        "rules": [
            {"id": "form", "when": {"activity": "form_submit"}, "points": 5},
            {"id": "open", "when": {"activity": "email_open"}, "points": 10},
            {
                "id": "pricing",
                "when": {"activity": "page_view", "url": "*/pricing*"},
                "points": 20,
                "max_per_day": 1,
            },
            {"id": "page", "when": {"activity": "page_view"}, "points": 2},
            {
                "id": "whitepaper",
                "when": {"activity": "download", "asset_type": "whitepaper"},
                "points": 40,
                "tag_from": "topic",
            },
            {"id": "trial", "when": {"activity": "trial_signup"}, "points": 100},
            {"id": "unsub", "when": {"activity": "unsubscribe"}, "points": -50},
            {"id": "cart", "when": {"activity": "custom", "name": "cart_abandoned"}, "points": -5},
        ],
        "temperature": {"warm": 30, "hot": 80},
        "qualify": {
            "mql_score": 100,
            "or_activity": ["trial_signup"],
            "actions": [{"add_to_crm_campaign": {"campaign": "crm-inbound-mql"}}],
        },
    }
    bundle["lists"] = [
        {"id": "webinar-registrants", "kind": "static"},
        {"id": "hot-leads", "kind": "segment", "where": {"temperature": "hot", "subscribed": True}},
        {
            "id": "warm-engineers",
            "kind": "segment",
            "where": {"score_at_least": 30, "field": {"name": "role", "op": "eq", "value": "Engineer"}},
        },
    ]
    bundle["sites"] = [{"id": "www", "write_key": "wk_test_123", "allowed_origins": [ORIGIN]}]
    return bundle
