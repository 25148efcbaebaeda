"""The event editor (create, edit with inline sessions, clone, status steps), the event page and
the list of events.

Times are naive local times of the event's zone (WIB, WITA or WIT, from its province) and are
always printed with that zone's label, by the filters of ``kim_app.formatting`` (``day``,
``clock``, ``when``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, flash, get_template_attribute, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kim_app import queryargs
from kim_app.auth.models import OPERATOR_ROLES, Role
from kim_app.errors import attach_error
from kim_app.events import bp
from kim_app.events.documents import public_url, share_links
from kim_app.events.forms import REQUIRED, CloneForm, EventForm, EventStatusForm
from kim_app.events.models import (
    Event,
    EventKind,
    EventStatus,
    Invitation,
    RegistrationMode,
    RegistrationStatus,
)
from kim_app.events.operations import (
    EVENT_TRANSITIONS,
    EventData,
    EventError,
    SessionData,
    SpeakerData,
    change_event_status,
    clone_event,
    create_event,
    event_filter,
    get_event_or_404,
    local_now,
    may_manage_event,
    registration_counts,
    update_event,
)
from kim_app.events.queries import followed_events
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.groups.operations import kim_filter
from kim_app.htmx import is_partial, redirect_after_post, render
from kim_app.regions.models import Region, RegionLevel, level_of
from kim_app.regions.picker import RegionPicker
from kim_app.security import roles_required
from kim_app.timezones import WIB, zone_label, zone_name_for

VIEWERS = (*OPERATOR_ROLES, Role.KEPALA_DESA, Role.PENGURUS_KIM)
PICKER_PREFIX = "penyelenggara"
PER_PAGE = 25
# finished and cancelled events are the record the reports rest on: no more edits
CLOSED = (EventStatus.SELESAI, EventStatus.DIBATALKAN)
OPEN = (EventStatus.TERBIT, EventStatus.BERLANGSUNG)
# how templates write event times: always with the event's zone label
# "Mulai kegiatan" becomes the main button on the first day, or this close to the first session
START_NEAR = timedelta(hours=12)
STEP_ORDER = [
    EventStatus.TERBIT,
    EventStatus.BERLANGSUNG,
    EventStatus.SELESAI,
    EventStatus.DRAFT,
    EventStatus.DIBATALKAN,
]


# --- who may do what ----------------------------------------------------------------------------


def _managed_event(event_id: int) -> Event:
    """404 when the event is out of sight; 403 when it is visible but not the user's to manage
    (a regency operator looking at the province's event)."""
    event = get_event_or_404(event_id, current_user)
    if not may_manage_event(current_user, event):
        abort(403)
    return event


# --- the owning region ----------------------------------------------------------------------------


def _owner_regions(user) -> list[Region]:
    """Regions an operator below admin may pick: their regency, or their province and its regencies."""
    scope = user.scope_code or ""
    condition = Region.code == scope
    if level_of(scope) is RegionLevel.PROVINSI:
        condition = sa.or_(
            condition,
            sa.and_(Region.parent_code == scope, Region.level == RegionLevel.KABUPATEN),
        )
    return list(db.session.scalars(sa.select(Region).where(condition).order_by(Region.code)))


def _owner_label(region: Region) -> str:
    if region.level is RegionLevel.PROVINSI:
        return _("Provinsi %(name)s (tingkat provinsi)", name=region.name)
    return region.display_name


def _prepare_region(form: EventForm, event: Event | None) -> RegionPicker | None:
    """The admin picks any regency or province with the region picker; other operators choose
    from a select of their own areas (a regency operator has just one)."""
    if current_user.is_admin:
        del form.region
        return RegionPicker.from_values(
            queryargs.values(),
            current_user,
            prefix=PICKER_PREFIX,
            deepest=RegionLevel.KABUPATEN,
            initial=event.region_code if event else None,
        )
    form.region.choices = [(r.code, _owner_label(r)) for r in _owner_regions(current_user)]
    if request.method == "GET" and not form.region.data and form.region.choices:
        form.region.data = form.region.choices[0][0]  # the regency, or the province itself
    return None


def _region_code(form: EventForm, picker: RegionPicker | None) -> str:
    if picker is not None:
        return picker.chosen.code if picker.chosen else ""
    return form.region.data or ""


def _zone(code: str) -> str:
    """``WITA`` for a code in Kalimantan Timur; empty while no region is chosen."""
    return zone_label(zone_name_for(code)) if code else ""


# --- session rows -------------------------------------------------------------------------------


def _session_entry(session) -> dict:
    return {
        "id": str(session.id),
        "day": session.starts_at.date(),
        "start": session.starts_at.time(),
        "end": session.ends_at.time(),
        "topic": session.topic,
        "speakers": [
            {"name": s.name, "position": s.position, "institution": s.institution}
            for s in session.speakers
        ],
    }


def _small_number(text: str, digits: int = 3) -> bool:
    """ASCII digits only, at most ``digits`` of them: safe for ``int()`` (``²`` is a digit too)."""
    return text.isascii() and text.isdigit() and len(text) <= digits


def _change_rows(form: EventForm, action: str) -> None:
    """Add a session row (on the day of the last one, starting when it ends) or remove row
    ``hapus-N``; the form is shown again without saving, with or without JavaScript."""
    entries = form.sessions.entries
    if action == "tambah" and len(entries) < form.sessions.max_entries:
        last = entries[-1].form if entries else None
        form.sessions.append_entry(
            {"day": last.day.data, "start": last.end.data, "id": ""} if last is not None else {}
        )
        return
    index = action.removeprefix("hapus-")
    if _small_number(index) and int(index) < len(entries) and len(entries) > 1:
        kept = [entry.data for i, entry in enumerate(entries) if i != int(index)]
        while form.sessions.entries:
            form.sessions.pop_entry()
        for data in kept:
            form.sessions.append_entry(data)


def _sessions(form: EventForm) -> list[SessionData] | None:
    """The filled session rows as service data; None when a row has errors (put on its fields).

    Rows with nothing typed are skipped, as are speaker rows without a name.
    """
    sessions: list[SessionData] = []
    ok = True
    for entry in form.sessions.entries:
        row = entry.form
        if row.blank:
            continue
        for field in (row.day, row.start, row.end):
            if field.data is None and not field.errors:
                field.errors = [*field.errors, str(REQUIRED)]
        if row.day.data is None or row.start.data is None or row.end.data is None:
            ok = False
            continue
        starts = datetime.combine(row.day.data, row.start.data)
        ends = datetime.combine(row.day.data, row.end.data)
        if ends <= starts:
            row.end.errors = [*row.end.errors, _("Jam selesai harus setelah jam mulai.")]
            ok = False
            continue
        sessions.append(
            SessionData(
                id=int(row.id.data) if _small_number(row.id.data or "", 19) else None,
                starts_at=starts,
                ends_at=ends,
                topic=row.topic.data or "",
                speakers=[
                    SpeakerData(
                        name=s.form.name.data or "",
                        position=s.form.position.data or "",
                        institution=s.form.institution.data or "",
                    )
                    for s in row.speakers.entries
                    if s.form.filled
                ],
            )
        )
    if ok and not sessions:
        form.sessions_error = _("Tambahkan paling sedikit satu sesi.")
        return None
    deadline = form.registration_deadline.data
    if ok and deadline and deadline > max(s.ends_at for s in sessions):
        form.registration_deadline.errors = [
            *form.registration_deadline.errors,
            _("Batas pendaftaran harus sebelum kegiatan berakhir."),
        ]
        ok = False
    return sessions if ok else None


def _event_data(form: EventForm, region_code: str) -> EventData:
    def text(field) -> str:
        return (field.data or "").strip()

    return EventData(
        kind=EventKind(form.kind.data),
        title=form.title.data or "",
        region_code=region_code,
        description=text(form.description),
        organiser=text(form.organiser),
        contact=text(form.contact),
        venue_name=text(form.venue_name),
        venue_address=text(form.venue_address),
        online_link=text(form.online_link),
        capacity=form.capacity.data,
        registration_mode=RegistrationMode(form.registration_mode.data),
        registration_deadline=form.registration_deadline.data,
    )


def _editor(form: EventForm, event: Event | None):
    """Shared by new and edit: row buttons and region changes re-render, a save validates."""
    picker = _prepare_region(form, event)
    # the admin's picker can change the province, and with it the zone: the hint refreshes itself
    zone_refresh = (
        url_for(request.endpoint, **(request.view_args or {}), bagian="zona") if picker else None
    )

    def page(status: int = 200):
        return render(
            "events/event_form.html",
            "events/_event_form.html",
            status,
            form=form,
            picker=picker,
            event=event,
            zone=_zone(_region_code(form, picker)),
            zone_refresh=zone_refresh,
            invalid=status == 422,
        )

    if request.method == "GET":
        if queryargs.one_of("bagian", ["zona"]) and is_partial():
            zone_hint = get_template_attribute("events/_session_rows.html", "zone_hint")
            return make_response(zone_hint(_zone(_region_code(form, picker)), zone_refresh))
        return page()
    action = request.form.get("_sesi", "")
    if action or "_pick" in request.form:
        _change_rows(form, action)
        return page()
    valid = form.validate_on_submit()
    sessions = _sessions(form)
    if valid and sessions is not None:
        data = _event_data(form, _region_code(form, picker))
        try:
            with db.session.begin_nested():
                if event is None:
                    event = create_event(data, sessions, current_user)
                    message = _("Kegiatan tersimpan sebagai draf. Terbitkan bila sudah siap.")
                else:
                    update_event(event, data, sessions, current_user)
                    message = _("Perubahan kegiatan disimpan.")
        except EventError as error:
            attach_error(form, error)
        else:
            flash(message, "success")
            return redirect_after_post(url_for("events.detail", event_id=event.id))
    return page(422)


# --- views ----------------------------------------------------------------------------------------


# the list's tabs: what is still ahead, what is over, what was called off
PERIODS = ("", "lampau", "batal")


def _period_condition(period: str) -> sa.ColumnElement[bool]:
    """Coming: not cancelled or finished, and starting today or later (or running now); past:
    the rest except cancelled events, which have a tab of their own — they did not happen."""
    # the most inclusive "today" across Indonesia's zones (WIB is the earliest)
    today = datetime.combine(datetime.now(ZoneInfo(WIB)).date(), time())
    cancelled = Event.status == EventStatus.DIBATALKAN
    coming = sa.and_(
        Event.status.not_in((EventStatus.DIBATALKAN, EventStatus.SELESAI)),
        sa.or_(
            Event.starts_on.is_(None),
            Event.starts_on >= today,
            Event.status == EventStatus.BERLANGSUNG,
        ),
    )
    if period == "batal":
        return cancelled
    if period == "lampau":
        return sa.and_(sa.not_(cancelled), sa.not_(coming))
    return coming


@bp.get("/kegiatan/")
@roles_required(*VIEWERS)
def index():
    """Events the user may see, coming ones first (or past ones, latest first, or the cancelled
    ones), 25 per page; a KIM's pengurus also sees the events its KIM is invited to."""
    period = queryargs.one_of("waktu", PERIODS[1:])
    condition = _period_condition(period)
    statement = sa.select(Event).where(event_filter(current_user), condition)
    if period:
        statement = statement.order_by(Event.starts_on.desc(), Event.id.desc())
    else:
        statement = statement.order_by(Event.starts_on, Event.id)
    page = queryargs.paginate(statement, per_page=PER_PAGE)
    invited = None
    if current_user.role is Role.PENGURUS_KIM:
        invited = (
            db.session.execute(
                sa.select(Event, Invitation.quota)
                .join(Invitation, Invitation.event_id == Event.id)
                .where(
                    Invitation.kim_id == current_user.kim_id,
                    event_filter(current_user),
                    _period_condition(""),
                )
                .order_by(Event.starts_on, Event.id)
                .limit(20)
            ).all()
            if current_user.kim_id
            else []
        )
    followed = (
        followed_events(current_user, condition) if current_user.role in OPERATOR_ROLES else []
    )
    return render(
        "events/index.html",
        "events/_event_list.html",
        page=page,
        period=period,
        invited=invited,
        followed=followed,
        may_create=current_user.role in OPERATOR_ROLES,
    )


@bp.route("/kegiatan/baru", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def new():
    """A new event (saved as a draft) with one or more sessions."""
    form = EventForm()
    if request.method == "GET":
        form.sessions.append_entry()
    return _editor(form, None)


@bp.route("/kegiatan/<int:event_id>/ubah", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def edit(event_id: int):
    """Change an event and its agenda (not once it is finished or cancelled)."""
    event = _managed_event(event_id)
    if event.status in CLOSED:
        flash(_("Kegiatan yang sudah selesai atau dibatalkan tidak dapat diubah."), "error")
        return redirect_after_post(url_for("events.detail", event_id=event.id))
    if request.method == "GET":
        form = EventForm(obj=event)
        form.kind.data = event.kind.value
        form.registration_mode.data = event.registration_mode.value
        form.region.data = event.region_code
        while form.sessions.entries:
            form.sessions.pop_entry()
        for session in event.sessions:
            form.sessions.append_entry(_session_entry(session))
    else:
        form = EventForm()
    return _editor(form, event)


def _next_step(event: Event, first: datetime | None, last: datetime | None) -> str:
    """The one action the event page puts first, following the event's time: publish a draft;
    before the first day invite and share ("bagikan"); start it on the day; take attendance
    while it runs ("absensi"); mark it finished once the last session has ended."""
    if event.status is EventStatus.DRAFT:
        return EventStatus.TERBIT.value
    if event.status is EventStatus.TERBIT:
        now = local_now(event)
        if first is not None and now.date() < first.date() and first - now > START_NEAR:
            return "bagikan"
        return EventStatus.BERLANGSUNG.value
    if event.status is EventStatus.BERLANGSUNG:
        ended = last is not None and local_now(event) >= last
        return EventStatus.SELESAI.value if ended else "absensi"
    return ""


def _detail_page(
    event: Event,
    status: int = 200,
    *,
    status_form: EventStatusForm | None = None,
    clone_form: CloneForm | None = None,
    clone_open: bool = False,
):
    manage = may_manage_event(current_user, event)
    sessions = event.sessions
    days = [
        (day, list(items)) for day, items in groupby(sessions, key=lambda s: s.starts_at.date())
    ]
    steps = sorted(EVENT_TRANSITIONS[event.status], key=STEP_ORDER.index) if manage else []
    counts = registration_counts(event)
    # a village head or pengurus sees the invitations of its own KIM, one tap from naming delegates
    mine = (
        db.session.scalars(
            sa.select(Invitation)
            .join(Kim, Kim.id == Invitation.kim_id)
            .where(Invitation.event_id == event.id, kim_filter(current_user))
            .order_by(Invitation.id)
        ).all()
        if current_user.role in (Role.KEPALA_DESA, Role.PENGURUS_KIM)
        else []
    )
    first = sessions[0].starts_at if sessions else None
    last = max(s.ends_at for s in sessions) if sessions else None
    return render(
        "events/detail.html",
        my_invitations=mine,
        next_step=_next_step(event, first, last) if manage else "",
        status=status,
        event=event,
        zone=event.zone_label,
        days=days,
        first=first,
        last=last,
        counts={s.value: n for s, n in counts.items()},
        statuses=RegistrationStatus,
        manage=manage,
        operator_roles=OPERATOR_ROLES,
        editable=manage and event.status not in CLOSED,
        steps=steps,
        status_form=status_form or EventStatusForm(formdata=None),
        clone_form=clone_form or CloneForm(formdata=None),
        clone_open=clone_open,
        public_url=public_url(event),
        # the poster and the WhatsApp message point at the public page: once it is open
        share=share_links(event) if manage and event.status in OPEN else None,
    )


@bp.get("/kegiatan/<int:event_id>")
@roles_required(*VIEWERS)
def detail(event_id: int):
    """The event page: agenda per day with speakers, venue and map, registrations, and for the
    managers the public link and the next steps."""
    return _detail_page(get_event_or_404(event_id, current_user))


@bp.post("/kegiatan/<int:event_id>/status")
@roles_required(*OPERATOR_ROLES)
def set_status(event_id: int):
    """Publish, start, finish, send back to draft, or cancel with a reason participants see."""
    event = _managed_event(event_id)
    form = EventStatusForm()
    wanted = request.form.get("to", "")
    if wanted not in {s.value for s in EventStatus}:
        abort(400)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                change_event_status(
                    event, EventStatus(wanted), current_user, form.reason.data or ""
                )
        except EventError as error:
            attach_error(form, error)
        else:
            flash(_("Status kegiatan sekarang: %(status)s.", status=event.status.label), "success")
            return redirect_after_post(url_for("events.detail", event_id=event.id))
    return _detail_page(event, 422, status_form=form)


@bp.route("/kegiatan/<int:event_id>/salin", methods=["GET", "POST"])
@roles_required(*OPERATOR_ROLES)
def clone(event_id: int):
    """Copy an event to new dates: a new draft whose agenda starts on the chosen day."""
    event = _managed_event(event_id)
    form = CloneForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                copy = clone_event(
                    event, datetime.combine(form.first_day.data, time()), current_user
                )
        except EventError as error:
            attach_error(form, error, "first_day")
        else:
            flash(_("Salinan tersimpan sebagai draf. Periksa lalu terbitkan."), "success")
            return redirect_after_post(url_for("events.edit", event_id=copy.id))
    status = 422 if request.method == "POST" else 200
    return _detail_page(event, status, clone_form=form, clone_open=True)
