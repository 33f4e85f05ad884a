"""Calendar files: obligations (one event per dated obligation, with alarms before it) and drill
invitations (one meeting request per scheduled drill occurrence)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from breachops.deadlines.models import Assessment
from breachops.timefmt import format_span

__all__ = ["DEFAULT_ALARMS", "assessment_to_ics", "drill_invitation_ics"]

DEFAULT_ALARMS: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=4), timedelta(hours=1))


def assessment_to_ics(
    a: Assessment, *, incident: str = "facts", alarms: Sequence[timedelta] = DEFAULT_ALARMS
) -> bytes:
    """An RFC 5545 calendar. Obligations whose clock has not started have no date and are left out;
    the UID is stable for an incident and obligation so a re-import updates rather than duplicates."""
    cal = Calendar()
    cal.add("prodid", "-//breachops//deadlines//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"breachops deadlines: {incident}")
    stamp = a.computed_at.astimezone(UTC)
    for o in a.obligations:
        if o.due is None:
            continue
        event = Event()
        uid = hashlib.sha256(f"{incident}/{o.key}".encode()).hexdigest()[:24]
        event.add("uid", f"{uid}@breachops")
        event.add("dtstamp", stamp)
        event.add("dtstart", o.due.astimezone(UTC))
        event.add("dtend", o.due.astimezone(UTC) + timedelta(minutes=15))
        prefix = "Target" if o.basis == "target" else "Due"
        event.add("summary", f"{prefix}: {o.title} ({o.jurisdiction}, {o.stage})")
        event.add(
            "description",
            f"{o.citation}\nTo: {o.recipient}\nWhy: {o.reason}\nSource: {o.source}"
            + (f"\nTerm: {o.term}" if o.term else ""),
        )
        event.add("categories", [o.audience, o.jurisdiction])
        for before in alarms:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -before)
            alarm.add("description", f"{o.title} due in {format_span(before)}")
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()


def drill_invitation_ics(
    *,
    uid: str,
    summary: str,
    description: str,
    start: datetime,
    end: datetime,
    organizer: tuple[str, str],
    attendees: Sequence[tuple[str, str]],
    stamp: datetime,
) -> bytes:
    """A ``METHOD:REQUEST`` meeting request (RFC 5546): calendars offer accept/decline and answer the
    organizer. ``uid`` must stay the same for one occurrence, so a resent invitation updates the entry
    it made instead of adding a second one. ``organizer`` and ``attendees`` are (name, email)."""
    cal = Calendar()
    cal.add("prodid", "-//breachops//drills//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("summary", summary)
    event.add("description", description)
    event["organizer"] = _cal_address(*organizer)
    for name, email in attendees:
        attendee = _cal_address(name, email)
        attendee.params.update(
            {"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE", "CUTYPE": "INDIVIDUAL"}
        )
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    return cal.to_ical()


def _cal_address(name: str, email: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    return address
