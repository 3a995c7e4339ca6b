"""The activity queue's batching window: process-function invocations per 1,000 events.

Run: ``.venv/bin/python -m bench.batching`` (the model, instant) or with ``--measure`` (also
counted on the local stack, a few minutes). The trade-off beside the latency figure in
docs/BENCHMARKS.md: a window makes batches fuller (fewer invocations) at the price of up to
the window's seconds before an activity is applied.

The model is a small event simulation whose assumptions are these:

- events arrive at random (a Poisson process) at the given rate;
- ``BatchSize`` is the template's (read from template.yaml);
- a poller is either invoking the function or receiving. A receiving poller long-polls: a
  message is received the moment it arrives (each arrival goes to one receiving poller, at
  random); messages that arrive while every poller is invoking wait in the queue, and a poller
  coming back takes up to ``BatchSize`` of them at once (at most 10 per receive with no window);
- window 0: a poller invokes with what its receive returned (no waiting to fill);
- window W: a batch opens with its first message and is delivered when it holds ``BatchSize``
  messages or W seconds after it opened, whichever comes first;
- an invocation keeps its poller for ``--setup-ms`` plus ``--per-message-ms`` per message;
- pollers: 1 is the local stack; Lambda starts with 5 concurrent batches on an SQS source
  and adds more under load, so 5 is the assumption for AWS. More pollers mean smaller batches.

Cost per million events uses Lambda arm64 list prices (us-east-1): $0.20 per million requests
and $0.0000133334 per GB-second, with the template's MemorySize. Only what depends on the
number of invocations is costed (the requests and each invocation's fixed setup time); the
per-message work costs the same however the messages are batched.
"""

from __future__ import annotations

import argparse
import heapq
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RATES = (1.0, 10.0, 100.0)
WINDOWS = (0.0, 1.0, 5.0)
REQUEST_PRICE = 0.20 / 1_000_000  # arm64, per request
GB_SECOND_PRICE = 0.0000133334  # arm64, per GB-second
MAX_RECEIVE = 10  # SQS ReceiveMessage returns at most ten messages


def template_settings() -> dict[str, Any]:
    """BatchSize, the window's default and MemorySize, as template.yaml has them."""
    from samtranslator.yaml_helper import yaml_parse

    source = yaml_parse((ROOT / "template.yaml").read_text())
    mapping = source["Resources"]["ProcessFunctionActivities"]["Properties"]
    function = source["Resources"]["ProcessFunction"]["Properties"]
    memory = function.get("MemorySize", source["Globals"]["Function"]["MemorySize"])
    return {
        "batch_size": int(mapping["BatchSize"]),
        "default_window": float(source["Parameters"]["ActivityBatchingWindowSeconds"]["Default"]),
        "memory_gb": int(memory) / 1024,
    }


# ------------------------------------------------------------------- model
@dataclass
class _Poller:
    busy_until: float = 0.0  # invoking until then
    batch: list[float] = field(default_factory=list)
    opened: float = 0.0


def simulate(
    rate: float,
    window: float,
    batch_size: int,
    *,
    pollers: int,
    setup_s: float,
    per_message_s: float,
    events: int = 20_000,
    seed: int = 7,
) -> float:
    """Invocations per 1,000 events under the module's assumptions."""
    rng = random.Random(seed)
    arrivals, moment = [], 0.0
    for _ in range(events):
        moment += rng.expovariate(rate)
        arrivals.append(moment)
    state = [_Poller() for _ in range(pollers)]
    backlog: list[float] = []
    invocations = 0
    wakeups: list[tuple[float, int]] = []  # (time, poller) when an invocation ends

    def invoke(index: int, now: float, count: int) -> None:
        nonlocal invocations
        invocations += 1
        state[index].batch = []
        state[index].busy_until = now + setup_s + per_message_s * count
        heapq.heappush(wakeups, (state[index].busy_until, index))

    def take_backlog(index: int, now: float) -> None:
        limit = min(batch_size, MAX_RECEIVE) if window <= 0 else batch_size
        taken = backlog[:limit]
        del backlog[:limit]
        if not taken:
            return
        if window <= 0 or len(taken) >= batch_size:
            invoke(index, now, len(taken))
        else:
            state[index].batch, state[index].opened = taken, now

    def next_close() -> tuple[float, int] | None:
        open_batches = [(p.opened + window, i) for i, p in enumerate(state) if p.batch]
        return min(open_batches) if open_batches else None

    position = 0
    while position < len(arrivals) or wakeups or any(p.batch for p in state) or backlog:
        arrival = arrivals[position] if position < len(arrivals) else float("inf")
        close = next_close()
        wake = wakeups[0] if wakeups else None
        moment = min(arrival, close[0] if close else float("inf"), wake[0] if wake else float("inf"))
        if wake and wake[0] == moment:
            heapq.heappop(wakeups)
            take_backlog(wake[1], moment)
        elif close and close[0] == moment:
            invoke(close[1], moment, len(state[close[1]].batch))
        else:
            position += 1
            receiving = [i for i, p in enumerate(state) if p.busy_until <= moment]
            if not receiving:
                backlog.append(moment)
                continue
            index = rng.choice(receiving)
            poller = state[index]
            if not poller.batch:
                poller.opened = moment
            poller.batch.append(moment)
            if window <= 0 or len(poller.batch) >= batch_size:
                invoke(index, moment, len(poller.batch))
    return invocations * 1000 / events


def cost_per_million_events(invocations_per_1000: float, setup_s: float, memory_gb: float) -> float:
    """Dollars per million events of what batching changes: requests and per-invocation setup."""
    invocations = invocations_per_1000 * 1000
    return invocations * (REQUEST_PRICE + setup_s * memory_gb * GB_SECOND_PRICE)


# ---------------------------------------------------------------- measured
def measure_local(rate: float, window: float, events: int, seed: int = 7) -> float:
    """Invocations per 1,000 activities on the local stack (one poller), sent at ``rate``."""
    import contextlib
    import io

    from leadflow import clock
    from leadflow.adapters import activity_queue
    from leadflow.domain.activities import Activity
    from leadflow.ids import new_id
    from leadflow_local.lambda_runtime import LambdaFunction
    from leadflow_local.stack import DevStack

    counted = {"invocations": 0, "records": 0}
    lock = threading.Lock()
    original = LambdaFunction.invoke

    def counting(self: LambdaFunction, event: Any) -> Any:
        if self.logical_id == "ProcessFunction" and isinstance(event, dict) and "Records" in event:
            with lock:
                counted["invocations"] += 1
                counted["records"] += len(event["Records"])
        return original(self, event)

    rng = random.Random(seed)
    parameters = {"ActivityBatchingWindowSeconds": f"{window:g}"}
    with (
        contextlib.redirect_stdout(io.StringIO()),
        DevStack(port=0, definitions=ROOT / "examples" / "demo.yaml", parameters=parameters) as stack,
    ):
        stack.drain()
        LambdaFunction.invoke = counting  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            due = 0.0
            for _ in range(events):
                due += rng.expovariate(rate)
                delay = started + due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                activity_queue.send(
                    Activity(
                        activity_id=new_id("act"),
                        type="page_view",
                        occurred_at=clock.now(),
                        anonymous_id="v_bench",
                        properties={"url": "https://www.example.com/pricing"},
                    )
                )
            deadline = time.monotonic() + 120
            while counted["records"] < events and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            LambdaFunction.invoke = original  # type: ignore[method-assign]
    if counted["records"] < events:
        raise RuntimeError(f"only {counted['records']} of {events} activities were processed")
    return counted["invocations"] * 1000 / counted["records"]


# -------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.batching", description=__doc__.splitlines()[0])
    parser.add_argument("--setup-ms", type=float, default=20.0, help="fixed time of one invocation")
    parser.add_argument("--per-message-ms", type=float, default=15.0, help="time per activity applied")
    parser.add_argument("--measure", action="store_true", help="also count invocations on the local stack")
    parser.add_argument("--seconds", type=float, default=20.0, help="sending time per measured cell")
    args = parser.parse_args(argv)
    settings = template_settings()
    batch, memory = settings["batch_size"], settings["memory_gb"]
    setup, per_message = args.setup_ms / 1000, args.per_message_ms / 1000
    print(
        f"Process invocations per 1,000 activities (model: BatchSize {batch}, invocation"
        f" {args.setup_ms:g} ms + {args.per_message_ms:g} ms per activity; template default window"
        f" {settings['default_window']:g} s)"
    )
    header = f"{'events/s':>8} {'pollers':>7}" + "".join(f" {f'window {w:g} s':>12}" for w in WINDOWS)
    print(header)
    costs: dict[tuple[float, float], float] = {}
    for rate in RATES:
        for pollers in (1, 5):
            cells = []
            for window in WINDOWS:
                value = simulate(
                    rate, window, batch, pollers=pollers, setup_s=setup, per_message_s=per_message
                )
                cells.append(f" {value:>12.0f}")
                if pollers == 5:
                    costs[rate, window] = cost_per_million_events(value, setup, memory)
            print(f"{rate:>8g} {pollers:>7}" + "".join(cells))
    print(
        f"\nDollars per million activities that batching changes (5 pollers, arm64, {memory * 1024:.0f} MB:"
        " requests + each invocation's setup)"
    )
    print(f"{'events/s':>8}" + "".join(f" {f'window {w:g} s':>12}" for w in WINDOWS))
    for rate in RATES:
        print(f"{rate:>8g}" + "".join(f" {costs[rate, w]:>12.3f}" for w in WINDOWS))
    if not args.measure:
        return
    print(f"\nMeasured on the local stack (one poller; {args.seconds:g} s of sending per cell)")
    print(f"{'events/s':>8}" + "".join(f" {f'window {w:g} s':>12}" for w in WINDOWS))
    for rate in RATES:
        events = max(20, round(rate * args.seconds))
        measured = [measure_local(rate, window, events) for window in WINDOWS]
        print(f"{rate:>8g}" + "".join(f" {value:>12.0f}" for value in measured))


if __name__ == "__main__":
    main()
