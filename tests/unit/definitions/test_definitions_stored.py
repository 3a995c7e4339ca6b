"""``load_stored``: a bundle read back from the store is trusted as checked when it was applied."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from leadflow.definitions import Bundle, DefinitionsError, Problem, load_stored, loader, parse_bundle
from leadflow.definitions import bundle as bundle_module


def test_a_stored_bundle_reads_back_equal_to_the_applied_one(doc: dict[str, Any]) -> None:
    applied = parse_bundle(doc)
    stored = json.loads(json.dumps(applied.to_json_dict()))
    assert load_stored(stored) == applied
    assert load_stored(stored).form("signup") is not None  # lookups are built


def test_a_stored_bundle_that_todays_checks_refuse_still_loads(doc: dict[str, Any]) -> None:
    # Given a bundle an older release accepted: a form enrols into a flow that is not there,
    # and a template uses a tag that Jinja2 cannot compile
    doc["forms"][0]["on_submit"] = [{"enroll": "retired-flow"}]
    doc["email_templates"][0]["html"] = "<p>{% if %}</p>"
    with pytest.raises(DefinitionsError):
        parse_bundle(doc)
    # When it is read back from the store, it loads as it was stored
    bundle = load_stored(doc)
    assert bundle.forms[0].on_submit[0].enroll == "retired-flow"  # type: ignore[union-attr]
    assert bundle.template("invite").html == "<p>{% if %}</p>"  # type: ignore[union-attr]


def test_a_check_added_later_refuses_new_bundles_but_not_the_stored_one(
    doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a newer release with one more cross-reference check, which this bundle fails
    stored = parse_bundle(doc).to_json_dict()
    real = loader.check_bundle

    def stricter(bundle: Any, **kwargs: Any) -> list[Problem]:
        return [*real(bundle, **kwargs), Problem("forms[0]", "a newer rule")]

    monkeypatch.setattr(loader, "check_bundle", stricter)
    monkeypatch.setattr(bundle_module, "check_bundle", stricter)
    # Then applying it again is refused, by parse_bundle and by a plain model_validate alike
    with pytest.raises(DefinitionsError, match="a newer rule"):
        parse_bundle(stored)
    with pytest.raises(DefinitionsError, match="a newer rule"):
        Bundle.model_validate(stored)
    # But the Lambdas still load the active one from the store
    assert load_stored(stored).form("signup") is not None


def test_the_shape_is_still_validated(doc: dict[str, Any]) -> None:
    # Trusted means checked, not unparsed: data that is no bundle at all is still an error
    doc["forms"][0]["fields"] = "email"
    with pytest.raises(ValueError, match="fields"):
        load_stored(doc)


def test_loading_a_stored_bundle_imports_neither_jinja_nor_yaml(doc: dict[str, Any]) -> None:
    # Given the bundle as the store keeps it, with email templates
    stored = json.dumps(parse_bundle(doc).to_json_dict())
    code = (
        "import json, sys\n"
        "from leadflow.definitions import Bundle, load_stored\n"
        "data = json.loads(sys.stdin.read())\n"
        "bundle = load_stored(data)\n"
        "print(bundle.template('invite') is not None, 'jinja2' in sys.modules, 'yaml' in sys.modules)\n"
        "Bundle.model_validate(data)\n"  # what the Lambdas used to do: checks and compiles it all
        "print('jinja2' in sys.modules)\n"
    )
    # When a fresh interpreter loads it
    result = subprocess.run(
        [sys.executable, "-c", code], input=stored, capture_output=True, text=True, check=True
    )
    # Then it has the bundle and imported no Jinja2 (as a full validation would have) nor YAML
    assert result.stdout.split() == ["True", "False", "False", "True"]
