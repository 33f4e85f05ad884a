"""Names shared by the flows, `serve` and the CLI (kept free of Prefect imports)."""

from __future__ import annotations

import os

__all__ = [
    "DEPLOYMENT_NAME",
    "DRILL_FLOW_NAME",
    "FLOW_NAME",
    "drill_deployment_name",
    "incident_deployment_name",
]

FLOW_NAME = "incident-response"
DRILL_FLOW_NAME = "tabletop-drill"
DEPLOYMENT_NAME = "breachops"


def incident_deployment_name() -> str:
    """The deployment incident runs start from: `serve`'s own, or a team's work-pool deployment."""
    return os.environ.get("BREACHOPS_INCIDENT_DEPLOYMENT") or f"{FLOW_NAME}/{DEPLOYMENT_NAME}"


def drill_deployment_name() -> str:
    return os.environ.get("BREACHOPS_DRILL_DEPLOYMENT") or f"{DRILL_FLOW_NAME}/{DEPLOYMENT_NAME}"
