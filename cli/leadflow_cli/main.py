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

from leadflow_cli import privacy, reports
from leadflow_cli.client import AdminClient, ApiError

DEFAULT_URL = "http://127.0.0.1:3000"

EXIT_OK = 0
EXIT_FAILED = 1
"""The API refused the call, or the bundle is invalid."""
EXIT_UNREADABLE = 2
"""The file cannot be read (argparse uses 2 for a wrong command line too)."""
EXIT_REMOVALS = 3
"""``apply`` was refused because the bundle removes live definitions and --allow-removals was not given."""


def _content_type(path: Path) -> str:
    return "application/json" if path.suffix.lower() == ".json" else "application/yaml"


def _base_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"must be an http(s) URL, got {value!r}")
    return value


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
        return EXIT_UNREADABLE
    try:
        bundle = parse_bundle(text, content_type=_content_type(args.file))
    except DefinitionsError as error:
        for problem in error.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"{len(error.problems)} problem(s)", file=sys.stderr)
        return EXIT_FAILED
    counts = {section: len(getattr(bundle, section)) for section in ("campaigns", "forms", "lists", "flows")}
    summary = ", ".join(f"{count} {section}" for section, count in counts.items())
    print(f"{args.file} is valid: {summary}, {len(bundle.scoring.rules)} scoring rules")
    return EXIT_OK


def cmd_apply(args: argparse.Namespace) -> int:
    try:
        body = args.file.read_bytes()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    query = {}
    if args.dry_run:
        query["dry_run"] = "true"
    if args.simulate:
        query.update({"dry_run": "true", "simulate": "true"})
    if args.allow_removals:
        query["allow_removals"] = "true"
    try:
        reply = _client(args).request(
            "PUT", "/v1/admin/definitions", query=query, body=body, content_type=_content_type(args.file)
        )
    except ApiError as error:
        return _apply_refused(args, error)
    result = reply.body
    if args.json:
        _print_json(result)
        return EXIT_OK
    verb = "would apply" if result.get("dry_run") else f"applied as version {result.get('version')}"
    print(f"{args.file} {verb} (active version was {result.get('previous_version')})")
    removals = result.get("removals") or {}
    if removals:
        what = "would remove" if result.get("dry_run") else "removed"
        print(f"It {what} {_count(removals)} live definition(s):")
        print(_removals_table(removals))
        if result.get("dry_run") and not args.allow_removals:
            print("Applying it needs --allow-removals.")
    if result.get("diff"):
        _print_json({"diff": result["diff"]})
    if result.get("simulation"):
        _print_json({"simulation": result["simulation"]})
    return EXIT_OK


def _apply_refused(args: argparse.Namespace, error: ApiError) -> int:
    """Prints why the API refused the bundle; a refusal to remove live items has its own exit code."""
    detail = error.body.get("error", {}) if isinstance(error.body, dict) else {}
    removals = detail.get("removals") if isinstance(detail, dict) else None
    code = EXIT_REMOVALS if error.status == 409 and removals else EXIT_FAILED
    if args.json:
        _print_json(error.body)
        return code
    if code == EXIT_REMOVALS and removals:  # (repeats the check above, for the type checker)
        print(
            f"Refused: applying {args.file} would remove {_count(removals)} live definition(s):",
            file=sys.stderr,
        )
        print(_removals_table(removals), file=sys.stderr)
        print("Nothing was applied. If these should go, run again with --allow-removals.", file=sys.stderr)
        return code
    print(str(error), file=sys.stderr)
    for path, message in error.fields.items():
        print(f"  {path}: {message}", file=sys.stderr)
    return code


def _count(removals: dict[str, list[str]]) -> int:
    return sum(len(ids) for ids in removals.values())


def _removals_table(removals: dict[str, list[str]]) -> str:
    """One line per item, its kind in a column: ``  form      webinar-signup``."""
    rows = [(section.removesuffix("s"), item_id) for section, ids in removals.items() for item_id in ids]
    width = max(len(kind) for kind, _ in rows)
    return "\n".join(f"  {kind:<{width}}  {item_id}" for kind, item_id in rows)


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
            "--url", default=os.environ.get("LEADFLOW_URL", DEFAULT_URL), type=_base_url, help="API base URL"
        )
        command.add_argument(
            "--token", default=os.environ.get("LEADFLOW_ADMIN_TOKEN"), help="admin bearer token (local stack)"
        )

    validate = commands.add_parser("validate", help="check a definitions bundle offline")
    validate.add_argument("file", type=Path)
    validate.set_defaults(handler=cmd_validate)

    apply = commands.add_parser(
        "apply",
        help="apply a definitions bundle",
        description="Validate and apply a bundle. A bundle that removes live campaigns, forms, lists, "
        "flows or sites is refused unless --allow-removals is given.",
        epilog=f"exit status: {EXIT_OK} applied (or previewed), {EXIT_FAILED} refused or invalid, "
        f"{EXIT_UNREADABLE} wrong usage or file unreadable, {EXIT_REMOVALS} refused because it removes live definitions",
    )
    apply.add_argument("file", type=Path)
    apply.add_argument("--dry-run", action="store_true", help="validate and show the diff; store nothing")
    apply.add_argument(
        "--simulate",
        action="store_true",
        help="dry run that also replays recent activity through the new scoring",
    )
    apply.add_argument(
        "--allow-removals",
        action="store_true",
        help="confirm that live campaigns, forms, lists, flows or sites this bundle leaves out may go",
    )
    apply.add_argument("--json", action="store_true", help="print the API's reply as JSON (for scripts)")
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
    privacy.register(contacts, admin_options)

    reports.register(commands)
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
