"""Schemathesis fuzzes every documented route of the local stack from its own OpenAPI document.

The document is read where a client reads it, ``GET /v1/openapi.json``, and each operation gets
a bounded, derandomised set of generated requests (valid and invalid), sent with the admin
token. Every reply must be no server error, a documented status, of a documented content type,
and match the documented schema: the document is the contract, and this keeps it honest.

Random ids would only ever meet 404s and 401s, so half the cases take a real one instead: the
demo bundle's forms, lists and write keys, and a contact created at the start. The routes then
run their validation, the store and the queues on generated input, which is where 500s hide.

Schemathesis' pytest loaders (``from_fixture``) do not work with pytest 9, and the schema is only
served once the stack runs: each operation is one parametrised test that draws cases from
``APIOperation.as_strategy`` under Hypothesis.
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
from leadflow_local.stack import REPO_ROOT, LocalStack
from tests.e2e.conftest import TOKEN, admin_headers

pytestmark = pytest.mark.e2e

#: Generated requests per operation: enough to reach the statuses a route documents, few
#: enough that the whole run stays near a minute on two cores.
MAX_EXAMPLES = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_EMAIL = "fuzz@example.com"
#: The demo bundle has a site (so events reach the tracking validator), lists and forms.
BUNDLE = REPO_ROOT / "examples" / "demo.yaml"


def operation_labels() -> list[str]:
    """Every documented operation, from the same code the stack serves the document from."""
    document = openapi_document()
    return [f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item]


@dataclass(frozen=True)
class Known:
    """Real values a generated request may use instead of random ones."""

    path: dict[str, list[str]]  # path parameter -> ids that exist
    query: dict[str, list[str]]  # query parameter -> values that find something
    write_keys: list[str]


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, definitions=BUNDLE, admin_token=TOKEN) as stack:
        yield stack


def _required_fields(form: dict[str, Any]) -> dict[str, Any]:
    values = {"email": FUZZ_EMAIL, "consent": True, "checkbox": True}
    return {
        field["name"]: values.get(field["type"], (field.get("options") or ["fuzz"])[0])
        for field in form["fields"]
        if field.get("required")
    }


@pytest.fixture(scope="module")
def known(fuzz_stack: LocalStack, session: requests.Session) -> Known:
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
        },
        query={"email": [FUZZ_EMAIL]},
        write_keys=[item["write_key"] for item in bundle["sites"]],
    )


def with_known_values(cases: st.SearchStrategy[schemathesis.Case], known: Known) -> st.SearchStrategy[Any]:
    """Each generated case, with (half the time each) a real id, email or write key in place of its own."""

    @st.composite
    def strategy(draw: st.DrawFn) -> schemathesis.Case:
        case = draw(cases)
        for name, values in known.path.items():
            if case.path_parameters and name in case.path_parameters and draw(st.booleans()):
                case.path_parameters[name] = draw(st.sampled_from(values))
        for name, values in known.query.items():
            if case.query and name in case.query and draw(st.booleans()):
                case.query[name] = draw(st.sampled_from(values))
        if isinstance(case.body, dict) and "write_key" in case.body and draw(st.booleans()):
            case.body["write_key"] = draw(st.sampled_from(known.write_keys))
        return case

    return strategy()


@pytest.fixture(scope="module")
def api_schema(fuzz_stack: LocalStack) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_stack.url}/v1/openapi.json")


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def test_the_stack_serves_every_operation_this_module_fuzzes(api_schema: schemathesis.BaseSchema) -> None:
    served = {f"{operation.method.upper()} {operation.path}" for operation in _operations(api_schema)}
    assert served == set(operation_labels())


def _operations(api_schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("label", operation_labels())
def test_the_route_answers_as_documented(
    label: str,
    api_schema: schemathesis.BaseSchema,
    fuzz_stack: LocalStack,
    known: Known,
    session: requests.Session,
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served document"
    generated = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )
    cases = with_known_values(generated, known)

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    @hypothesis.given(case=cases)
    def replies_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=fuzz_stack.url,
            session=session,
            headers=admin_headers(),
            checks=CHECKS,
            allow_redirects=False,
        )

    replies_as_documented()
