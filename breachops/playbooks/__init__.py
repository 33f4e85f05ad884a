"""Playbooks: versioned YAML definitions of what both parties do after a leak, and their loader."""

from __future__ import annotations

from breachops.playbooks.gates import (
    FIELD_TYPES,
    SETTABLE_FACTS,
    STAMP_FACTS,
    FieldSpec,
    Gate,
    parse_jurisdiction_counts,
)
from breachops.playbooks.graph import PHASES, Phase
from breachops.playbooks.loader import (
    find_playbook,
    list_playbooks,
    load_playbook,
    parse_playbook,
    shipped_playbook_files,
)
from breachops.playbooks.models import Due, ObligationLike, ObligationRef, Owner, Playbook, Step

__all__ = [
    "FIELD_TYPES",
    "PHASES",
    "SETTABLE_FACTS",
    "STAMP_FACTS",
    "Due",
    "FieldSpec",
    "Gate",
    "ObligationLike",
    "ObligationRef",
    "Owner",
    "Phase",
    "Playbook",
    "Step",
    "find_playbook",
    "list_playbooks",
    "load_playbook",
    "parse_jurisdiction_counts",
    "parse_playbook",
    "shipped_playbook_files",
]
