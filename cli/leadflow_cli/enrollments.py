"""``leadflow enrollments redrive|end CONTACT FLOW``: move a stuck enrollment on, or end one, by hand."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from typing import Any

from leadflow_cli.client import AdminClient, ApiError

DEFAULT_URL = "http://127.0.0.1:3000"


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"must be an http(s) URL, got {value!r}")
    return value


def _call(args: argparse.Namespace, action: str) -> int:
    contact = urllib.parse.quote(args.contact_id, safe="")
    flow = urllib.parse.quote(args.flow_id, safe="")
    try:
        reply = AdminClient(args.url, args.token).request(
            "POST", f"/v1/admin/contacts/{contact}/enrollments/{flow}/{action}"
        )
    except ApiError as error:
        print(str(error), file=sys.stderr)
        return 1
    body: Any = reply.body
    print(json.dumps(body, indent=2, ensure_ascii=False, default=str))
    return 0


def cmd_redrive(args: argparse.Namespace) -> int:
    return _call(args, "redrive")


def cmd_end(args: argparse.Namespace) -> int:
    return _call(args, "end")


def register(subparsers: Any) -> None:
    """Adds ``enrollments redrive`` and ``enrollments end`` to the ``leadflow`` command."""
    enrollments = subparsers.add_parser(
        "enrollments", help="re-drive or end a contact's enrollment in a flow"
    ).add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("redrive", cmd_redrive, "send the enrollment to the step queue now (what is due runs; waits stay)"),
        ("end", cmd_end, "end the enrollment (exited, ended_by_admin); nothing more is sent"),
    ):
        command = enrollments.add_parser(name, help=text, description=text)
        command.add_argument("contact_id", help="the contact id")
        command.add_argument("flow_id", help="the flow id")
        command.add_argument(
            "--url", default=os.environ.get("LEADFLOW_URL", DEFAULT_URL), type=_base_url, help="API base URL"
        )
        command.add_argument(
            "--token", default=os.environ.get("LEADFLOW_ADMIN_TOKEN"), help="admin bearer token (local stack)"
        )
        command.set_defaults(handler=handler)
