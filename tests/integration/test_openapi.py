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
