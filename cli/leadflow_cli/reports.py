"""``leadflow campaigns list|show`` and ``leadflow report funnel|campaigns``: the figures as
readable tables (``--json`` for scripts), and as pictures (``--out FILE.png`` or ``.svg``) drawn
with matplotlib, which is imported only when a picture is asked for.

Exit status: 0 done, 1 the API refused (or could not be reached), 2 wrong arguments or a file
that cannot be written.
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
EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
PICTURE_SUFFIXES = (".png", ".svg")
STAGE_LABELS = {
    "subscriber": "Subscribers",
    "lead": "Leads",
    "mql": "MQLs",
    "sql": "SQLs",
    "opportunity": "Opportunities",
    "customer": "Customers",
}


# ---------------------------------------------------------------- wiring


def register(subparsers: Any) -> None:
    """Adds ``campaigns list|show`` and ``report funnel|campaigns`` to the ``leadflow`` parser.
    A ``campaigns`` command another module registered first is extended, not replaced."""
    campaigns = _group(subparsers, "campaigns", "CRM and MA campaigns with their figures")
    listing = campaigns.add_parser("list", help="every campaign with its headline figures", epilog=_EPILOG)
    _options(listing)
    listing.set_defaults(handler=cmd_campaigns_list)
    show = campaigns.add_parser("show", help="one campaign's definition and figures", epilog=_EPILOG)
    show.add_argument("campaign_id")
    _options(show)
    show.set_defaults(handler=cmd_campaigns_show)

    report = _group(subparsers, "report", "the funnel and the campaign report, as tables or pictures")
    funnel = report.add_parser(
        "funnel", help="contacts entering each lifecycle stage, and the conversions", epilog=_EPILOG
    )
    funnel.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: 29 days before --to)")
    funnel.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: today, UTC)")
    funnel.add_argument("--ma-campaign", help="only this MA campaign")
    _options(funnel, picture=True)
    funnel.set_defaults(handler=cmd_report_funnel)
    crm = report.add_parser(
        "campaigns", help="per CRM campaign: responses, costs, ROI, rolled up", epilog=_EPILOG
    )
    _options(crm, picture=True)
    crm.set_defaults(handler=cmd_report_campaigns)


_EPILOG = f"exit status: {EXIT_OK} done, {EXIT_REFUSED} the API refused, {EXIT_USAGE} wrong usage or unwritable file"


def _group(subparsers: Any, name: str, help_text: str) -> Any:
    existing = subparsers.choices.get(name)
    if existing is None:
        parser = subparsers.add_parser(name, help=help_text)
        return parser.add_subparsers(dest="action", required=True)
    for action in existing._actions:  # another module's group: add to its sub-commands
        if isinstance(action, argparse._SubParsersAction):
            return action
    return existing.add_subparsers(dest="action", required=True)


def _options(command: argparse.ArgumentParser, *, picture: bool = False) -> None:
    command.add_argument("--url", default=os.environ.get("LEADFLOW_URL", DEFAULT_URL), help="API base URL")
    command.add_argument(
        "--token", default=os.environ.get("LEADFLOW_ADMIN_TOKEN"), help="admin bearer token (local stack)"
    )
    command.add_argument("--json", action="store_true", help="print the API's reply as JSON")
    if picture:
        command.add_argument("--out", type=Path, help="draw a picture into this .png or .svg file")


def _fetch(args: argparse.Namespace, path: str, query: dict[str, str] | None = None) -> tuple[int, Any]:
    """(exit code, reply body): the body is None when the call failed (reported on stderr)."""
    try:
        client = AdminClient(args.url, args.token)
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE, None
    try:
        return EXIT_OK, client.request("GET", path, query=query).body
    except ApiError as error:
        print(str(error), file=sys.stderr)
        for field, message in error.fields.items():
            print(f"  {field}: {message}", file=sys.stderr)
        return EXIT_REFUSED, None


def _picture_target(args: argparse.Namespace) -> int:
    out: Path | None = getattr(args, "out", None)
    if out is not None and out.suffix.lower() not in PICTURE_SUFFIXES:
        print(f"--out must end in .png or .svg, not {out.name!r}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


# ---------------------------------------------------------------- commands


def cmd_campaigns_list(args: argparse.Namespace) -> int:
    code, body = _fetch(args, "/v1/admin/campaigns")
    if body is None:
        return code
    if args.json:
        return _print_json(body)
    rows = [
        [
            row["id"],
            row["kind"],
            row["name"],
            row.get("status") or "",
            _count(row["members"]),
            "" if row.get("responded") is None else _count(row["responded"]),
            _percent(row.get("response_rate")),
            _percent(row.get("roi")),
        ]
        for row in body["campaigns"]
    ]
    print(
        _table(
            ["ID", "KIND", "NAME", "STATUS", "MEMBERS", "RESPONDED", "RATE", "ROI"], rows, right={4, 5, 6, 7}
        )
    )
    return EXIT_OK


def cmd_campaigns_show(args: argparse.Namespace) -> int:
    code, body = _fetch(args, f"/v1/admin/campaigns/{_path_segment(args.campaign_id)}")
    if body is None:
        return code
    if args.json:
        return _print_json(body)
    print(f"{body['name']}  ({body['id']}, {body['kind'].upper()} campaign)")
    facts = [
        ("type", body.get("type")),
        ("status", body.get("status")),
        ("dates", _dates(body.get("start_date"), body.get("end_date"))),
        ("parent", body.get("parent")),
        ("children", ", ".join(body.get("children") or []) or None),
        ("connected CRM campaign", body.get("connected_crm_campaign")),
        ("members", _count(body["members"])),
    ]
    for label, value in facts:
        if value:
            print(f"  {label:<24}{value}")
    for title, figures in (
        ("Own figures", body.get("figures")),
        ("With its children", body.get("hierarchy")),
    ):
        if not figures or (title != "Own figures" and not body.get("children")):
            continue
        print(f"\n{title}")
        print(_table(["", ""], _figure_rows(figures), right={1}, header=False))
        if figures["statuses"]:
            print("\n  member status           members")
            for status, count in figures["statuses"].items():
                print(f"  {status:<24}{_count(count):>7}")
    return EXIT_OK


def cmd_report_funnel(args: argparse.Namespace) -> int:
    if _picture_target(args):
        return EXIT_USAGE
    query = {key: value for key, value in (("from", args.start), ("to", args.end)) if value}
    if args.ma_campaign:
        query["ma_campaign"] = args.ma_campaign
    code, body = _fetch(args, "/v1/admin/reports/funnel", query)
    if body is None:
        return code
    if args.out is not None:
        return _save(args.out, lambda: _draw_funnel(body, args.ma_campaign))
    if args.json:
        return _print_json(body)
    print(f"Funnel {body['from']} to {body['to']} ({body['days']} days)")
    scopes = [("overall", body["overall"])] + [(row["name"], row) for row in body["ma_campaigns"]]
    headers = ["STAGE", *[name for name, _ in scopes]]
    rows = [
        [STAGE_LABELS[stage], *[_count(scope["counts"][stage]) for _, scope in scopes]]
        for stage in body["stages"]
    ]
    rows += [
        [
            f"{STAGE_LABELS[c['from']]} -> {STAGE_LABELS[c['to']]}",
            *[_percent(_rate(scope, c["from"])) for _, scope in scopes],
        ]
        for c in body["overall"]["conversions"]
    ]
    print(_table(headers, rows, right=set(range(1, len(headers)))))
    return EXIT_OK


def cmd_report_campaigns(args: argparse.Namespace) -> int:
    if _picture_target(args):
        return EXIT_USAGE
    code, body = _fetch(args, "/v1/admin/reports/campaigns")
    if body is None:
        return code
    if args.out is not None:
        return _save(args.out, lambda: _draw_roi(body))
    if args.json:
        return _print_json(body)
    rows = []
    for row in body["campaigns"]:
        total = row["hierarchy"]
        rows.append(
            [
                "  " * row["depth"] + row["name"],
                _count(total["members"]),
                _count(total["responded"]),
                _percent(total["response_rate"]),
                _money(total["budgeted_cost"]),
                _money(total["actual_cost"]),
                _money(total["cost_per_response"]),
                _money(total["expected_revenue"]),
                _percent(total["roi"]),
            ]
        )
    headers = [
        "CAMPAIGN (with children)",
        "MEMBERS",
        "RESPONDED",
        "RATE",
        "BUDGET",
        "COST",
        "COST/RESP",
        "EXP. REVENUE",
        "ROI",
    ]
    print(_table(headers, rows, right=set(range(1, 9))))
    return EXIT_OK


# ---------------------------------------------------------------- pictures


def _save(out: Path, draw: Any) -> int:
    try:
        import matplotlib
    except ImportError:
        print("pictures need matplotlib: pip install 'leadflow[cli]'", file=sys.stderr)
        return EXIT_USAGE
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure = draw()
    try:
        figure.savefig(
            out,
            format=out.suffix.lower().lstrip("."),
            dpi=150,
            metadata={"Software": None} if out.suffix.lower() == ".png" else {"Creator": None, "Date": None},
        )
    except OSError as error:
        print(f"cannot write {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        plt.close(figure)
    print(f"wrote {out}")
    return EXIT_OK


_INK, _MUTED, _GOOD, _BAD, _NONE = "#1f2937", "#6b7280", "#16a34a", "#dc2626", "#d1d5db"
_FUNNEL_COLOURS = ["#c7d2fe", "#a5b4fc", "#818cf8", "#6366f1", "#4f46e5", "#3730a3"]


def _draw_funnel(body: dict[str, Any], ma_campaign: str | None) -> Any:
    import matplotlib.pyplot as plt

    scope = body["overall"]
    title = "Lifecycle funnel"
    if ma_campaign and body["ma_campaigns"]:
        scope = body["ma_campaigns"][0]
        title = f"Lifecycle funnel: {scope['name']}"
    stages = body["stages"]
    counts = [scope["counts"][stage] for stage in stages]
    widest = max(counts) or 1
    figure, axes = plt.subplots(figsize=(8, 5.2))
    for row, (stage, count) in enumerate(zip(stages, counts, strict=True)):
        width = max(count / widest, 0.004)
        y = len(stages) - 1 - row
        axes.barh(
            y, width, left=(1 - width) / 2, height=0.72, color=_FUNNEL_COLOURS[row % 6], edgecolor="white"
        )
        axes.text(
            0.5,
            y,
            f"{count:,}",
            ha="center",
            va="center",
            fontsize=13,
            fontweight="bold",
            color="white" if row >= 3 and count else _INK,
        )
        axes.text(-0.02, y, STAGE_LABELS[stage], ha="right", va="center", fontsize=11, color=_INK)
        if row:
            rate = scope["conversions"][row - 1]["rate"]
            axes.text(
                1.02, y + 0.5, _percent(rate) or "n/a", ha="left", va="center", fontsize=10, color=_MUTED
            )
    axes.text(
        1.02,
        len(stages) - 0.35,
        "conversion",
        ha="left",
        va="bottom",
        fontsize=9,
        color=_MUTED,
        style="italic",
    )
    axes.set_xlim(-0.25, 1.18)
    axes.set_ylim(-0.6, len(stages) - 0.2)
    axes.axis("off")
    axes.set_title(
        f"{title}\n{body['from']} to {body['to']} ({body['days']} day{'s' if body['days'] != 1 else ''}), contacts entering each stage",
        fontsize=12,
        color=_INK,
        loc="left",
    )
    figure.tight_layout()
    return figure


def _draw_roi(body: dict[str, Any]) -> Any:
    import matplotlib.pyplot as plt

    rows = body["campaigns"]
    height = max(2.5, 0.62 * len(rows) + 1.6)
    figure, axes = plt.subplots(figsize=(10, height))
    labels, values, colours = [], [], []
    for row in rows:
        total = row["hierarchy"]
        roi = total["roi"]
        values.append(0 if roi is None else roi * 100)
        colours.append(_NONE if roi is None else (_GOOD if roi >= 0 else _BAD))
        suffix = " (with children)" if row["children"] else ""
        labels.append(("\u21b3 " * min(row["depth"], 1)) + row["name"] + suffix)  # a child: "↳ name"
    positions = list(range(len(rows)))[::-1]
    axes.barh(positions, values, color=colours, height=0.6)
    axes.axvline(0, color=_MUTED, linewidth=0.8)
    axes.set_yticks(positions, labels, fontsize=10, color=_INK)
    span = max([abs(v) for v in values] + [100])
    axes.set_xlim(-span * 1.15 if min([*values, 0]) < 0 else -span * 0.05, span * 2.1)
    for y, row, value in zip(positions, rows, values, strict=True):
        total = row["hierarchy"]
        roi_text = "ROI n/a" if total["roi"] is None else f"ROI {_percent(total['roi'])}"
        detail = f"cost {_money(total['actual_cost']) or '-'}  ·  revenue {_money(total['expected_revenue']) or '-'}"
        detail += f"  ·  {total['responded']:,}/{total['members']:,} responded"
        x = max(value, 0) + span * 0.03
        axes.text(x, y + 0.1, roi_text, va="bottom", fontsize=10, fontweight="bold", color=_INK)
        axes.text(x, y - 0.05, detail, va="top", fontsize=8.5, color=_MUTED)
    axes.set_xlabel("ROI: (expected revenue - actual cost) / actual cost, %", color=_MUTED)
    axes.spines[["top", "right", "left"]].set_visible(False)
    axes.tick_params(axis="y", length=0)
    axes.set_title(
        "CRM campaigns: return on investment, rolled up through the hierarchy",
        fontsize=12,
        color=_INK,
        loc="left",
    )
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------- text


def _print_json(value: Any) -> int:
    print(json.dumps(value, indent=2, ensure_ascii=False))
    return EXIT_OK


def _path_segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:,.1f}%"


def _money(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _rate(scope: dict[str, Any], from_stage: str) -> float | None:
    return next((c["rate"] for c in scope["conversions"] if c["from"] == from_stage), None)


def _dates(start: str | None, end: str | None) -> str | None:
    if not start and not end:
        return None
    return f"{start or '?'} to {end or '?'}"


def _figure_rows(figures: dict[str, Any]) -> list[list[str]]:
    return [
        ["  members", _count(figures["members"])],
        ["  responded", _count(figures["responded"])],
        ["  response rate", _percent(figures["response_rate"])],
        ["  budgeted cost", _money(figures["budgeted_cost"])],
        ["  actual cost", _money(figures["actual_cost"])],
        ["  cost per response", _money(figures["cost_per_response"])],
        ["  expected revenue", _money(figures["expected_revenue"])],
        ["  ROI", _percent(figures["roi"])],
    ]


def _table(headers: list[str], rows: list[list[str]], *, right: set[int], header: bool = True) -> str:
    widths = [
        max([len(h) for h in [headers[i]]] + [len(row[i]) for row in rows]) for i in range(len(headers))
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(cells)
        ).rstrip()

    lines = [line(headers)] if header else []
    lines += [line(row) for row in rows]
    return "\n".join(lines)
