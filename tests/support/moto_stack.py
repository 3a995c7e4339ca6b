"""In-process moto resources built from template.yaml by the local stack's own code.

``create_stack`` is the local stack's resource step (``leadflow_local.resources``) run against
``mock_aws`` (or a moto server), and ``environment()`` is what the template gives its functions
(``leadflow_local.template`` and ``environment``): a resource or variable added to the template
appears here and in ``make dev`` alike, with no second list to keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from leadflow_local.environment import merge_function_environments
from leadflow_local.resources import AwsPlace, ResourceRegistry
from leadflow_local.stack import ACCOUNT, DEFAULT_TEMPLATE, REPO_ROOT
from leadflow_local.template import ExpandedTemplate, StackModel, build_model, load_template

ROOT = REPO_ROOT
TEMPLATE = DEFAULT_TEMPLATE
REGION = "us-east-1"
STACK_NAME = "leadflow-test"
API_URL = "https://api.example.com"


def template_resources() -> dict[str, dict[str, Any]]:
    """template.yaml's resources as written (SAM, before expansion)."""
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(TEMPLATE.read_text())["Resources"]


@cache
def expanded_template() -> ExpandedTemplate:
    """template.yaml expanded by samtranslator, once per process (the registry only reads it)."""
    return load_template(TEMPLATE, REGION)


@dataclass
class MotoStack:
    """The created resources by logical id (table names, queue URLs, bus names, secret ARNs)."""

    registry: ResourceRegistry
    model: StackModel
    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)
    buses: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def environment(self) -> dict[str, str]:
        """Every variable the template gives its functions, resolved against these resources."""
        return merge_function_environments(self.model.functions.values())


_BY_TYPE = {
    "AWS::DynamoDB::Table": "tables",
    "AWS::SQS::Queue": "queues",
    "AWS::Events::EventBus": "buses",
    "AWS::SecretsManager::Secret": "secrets",
}


def create_stack(endpoint: str | None = None) -> MotoStack:
    """Create the template's resources in the active ``mock_aws`` (or the moto server at ``endpoint``)."""
    template = expanded_template()
    registry = ResourceRegistry(template, AwsPlace(endpoint, REGION, ACCOUNT, STACK_NAME, API_URL))
    registry.create_all()
    stack = MotoStack(registry=registry, model=build_model(template, registry.resolver, registry.active))
    for logical_id, resource in template.resources.items():
        group = _BY_TYPE.get(resource["Type"])
        if group is not None and logical_id in registry.active:
            getattr(stack, group)[logical_id] = str(registry.resolver.ref(logical_id))
    return stack
