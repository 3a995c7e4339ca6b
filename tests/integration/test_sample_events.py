"""Every sample in events/ (capture, admin, process) runs through its real handler and gets the
reply it documents. Samples of other areas are run by their area's test module (``ELSEWHERE``),
which must name each of them: tracking samples by test_tracking.py, which holds their signing key,
SES event samples by test_ses_events.py, nurture samples by test_nurture_runner.py, and the
unsubscribe and confirm samples by test_preferences.py."""

from __future__ import annotations

import json
import re

import pytest

from tests.support import functions
from tests.support.events import LambdaContext, json_body
from tests.support.moto_stack import ROOT

EVENTS = ROOT / "events"
HANDLED_HERE = {
    "capture-native-post": ("capture", 303),
    "capture-json-post": ("capture", 202),
    "capture-preflight": ("capture", 204),
    "admin-get-contact-by-email": ("admin", 200),
}


def load(name: str) -> dict:
    return json.loads((EVENTS / f"{name}.json").read_text())


#: sample name prefix -> the test module that runs those samples
ELSEWHERE = {
    "track-": "test_tracking.py",
    "ses-": "test_ses_events.py",
    "nurture-": "test_nurture_runner.py",
    "preferences-": "test_preferences.py",
}


def _named_in(module: str, sample: str) -> bool:
    """The module loads the sample by its exact name (``"track-events"`` is not ``track-events-beacon``)."""
    text = (ROOT / "tests" / "integration" / module).read_text()
    return re.search(rf"[\"'/]{re.escape(sample)}(\.json)?[\"']", text) is not None


def test_every_sample_event_is_exercised_by_a_test():
    samples = {path.stem for path in EVENTS.glob("*.json")}
    elsewhere = {name for name in samples if name.startswith(tuple(ELSEWHERE))}
    assert samples - elsewhere == {*HANDLED_HERE, "process-activity-batch"}
    unrun = [
        name
        for name in sorted(elsewhere)
        for prefix, module in ELSEWHERE.items()
        if name.startswith(prefix) and not _named_in(module, name)
    ]
    assert unrun == [], f"samples no test loads by name: {unrun}"


@pytest.fixture
def demo_bundle(apply_bundle):
    from leadflow.definitions import parse_bundle

    bundle = parse_bundle((ROOT / "examples" / "demo.yaml").read_text())
    apply_bundle(bundle.to_json_dict())


@pytest.mark.parametrize("name", list(HANDLED_HERE))
def test_http_samples_get_their_documented_status(aws, demo_bundle, name: str):
    function, status = HANDLED_HERE[name]
    if name == "admin-get-contact-by-email":
        reply = functions.load("capture").lambda_handler(load("capture-native-post"), LambdaContext())
        assert reply["statusCode"] == 303
    reply = functions.load(function).lambda_handler(load(name), LambdaContext(function_name=function))
    assert reply["statusCode"] == status, reply.get("body")
    if name == "admin-get-contact-by-email":
        contact = json_body(reply)
        assert contact["email"] == "jane.doe@example.com"
        assert contact["attribution"]["utm_campaign"] == "q3-webinar"


def test_process_sample_batch_keeps_the_visitors_history(aws, demo_bundle):
    reply = functions.load("process").lambda_handler(load("process-activity-batch"), LambdaContext())
    assert reply == {"batchItemFailures": []}
    # The visitor of the batch converts through the native-post sample (same anonymous id)
    functions.load("capture").lambda_handler(load("capture-native-post"), LambdaContext())
    from tests.support import queues

    queues.drain(functions.load("process").lambda_handler, aws.queues["ActivityQueue"])
    contact = json_body(
        functions.load("admin").lambda_handler(load("admin-get-contact-by-email"), LambdaContext())
    )
    assert {activity["type"] for activity in contact["activities"]} == {
        "form_submit",
        "page_view",
        "download",
    }
    assert "serverless" in contact["tags"]


def test_samples_are_valid_json_files():
    for path in EVENTS.glob("*.json"):
        assert isinstance(json.loads(path.read_text()), dict), path.name
