"""``leadflow``: validate and apply definitions, look contacts up, run the local stack.

Admin calls take ``--url`` and ``--token`` (or LEADFLOW_URL and LEADFLOW_ADMIN_TOKEN).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from leadflow_cli.client import AdminClient, ApiError

DEFAULT_URL = "http://127.0.0.1:3000"


def _content_type(path: Path) -> str:
    return "application/json" if path.suffix.lower() == ".json" else "application/yaml"


def _client(args: argparse.Namespace) -> AdminClient:
    return AdminClient(args.url, args.token)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def cmd_validate(args: argparse.Namespace) -> int:
    """Offline: the same models and checks the API applies."""
    from leadflow.definitions import DefinitionsError, parse_bundle

    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        bundle = parse_bundle(text, content_type=_content_type(args.file))
    except DefinitionsError as error:
        for problem in error.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"{len(error.problems)} problem(s)", file=sys.stderr)
        return 1
    counts = {section: len(getattr(bundle, section)) for section in ("campaigns", "forms", "lists", "flows")}
    summary = ", ".join(f"{count} {section}" for section, count in counts.items())
    print(f"{args.file} is valid: {summary}, {len(bundle.scoring.rules)} scoring rules")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    try:
        body = args.file.read_bytes()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    query = {}
    if args.dry_run:
        query["dry_run"] = "true"
    if args.simulate:
        query.update({"dry_run": "true", "simulate": "true"})
    try:
        reply = _client(args).request(
            "PUT", "/v1/admin/definitions", query=query, body=body, content_type=_content_type(args.file)
        )
    except ApiError as error:
        print(str(error), file=sys.stderr)
        for path, message in error.fields.items():
            print(f"  {path}: {message}", file=sys.stderr)
        return 1
    result = reply.body
    verb = "would apply" if result.get("dry_run") else f"applied as version {result.get('version')}"
    print(f"{args.file} {verb} (active version was {result.get('previous_version')})")
    if result.get("diff"):
        _print_json({"diff": result["diff"]})
    if result.get("simulation"):
        _print_json({"simulation": result["simulation"]})
    return 0


def cmd_contacts_get(args: argparse.Namespace) -> int:
    client = _client(args)
    try:
        if "@" in args.contact:
            reply = client.request("GET", "/v1/admin/contacts", query={"email": args.contact})
        else:
            reply = client.request("GET", f"/v1/admin/contacts/{args.contact}")
    except ApiError as error:
        print(str(error), file=sys.stderr)
        return 1
    _print_json(reply.body)
    return 0


def cmd_contacts_score(args: argparse.Namespace) -> int:
    try:
        reply = _client(args).request("GET", f"/v1/admin/contacts/{args.contact_id}/score")
    except ApiError as error:
        print(str(error), file=sys.stderr)
        return 1
    _print_json(reply.body)
    return 0


def cmd_dev(args: argparse.Namespace, rest: list[str]) -> int:
    from leadflow_local.cli import main as dev_main

    return dev_main(rest)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadflow", description="Leadflow: marketing automation on your own AWS."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def admin_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--url", default=os.environ.get("LEADFLOW_URL", DEFAULT_URL), help="API base URL"
        )
        command.add_argument(
            "--token", default=os.environ.get("LEADFLOW_ADMIN_TOKEN"), help="admin bearer token (local stack)"
        )

    validate = commands.add_parser("validate", help="check a definitions bundle offline")
    validate.add_argument("file", type=Path)
    validate.set_defaults(handler=cmd_validate)

    apply = commands.add_parser("apply", help="apply a definitions bundle")
    apply.add_argument("file", type=Path)
    apply.add_argument("--dry-run", action="store_true", help="validate and show the diff; store nothing")
    apply.add_argument(
        "--simulate",
        action="store_true",
        help="dry run that also replays recent activity through the new scoring",
    )
    admin_options(apply)
    apply.set_defaults(handler=cmd_apply)

    contacts = commands.add_parser("contacts", help="look contacts up").add_subparsers(
        dest="action", required=True
    )
    get = contacts.add_parser("get", help="a contact by email or id")
    get.add_argument("contact", help="an email address or a contact id")
    admin_options(get)
    get.set_defaults(handler=cmd_contacts_get)
    score = contacts.add_parser("score", help="a contact's score ledger")
    score.add_argument("contact_id")
    admin_options(score)
    score.set_defaults(handler=cmd_contacts_score)

    commands.add_parser("dev", help="run Leadflow locally (see `leadflow dev --help`)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["dev"]:
        return cmd_dev(argparse.Namespace(), arguments[1:])
    args = _parser().parse_args(arguments)
    try:
        return int(args.handler(args))
    except BrokenPipeError:  # piped into head or less: stop quietly, as Unix tools do
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
