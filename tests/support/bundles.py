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
