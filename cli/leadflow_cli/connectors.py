"""``leadflow connectors show|credentials|replay ID``: a CRM connector's status, its credentials
(read from a file or stdin, never from the command line, where shell history would keep them),
and its dead letters sent back to the sync queue."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from leadflow_cli.client import AdminClient, ApiError


def register(commands: Any) -> None:
    """Adds ``connectors`` to the ``leadflow`` command line."""
    from leadflow_cli.main import DEFAULT_URL, _base_url

    def admin_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--url", default=os.environ.get("LEADFLOW_URL", DEFAULT_URL), type=_base_url, help="API base URL"
        )
        command.add_argument(
            "--token", default=os.environ.get("LEADFLOW_ADMIN_TOKEN"), help="admin bearer token (local stack)"
        )

    connectors = commands.add_parser("connectors", help="CRM connectors: status, credentials, replay")
    actions = connectors.add_subparsers(dest="connectors_command", required=True)
    show = actions.add_parser(
        "show", help="configured or not, last success and error, pending, failed, dead letters"
    )
    show.add_argument("connector_id")
    admin_options(show)
    show.set_defaults(handler=cmd_show)
    credentials = actions.add_parser(
        "credentials",
        help="store a connector's credentials (a JSON object from --file or stdin)",
        description='Salesforce and Dynamics: {"client_id": ..., "client_secret": ...}; SugarCRM: '
        '{"username": ..., "password": ..., "client_secret": ...}. Stored in Secrets Manager, never shown again.',
    )
    credentials.add_argument("connector_id")
    credentials.add_argument("--file", type=Path, help="a JSON file (default: read stdin)")
    admin_options(credentials)
    credentials.set_defaults(handler=cmd_credentials)
    replay = actions.add_parser("replay", help="send the connector's dead letters back to the sync queue")
    replay.add_argument("connector_id")
    replay.add_argument("--limit", type=int, default=100, help="at most this many (1 to 1000)")
    admin_options(replay)
    replay.set_defaults(handler=cmd_replay)


def _client(args: argparse.Namespace) -> AdminClient:
    return AdminClient(args.url, args.token)


def _fail(error: ApiError) -> int:
    print(str(error), file=sys.stderr)
    for path, message in error.fields.items():
        print(f"  {path}: {message}", file=sys.stderr)
    return 1


def cmd_show(args: argparse.Namespace) -> int:
    try:
        reply = _client(args).request("GET", f"/v1/admin/connectors/{args.connector_id}")
    except ApiError as error:
        return _fail(error)
    print(json.dumps(reply.body, indent=2, ensure_ascii=False))
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8") if args.file else sys.stdin.read()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        _client(args).request(
            "PUT",
            f"/v1/admin/connectors/{args.connector_id}/credentials",
            body=text.encode("utf-8"),
            content_type="application/json",
        )
    except ApiError as error:
        return _fail(error)
    print(f"credentials of {args.connector_id} stored; memberships that waited for them are sent again")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    try:
        reply = _client(args).request(
            "POST", f"/v1/admin/connectors/{args.connector_id}/replay", query={"limit": str(args.limit)}
        )
    except ApiError as error:
        return _fail(error)
    body = reply.body
    print(f"{body['replayed']} dead letter(s) of {args.connector_id} sent back to the sync queue")
    return 0
