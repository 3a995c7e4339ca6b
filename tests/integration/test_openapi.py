"""The OpenAPI document is generated from the routers and agrees with template.yaml's routes."""

from __future__ import annotations

import re

from tests.support import functions
from tests.support.events import LambdaContext, http_event, json_body
from tests.support.moto_stack import template_resources


def template_routes() -> set[tuple[str, str]]:
    routes = set()
    for resource in template_resources().values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                properties = event["Properties"]
                routes.add((properties["Method"].lower(), properties["Path"]))
    return routes


def test_every_public_template_route_is_in_the_document_and_every_document_route_is_deployed(aws):
    from leadflow.api.routes.docs import openapi_document

    document = openapi_document()
    documented = {
        (method, re.sub(r"<(\w+)>", r"{\1}", path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    deployed = template_routes()
    public = {route for route in deployed if "{proxy+}" not in route[1] and route[1] != "/v1/openapi.json"}
    assert public <= documented, f"routes in template.yaml without a handler route: {public - documented}"
    assert ("any", "/v1/admin/{proxy+}") in deployed
    undeployed = {
        f"{method.upper()} {path}"
        for method, path in documented - deployed
        if not path.startswith("/v1/admin/")
    }
    assert undeployed == set(), f"handler routes with no route in template.yaml: {undeployed}"


def test_the_document_is_served_publicly(aws):
    reply = functions.load("admin").lambda_handler(http_event("GET", "/v1/openapi.json"), LambdaContext())
    assert reply["statusCode"] == 200
    document = json_body(reply)
    assert document["openapi"].startswith("3.")
    assert "/v1/forms/{form_id}/submissions" in document["paths"]
    assert "/v1/admin/contacts/{contact_id}/score" in document["paths"]


# ------------------------------------------------------------- an honest document
ERROR_REPLY = {"$ref": "#/components/schemas/ErrorReply"}


def operations() -> list[tuple[str, str, dict]]:
    from leadflow.api.routes.docs import openapi_document

    document = openapi_document()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def _refs(value: object) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [ref for item in value.values() for ref in _refs(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in _refs(item)]
    return []


def test_every_reference_in_the_document_resolves_and_powertools_422_shape_is_gone():
    from leadflow.api.routes.docs import openapi_document

    document = openapi_document()
    schemas = document["components"]["schemas"]
    refs = set(_refs(document))
    assert refs, "the document references no component: the check below would be empty"
    assert {ref.removeprefix("#/components/schemas/") for ref in refs} <= set(schemas)
    assert "HTTPValidationError" not in schemas


def test_every_status_has_a_schema_unless_it_has_no_body():
    for method, path, operation in operations():
        assert any(int(status) < 400 for status in operation["responses"]), f"{method} {path}: no success"
        for status, response in operation["responses"].items():
            where = f"{method} {path} {status}"
            if int(status) in (204, 304):
                assert "content" not in response, f"{where}: documented with a body"
            elif 300 <= int(status) < 400:
                assert "content" not in response, f"{where}: a redirect documented with a body"
                assert "Location" in response["headers"], f"{where}: a redirect without Location"
            else:
                content = response.get("content") or {}
                assert content, f"{where}: no content documented"
                assert all(media.get("schema") for media in content.values()), f"{where}: no schema"


def test_every_error_status_is_the_error_reply():
    for method, path, operation in operations():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == ERROR_REPLY or ERROR_REPLY in schema.get("anyOf", []), (
                f"{method} {path} {status}: {schema}"
            )


def test_the_error_reply_is_the_shape_the_api_sends():
    from leadflow.api.models import ErrorReply
    from leadflow.api.resolver import error_body

    ErrorReply.model_validate(error_body("validation_failed", "1 field is invalid", {"email": "no"}))
    ErrorReply.model_validate(error_body("internal", "oops", request_id="r-1"))


def test_every_admin_route_and_only_those_needs_the_bearer_token_or_sigv4():
    from leadflow.api.routes.docs import openapi_document

    schemes = openapi_document()["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["sigv4"]["type"] == "apiKey"
    assert schemes["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    for method, path, operation in operations():
        expected = [{"bearer": []}, {"sigv4": []}] if path.startswith("/v1/admin/") else None
        assert operation.get("security") == expected, f"{method} {path}"
        if expected:
            assert {"401", "403"} <= set(operation["responses"]), f"{method} {path}: no 401/403"


def test_every_route_that_reads_a_body_documents_it_per_media_type():
    bodies = {
        (method, path): set(operation["requestBody"]["content"])
        for method, path, operation in operations()
        if "requestBody" in operation
    }
    assert bodies == {
        ("POST", "/v1/forms/{form_id}/submissions"): {
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        },
        ("POST", "/v1/events"): {"application/json", "text/plain"},
        ("POST", "/v1/unsubscribe/{token}"): {"application/x-www-form-urlencoded"},
        ("PUT", "/v1/admin/definitions"): {"application/json", "application/yaml"},
        ("PUT", "/v1/admin/campaigns/{campaign_id}/members/{contact_id}"): {"application/json"},
        ("PUT", "/v1/admin/connectors/{connector_id}/credentials"): {"application/json"},
        ("POST", "/v1/admin/campaigns/{campaign_id}/imports"): {"application/json", "text/csv"},
        ("POST", "/v1/admin/imports/pinpoint"): {"application/json", "application/x-ndjson"},
    }


def test_headers_routes_read_themselves_are_documented_parameters():
    headers = {
        (method, path): {item["name"] for item in operation.get("parameters", []) if item["in"] == "header"}
        for method, path, operation in operations()
    }
    assert headers[("POST", "/v1/forms/{form_id}/submissions")] == {"Idempotency-Key", "Origin"}
    assert headers[("OPTIONS", "/v1/forms/{form_id}/submissions")] == {"Origin"}
    assert headers[("POST", "/v1/events")] == {"Origin"}
    assert headers[("OPTIONS", "/v1/events")] == {"Origin"}
    assert headers[("GET", "/v1/leadflow.js")] == {"If-None-Match"}
    for method, path, operation in operations():
        assert not [key for key in operation if key.startswith("x-leadflow")], f"{method} {path}"
