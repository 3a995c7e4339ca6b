"""``leadflow members list|add|remove|history CAMPAIGN ...``: a campaign's members as readable
tables (``--json`` for scripts). ``leadflow campaigns members|add`` are the same commands under
the ``campaigns`` group (issue 13's names), beside ``campaigns list|show``.

A contact is named by its id or its email address (looked up first).

Exit status: 0 done, 1 the API refused (or could not be reached), 3 no such campaign, contact or
membership (argparse uses 2 for a wrong command line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from leadflow_cli.client import AdminClient, ApiError, Reply

DEFAULT_URL = "http://127.0.0.1:3000"
EXIT_OK, EXIT_REFUSED, EXIT_NOT_FOUND = 0, 1, 3
_EPILOG = (
    f"exit status: {EXIT_OK} done, {EXIT_REFUSED} refused by the API, 2 wrong usage, "
    f"{EXIT_NOT_FOUND} no such campaign, contact or membership"
)
Handler = Callable[[argparse.Namespace], int]


# ---------------------------------------------------------------- wiring


def register(subparsers: Any) -> None:
    """Adds ``members list|add|remove|history``, and ``campaigns members|add`` (extending a
    ``campaigns`` group another module registered, or starting it)."""
    members = subparsers.add_parser(
        "members", help="a campaign's members: list, add or set a status, remove, history"
    ).add_subparsers(dest="action", required=True)
    _list_command(members, "list")
    _add_command(members, "add")
    remove = members.add_parser("remove", help="remove a member (its history stays)", epilog=_EPILOG)
    _campaign_and_contact(remove)
    _options(remove)
    remove.set_defaults(handler=cmd_remove)
    history = members.add_parser("history", help="a campaign's membership changes", epilog=_EPILOG)
    history.add_argument("campaign_id", metavar="CAMPAIGN")
    _paging(history)
    _options(history)
    history.set_defaults(handler=cmd_history)

    campaigns = _group(subparsers, "campaigns", "CRM and MA campaigns")
    _list_command(campaigns, "members")
    _add_command(campaigns, "add")


def _list_command(group: Any, name: str) -> None:
    listing = group.add_parser(name, help="a campaign's members, as a table", epilog=_EPILOG)
    listing.add_argument("campaign_id", metavar="CAMPAIGN")
    listing.add_argument("--status", help="only members with this status")
    _paging(listing)
    _options(listing)
    listing.set_defaults(handler=cmd_list)


def _add_command(group: Any, name: str) -> None:
    add = group.add_parser(
        name,
        help="add a contact to a CRM campaign, or set its status",
        description="Without --status a new member gets the campaign's default status and an "
        "existing member keeps its own.",
        epilog=_EPILOG,
    )
    _campaign_and_contact(add)
    add.add_argument("--status", help="one of the campaign's member statuses")
    _options(add)
    add.set_defaults(handler=cmd_add)


def _group(subparsers: Any, name: str, help_text: str) -> Any:
    existing = subparsers.choices.get(name)
    if existing is None:
        return subparsers.add_parser(name, help=help_text).add_subparsers(dest="action", required=True)
    for action in existing._actions:  # another module's group: add to its sub-commands
        if isinstance(action, argparse._SubParsersAction):
            return action
    return existing.add_subparsers(dest="action", required=True)


def _campaign_and_contact(command: argparse.ArgumentParser) -> None:
    command.add_argument("campaign_id", metavar="CAMPAIGN")
    command.add_argument("contact", metavar="CONTACT", help="a contact id or an email address")


def _paging(command: argparse.ArgumentParser) -> None:
    command.add_argument("--limit", type=int, default=50, help="rows per page, 1 to 200 (default 50)")
    command.add_argument("--cursor", help="continue from a page's cursor")
    command.add_argument("--all", action="store_true", help="follow the cursors to the last page")


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--url", default=os.environ.get("LEADFLOW_URL", DEFAULT_URL), help="API base URL")
    command.add_argument(
        "--token", default=os.environ.get("LEADFLOW_ADMIN_TOKEN"), help="admin bearer token (local stack)"
    )
    command.add_argument("--json", action="store_true", help="print the API's reply as JSON (for scripts)")


# ---------------------------------------------------------------- commands


def cmd_list(args: argparse.Namespace) -> int:
    query = {"status": args.status} if args.status else {}
    path = f"/v1/admin/campaigns/{_segment(args.campaign_id)}/members"
    return _pages(args, path, query, "members", _members_table)


def cmd_history(args: argparse.Namespace) -> int:
    path = f"/v1/admin/campaigns/{_segment(args.campaign_id)}/history"
    return _pages(args, path, {}, "changes", _history_table)


def cmd_add(args: argparse.Namespace) -> int:
    client = AdminClient(args.url, args.token)
    body = json.dumps({"status": args.status} if args.status else {}).encode()
    try:
        contact_id = _contact_id(client, args.contact)
        reply = client.request(
            "PUT",
            f"/v1/admin/campaigns/{_segment(args.campaign_id)}/members/{_segment(contact_id)}",
            body=body,
            content_type="application/json",
        )
    except ApiError as error:
        return _refused(args, error)
    member = reply.body
    if args.json:
        _print_json(member)
    elif member.get("created"):
        print(f"added {member['contact_id']} to {member['campaign_id']} as {member['status']}")
    elif member.get("changed"):
        print(f"{member['contact_id']} is now {member['status']} in {member['campaign_id']}")
    else:
        print(f"{member['contact_id']} was already {member['status']} in {member['campaign_id']}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    client = AdminClient(args.url, args.token)
    try:
        contact_id = _contact_id(client, args.contact)
        client.request(
            "DELETE", f"/v1/admin/campaigns/{_segment(args.campaign_id)}/members/{_segment(contact_id)}"
        )
    except ApiError as error:
        return _refused(args, error)
    if args.json:
        _print_json({"campaign_id": args.campaign_id, "contact_id": contact_id, "removed": True})
    else:
        print(f"removed {contact_id} from {args.campaign_id} (its history stays)")
    return EXIT_OK


# ---------------------------------------------------------------- helpers


def _pages(
    args: argparse.Namespace,
    path: str,
    query: dict[str, str],
    rows_key: str,
    table: Callable[[list[dict[str, Any]]], str],
) -> int:
    """One page, or with ``--all`` every page from ``--cursor`` on, as a table or as JSON."""
    client = AdminClient(args.url, args.token)
    rows: list[dict[str, Any]] = []
    cursor = args.cursor
    first: Reply | None = None
    while True:
        page_query = {**query, "limit": str(args.limit), **({"cursor": cursor} if cursor else {})}
        try:
            reply = client.request("GET", path, query=page_query)
        except ApiError as error:
            return _refused(args, error)
        first = first or reply
        rows += reply.body[rows_key]
        cursor = reply.body.get("cursor")
        if not args.all or not cursor:
            break
    if args.json:
        _print_json({**first.body, rows_key: rows, "cursor": cursor})
        return EXIT_OK
    print(table(rows) if rows else f"no {rows_key}")
    if cursor:
        print(f"more: --cursor {cursor}  (or --all)")
    return EXIT_OK


def _members_table(rows: list[dict[str, Any]]) -> str:
    header = ("CONTACT", "STATUS", "RESPONDED", "SOURCE", "JOINED", "UPDATED")
    lines = [
        (
            row["contact_id"],
            row["status"],
            (row.get("responded_at") or "yes") if row.get("responded") else "-",
            row["source"],
            row["joined_at"],
            row.get("updated_at") or "-",
        )
        for row in rows
    ]
    return _table(header, lines)


def _history_table(rows: list[dict[str, Any]]) -> str:
    header = ("AT", "CONTACT", "FROM", "TO", "SOURCE")
    lines = [
        (
            row["at"],
            row["contact_id"],
            row.get("from") or "(added)",
            row.get("to") or "(removed)",
            row["source"],
        )
        for row in rows
    ]
    return _table(header, lines)


def _table(header: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> str:
    widths = [max(len(str(cells[index])) for cells in [header, *rows]) for index in range(len(header))]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        for cells in [header, *rows]
    )


def _contact_id(client: AdminClient, contact: str) -> str:
    """A contact id as given, or the id of the contact with that email address."""
    if "@" not in contact:
        return contact
    return str(client.request("GET", "/v1/admin/contacts", query={"email": contact}).body["id"])


def _segment(value: str) -> str:
    """A path segment as the API expects it: every reserved character escaped."""
    return urllib.parse.quote(value, safe="")


def _refused(args: argparse.Namespace, error: ApiError) -> int:
    code = EXIT_NOT_FOUND if error.status == 404 else EXIT_REFUSED
    if getattr(args, "json", False):
        _print_json(error.body)
        return code
    print(str(error), file=sys.stderr)
    for path, message in error.fields.items():
        print(f"  {path}: {message}", file=sys.stderr)
    return code


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))
