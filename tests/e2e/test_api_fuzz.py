"""Schemathesis fuzzes every route of the local stack from the API's own OpenAPI document.

Every reply must be no server error, a documented status, of a documented content type, and
match the documented schema: the document is the contract, and this keeps it honest. Requests
carry the admin token; every run is derandomised and bounded (about a minute on two cores).

Two passes:

- ``test_the_api_answers_as_documented``: Schemathesis' pytest integration over the document
  (its examples, coverage and fuzzing phases: boundary values, missing parameters, methods no
  route has, valid and invalid inputs). Its parametrisation needs the document when the module
  is collected, before the stack runs, so it loads the document from the code the stack serves
  it from; ``test_the_stack_serves_this_document`` proves the two are the same.
- ``test_real_ids_answer_as_documented``: random ids only ever meet 404s and 401s, so here every
  case takes a real form, list, campaign, contact, email, member status, origin or write key, and a submission the values its
  form requires beside the generated ones. Routes then run validation, the store and the
  queues on generated input, which is where 500s hide. It draws cases from
  ``APIOperation.as_strategy`` of the document the stack serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leadflow.api.routes.docs import openapi_document
from leadflow_local.stack import REPO_ROOT, DevStack
from tests.e2e.conftest import TOKEN, admin_headers

pytestmark = pytest.mark.e2e

SEED = 11
#: Fuzzed requests per operation and pass: enough to reach the statuses a route documents, few
#: enough that the module stays near a minute on two cores.
MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_EMAIL = "fuzz@example.com"
#: The demo bundle has sites (so events get past the write key), lists and forms.
BUNDLE = REPO_ROOT / "examples" / "demo.yaml"

DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


@dataclass(frozen=True)
class Known:
    """Real values a generated request may use instead of random ones."""

    path: dict[str, list[str]]  # path parameter -> ids that exist
    query: dict[str, list[str]]  # query parameter -> values that find something
    origins: list[str]  # origins the bundle allows (without wildcards)
    write_keys: list[str]
    required_fields: dict[str, dict[str, Any]]  # form id -> values for its required fields


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[DevStack]:
    with DevStack(port=0, definitions=BUNDLE, admin_token=TOKEN) as stack:
        yield stack


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


@pytest.fixture(scope="module")
def served_schema(fuzz_stack: DevStack) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_stack.url}/v1/openapi.json")


def _required_fields(form: dict[str, Any]) -> dict[str, Any]:
    values = {"email": FUZZ_EMAIL, "consent": True, "checkbox": True}
    return {
        field["name"]: values.get(field["type"], (field.get("options") or ["fuzz"])[0])
        for field in form["fields"]
        if field.get("required")
    }


@pytest.fixture(scope="module")
def known(fuzz_stack: DevStack, session: requests.Session) -> Known:
    """The demo bundle's ids, and a contact made by a real submission. The bundle is applied again
    first: the other pass puts generated bundles, and some of them are valid."""
    applied = session.put(
        f"{fuzz_stack.url}/v1/admin/definitions",
        params={"allow_removals": "true"},
        data=BUNDLE.read_bytes(),
        headers={**admin_headers(), "Content-Type": "application/yaml"},
        timeout=30,
    )
    assert applied.status_code == 200, applied.text
    active = session.get(f"{fuzz_stack.url}/v1/admin/definitions", headers=admin_headers(), timeout=30)
    bundle = active.json()["bundle"]
    form = bundle["forms"][0]
    reply = session.post(
        f"{fuzz_stack.url}/v1/forms/{form['id']}/submissions",
        json={"fields": _required_fields(form)},
        timeout=30,
    )
    assert reply.status_code == 202, reply.text
    return Known(
        path={
            "form_id": [item["id"] for item in bundle["forms"]],
            "list_id": [item["id"] for item in bundle["lists"]],
            "contact_id": [reply.json()["contact_id"]],
            "campaign_id": [item["id"] for item in bundle["campaigns"]],
        },
        query={
            "email": [FUZZ_EMAIL],
            "status": [
                "joined",
                *[s["name"] for c in bundle["campaigns"] for s in c.get("member_statuses", [])],
            ],
        },
        origins=sorted(
            {
                origin
                for item in [*bundle["forms"], *bundle["sites"]]
                for origin in item.get("allowed_origins", [])
                if "*" not in origin
            }
        ),
        write_keys=[item["write_key"] for item in bundle["sites"]],
        required_fields={item["id"]: _required_fields(item) for item in bundle["forms"]},
    )


def test_the_stack_serves_this_document(fuzz_stack: DevStack, session: requests.Session) -> None:
    response = session.get(f"{fuzz_stack.url}/v1/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.json() == DOCUMENT


@schema.parametrize()
def test_the_api_answers_as_documented(
    case: schemathesis.Case, fuzz_stack: DevStack, session: requests.Session
) -> None:
    case.call_and_validate(
        base_url=fuzz_stack.url,
        session=session,
        headers=admin_headers(),
        checks=CHECKS,
        allow_redirects=False,
    )


def with_known_values(cases: st.SearchStrategy[schemathesis.Case], known: Known) -> st.SearchStrategy[Any]:
    """Each generated case with a real id, email, origin or write key in place of its own (the
    other pass covers random ones), and a submission with the values its form requires."""

    @st.composite
    def strategy(draw: st.DrawFn) -> schemathesis.Case:
        case = draw(cases)
        for name, values in known.path.items():
            if case.path_parameters and name in case.path_parameters:
                case.path_parameters[name] = draw(st.sampled_from(values))
        for name, values in known.query.items():
            if case.query and name in case.query:
                case.query[name] = draw(st.sampled_from(values))
        if case.headers and "Origin" in case.headers:
            case.headers["Origin"] = draw(st.sampled_from(known.origins))
        body = case.body
        if isinstance(body, dict) and "write_key" in body:
            body["write_key"] = draw(st.sampled_from(known.write_keys))
        if isinstance(body, dict) and isinstance(body.get("status"), str):  # a member status
            body["status"] = draw(st.sampled_from(known.query["status"]))
        required = known.required_fields.get((case.path_parameters or {}).get("form_id", ""))
        if required and isinstance(body, dict):  # what the form needs, beside generated extra fields
            if case.media_type == "application/json" and isinstance(body.get("fields"), dict):
                body["fields"] = {**body["fields"], **required}
            elif case.media_type != "application/json":
                body.update({name: "on" if value is True else value for name, value in required.items()})
        return case

    return strategy()


LABELS = [f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item]


@pytest.mark.parametrize("label", LABELS)
def test_real_ids_answer_as_documented(
    label: str,
    served_schema: schemathesis.BaseSchema,
    fuzz_stack: DevStack,
    known: Known,
    session: requests.Session,
) -> None:
    operation = served_schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served document"
    generated = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=with_known_values(generated, known))
    def replies_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=fuzz_stack.url,
            session=session,
            headers=admin_headers(),
            checks=CHECKS,
            allow_redirects=False,
        )

    replies_as_documented()
