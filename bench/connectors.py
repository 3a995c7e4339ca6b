"""CRM connectors: HTTP requests per synced membership, per connector, counted at the stub.

Run: ``.venv/bin/python -m bench.connectors``. Each connector talks to its vendor's stub on
loopback (tests/support/crm_stub), which counts every request it serves; the figures are exact
and do not depend on the machine. "warm" means the container already holds a token (the usual
case in a warm Lambda); the token requests are counted apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from leadflow.adapters.crm.base import Connector, MemberSync
from tests.contract.harness import HARNESSES, Harness, start

CATCH_UP = 1000


@dataclass(frozen=True)
class Count:
    api: int
    token: int


def counted(harness: Harness, work: Callable[[], object]) -> Count:
    stub = harness.stub
    before_all, before_api = stub.request_count(), stub.request_count(api_only=True)
    work()
    api = stub.request_count(api_only=True) - before_api
    return Count(api=api, token=stub.request_count() - before_all - api)


def measure(kind: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    first, later = None, None
    with _Running(kind) as harness:
        connector = harness.connector()
        sent, responded = harness.statuses
        cold = counted(harness, lambda: connector.sync_member(harness.member(1)))
        rows.append(("first sync, cold container (new person, new member)", f"{cold.api}", f"{cold.token}"))
        first = counted(harness, lambda: connector.sync_member(harness.member(2)))
        rows.append(("first sync, warm", f"{first.api}", f"{first.token}"))
        repeat = counted(harness, lambda: connector.sync_member(harness.member(2)))
        rows.append(("the same change again (a redelivery)", f"{repeat.api}", f"{repeat.token}"))
        later = counted(
            harness, lambda: connector.sync_member(harness.member(2, status=responded, previous=sent))
        )
        rows.append((f"status change to a responded status ({responded})", f"{later.api}", f"{later.token}"))
        plain = counted(
            harness, lambda: connector.sync_member(harness.member(1, status="Opened", previous=sent))
        )
        rows.append(("status change, not responded", f"{plain.api}", f"{plain.token}"))
    with _Running(kind) as harness:
        connector = harness.connector()
        batch = [harness.member(n) for n in range(CATCH_UP)]
        catch_up = counted(harness, lambda: _all_ok(connector, batch))
        rows.append(
            (f"catch-up of {CATCH_UP:,} new memberships", _per(catch_up, CATCH_UP), f"{catch_up.token}")
        )
        changes = [
            harness.member(n, status=harness.statuses[1], previous=harness.statuses[0])
            for n in range(CATCH_UP)
        ]
        changed = counted(harness, lambda: _all_ok(connector, changes))
        rows.append((f"catch-up of {CATCH_UP:,} status changes", _per(changed, CATCH_UP), f"{changed.token}"))
    return rows


def _per(count: Count, rows: int) -> str:
    return f"{count.api} ({count.api / rows:.3f} per membership)"


def _all_ok(connector: Connector, batch: list[MemberSync]) -> None:
    outcomes = connector.sync_members(batch)
    failed = [o for o in outcomes if isinstance(o, Exception)]
    if failed:
        raise RuntimeError(f"{len(failed)} rows failed, e.g. {failed[0]!r}")


class _Running:
    """``start`` as a context manager."""

    def __init__(self, kind: str) -> None:
        self._gen = start(kind)

    def __enter__(self) -> Harness:
        return next(self._gen)

    def __exit__(self, *exc: object) -> None:
        self._gen.close()


def main() -> None:
    print("CRM connectors: HTTP requests per membership, counted at the loopback stub")
    for kind in sorted(HARNESSES):
        print(f"\n{kind}")
        print(f"| {'case':<58} | {'API requests':>30} | token requests |")
        print(f"| {'---':<58} | {'---:':>30} | ---: |")
        for case, api, token in measure(kind):
            print(f"| {case:<58} | {api:>30} | {token:>14} |")


if __name__ == "__main__":
    main()
