"""Prefect artifacts keyed by incident, so that operators watching Prefect see where the playbook stands:
``<incident>-steps`` (a table) and ``<incident>-obligations`` (Markdown), a new version of each every
time the flow reaches a gate or ends."""

from __future__ import annotations

from urllib.parse import quote

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from breachops.bootstrap import App
from breachops.reports.flow_picture import artifact_key, obligations_markdown, steps_table
from breachops.services.incidents import agreement_of
from breachops.store import Repository

__all__ = ["publish_playbook_picture"]


def publish_playbook_picture(app: App, incident_id: str) -> None:
    """Publish both artifacts as the store has the incident now (called inside a flow or task run)."""
    with app.reading() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        agreement = agreement_of(app, incident)
        links = app.step_links()
        page = f"{links.base}/incidents/{quote(incident.id)}" if links else None
        table = steps_table(repo.steps(incident.id), agreement)
        markdown = obligations_markdown(
            incident, repo.obligations(incident.id), agreement, app.clock.now(), page
        )
    create_table_artifact(
        table, key=artifact_key(incident_id, "steps"), description=f"Steps of {incident_id}'s playbook"
    )
    create_markdown_artifact(
        markdown, key=artifact_key(incident_id, "obligations"), description=f"Obligations of {incident_id}"
    )
