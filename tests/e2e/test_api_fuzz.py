"""Schemathesis fuzzes every documented route of the local stack from its own OpenAPI document.

The document is read where a client reads it, ``GET /v1/openapi.json``, and each operation gets
a bounded, seeded set of generated requests (valid and invalid), sent with the admin token.
Every reply must be no server error, a documented status, of a documented content type, and
match the documented schema: the document is the contract, and this keeps it honest.
"""

from __future__ import annotations

from collections.abc import Iterator

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
#: The demo bundle has a site (so events reach the tracking validator), lists and forms.
BUNDLE = REPO_ROOT / "examples" / "demo.yaml"


def operation_labels() -> list[str]:
    """Every documented operation, from the same code the stack serves the document from."""
    document = openapi_document()
    return [f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item]


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, definitions=BUNDLE, admin_token=TOKEN) as stack:
        yield stack


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
    label: str, api_schema: schemathesis.BaseSchema, fuzz_stack: LocalStack, session: requests.Session
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the served document"
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

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
