"""``python -m tests.support.crm_stub salesforce --port 8765 --campaign 701000000000001AAA``."""

from __future__ import annotations

import argparse
import signal
import threading

from tests.support.crm_stub import StubServer, make_stub


def main() -> None:
    parser = argparse.ArgumentParser(description="A local CRM stub (tests only)")
    parser.add_argument("vendor", choices=["salesforce", "dynamics", "sugarcrm"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--campaign", action="append", default=[], help="a campaign (or list) id to create")
    args = parser.parse_args()
    stub = make_stub(args.vendor)
    for campaign in args.campaign:
        stub.seed({"campaigns": [campaign]})
    server = StubServer(stub, port=args.port).start()
    print(f"{args.vendor} stub on {server.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
