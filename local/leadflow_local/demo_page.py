"""The demo website: ``GET /`` with a real HTML form per form definition, and ``GET /pricing``.

The forms are drawn from the active bundle, so the page always matches what capture
validates; the browser posts ``application/x-www-form-urlencoded`` exactly as a customer's
website would, and follows capture's 303. Both pages embed the tracking snippet with a site's
write key from the bundle, as a customer's pages would, so page views become activities.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from string import Template
from typing import Any

_INPUT_TYPES = {"email": "email", "text": "text", "number": "number", "phone": "tel", "date": "date"}
# Context the snippet fills in on every form (anonymous id, page, referrer, UTM): not drawn.
_SNIPPET_FIELDS = {"anonymous_id", "page_url", "referrer"}
PAGES = ("/", "/pricing")


def render_page(path: str, bundle: dict[str, Any] | None, base_url: str) -> str:
    """The demo page at ``path`` (one of ``PAGES``)."""
    if path == "/pricing":
        snippet, note = _snippet(bundle, base_url)
        template = Template(files("leadflow_local").joinpath("pricing.html").read_text(encoding="utf-8"))
        return template.substitute(snippet=snippet, tracking_note=note)
    return render(bundle, base_url)


def _snippet(bundle: dict[str, Any] | None, base_url: str) -> tuple[str, str]:
    """The tracking snippet for the site that allows this origin (else the first site)."""
    sites = [
        site for site in (bundle or {}).get("sites") or [] if isinstance(site, dict) and site.get("write_key")
    ]
    if not sites:
        return "", "No site in the definitions, so page views are not tracked."
    site = next(
        (site for site in sites if {base_url, "*"} & set(site.get("allowed_origins") or [])), sites[0]
    )
    key = html.escape(str(site["write_key"]))
    tag = f'<script src="/v1/leadflow.js" data-write-key="{key}" defer></script>'
    return (
        tag,
        f"Page views are tracked with site <code>{html.escape(str(site.get('id', key)))}</code>'s snippet.",
    )


def render(bundle: dict[str, Any] | None, base_url: str) -> str:
    """The page for ``bundle`` (the parsed definitions), or a hint when none was applied."""
    forms = [form for form in (bundle or {}).get("forms") or [] if isinstance(form, dict) and form.get("id")]
    forms = [form for form in forms if form.get("enabled", True)]
    if forms:
        sections = "\n".join(_form(form) for form in forms)
    else:
        sections = (
            "<section><h2>No forms yet</h2><p>Start the stack with <code>--definitions FILE</code> "
            "(or <code>LEADFLOW_DEFINITIONS</code>) naming a bundle with forms.</p></section>"
        )
    first = forms[0] if forms else {"id": "FORM_ID", "fields": [{"name": "email", "type": "email"}]}
    example = {"fields": {"email": "ada@example.com"}, "context": {"utm_source": "local"}}
    json_example = (
        f"curl -i -X POST {base_url}/v1/forms/{first['id']}/submissions \\\n"
        f"  -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(example)}'"
    )
    template = Template(files("leadflow_local").joinpath("demo.html").read_text(encoding="utf-8"))
    snippet, note = _snippet(bundle, base_url)
    return template.substitute(
        forms=sections,
        json_example=html.escape(json_example),
        base_url=html.escape(base_url),
        snippet=snippet,
        tracking_note=note,
    )


def _form(form: dict[str, Any]) -> str:
    form_id = str(form["id"])
    title = html.escape(str(form.get("name") or form_id))
    fields = "\n".join(
        _field(form_id, field) for field in form.get("fields") or [] if isinstance(field, dict)
    )
    honeypot = form.get("honeypot")
    trap = ""
    if honeypot:
        name = html.escape(str(honeypot))
        trap = (
            f'<div class="hp" aria-hidden="true"><label for="{form_id}-{name}">Leave empty</label>'
            f'<input type="text" id="{form_id}-{name}" name="{name}" tabindex="-1" autocomplete="off"></div>'
        )
    action = f"/v1/forms/{html.escape(form_id)}/submissions"
    return (
        f'<section><h2>{title}</h2><p class="muted">Form <code>{html.escape(form_id)}</code>, '
        f"posted natively to <code>POST {action}</code>.</p>\n"
        f'<form method="post" action="{action}">\n{fields}\n{trap}\n'
        f'<button type="submit">Submit</button>\n</form></section>'
    )


def _field(form_id: str, field: dict[str, Any]) -> str:
    name = html.escape(str(field.get("name", "")))
    kind = str(field.get("type", "text"))
    if not name or name in _SNIPPET_FIELDS or name.startswith("utm_"):
        return ""
    element_id = f"{html.escape(form_id)}-{name}"
    label = html.escape(str(field.get("label") or field.get("text") or name.replace("_", " ").capitalize()))
    required = " required" if field.get("required") else ""
    if kind == "hidden":
        return f'<input type="hidden" name="{name}" value="local-demo">'
    if kind in ("checkbox", "consent"):
        text = html.escape(str(field.get("text") or field.get("label") or name))
        return (
            f'<p><input type="checkbox" id="{element_id}" name="{name}" value="true"{required}> '
            f'<label class="inline" for="{element_id}">{text}</label></p>'
        )
    if kind == "select":
        options = "".join(
            f'<option value="{html.escape(str(option))}">{html.escape(str(option))}</option>'
            for option in field.get("options") or []
        )
        return (
            f'<label for="{element_id}">{label}</label>'
            f'<select id="{element_id}" name="{name}"{required}>'
            f'<option value="">Choose...</option>{options}</select>'
        )
    limit = f' maxlength="{int(field["max_length"])}"' if field.get("max_length") else ""
    label_html = f'<label for="{element_id}">{label}</label>'
    if kind == "textarea":
        return f'{label_html}<textarea id="{element_id}" name="{name}" rows="4"{limit}{required}></textarea>'
    input_type = _INPUT_TYPES.get(kind, "text")
    return f'{label_html}<input type="{input_type}" id="{element_id}" name="{name}"{limit}{required}>'
