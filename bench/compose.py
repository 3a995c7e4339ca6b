"""Composing one flow email: render, tracked links, pixel, unsubscribe, raw MIME (pure CPU).

Run: ``.venv/bin/python -m bench.compose``. The demo bundle's webinar invitation, given three
links, for one contact: the per-email cost a step worker pays before calling SES, warm (median
of 7 runs of 200 composes), and the first compose in the process (Jinja2's template compile
included; the environment is cached, the compiled template is not).
"""

from __future__ import annotations

import statistics
import time
import timeit
from datetime import UTC, datetime
from pathlib import Path

from leadflow.definitions import parse_bundle
from leadflow.domain.contacts import Contact
from leadflow.domain.mail.compose import MessageIds, Sending, compose

ROOT = Path(__file__).resolve().parents[1]
RUNS, NUMBER = 7, 200


def main() -> None:
    bundle = parse_bundle((ROOT / "examples" / "demo.yaml").read_text())
    template = bundle.template("webinar-invite")
    assert template is not None
    html = template.html + "".join(
        f'<p><a href="https://www.example.com/p/{n}">link {n}</a></p>' for n in range(3)
    )
    template = template.model_copy(update={"html": html})
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    contact = Contact(
        contact_id="c_01jd4y8m2k7q9w3e5r6t8y0u1i",
        email="jane.doe@example.com",
        email_key="jane.doe@example.com",
        status="subscribed",
        fields={"first_name": "Jane", "company": "Initech"},
        created_at=now,
        updated_at=now,
    )
    sending = Sending("https://api.example.com", "k" * 64, "news@example.com")
    ids = MessageIds("msg_01jd4y9a7b3c5d7e9f1g3h5j7k", "webinar", "invite")

    def once() -> bytes:
        return compose(template, contact, ids=ids, sending=sending, now=now).raw

    start = time.perf_counter()
    size = len(once())
    first_ms = (time.perf_counter() - start) * 1000
    warm = [seconds / NUMBER * 1000 for seconds in timeit.repeat(once, number=NUMBER, repeat=RUNS)]
    print("Composing one email (demo webinar-invite, 3 links)")
    print(f"  first compose in the process: {first_ms:.1f} ms")
    print(
        f"  warm, median of {RUNS} x {NUMBER}: {statistics.median(warm):.2f} ms per email ({min(warm):.2f}-{max(warm):.2f})"
    )
    print(f"  raw message: {size} bytes")


if __name__ == "__main__":
    main()
