"""What an event gives people to keep and pass on: its days written with their zone, the
calendar file (RFC 5545), the A4 poster (PDF), the WhatsApp share link and the hand-off to the
organiser. Dates and times are written by ``kim_app.formatting``, PDFs and QR codes drawn by
``kim_app.documents``.

Event times are naive local times of the event's zone (WIB, WITA or WIT). They are printed as
they are, with the zone's label, and never converted from UTC; only the calendar file turns them
into UTC, because a calendar app shows each person the time in their own zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

import phonenumbers
import sqlalchemy as sa
from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from kim_app import audit, tables
from kim_app.auth.models import User
from kim_app.documents import qr_svg, render_pdf
from kim_app.events.models import Event, EventStatus, Registration, RegistrationStatus
from kim_app.events.queries import ParticipantFilter, participant_conditions, participant_order
from kim_app.extensions import db
from kim_app.files.operations import FileGone, Progress, builder
from kim_app.formatting import clock, day, session_when, when
from kim_app.groups.models import Kim
from kim_app.phones import PhoneError, display_phone, normalise_phone, whatsapp_link
from kim_app.text import printable


def event_days(event: Event) -> str:
    """The event's span for headings and the poster: one day, or first – last day."""
    if not event.sessions:
        return ""
    first, last = event.sessions[0].starts_at, max(s.ends_at for s in event.sessions)
    if first.date() == last.date():
        return day(first)
    return f"{day(first)} – {day(last)}"


def event_first_time(event: Event) -> str:
    """``Rabu, 15 Mei 2024 09.00 WITA``: when the first session starts."""
    return when(event.sessions[0].starts_at, event) if event.sessions else ""


# --- links ------------------------------------------------------------------------------------------


def public_url(event: Event) -> str:
    """The absolute public link ``https://host/e/<code>``."""
    return url_for("events.public_event", code=event.code, _external=True)


def ticket_url(registration: Registration) -> str:
    return url_for(
        "events.ticket",
        code=registration.event.code,
        ticket=registration.ticket,
        _external=True,
    )


# beyond this many days the share text gives the first and last day instead of each one
SHARE_DAYS_MAX = 4


def day_lines(event: Event) -> list[str]:
    """Each day of the event with its hours, ``Rabu, 15 Mei 2024 09.00–16.00 WITA`` (from the
    first session's start to the last one's end that day); for a long event, the first and last
    day only."""
    by_day: dict = {}
    for session in event.sessions:
        start, end = by_day.get(session.starts_at.date(), (session.starts_at, session.ends_at))
        by_day[session.starts_at.date()] = (
            min(start, session.starts_at),
            max(end, session.ends_at),
        )
    if len(by_day) > SHARE_DAYS_MAX:
        return [event_days(event)]
    lines = []
    for start, end in by_day.values():
        finish = clock(end) if end.date() == start.date() else f"{day(end)} {clock(end)}"
        lines.append(f"{day(start)} {clock(start)}–{finish} {event.zone_label}")
    return lines


def registration_closes(event: Event) -> str:
    """``Pendaftaran ditutup Selasa, 14 Mei 2024 17.00 WITA``, or empty without a deadline."""
    if event.registration_deadline is None:
        return ""
    return _("Pendaftaran ditutup %(when)s", when=when(event.registration_deadline, event))


def share_text(event: Event) -> str:
    """The invitation people forward on WhatsApp: title, every day with its hours (or the first
    and last day of a long event), venue, the registration deadline, the organiser's contact and
    the link."""
    lines = [event.title, *day_lines(event)]
    lines.append(", ".join(part for part in (event.venue_name, event.venue_address) if part))
    lines.append(registration_closes(event))
    if event.contact:
        lines.append(_("Info: %(contact)s", contact=event.contact))
    lines.append(_("Daftar di sini: %(url)s", url=public_url(event)))
    return "\n".join(line for line in lines if line)


def share_links(event: Event) -> dict[str, str]:
    """``url`` (the public page), ``text`` (the message) and ``whatsapp`` (a wa.me link that
    opens WhatsApp with the message filled in, ready to pick a chat or group)."""
    text = share_text(event)
    return {
        "url": public_url(event),
        "text": text,
        "whatsapp": whatsapp_link(None, text),
    }


def _contact_mobile(contact: str) -> str | None:
    """The first Indonesian mobile (WhatsApp) number written in the organiser's contact, as E.164."""
    for match in phonenumbers.PhoneNumberMatcher(contact, "ID"):
        try:
            return normalise_phone(match.raw_string)
        except PhoneError:
            continue  # an office landline: shown, but no WhatsApp
    return None


def organiser_contact(event: Event, name: str = "") -> dict[str, str]:
    """``text``: the organiser's contact exactly as the event form promised to show it to the
    public; ``whatsapp``: when it holds a mobile number, a hand-off to it with the request for a
    lost ticket prepared (in Indonesian, the organiser's language), naming ``name``."""
    number = _contact_mobile(event.contact) if event.contact else None
    if number is None:
        return {"text": event.contact, "whatsapp": ""}
    name = " ".join(name.split())
    with force_locale("id"):
        message = _(
            "Halo panitia %(title)s, saya sudah mendaftar tetapi tautan tiket saya hilang.",
            title=event.title,
        )
        if name:
            message += " " + _("Nama saya: %(name)s.", name=name)
        message += " " + _("Mohon dikirimkan lagi. Terima kasih.")
    return {"text": event.contact, "whatsapp": whatsapp_link(number, message)}


# --- calendar file (RFC 5545) ------------------------------------------------------------------------


def ics_calendar(registration: Registration, *, now: datetime | None = None) -> bytes:
    """A calendar with one VEVENT per session of the registration's event, in UTC, written by
    ``icalendar`` (escaping, line folding at 75 octets, CRLF).

    Cancelled events and cancelled registrations are marked CANCELLED, a place on the waiting
    list TENTATIVE, so a calendar app that imports the file again updates the entries (same UID).
    Control characters, which a TEXT value cannot hold, are dropped (``printable``).
    """
    # loaded only when a calendar file is asked for (the import takes most of a second)
    from icalendar import Calendar, vText
    from icalendar import Event as CalendarEntry

    event = registration.event
    zone = ZoneInfo(event.timezone)
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    if event.status is EventStatus.DIBATALKAN or registration.status is RegistrationStatus.BATAL:
        status = "CANCELLED"
    elif registration.status is RegistrationStatus.DAFTAR_TUNGGU:
        status = "TENTATIVE"
    else:
        status = "CONFIRMED"
    link = ticket_url(registration)
    host = url_for("events.public_event", code=event.code, _external=True).split("/")[2]
    place = ", ".join(part for part in (event.venue_name, event.venue_address) if part)
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//KIM//Kegiatan//ID")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", vText(printable(event.title)))
    for session in event.sessions:
        summary = event.title + (f" — {session.topic}" if session.topic else "")
        details = [session_when(session, event)]
        details += [
            ", ".join(p for p in (s.name, s.position, s.institution) if p) for s in session.speakers
        ]
        if event.organiser:
            details.append(_("Penyelenggara: %(name)s", name=event.organiser))
        details.append(_("Tiket: %(url)s", url=link))
        entry = CalendarEntry()
        entry.add("uid", f"kim-{event.id}-{session.id}-{registration.id}@{host}")
        entry.add("dtstamp", stamp)
        entry.add("dtstart", session.starts_at.replace(tzinfo=zone).astimezone(UTC))
        entry.add("dtend", session.ends_at.replace(tzinfo=zone).astimezone(UTC))
        entry.add("summary", printable(summary))
        entry.add("description", printable("\n".join(details)))
        entry.add("status", status)
        entry.add("url", link)
        if place:
            entry.add("location", printable(place))
        calendar.add_component(entry)
    return calendar.to_ical(sorted=False)  # properties in the order written here


# --- the poster -----------------------------------------------------------------------------------


def poster_pdf(event: Event) -> bytes:
    """An A4 poster: title, dates with the zone, venue, the registration deadline and the
    organiser's contact, a large QR code to the public page and the link written out, rendered by WeasyPrint from ``templates/events/poster.html``."""
    url = public_url(event)
    html = render_template(
        "events/poster.html",
        event=event,
        url=url,
        short_url=url.split("://", 1)[-1],
        qr=qr_svg(url, _("Kode QR pendaftaran"), namespace=True),
        days=event_days(event),
        sessions=[session_when(s, event) for s in event.sessions],
        daily=day_lines(event),
        closes=registration_closes(event),
    )
    return render_pdf(html)


# --- the participant list as a table --------------------------------------------------------


def participant_export(event: Event, filters: ParticipantFilter) -> tuple[list[str], list[list]]:
    """The participants matching ``filters`` as rows (header first), in one query; the columns
    are those the import recognises, so an exported list can be edited and imported back."""
    headers = [
        _("No"), _("Nama"), _("No HP"), _("Instansi"), _("Jabatan"), _("Jenis Kelamin"),
        _("Nama KIM"), _("Sumber"), _("Status"), _("Waktu daftar (%(zone)s)", zone=event.zone_label),
    ]  # fmt: skip
    zone = ZoneInfo(event.timezone)
    rows = []
    for number, (registration, kim_name) in enumerate(
        db.session.execute(
            sa.select(Registration, Kim.name)
            .outerjoin(Kim, Kim.id == Registration.kim_id)
            .where(*participant_conditions(event, filters))
            .order_by(*participant_order(filters))
        ),
        start=1,
    ):
        registered = registration.created_at.replace(tzinfo=UTC).astimezone(zone)
        rows.append(
            [
                number,
                registration.name,
                display_phone(registration.phone),
                registration.institution,
                registration.position,
                registration.gender.value if registration.gender else "",
                kim_name or "",
                registration.source.label,
                registration.status.label,
                registered.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return headers, rows


# --- the participant export as a prepared file (kim_app.files) --------------------------------------

# rows written inside the request (about a second); more go to the worker
EXPORT_AT_ONCE = 2_000


def participant_count(event: Event, filters: ParticipantFilter) -> int:
    """How many rows ``participant_export`` will have."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Registration)
            .outerjoin(Kim, Kim.id == Registration.kim_id)
            .where(*participant_conditions(event, filters))
        )
        or 0
    )


@builder("ekspor_peserta")
def participants_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    """The participants of ``params["event_id"]`` matching its filters; audited as the export."""
    event = db.session.get(Event, params["event_id"])
    user = db.session.get(User, params["user_id"])
    if event is None or user is None:
        raise FileGone
    progress(0, 1)
    headers, rows = participant_export(event, ParticipantFilter.from_args(params["filters"]))
    summary = dict(params["filters"])
    if "q" in summary:  # search words may be phone digits: the log keeps only that there was one
        summary["q"] = "…"
    audit.record(
        "registration.export",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"format": params["fmt"], "rows": len(rows), "filters": summary},
        actor=user,
    )
    out.write(tables.table_bytes(params["fmt"], _("Peserta"), headers, rows, params["asked_at"]))
    progress(1, 1)
