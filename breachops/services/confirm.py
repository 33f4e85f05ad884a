"""Who may confirm a playbook step: one rule for the CLI, the flows and the web console."""

from __future__ import annotations

from breachops.config.agreements import Agreement
from breachops.errors import InputError
from breachops.playbooks import Step

__all__ = ["contacts_of", "may_confirm"]


def contacts_of(agreement: Agreement) -> dict[str, str]:
    """Every contact's address (lower case) and the party it belongs to."""
    return {c.email.lower(): key for key, party in agreement.parties.items() for c in party.contacts.values()}


def may_confirm(agreement: Agreement, step: Step, by: str, on_behalf_of: str | None = None) -> str:
    """Whether ``by`` may confirm ``step``, and as what: ``owner`` (the contact holding the step's role
    at an owning party), ``incident_lead`` (an owning party's incident lead, who stands in for any of
    its roles), or ``on_behalf_of`` (any contact of the agreement naming the step's role with
    ``--on-behalf-of``; the record says so). Anyone else is refused with one InputError saying who
    may confirm. The one rule for the CLI, the flows and the web console."""
    who = by.strip().lower()
    if who not in contacts_of(agreement):
        raise InputError(
            "--by", None, by, "is not a contact in the incident's agreement",
            "Use the email address the agreement lists for you.",
        )  # fmt: skip
    role = step.owner.role
    holders: list[str] = []
    for key in step.owner.parties:
        party = agreement.parties.get(key)
        if party is None:
            continue
        holder = party.contacts.get(role)  # type: ignore[call-overload]
        lead = party.contacts["incident_lead"]
        if holder is not None and holder.email.lower() == who and on_behalf_of is None:
            return "owner"
        if lead.email.lower() == who and on_behalf_of is None:
            return "incident_lead"
        if holder is not None:
            holders.append(f"{holder.email} ({role} @ {key})")
        holders.append(f"{lead.email} (incident lead @ {key})")
    if on_behalf_of is not None:
        if on_behalf_of != role:
            raise InputError(
                "--on-behalf-of", None, on_behalf_of, f"is not the role that owns step {step.id!r}",
                f"It is owned by {role}; use --on-behalf-of {role}.",
            )  # fmt: skip
        return "on_behalf_of"
    raise InputError(
        "--by", None, by, f"may not confirm step {step.id!r}, owned by {role} @ {step.owner.party}",
        f"Who may confirm: {', '.join(dict.fromkeys(holders))}; "
        f"another contact may answer for them with --on-behalf-of {role} (recorded as such).",
    )  # fmt: skip
