"""The reports on the local stack, as a marketer gets them: the demo bundle (a CRM hierarchy, form
actions and a qualify action that add to CRM campaigns) applied, forms posted, a trial that
qualifies, the queues drained; then the report routes over HTTP and both pictures through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from leadflow_local.stack import DevStack
from tests.e2e.conftest import TOKEN
from tests.support.moto_stack import ROOT

pytestmark = pytest.mark.e2e

DEMO = ROOT / "examples" / "demo.yaml"
ORIGIN = "http://127.0.0.1:3000"


def run(*args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "leadflow_cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(scope="module")
def stack() -> Iterator[DevStack]:
    """An empty stack: the test applies the demo bundle itself, through the CLI."""
    with DevStack(port=0, definitions=None, admin_token=TOKEN) as running:
        yield running


def _post(stack: DevStack, form: str, email: str, **fields: object) -> str:
    response = requests.post(
        f"{stack.url}/v1/forms/{form}/submissions",
        json={"fields": {"email": email, "consent": True, **fields}},
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return response.json()["contact_id"]


def _get(stack: DevStack, path: str, **query: str) -> requests.Response:
    return requests.get(
        f"{stack.url}{path}", params=query, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )


def test_forms_to_reports_to_pictures(stack: DevStack, tmp_path: Path):
    auth = ("--url", stack.url, "--token", TOKEN)
    code, out, err = run("apply", str(DEMO), *auth)
    assert code == 0, err

    for n in range(4):
        _post(stack, "webinar-signup", f"web{n}@example.com", first_name="W")
    _post(stack, "contact-us", "hand@example.com", first_name="H", company="Acme")
    trial = _post(stack, "contact-us", "trial@example.com", first_name="T")
    response = requests.post(
        f"{stack.url}/v1/events",
        json={
            "write_key": "wk_demo_local",
            "events": [{"type": "trial_signup", "email": "trial@example.com"}],
        },
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    stack.drain()

    # the counters, over HTTP
    today = stack.now().date().isoformat()
    funnel = _get(stack, "/v1/admin/reports/funnel", **{"from": today, "to": today})
    assert funnel.status_code == 200, funnel.text
    counts = funnel.json()["overall"]["counts"]
    assert counts["subscriber"] == 6
    assert counts["lead"] == 6
    assert counts["mql"] == 1
    by_ma = {row["ma_campaign_id"]: row["counts"]["lead"] for row in funnel.json()["ma_campaigns"]}
    assert by_ma == {"webinar-q3": 4, "website-inbound": 2}

    report = _get(stack, "/v1/admin/reports/campaigns")
    assert report.status_code == 200, report.text
    rows = {row["campaign_id"]: row for row in report.json()["campaigns"]}
    webinar = rows["crm-webinar-q3"]["figures"]
    assert webinar["members"] == 4
    assert webinar["responded"] == 4  # Registered is a responded status
    assert webinar["statuses"]["Registered"] == 4
    assert webinar["cost_per_response"] == 1050.12  # 4200.50 / 4
    assert webinar["roi"] == 13.284
    assert rows["crm-2026-events"]["hierarchy"]["members"] == 4
    assert rows["crm-2026-events"]["hierarchy"]["actual_cost"] == 4200.5
    inbound = rows["crm-inbound-mql"]["figures"]
    assert inbound["members"] == 2  # the contact form adds; the trial's qualify action finds it a member

    contact = _get(stack, f"/v1/admin/contacts/{trial}").json()
    assert contact["stage"] == "mql"

    # the CLI: tables, JSON, and both pictures
    code, out, err = run("campaigns", "list", *auth)
    assert code == 0, err
    assert "crm-webinar-q3" in out
    assert "100.0%" in out
    code, out, err = run("campaigns", "show", "crm-2026-events", *auth)
    assert code == 0, err
    assert "With its children" in out
    code, out, _ = run("campaigns", "show", "nope", *auth)
    assert code == 1
    code, out, err = run("report", "campaigns", "--json", *auth)
    assert code == 0, err
    assert json.loads(out) == report.json()

    funnel_png = tmp_path / "funnel.png"
    code, out, err = run("report", "funnel", "--from", today, "--to", today, "--out", str(funnel_png), *auth)
    assert code == 0, err
    assert funnel_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    campaigns_svg = tmp_path / "campaigns.svg"
    code, out, err = run("report", "campaigns", "--out", str(campaigns_svg), *auth)
    assert code == 0, err
    svg = campaigns_svg.read_text()
    assert svg.lstrip().startswith("<?xml")
    assert "<svg" in svg

    # exit codes that mean something
    code, _, err = run("report", "funnel", "--out", str(tmp_path / "funnel.gif"), *auth)
    assert code == 2
    assert ".png or .svg" in err
    code, _, err = run("report", "campaigns", "--out", str(tmp_path / "missing" / "dir.png"), *auth)
    assert code == 2
    assert "cannot write" in err
    code, _, err = run("report", "funnel", "--from", "2026-02-30", *auth)
    assert code == 1
    assert "from" in err
