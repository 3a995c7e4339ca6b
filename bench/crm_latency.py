"""Local stack: from a form post to the Salesforce stub's CampaignMember (the outbound connector).

Run: ``.venv/bin/python -m bench.crm_latency [--submissions 40]``. One stack runs in this process
with a bundle whose form qualifies the lead at once (qualify action ``add_to_crm_campaign``); its
Salesforce connector points at the stub (``tests.support.crm_stub``) on loopback in this process.
Each submission is a JSON form post over loopback, then the stub's state is polled (every 10 ms)
until that person's CampaignMember exists. Measured: the whole asynchronous path as in ``make
dev`` (capture, activity queue, processor, bus, rule, sync queue, sync function, the client's
token, SOQL look-ups, Lead create and CampaignMember create over HTTP). The first post pays for
the OAuth token; every later one reuses it (the container's token cache).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import requests

CAMPAIGN = "701000000000001AAA"
BUNDLE = """
connectors:
  - {{id: sfdc, kind: salesforce, instance_url: "{url}"}}
campaigns:
  - {{id: bench-webinar, kind: ma, name: Bench webinar}}
  - id: crm-bench
    kind: crm
    name: Bench MQLs
    status: active
    external: {{connector: sfdc, id: {campaign}}}
forms:
  - id: bench-signup
    campaign: bench-webinar
    fields:
      - {{name: email, type: email, required: true}}
    allowed_origins: ["*"]
scoring:
  rules:
    - {{id: form, when: {{activity: form_submit}}, points: 10}}
  qualify:
    mql_score: 10
    actions:
      - {{add_to_crm_campaign: {{campaign: crm-bench}}}}
"""


def measure(submissions: int) -> list[float]:
    from leadflow_local.stack import DevStack
    from tests.support.crm_stub import StubServer
    from tests.support.crm_stub.salesforce import CLIENT_ID, CLIENT_SECRET, SalesforceStub

    server = StubServer(SalesforceStub()).start()
    server.stub.seed({"campaigns": [CAMPAIGN]})
    latencies: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.yaml"
        path.write_text(BUNDLE.format(url=server.url, campaign=CAMPAIGN))
        with (
            contextlib.redirect_stdout(io.StringIO()),
            DevStack(port=0, definitions=path, admin_token="bench") as stack,
        ):
            session = requests.Session()
            stored = session.put(
                f"{stack.url}/v1/admin/connectors/sfdc/credentials",
                data=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
                headers={"Authorization": "Bearer bench", "Content-Type": "application/json"},
                timeout=10,
            )
            assert stored.status_code == 204, stored.text
            for number in range(submissions):
                email = f"crm{number}@example.com"
                start = time.perf_counter()
                posted = session.post(
                    f"{stack.url}/v1/forms/bench-signup/submissions",
                    json={"fields": {"email": email}},
                    timeout=10,
                )
                assert posted.status_code == 202, posted.text
                while not any(m.get("Email") == email for m in server.stub.members(CAMPAIGN)):
                    if time.perf_counter() - start > 30:
                        raise TimeoutError(f"{email} not a CampaignMember after 30 s")
                    time.sleep(0.01)
                latencies.append((time.perf_counter() - start) * 1000)
    server.stop()
    return latencies


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(len(ordered) * 0.99) - 1)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crm_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    args = parser.parse_args(argv)
    latencies = measure(args.submissions)
    print(
        f"Form post -> Salesforce stub CampaignMember, local stack, {args.submissions} submissions one at a time"
    )
    print(f"{'p50 ms':>7} {'p99 ms':>7} {'min ms':>7} {'max ms':>7} {'first ms':>9}")
    print(
        f"{statistics.median(latencies):>7.0f} {_p99(latencies):>7.0f} {min(latencies):>7.0f}"
        f" {max(latencies):>7.0f} {latencies[0]:>9.0f}"
    )


if __name__ == "__main__":
    main()
