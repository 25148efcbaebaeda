"""The daftar hadir of a session as a printable A4 PDF (filled and blank for paper), and the
attendance export (XLSX). Managers of the event only.

The daftar hadir lists who was hadir in the session with their captured signature (or an empty
box to sign by hand), then those absent with a reason (izin, sakit); the blank one lists every
registered person with an empty box, plus empty rows for walk-ins. Phone numbers are masked on
paper and left out of the export: neither needs them to be usable. Both lists are official
documents: Indonesian whatever the interface language, unless the download asks for another
(``?bahasa=en``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_date
from flask import abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from kim_app import audit
from kim_app.attendance import bp
from kim_app.attendance.models import Attendance, AttendanceMark, Method, Presence
from kim_app.attendance.operations import registered_in, to_local
from kim_app.auth.models import OPERATOR_ROLES, User
from kim_app.documents import PRIVATE, render_pdf
from kim_app.events.models import Event, EventSession, Registration, RegistrationStatus
from kim_app.events.operations import get_event_or_404
from kim_app.extensions import db
from kim_app.files.operations import FileGone, Progress, builder
from kim_app.files.routes import deliver
from kim_app.formatting import session_when, when
from kim_app.groups.models import Kim
from kim_app.phones import mask_phone
from kim_app.security import roles_required
from kim_app.tables import XLSX_TYPE, to_xlsx_sheets
from kim_app.timezones import utcnow

# empty numbered rows on the blank list, for people who come without registering
WALK_IN_ROWS = 15
# people absent with a reason, listed under the hadir table
EXCUSED = (Presence.IZIN, Presence.SAKIT)


@dataclass
class Person:
    """One row of a daftar hadir."""

    name: str
    group: str  # the KIM, else the institution
    position: str
    gender: str  # L / P / ""
    phone: str  # masked
    status: Presence
    signature: str | None


# --- loading -----------------------------------------------------------------------------------------


def _session_and_event(session_id: int) -> tuple[EventSession, Event, int]:
    """The session, its event (404 unless the current user manages it) and its number (1-based)."""
    session = db.session.get(EventSession, session_id)
    if session is None:
        abort(404)
    event = get_event_or_404(session.event_id, current_user, manage=True)
    number = next(i for i, s in enumerate(event.sessions, 1) if s.id == session.id)
    return session, event, number


def session_people(session: EventSession) -> list[Person]:
    """Everyone registered (terdaftar) for the session's event with their status in it (belum
    when unmarked), sorted by name — one SELECT whatever their number."""
    rows = db.session.execute(
        registered_in(
            session,
            Registration.name,
            Registration.institution,
            Registration.position,
            Registration.gender,
            Registration.phone,
            Kim.name.label("kim"),
            Attendance.status,
            Attendance.signature,
        )
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .order_by(sa.func.lower(Registration.name), Registration.id)
    )
    return [
        Person(
            name=row.name,
            group=row.kim or row.institution or "",
            position=row.position or "",
            gender=row.gender.value if row.gender else "",
            phone=mask_phone(row.phone),
            status=Presence(row.status) if row.status else Presence.BELUM,
            signature=row.signature if row.status == Presence.HADIR else None,
        )
        for row in rows
    ]


# --- the PDF ---------------------------------------------------------------------------------------


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ") + '"'


def _page_counter() -> str:
    """``"Halaman " counter(page) " dari " counter(pages)`` for CSS ``content``, translated."""
    marker_page, marker_pages = "\x01", "\x02"
    text = _("Halaman %(page)s dari %(pages)s", page=marker_page, pages=marker_pages)
    head, _sep, rest = text.partition(marker_page)
    middle, _sep, tail = rest.partition(marker_pages)
    return " counter(page) ".join(
        [_css_string(head), _css_string(middle) + " counter(pages) " + _css_string(tail)]
    )


def signing_place(event: Event) -> str:
    """Where the list is signed: the event's regency or city without its prefix."""
    name = event.region.name
    for prefix in ("Kabupaten ", "Kota "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _signed_on(session: EventSession) -> str:
    """``15 Mei 2026``: the session's date, for the signing official's line."""
    return format_date(session.starts_at, "long", locale=str(get_locale() or "id"))


def daftar_hadir_html(
    event: Event,
    session: EventSession,
    number: int,
    *,
    blank: bool,
    people: list[Person],
    printed_at: datetime | None = None,
) -> str:
    """The daftar hadir of one session as a standalone A4 HTML document for WeasyPrint (its own
    PDF, and the appendix of the laporan kegiatan). ``people``: from ``session_people``;
    ``printed_at`` (UTC, default now): the moment it was asked for, printed in its footer."""
    printed = to_local(event, printed_at or utcnow())
    context = {
        "event": event,
        "session": session,
        "number": number,
        "when": session_when(session, event),
        "blank": blank,
        "page_counter": _page_counter(),
        "place": signing_place(event),
        "signed_on": _signed_on(session),
        "printed": _css_string(_("Dicetak %(when)s", when=when(printed, event))),
    }
    if blank:
        context["people"] = people
        context["empty_rows"] = range(len(people) + 1, len(people) + 1 + WALK_IN_ROWS)
    else:
        counts = dict.fromkeys(Presence, 0)
        for person in people:
            counts[person.status] += 1
        context["counts"] = {status.value: n for status, n in counts.items()}
        context["total"] = len(people)
        context["people"] = [p for p in people if p.status is Presence.HADIR]
        context["excused"] = [p for p in people if p.status in EXCUSED]
    return render_template("attendance/daftar_hadir.html", **context)


# made inside the request up to this many people in one list (about a second); more go to the worker
AT_ONCE = 100


def registered_count(event: Event) -> int:
    """How many people are registered (terdaftar) for the event: the rows of each session's list."""
    return (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.TERDAFTAR,
            )
        )
        or 0
    )


def _one_session(session_id: int, blank: bool) -> Response:
    session, event, number = _session_and_event(session_id)
    name = "daftar-hadir-kosong" if blank else "daftar-hadir"
    title = _("Daftar hadir kosong") if blank else _("Daftar hadir")
    return deliver(
        "daftar_hadir_sesi",
        {"session_id": session.id, "blank": blank},
        size=registered_count(event),
        at_once=AT_ONCE,
        title=" · ".join([title, _("Sesi %(n)d", n=number), event.title]),
        filename=f"{name}-{event.code}-sesi-{number}.pdf",
        region_code=event.region_code,
    )


@bp.route("/absensi/sesi/<int:session_id>/daftar-hadir.pdf", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def list_pdf(session_id: int):
    """The daftar hadir of one session: who was hadir, with signatures, and who had a reason."""
    return _one_session(session_id, blank=False)


@bp.route("/absensi/sesi/<int:session_id>/daftar-hadir-kosong.pdf", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def blank_pdf(session_id: int):
    """The paper fallback: every registered person with an empty box to sign, and empty rows."""
    return _one_session(session_id, blank=True)


@bp.route("/absensi/kegiatan/<int:event_id>/daftar-hadir.pdf", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def all_lists_pdf(event_id: int):
    """The daftar hadir of every session, in session order, in one PDF (each list keeps its own
    page numbers): what an agency files for the whole event."""
    event = get_event_or_404(event_id, current_user, manage=True)
    if not event.sessions:
        abort(404)
    return deliver(
        "daftar_hadir_semua",
        {"event_id": event.id},
        size=registered_count(event) * len(event.sessions),
        at_once=AT_ONCE,
        title=" · ".join([_("Daftar hadir semua sesi"), event.title]),
        filename=f"daftar-hadir-{event.code}-semua-sesi.pdf",
        region_code=event.region_code,
    )


@builder("daftar_hadir_sesi")
def session_list_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    """One session's daftar hadir (``params["blank"]``: the empty one for paper)."""
    session = db.session.get(EventSession, params["session_id"])
    if session is None:
        raise FileGone
    event = session.event
    number = next(i for i, s in enumerate(event.sessions, 1) if s.id == session.id)
    html = daftar_hadir_html(
        event,
        session,
        number,
        blank=params["blank"],
        people=session_people(session),
        printed_at=params["asked_at"],
    )
    render_pdf(html, progress=progress, target=out)


@builder("daftar_hadir_semua")
def all_lists_file(params: dict, out: BinaryIO, progress: Progress) -> None:
    """Every session's daftar hadir of ``params["event_id"]``, laid out one session at a time."""
    event = db.session.get(Event, params["event_id"])
    if event is None or not event.sessions:
        raise FileGone
    documents = [
        daftar_hadir_html(
            event,
            session,
            number,
            blank=False,
            people=session_people(session),
            printed_at=params["asked_at"],
        )
        for number, session in enumerate(event.sessions, 1)
    ]
    render_pdf(*documents, progress=progress, target=out)


# --- the export ------------------------------------------------------------------------------------


def _recorder(name: str | None, method: Method | None) -> str:
    if name:
        return name
    return _("Peserta sendiri") if method is Method.SELF else ""


def _session_label(event: Event, session: EventSession, number: int) -> str:
    label = _("Sesi %(n)d: %(when)s", n=number, when=session_when(session, event))
    return f"{label} — {session.topic}" if session.topic else label


def attendance_rows(event: Event) -> tuple[list[str], list[list]]:
    """Sheet "Kehadiran": one row per registered person × session, in one SELECT."""
    headers = [
        _("Nama"),
        _("KIM/Instansi"),
        _("Jabatan"),
        _("L/P"),
        _("Sesi"),
        _("Status"),
        _("Waktu"),
        _("Cara"),
        _("Dicatat oleh"),
        _("Tanda tangan"),
    ]
    labels = {s.id: _session_label(event, s, i) for i, s in enumerate(event.sessions, 1)}
    result = db.session.execute(
        sa.select(
            Registration.name,
            Registration.institution,
            Registration.position,
            Registration.gender,
            Kim.name.label("kim"),
            EventSession.id.label("session_id"),
            Attendance.status,
            Attendance.method,
            Attendance.marked_at,
            Attendance.signature.is_not(None).label("signed"),
            User.name.label("recorder"),
        )
        .select_from(Registration)
        .join(EventSession, EventSession.event_id == Registration.event_id)
        .outerjoin(Kim, Kim.id == Registration.kim_id)
        .outerjoin(
            Attendance,
            sa.and_(
                Attendance.registration_id == Registration.id,
                Attendance.session_id == EventSession.id,
            ),
        )
        .outerjoin(User, User.id == Attendance.recorded_by_id)
        .where(
            Registration.event_id == event.id,
            Registration.status == RegistrationStatus.TERDAFTAR,
        )
        .order_by(
            sa.func.lower(Registration.name),
            Registration.id,
            EventSession.starts_at,
            EventSession.id,
        )
    )
    rows = []
    for row in result:
        status = Presence(row.status) if row.status else Presence.BELUM
        method = Method(row.method) if row.method else None
        rows.append(
            [
                row.name,
                row.kim or row.institution or "",
                row.position or "",
                row.gender.value if row.gender else "",
                labels[row.session_id],
                str(status.label),
                when(to_local(event, row.marked_at), event) if row.marked_at else "",
                str(method.label) if method else "",
                _recorder(row.recorder, method) if row.status else "",
                _("ada") if row.signed else _("tidak"),
            ]
        )
    return headers, rows


def history_rows(event: Event) -> tuple[list[str], list[list]]:
    """Sheet "Riwayat": every mark as it arrived, in the order made, in one SELECT."""
    headers = [
        _("Waktu"),
        _("Nama"),
        _("Sesi"),
        _("Status"),
        _("Cara"),
        _("Dicatat oleh"),
        _("Diterapkan"),
    ]
    labels = {s.id: _session_label(event, s, i) for i, s in enumerate(event.sessions, 1)}
    result = db.session.execute(
        sa.select(
            AttendanceMark.marked_at,
            AttendanceMark.session_id,
            AttendanceMark.status,
            AttendanceMark.method,
            AttendanceMark.applied,
            Registration.name,
            User.name.label("recorder"),
        )
        .join(Registration, Registration.id == AttendanceMark.registration_id)
        .outerjoin(User, User.id == AttendanceMark.recorded_by_id)
        .where(Registration.event_id == event.id)
        .order_by(AttendanceMark.marked_at, AttendanceMark.id)
    )
    rows = [
        [
            when(to_local(event, row.marked_at), event),
            row.name,
            labels.get(row.session_id, ""),
            str(Presence(row.status).label),
            str(Method(row.method).label),
            _recorder(row.recorder, Method(row.method)),
            _("ya") if row.applied else _("tidak — ditimpa tanda yang lebih baru"),
        ]
        for row in result
    ]
    return headers, rows


@bp.get("/absensi/kegiatan/<int:event_id>/kehadiran.xlsx")
@roles_required(*OPERATOR_ROLES)
def export(event_id: int):
    """Attendance per person and session, and every mark, as XLSX (no phone numbers); audited."""
    event = get_event_or_404(event_id, current_user, manage=True)
    headers, rows = attendance_rows(event)
    history_headers, history = history_rows(event)
    body = to_xlsx_sheets(
        [(_("Kehadiran"), headers, rows), (_("Riwayat"), history_headers, history)]
    )
    # audited once the file is made: SQLite's write lock is then held for one insert only
    audit.record(
        "attendance.export",
        "event",
        event.id,
        region_code=event.region_code,
        changes={"rows": len(rows), "marks": len(history)},
        actor=current_user,
    )
    today = datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()
    response = Response(body, mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="kehadiran-{event.code}-{today.isoformat()}.xlsx"'
    )
    response.headers.update(PRIVATE)
    return response
