"""Connector links: each CRM campaign's ``external`` names a known connector, and one campaign of
that CRM stands for at most one Leadflow campaign (two would send each member's status twice,
one overwriting the other)."""

from __future__ import annotations

from leadflow.definitions.checks.context import Checker
from leadflow.domain.crm_connectors import check_external_id


def check_connectors(checker: Checker) -> None:
    claimed: dict[tuple[str, str], str] = {}
    for index, campaign in enumerate(checker.bundle.campaigns):
        external = campaign.external
        if external is None:
            continue
        path = f"{checker.at('campaigns', index)}.external"
        connector = checker.connector(f"{path}.connector", external.connector)
        if connector is None:
            continue
        try:
            check_external_id(connector.kind, external.id)
        except ValueError as error:
            checker.add(f"{path}.id", str(error))
            continue
        key = (external.connector, external.id)
        if key in claimed:
            checker.add(
                f"{path}.id",
                f'{external.connector} campaign "{external.id}" is already the external campaign of '
                f'"{claimed[key]}"; one external campaign stands for one Leadflow campaign',
            )
        else:
            claimed[key] = campaign.id
