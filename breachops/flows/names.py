"""Names shared by the flows, `serve` and the CLI (kept free of Prefect imports)."""

from __future__ import annotations

import os

__all__ = ["DEPLOYMENT_NAME", "FLOW_NAME", "incident_deployment_name"]

FLOW_NAME = "incident-response"
DEPLOYMENT_NAME = "breachops"


def incident_deployment_name() -> str:
    """The deployment incident runs start from: `serve`'s own, or a team's work-pool deployment."""
    return os.environ.get("BREACHOPS_INCIDENT_DEPLOYMENT") or f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
