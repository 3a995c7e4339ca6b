"""The report commands' wiring and refusals that need no API (the e2e test runs them for real)."""

from __future__ import annotations

import argparse

import pytest

from leadflow_cli import main, reports


def test_a_campaigns_command_registered_first_is_extended_not_replaced():
    parser = argparse.ArgumentParser(prog="leadflow")
    commands = parser.add_subparsers(dest="command", required=True)
    existing = commands.add_parser("campaigns").add_subparsers(dest="action", required=True)
    existing.add_parser("members").set_defaults(handler="members")
    reports.register(commands)
    assert parser.parse_args(["campaigns", "members"]).handler == "members"
    assert parser.parse_args(["campaigns", "list"]).handler is reports.cmd_campaigns_list
    assert parser.parse_args(["campaigns", "show", "x"]).campaign_id == "x"
    assert parser.parse_args(["report", "funnel", "--from", "2026-11-01"]).start == "2026-11-01"


@pytest.mark.parametrize("name", ["funnel.gif", "funnel", "funnel.png.txt"])
def test_a_picture_that_is_not_png_or_svg_is_refused_before_any_call(name, tmp_path, capsys):
    # the URL is unreachable: exit 2 proves the suffix was refused first (a call would exit 1)
    code = main.main(["report", "funnel", "--out", str(tmp_path / name), "--url", "http://127.0.0.1:9"])
    assert code == 2
    assert ".png or .svg" in capsys.readouterr().err
    assert not (tmp_path / name).exists()


def test_an_unreachable_api_is_exit_1(capsys):
    assert main.main(["campaigns", "list", "--url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_a_url_that_is_not_http_is_exit_2(capsys):
    assert main.main(["report", "campaigns", "--url", "ftp://example.com"]) == 2


def test_numbers_read_as_a_marketer_writes_them():
    assert reports._percent(13.284) == "1,328.4%"
    assert reports._percent(None) == ""
    assert reports._money(4200.5) == "4,200.50"
    assert reports._money(60000) == "60,000"
    table = reports._table(["A", "N"], [["x", "1"], ["long", "1,000"]], right={1})
    assert table.splitlines() == ["A         N", "x         1", "long  1,000"]
