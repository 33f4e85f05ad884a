"""The deployments `serve` runs, and the names the CLI starts runs from.

A team that runs flows on Prefect workers in a work pool (scale-out) names its own deployment in
``BREACHOPS_INCIDENT_DEPLOYMENT`` (see prefect.yaml); by default `breachops serve` registers and runs
``incident-response/breachops`` and ``tabletop-drill/breachops`` itself.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect import Flow

from breachops.flows.drill import tabletop_drill
from breachops.flows.executor import register_deployments
from breachops.flows.incident import incident_response
from breachops.flows.names import DEPLOYMENT_NAME

__all__ = ["register", "served_flows"]


def served_flows() -> list[tuple[str, Flow[..., Any]]]:
    """The flows `serve` runs, each with its deployment name."""
    return [(DEPLOYMENT_NAME, incident_response), (DEPLOYMENT_NAME, tabletop_drill)]


def register() -> dict[UUID, Flow[..., Any]]:
    return register_deployments(served_flows())
