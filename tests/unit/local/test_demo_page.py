"""The demo website is drawn from the active bundle: native forms, honeypot, tracking snippet."""

from __future__ import annotations

import re

from leadflow_local.demo_page import render_page

BASE = "http://127.0.0.1:3000"
BUNDLE = {
    "forms": [
        {
            "id": "signup",
            "name": "Sign up",
            "honeypot": "website",
            "fields": [
                {"name": "email", "type": "email", "required": True, "label": "Work email"},
                {"name": "role", "type": "select", "options": ["Engineer", "<b>Boss</b>"]},
                {"name": "consent", "type": "consent", "required": True, "text": "Email me"},
                {"name": "utm_source", "type": "hidden"},
            ],
        },
        {"id": "retired", "enabled": False, "fields": [{"name": "email", "type": "email"}]},
    ],
    "sites": [
        {"id": "www", "write_key": "wk_www", "allowed_origins": ["https://www.example.com"]},
        {"id": "demo", "write_key": "wk_demo", "allowed_origins": [BASE]},
    ],
}


def test_each_enabled_form_posts_natively_to_capture_with_its_fields() -> None:
    page = render_page("/", BUNDLE, BASE)
    assert '<form method="post" action="/v1/forms/signup/submissions">' in page
    assert "/v1/forms/retired/submissions" not in page
    assert re.search(r'<input type="email" id="signup-email" name="email" required>', page)
    assert '<input type="checkbox" id="signup-consent" name="consent" value="true" required>' in page
    assert "&lt;b&gt;Boss&lt;/b&gt;" in page  # option text is escaped
    assert 'name="utm_source"' not in page  # the snippet fills attribution in


def test_the_honeypot_is_present_but_hidden_from_people() -> None:
    page = render_page("/", BUNDLE, BASE)
    assert '<div class="hp" aria-hidden="true">' in page
    assert 'name="website" tabindex="-1"' in page


def test_both_pages_carry_the_snippet_of_the_site_that_allows_this_origin() -> None:
    for path in ("/", "/pricing"):
        tags = re.findall(r"<script\b[^>]*>", render_page(path, BUNDLE, BASE))
        assert tags == ['<script src="/v1/leadflow.js" data-write-key="wk_demo" defer>']


def test_without_definitions_the_page_says_how_to_get_forms() -> None:
    page = render_page("/", None, BASE)
    assert "No forms yet" in page
    assert "<script" not in page
