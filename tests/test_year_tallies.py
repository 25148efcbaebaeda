"""The dashboard's tallies (migration 0021: per area and calendar year, per KIM and year, per
regency) stay equal to a recount of the rows, and the dashboard read from them equals the
dashboard counted from the rows, for the country, provinces and regencies, through every kind
of write: registrations made, cancelled (a waiting one seated), moved to another KIM, given
another origin, erased; events published, cancelled, moved to another owner, year or kind,
deleted; sessions moved, added and removed; marks made, changed and undone; KIM verified,
moved and deleted; villages added; plain SQL that changes many rows in one statement; and
registrations, cancellations, taps and verifications at the same moment — on both databases,
since the triggers that keep them are the database's own."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from kim_app.attendance.models import Attendance, Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.auth.models import Role
from kim_app.events.models import (
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Registration,
    RegistrationStatus,
    Source,
)
from kim_app.events.operations import (
    EventData,
    PersonData,
    SessionData,
    cancel_registration,
    change_event_status,
    register_person,
    update_event,
)
from kim_app.extensions import db
from kim_app.groups.models import Gender, Kim, KimStatus
from kim_app.regions.models import Region, RegionLevel
from kim_app.reports import figures, queries, tallies
from kim_app.reports.privacy.operations import erase_person
from kim_app.reports.queries import DateRange
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE
from tests.helpers import in_parallel
from tests.scenes import KALTIM, H, dashboard_event, dashboard_person

YEAR = 2025
AREAS = (None, KALTIM, PPU, "64.02", "32", "32.10")  # the country, provinces, regencies
IZIN = Presence.IZIN


def _year(year: int = YEAR) -> DateRange:
    return DateRange(date(year, 1, 1), date(year, 12, 31))


def _exact(user, years=(YEAR,)) -> dict:
    """The tallies equal a recount, and every area's dashboard of each year reads the same from
    them as counted from the rows; returns the tallies."""
    db.session.commit()
    conn = db.session.connection()
    kept = tallies.kept(conn)
    assert kept == tallies.counted(conn)
    for year in years:
        for code in AREAS:
            area = db.session.get(Region, code) if code else None
            tallied = figures.tallied_dashboard(area, user, _year(year), year)
            assert tallied == queries.counted_dashboard(area, user, _year(year)), (code, year)
    db.session.commit()
    return kept


def _people(kept: dict, area: str = PPU, year: int = YEAR) -> tuple[int, ...]:
    """(registrations, men, women, without a number, people with a number) of an area's year."""
    return kept["year_tallies"].get((area, str(year)), (0, 0, 0, 0, 0))


def _register(event_id: int, n: int, kim=None, **person) -> Registration:
    event = db.session.get(Event, event_id)
    person.setdefault("phone", f"+62812000{n:04d}")
    registration, _new = register_person(
        event,
        PersonData(name=f"Orang {n}", **person),
        Source.MANDIRI,
        kim_id=kim,
        phone_required=bool(person["phone"]),
    )
    return registration


def _sessions(event_id: int) -> list[EventSession]:
    return list(
        db.session.scalars(
            sa.select(EventSession)
            .where(EventSession.event_id == event_id)
            .order_by(EventSession.id)
        )
    )


def test_tallies_and_figures_follow_every_write(app, ctx, make_user, make_kim, make_event):
    kims = {
        "alfa": make_kim(village=PPU_VILLAGE, name="KIM Alfa"),
        "bravo": make_kim(village="64.09.03.2001", name="KIM Bravo"),
        "charlie": make_kim(village=PPU_OTHER_VILLAGE, name="KIM Charlie"),
        "twin": make_kim(village=PPU_VILLAGE, name="KIM Kembar"),  # a second in Alfa's village
        "delta": make_kim(village="64.09.03.2002", name="KIM Delta", status=KimStatus.DIAJUKAN),
        "luar": make_kim(village=MAJALENGKA_VILLAGE, name="KIM Luar"),
    }
    ids = {name: kim.id for name, kim in kims.items()}
    admin = make_user(Role.ADMIN, None)
    operator = make_user(Role.OPERATOR_PROVINSI, KALTIM)

    def event(day, sessions=2, **kw) -> int:
        return dashboard_event(make_event, app, day=day, sessions=sessions, **kw)

    e1 = event(date(YEAR, 3, 10), status=EventStatus.SELESAI)
    e2 = event(date(YEAR, 3, 20), 1, kind=EventKind.SOSIALISASI)
    forum = event(date(YEAR, 6, 10), 1, region=KALTIM, kind=EventKind.FORUM_KEMITRAAN)
    small = event(date(YEAR, 8, 1), 1, capacity=1)
    outside = event(date(YEAR, 4, 4), 1, region="32.10")
    draft = event(date(YEAR, 9, 9), 1, status=EventStatus.DRAFT)
    marks = [
        (e1, 1, Gender.L, kims["alfa"], (H, H)),
        (e1, 2, Gender.P, kims["alfa"], (H, IZIN)),
        (e1, 3, None, kims["bravo"], ()),
        (e1, 4, Gender.P, None, (None, H)),
        (e2, 1, Gender.L, kims["alfa"], (H,)),  # the same number again in the regency's year
        (e2, 5, Gender.L, kims["charlie"], (H,)),
        (forum, 1, Gender.L, kims["alfa"], (H,)),  # and at the province's forum
        (forum, 6, Gender.P, kims["bravo"], (H,)),
        (outside, 7, Gender.P, kims["luar"], (H,)),
        (draft, 8, Gender.L, kims["alfa"], (H,)),  # a draft counts nowhere
    ]
    for event_id, n, gender, kim, hadir in marks:
        dashboard_person(app, event_id, n, gender, kim, hadir)
    kept = _exact(admin)
    assert _people(kept) == (6, 3, 2, 0, 5)  # six registrations of five numbers in PPU's 2025
    assert _people(kept, KALTIM) == (8, 4, 3, 0, 6)  # the forum adds number 6, not number 1
    assert _people(kept, "") == (9, 4, 4, 0, 7)

    # registrations made and cancelled: a waiting one is seated; a number registered twice
    first = _register(small, 9, ids["alfa"], gender=Gender.P, origin_code="64.09.01")
    waiting = _register(small, 10, ids["bravo"])
    assert waiting.status is RegistrationStatus.DAFTAR_TUNGGU
    no_number = _register(e2, 11, phone="", gender=Gender.L)
    kept = _exact(admin)
    assert _people(kept)[3] == 1
    cancel_registration(first, operator)
    again = _register(e1, 5, ids["charlie"])  # number 5, already at e2: one person still
    kept = _exact(admin)
    assert db.session.get(Registration, waiting.id).status is RegistrationStatus.TERDAFTAR
    assert _people(kept)[4] == 6
    cancel_registration(again, operator)

    # marks made, changed and undone; a person moved to another KIM and to another origin
    session = _sessions(small)[0]
    mark_attendance(db.session.get(Registration, waiting.id), session, H, operator)
    mark_attendance(no_number, _sessions(e2)[0], H, operator)
    registration = db.session.scalars(
        sa.select(Registration).where(Registration.event_id == e1).order_by(Registration.id)
    ).first()
    mark_attendance(registration, _sessions(e1)[1], IZIN, operator)
    mark_attendance(registration, _sessions(e1)[0], Presence.BELUM, operator)
    _exact(admin)
    registration.kim_id = ids["charlie"]
    registration.origin_code = "64.09.04"
    db.session.flush()
    kept = _exact(admin)
    assert kept["year_origin_tallies"][(PPU, str(YEAR), "64.09.04")] == (1,)

    # erased: the number goes, the registration stays and counts as a person of its own
    erase_person(db.session.get(Registration, waiting.id), operator)
    kept = _exact(admin)
    assert _people(kept)[3] == 2

    # events published, cancelled, moved to another regency, kind and year
    change_event_status(db.session.get(Event, draft), EventStatus.TERBIT, operator)
    _exact(admin)
    change_event_status(db.session.get(Event, e2), EventStatus.DIBATALKAN, operator, "Banjir")
    kept = _exact(admin)
    assert kept["year_event_tallies"].get((PPU, str(YEAR), "3", "sosialisasi")) is None
    moved = db.session.get(Event, e1)
    moved.region_code, moved.kind = "64.02", EventKind.WORKSHOP  # Paser
    _exact(admin)
    for s in _sessions(draft):  # into the next year, sessions and first day together
        s.starts_at += timedelta(days=200)
        s.ends_at += timedelta(days=200)
    db.session.get(Event, draft).starts_on += timedelta(days=200)
    _exact(admin, years=(YEAR, YEAR + 1))

    # sessions through the app's own edit: one moved to the next year, one removed, one added
    forum_event = db.session.get(Event, forum)
    data = EventData(
        kind=forum_event.kind, title=forum_event.title, region_code=forum_event.region_code
    )
    (only,) = forum_event.sessions
    update_event(
        forum_event,
        data,
        [
            SessionData(only.starts_at, only.ends_at, "Hari 1", id=only.id),
            SessionData(datetime(YEAR, 12, 31, 22), datetime(YEAR + 1, 1, 1, 2), "Malam"),
            SessionData(datetime(YEAR + 1, 1, 2, 9), datetime(YEAR + 1, 1, 2, 12), "Tahun baru"),
        ],
        operator,
    )
    _exact(admin, years=(YEAR, YEAR + 1))
    for registration in db.session.scalars(
        sa.select(Registration).where(Registration.event_id == forum)
    ):
        for s in _sessions(forum):
            mark_attendance(registration, s, H, operator)
    _exact(admin, years=(YEAR, YEAR + 1))
    last = _sessions(forum)[-1]
    update_event(
        forum_event,
        data,
        [SessionData(s.starts_at, s.ends_at, s.topic, id=s.id) for s in _sessions(forum)[:-1]],
        operator,
    )
    assert db.session.get(EventSession, last.id) is None
    _exact(admin, years=(YEAR, YEAR + 1))

    # KIM verified, moved to another village, the second of a village verified and deleted
    db.session.get(Kim, ids["delta"]).status = KimStatus.TERVERIFIKASI
    kept = _exact(admin)
    assert kept["village_tallies"][(PPU,)][1] == 4  # Alfa's village once, with its twin
    db.session.get(Kim, ids["charlie"]).village_code = "64.09.04.2002"
    _exact(admin)
    db.session.delete(db.session.get(Kim, ids["alfa"]))  # its people's KIM is emptied
    kept = _exact(admin)
    assert kept["village_tallies"][(PPU,)][1] == 4  # the twin still holds the village

    # a village added to the region data, and taken away again
    village = Region(
        code="64.09.03.2999", name="Desa Uji", level=RegionLevel.DESA, parent_code="64.09.03"
    )
    db.session.add(village)
    kept = _exact(admin)
    villages = kept["village_tallies"][(PPU,)][0]
    db.session.delete(village)
    assert _exact(admin)["village_tallies"][(PPU,)][0] == villages - 1

    # plain SQL changing many rows at once: two events cancelled and published in one
    # statement, two registrations of one number removed together, an event deleted
    both = [e1, forum]
    db.session.execute(
        sa.update(Event).where(Event.id.in_(both)).values(status=EventStatus.DIBATALKAN)
    )
    _exact(admin, years=(YEAR, YEAR + 1))
    db.session.execute(sa.update(Event).where(Event.id.in_(both)).values(status=EventStatus.TERBIT))
    _exact(admin, years=(YEAR, YEAR + 1))
    db.session.execute(
        sa.delete(Registration).where(Registration.phone == "+6281200000001")
    )  # at e1 (now Paser's), e2 (cancelled), the forum and the published draft
    kept = _exact(admin, years=(YEAR, YEAR + 1))
    db.session.execute(
        sa.update(Attendance)
        .where(Attendance.session_id.in_([s.id for s in _sessions(e1)]))
        .values(status=H)
    )
    _exact(admin, years=(YEAR, YEAR + 1))
    db.session.execute(sa.delete(Event).where(Event.id.in_([e1, small])))
    kept = _exact(admin, years=(YEAR, YEAR + 1))
    assert _people(kept, "64.02") == (0, 0, 0, 0, 0)


def test_recount_rebuilds_what_the_triggers_keep(app, ctx, make_user, make_kim, make_event):
    """A bulk load that bypasses the triggers recounts; the result equals what they kept."""
    alfa = make_kim(village=PPU_VILLAGE, name="KIM Alfa")
    e1 = dashboard_event(make_event, app, day=date(YEAR, 5, 1), sessions=2)
    e2 = dashboard_event(make_event, app, day=date(YEAR, 7, 1), sessions=1, region=KALTIM)
    for n in range(1, 5):
        dashboard_person(app, e1, n, Gender.L, alfa if n % 2 else None, (H, H))
        dashboard_person(app, e2, n + 2, Gender.P, alfa, (H,))
    conn = db.session.connection()
    kept = tallies.kept(conn)
    assert _people(kept, KALTIM) == (8, 4, 4, 0, 6)
    assert tallies.recount(conn) > 0
    assert tallies.kept(conn) == kept


def test_sessions_ended_today_count_by_their_events_clock(
    app, ctx, make_user, make_event, monkeypatch
):
    """On 15 June at 12:00 WITA (11:00 WIB, 13:00 WIT) a year's figures take yesterday's
    sessions from the tallies and look at today's one by one, each on its event's clock: PPU's
    (WITA) ended at 11:00, not its one ending at 12:30; Jawa Timur's (WIB) one ending at 11:30
    is still running, Papua's (WIT) one ending at 13:00 has just ended."""
    now = {"now_wib": datetime(YEAR, 6, 15, 11), "now_wita": datetime(YEAR, 6, 15, 12)}
    now["now_wit"] = datetime(YEAR, 6, 15, 13)
    monkeypatch.setattr(queries, "clocks", lambda: dict(now))
    monkeypatch.setattr(figures, "clocks", lambda: dict(now))
    admin = make_user(Role.ADMIN, None)
    ppu = dashboard_event(make_event, app, day=date(YEAR, 6, 14), sessions=1)
    places = {"35.78": (9, 11, 30), "91.71": (9, 13, 0), PPU: (10, 11, 0)}
    today = {code: dashboard_event(make_event, app, day=date(YEAR, 6, 15), sessions=1, region=code)
             for code in places}  # fmt: skip
    for event_id, (start, hour, minute) in zip(today.values(), places.values(), strict=True):
        (session,) = _sessions(event_id)
        session.starts_at = datetime(YEAR, 6, 15, start)
        session.ends_at = datetime(YEAR, 6, 15, hour, minute)
    db.session.add(  # PPU's second session today, running until 12:30
        EventSession(
            event_id=today[PPU],
            starts_at=datetime(YEAR, 6, 15, 11, 30),
            ends_at=datetime(YEAR, 6, 15, 12, 30),
        )
    )
    db.session.commit()
    for n, event_id in enumerate((ppu, *today.values()), start=1):
        dashboard_person(app, event_id, n, Gender.L, None, (H, H))
    _exact(admin)
    figures_now = figures.tallied_dashboard(None, admin, _year(), YEAR).participation
    # yesterday's, PPU's ended one and Papua's: 3 of 5 sessions, each with its one person
    assert (figures_now.sessions, figures_now.ended) == (5, 3)
    assert (figures_now.expected, figures_now.present) == (3, 3)


# --- at the same moment ---------------------------------------------------------------------------
# Each job in its own thread, application context and connection, as separate requests would be
# (tests.helpers.in_parallel). SQLite runs one writer at a time; PostgreSQL runs them together,
# and the triggers lock before they look at other rows, so the counts stay exact there too.


def test_one_number_registering_everywhere_at_once_is_one_person(
    app, make_user, make_kim, make_event, wide_pool
):
    """Ten events of PPU and the province's forum, one number registering for all at once, then
    cancelling all at once: one person, then none; the figures as counted."""
    events = [
        dashboard_event(make_event, app, day=date(YEAR, 2, 1 + n), sessions=2) for n in range(10)
    ]
    events.append(dashboard_event(make_event, app, day=date(YEAR, 3, 1), sessions=1, region=KALTIM))
    admin = make_user(Role.ADMIN, None)

    def register(event_id: int):
        def job() -> int:
            return _register(event_id, 1).id

        return job

    registrations = in_parallel(app, [register(e) for e in events])
    with app.app_context():
        kept = _exact(admin)
        assert _people(kept) == (10, 0, 0, 0, 1) and _people(kept, KALTIM)[4] == 1

    def cancel(registration_id: int):
        def job() -> None:
            cancel_registration(db.session.get(Registration, registration_id), None)

        return job

    in_parallel(app, [cancel(r) for r in registrations])
    with app.app_context():
        kept = _exact(admin)
        assert _people(kept) == (0, 0, 0, 0, 0)


def test_taps_of_many_phones_at_once(app, make_user, make_kim, make_event, wide_pool):
    """Twenty-four taps at once on two sessions (people of two KIM and of none, the year's
    marks spread over rows so that they never wait for one), then undone at once: every mark
    counted once, then none."""
    kims = [make_kim(village=PPU_VILLAGE, name=f"KIM {n}").id for n in (1, 2)]
    admin = make_user(Role.ADMIN, None)
    event_id = dashboard_event(make_event, app, day=date(YEAR, 4, 1), sessions=2)
    with app.app_context():
        people = [_register(event_id, n, kims[n % 3] if n % 3 < 2 else None).id for n in range(12)]
        db.session.commit()
        sessions = [s.id for s in _sessions(event_id)]

    def tap(registration_id: int, session_id: int, status: Presence):
        def job() -> None:
            registration = db.session.get(Registration, registration_id)
            mark_attendance(registration, db.session.get(EventSession, session_id), status, None)

        return job

    in_parallel(app, [tap(r, s, H) for r in people for s in sessions])
    with app.app_context():
        kept = _exact(admin)
    assert sum(hadir for (_a, _y, day), (*_n, hadir) in kept["year_session_tallies"].items()) == 72
    assert sum(hadir for (hadir,) in kept["year_kim_tallies"].values()) == 16
    in_parallel(app, [tap(r, s, Presence.BELUM) for r in people for s in sessions])
    with app.app_context():
        kept = _exact(admin)
    assert {hadir for (*_n, hadir) in kept["year_session_tallies"].values()} == {0}
    assert kept["year_kim_tallies"] == {}


def test_two_kim_of_one_village_verified_at_once(app, make_user, make_kim, wide_pool):
    """Two KIM of one village verified at the same moment: the village counts once."""
    kims = [
        make_kim(village=PPU_VILLAGE, name=f"KIM {n}", status=KimStatus.DIAJUKAN) for n in (1, 2)
    ]
    admin = make_user(Role.ADMIN, None)

    def set_status(kim_id: int, status: KimStatus):
        def job() -> None:
            db.session.get(Kim, kim_id).status = status

        return job

    in_parallel(app, [set_status(k.id, KimStatus.TERVERIFIKASI) for k in kims])
    with app.app_context():
        kept = _exact(admin)
        active = kept["village_tallies"][(PPU,)][1]
    in_parallel(app, [set_status(k.id, KimStatus.NONAKTIF) for k in kims])
    with app.app_context():
        assert _exact(admin)["village_tallies"][(PPU,)][1] == active - 1
