"""The meeting invitation's `.ics` (RFC 5545), written straight out for its one fixed shape (issue 16): building it
with the icalendar package cost more than the rest of an invitation email together. The bytes are the ones
icalendar 7 writes for the same event (tests/unit/test_invitation_ics.py builds each case both ways and compares
them, and parses ours back with icalendar); an organiser name with a character needing RFC 6868 escaping (^, ", a line
break) is handed to icalendar itself.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

_QUOTED_CN = re.compile("[,;:\u2019 ']")  # icalendar quotes CN for these (RFC 5545 3.2: , ; : and its own extras)
_RFC_6868 = re.compile('[\\^"\r\n]')


def _text(value: str) -> str:
    """RFC 5545 3.3.11 TEXT escaping, in icalendar's order (its line ends all become a literal \\n)."""
    return (
        value.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 3.1: content lines of at most 75 octets (icalendar folds before the 75th), never inside a UTF-8
    character, and never between a backslash or caret and the character it escapes."""
    if len(line) < 75 and line.isascii():
        return line
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if current and size + width >= 75:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current, size = [carried], len(carried.encode("utf-8"))
            else:
                parts.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    if current:
        parts.append("".join(current))
    return "\r\n ".join(parts)


def invitation_ics(
    *,
    uid: str,
    meeting: date,
    sequence: int,
    summary: str,
    school_name: str,
    organiser_email: str | None,
    organiser_name: str,
    attendee_email: str,
    stamp: date,
) -> bytes:
    """An all-day VEVENT (the register holds the meeting's date, not its time) with a stable UID per contributor and
    cycle, so a rescheduled invitation (higher SEQUENCE) moves the event in the contributor's calendar."""
    if _RFC_6868.search(organiser_name):
        return _with_icalendar(**locals())
    description = f"Annual review meeting at {school_name}. {organiser_name} will confirm the time."
    # icalendar's order: the VEVENT's canonical properties first, then the rest alphabetically.
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Review Keeper//EHCP annual reviews//EN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"SUMMARY:{_text(summary)}",
        f"DTSTART;VALUE=DATE:{meeting:%Y%m%d}",
        f"DTEND;VALUE=DATE:{meeting + timedelta(days=1):%Y%m%d}",
        f"DTSTAMP:{stamp:%Y%m%d}T000000Z",
        f"UID:{_text(uid)}",
        f"SEQUENCE:{sequence}",
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{attendee_email}",
        f"DESCRIPTION:{_text(description)}",
        f"LOCATION:{_text(school_name)}",
    ]
    if organiser_email:
        cn = f'"{organiser_name}"' if _QUOTED_CN.search(organiser_name) else organiser_name
        lines.append(f"ORGANIZER;CN={cn}:mailto:{organiser_email}")
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(_fold(line) for line in lines).encode("utf-8")


def _with_icalendar(
    *,
    uid: str,
    meeting: date,
    sequence: int,
    summary: str,
    school_name: str,
    organiser_email: str | None,
    organiser_name: str,
    attendee_email: str,
    stamp: date,
) -> bytes:
    """The same event through the icalendar package: the reference the fast path is tested against."""
    import icalendar  # only for the rare name the fast path hands over, and the tests

    cal = icalendar.Calendar()
    cal.add("prodid", "-//Review Keeper//EHCP annual reviews//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime.combine(stamp, time(0, 0), tzinfo=UTC))
    event.add("dtstart", meeting)
    event.add("dtend", meeting + timedelta(days=1))
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("location", school_name)
    event.add("description", f"Annual review meeting at {school_name}. {organiser_name} will confirm the time.")
    if organiser_email:
        organizer = icalendar.vCalAddress(f"mailto:{organiser_email}")
        organizer.params["cn"] = icalendar.vText(organiser_name)
        event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{attendee_email}")
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = icalendar.vText("TRUE")
    event.add("attendee", attendee)
    cal.add_component(event)
    return bytes(cal.to_ical())


__all__ = ["invitation_ics"]
