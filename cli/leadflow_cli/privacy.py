"""``leadflow contacts export|erase``: a person's right of access and of erasure, from the terminal."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leadflow_cli.client import AdminClient, ApiError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3


def register(contacts: Any, admin_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Adds ``export`` and ``erase`` to the ``contacts`` command group."""
    export = contacts.add_parser(
        "export",
        help="everything stored about a contact, as JSON (GDPR access)",
        epilog=f"exit status: {EXIT_OK} written, {EXIT_FAILED} refused, {EXIT_USAGE} file not writable, "
        f"{EXIT_NOT_FOUND} no such contact",
    )
    export.add_argument("contact_id")
    export.add_argument("--out", type=Path, help="write the JSON here (default: standard output)")
    admin_options(export)
    export.set_defaults(handler=cmd_export)
    erase = contacts.add_parser(
        "erase",
        help="erase a contact everywhere (GDPR erasure); asks first unless --yes",
        epilog=f"exit status: {EXIT_OK} erased, {EXIT_FAILED} refused, {EXIT_USAGE} not confirmed, "
        f"{EXIT_NOT_FOUND} no such contact",
    )
    erase.add_argument("contact_id")
    erase.add_argument("--yes", action="store_true", help="do not ask (for scripts)")
    admin_options(erase)
    erase.set_defaults(handler=cmd_erase)


def _client(args: argparse.Namespace) -> AdminClient:
    return AdminClient(args.url, args.token)


def _refused(error: ApiError) -> int:
    print(str(error), file=sys.stderr)
    return EXIT_NOT_FOUND if error.status == 404 else EXIT_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    try:
        reply = _client(args).request("GET", f"/v1/admin/contacts/{args.contact_id}/export")
    except ApiError as error:
        return _refused(error)
    text = json.dumps(reply.body, indent=2, ensure_ascii=False)
    if args.out is None:
        print(text)
        return EXIT_OK
    try:
        args.out.write_text(text + "\n", encoding="utf-8")
    except OSError as error:
        print(f"cannot write {args.out}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    body = reply.body if isinstance(reply.body, dict) else {}
    counts = {kind: len(rows) for kind, rows in (body.get("records") or {}).items()}
    counts["campaign memberships"] = len(body.get("campaign_memberships") or [])
    counts["list memberships"] = len(body.get("list_memberships") or [])
    summary = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in sorted(counts.items()))
    print(f"Wrote contact {args.contact_id} to {args.out}: {summary}.")
    return EXIT_OK


def cmd_erase(args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            print("Refusing to erase without --yes when not run from a terminal.", file=sys.stderr)
            return EXIT_USAGE
        answer = input(f"Erase contact {args.contact_id} everywhere? This cannot be undone. Type its id: ")
        if answer.strip() != args.contact_id:
            print("Not erased.", file=sys.stderr)
            return EXIT_USAGE
    try:
        _client(args).request("DELETE", f"/v1/admin/contacts/{args.contact_id}")
    except ApiError as error:
        return _refused(error)
    print(
        f"Erased contact {args.contact_id}; only a hash of the address is kept, so imports cannot bring it back."
    )
    return EXIT_OK
