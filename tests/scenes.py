"""Records that several test modules build straight in the database: registered people, sessions
moved to now, the known attendance and laporan scenes, certificates."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from kim_app.attendance.certificates.operations import (
    issue_certificates,
)
from kim_app.attendance.models import Attendance, Certificate, Method, Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.auth.models import Role
from kim_app.events.models import (
    Event,
    EventKind,
    EventSession,
    EventStatus,
    Invitation,
    Registration,
    RegistrationStatus,
    Source,
)
from kim_app.events.operations import PersonData, cancel_registration, local_now, register_person
from kim_app.extensions import db
from kim_app.groups.models import (
    Gender,
    KimStatus,
)
from kim_app.regions.models import Region, RegionLevel
from kim_app.timezones import utcnow
from tests.conftest import (
    MAJALENGKA_VILLAGE,
    PPU,
    PPU_OTHER_VILLAGE,
    PPU_VILLAGE,
)
from tests.helpers import SIGNATURE, SIGNER


def people(app, event_id: int, n: int, start: int = 0, **fixed) -> list[int]:
    """``n`` registered people inserted in bulk (names ``Peserta 000``…), ids in name order."""
    rows = [
        {
            "event_id": event_id,
            "name": f"Peserta {i:03d}",
            "institution": "Dinas Kominfo" if i % 2 else "PKK Kecamatan Babulu",
            "phone": f"+62813{i:08d}",
            "source": Source.MANDIRI,
            "status": RegistrationStatus.TERDAFTAR,
            "ticket": secrets.token_urlsafe(18),
            "checkin_code": f"{i:08d}".replace("0", "A").replace("1", "B"),
        }
        | fixed
        for i in range(start, start + n)
    ]
    with app.app_context():
        db.session.execute(sa.insert(Registration), rows)
        db.session.commit()
        return list(
            db.session.scalars(
                sa.select(Registration.id)
                .where(
                    Registration.event_id == event_id,
                    Registration.phone.in_([row["phone"] for row in rows]),
                )
                .order_by(Registration.name, Registration.id)
            )
        )


def first_session(app, event_id: int) -> int:
    with app.app_context():
        return db.session.get(Event, event_id).sessions[0].id


def run_now(app, session_id: int, *, started: timedelta = timedelta(minutes=30)) -> None:
    """Move a session so that it started ``started`` ago and runs two hours more (local time):
    marks are taken only inside its attendance window."""
    with app.app_context():
        session = db.session.get(EventSession, session_id)
        now = local_now(session.event)
        session.starts_at = now - started
        session.ends_at = session.starts_at + timedelta(hours=2) + started
        db.session.commit()


def open_now(app, event_id: int, **values) -> int:
    """Move the event's first session to start in 10 minutes (ending 2 hours later); returns its id."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        first = db.session.scalars(
            sa.select(EventSession)
            .where(EventSession.event_id == event_id)
            .order_by(EventSession.starts_at, EventSession.id)
        ).first()
        first.starts_at = local_now(event).replace(second=0, microsecond=0) + timedelta(minutes=10)
        first.ends_at = first.starts_at + timedelta(hours=2)
        for name, value in values.items():
            setattr(event, name, value)
        db.session.commit()
        return first.id


CHECKIN_NAME = "Siti Rahmawati"


PHONE = "0812-3456-7001"


def add_registration(
    app, event_id: int, name: str = CHECKIN_NAME, phone: str = PHONE
) -> Registration:
    with app.app_context():
        event = db.session.get(Event, event_id)
        registration, _new = register_person(event, PersonData(name, phone), Source.MANDIRI)
        db.session.commit()
        db.session.refresh(registration)
        db.session.expunge(registration)
        return registration


def phone_number(i: int) -> str:
    return f"0812-1111-{i:04d}"


def attendance_scene(app, make_event, make_kim, make_user, **overrides) -> dict:
    """An event with two sessions and known marks in session 1: Ani hadir with a signature, Budi
    hadir without (an older mark from another phone lost), Citra izin, Dedi sakit, Eko alpa,
    Fajar never marked, Hana hadir then undone, Gita hadir then cancelled. Session 2: Ani by QR
    scan, Citra by self check-in."""
    event = make_event(days=1, sessions_per_day=2, organiser="Diskominfo PPU", **overrides)
    kim = make_kim(name="KIM Sebakung Maju")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Rina Operator")
    officer = make_user(Role.PETUGAS_ABSENSI, PPU, name="Tono Petugas", event_id=event.id)
    with app.test_request_context():
        ev = db.session.get(Event, event.id)
        s1, s2 = ev.sessions
        people = {}
        for i, name in enumerate(["Ani", "Budi", "Citra", "Dedi", "Eko", "Fajar", "Gita", "Hana"]):
            person = PersonData(
                f"{name} Lestari",
                phone_number(i + 1),
                institution="Desa Sebakung" if i else "",
                position="Ketua" if i == 0 else "Anggota",
                gender=Gender.P if i % 2 == 0 else Gender.L,
            )
            reg, _new = register_person(
                ev, person, Source.MANDIRI, kim_id=kim.id if i == 0 else None
            )
            people[name] = reg
        op = db.session.get(type(operator), operator.id)
        petugas = db.session.get(type(officer), officer.id)
        now = utcnow()

        def mark(name, session, status, by=op, method=Method.ROLL_CALL, at=now):
            return mark_attendance(people[name], session, status, by, method=method, marked_at=at)

        attendance, _ = mark("Ani", s1, Presence.HADIR)
        attendance.signature = SIGNATURE
        mark("Budi", s1, Presence.HADIR, by=petugas)
        mark("Budi", s1, Presence.ALPA, at=now - timedelta(minutes=5))  # older: does not win
        mark("Citra", s1, Presence.IZIN)
        mark("Dedi", s1, Presence.SAKIT)
        mark("Eko", s1, Presence.ALPA)
        mark("Hana", s1, Presence.HADIR, at=now - timedelta(minutes=1))
        mark("Hana", s1, Presence.BELUM)
        mark("Gita", s1, Presence.HADIR)
        cancel_registration(people["Gita"], op)
        mark("Ani", s2, Presence.HADIR, by=petugas, method=Method.QR)
        mark("Citra", s2, Presence.HADIR, by=None, method=Method.SELF)
        db.session.commit()
        return {"event": event, "sessions": (s1.id, s2.id), "operator": operator, "kim": kim}


LAPORAN_PEOPLE = [  # name, gender, KIM (index) or institution, hadir in session 1, in session 2
    ("Ani Lestari", Gender.P, 0, True, True),
    ("Budi Santoso", Gender.L, 0, True, False),
    ("Citra Dewi", Gender.P, 1, True, True),
    ("Dedi Kurnia", Gender.L, "Dinas Sosial", True, False),
    ("Eka Putri", Gender.P, "Dinas Sosial", False, False),
]


def laporan_scene(app, make_event, make_kim, make_user, *, extra: int = 0) -> dict:
    """Invited: 3 KIM (quota 2+2+3). Registered 5 (+``extra``), then Fajar waiting and Gita
    cancelled from the waiting list. Session 1: Ani, Budi, Citra, Dedi hadir (Ani signed);
    session 2: Ani and Citra hadir, Dedi izin."""
    event = make_event(
        days=1, sessions_per_day=2, capacity=5 + extra, organiser="Diskominfo PPU", **SIGNER
    )
    kims = [make_kim(name=n) for n in ("KIM Alfa", "KIM Beta", "KIM Gamma")]
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Rina Operator")
    with app.test_request_context():
        ev = db.session.get(Event, event.id)
        for kim, quota in zip(kims, (2, 2, 3), strict=True):
            db.session.add(Invitation(event_id=ev.id, kim_id=kim.id, quota=quota))
        s1, s2 = ev.sessions
        regs = []
        for i, (name, gender, group, _h1, _h2) in enumerate(LAPORAN_PEOPLE):
            person = PersonData(
                name,
                f"0812-2222-{i:04d}",
                institution=group if isinstance(group, str) else "",
                position="Anggota",
                gender=gender,
            )
            kim_id = kims[group].id if isinstance(group, int) else None
            regs.append(register_person(ev, person, Source.MANDIRI, kim_id=kim_id)[0])
        for i in range(extra):
            person = PersonData(f"Tambahan {i:03d}", f"0813-3333-{i:04d}", "Kecamatan", "Staf")
            register_person(ev, person, Source.MANDIRI)
        register_person(
            ev, PersonData("Fajar Waiting", "0812-4444-0001", "", "", Gender.L), Source.MANDIRI
        )
        gita, _ = register_person(
            ev, PersonData("Gita Batal", "0812-4444-0002", "", "", Gender.P), Source.MANDIRI
        )
        cancel_registration(gita, None)
        for reg, (_n, _g, _k, h1, h2) in zip(regs, LAPORAN_PEOPLE, strict=True):
            if h1:
                attendance, _ = mark_attendance(reg, s1, Presence.HADIR, None)
                if reg.name == "Ani Lestari":
                    attendance.signature = SIGNATURE
            if h2:
                mark_attendance(reg, s2, Presence.HADIR, None)
        mark_attendance(regs[3], s2, Presence.IZIN, None)
        db.session.commit()
        return {"event": event, "operator": operator, "kims": kims}


# the signing official of the certificate tests
CERTIFICATE_SIGNER = {
    "signer_name": "Dr. Hj. Siti Rahmawati, M.Si.",
    "signer_position": "Kepala Dinas Komunikasi dan Informatika",
    "signer_nip": "197501012000032001",
}


def cert_event(app, make_event, **overrides) -> Event:
    """Four sessions (two days × two) held last week, certificates for 50 % attendance, a
    signing official (certificates are issued once every session has ended)."""
    values = {
        "certificate_min_percent": 50,
        "organiser": "Diskominfo Kabupaten PPU",
    } | CERTIFICATE_SIGNER
    event = make_event(days=2, sessions_per_day=2, **(values | overrides))
    with app.app_context():
        loaded = db.session.get(Event, event.id)
        for session in loaded.sessions:
            session.starts_at -= timedelta(days=8)
            session.ends_at -= timedelta(days=8)
        loaded.starts_on = loaded.sessions[0].starts_at
        db.session.commit()
    return event


def register_attendee(app, event_id: int, name: str, i: int, **kw) -> int:
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        person = PersonData(name, f"0813{i:08d}", institution=kw.pop("institution", "KIM Uji"))
        registration, _new = register_person(event, person, Source.MANDIRI)
        db.session.commit()
        return registration.id


def attend(app, registration_id: int, sessions: int, status=Presence.HADIR, later: int = 0):
    """Mark the person ``status`` in the event's first ``sessions`` sessions."""
    with app.test_request_context():
        registration = db.session.get(Registration, registration_id)
        for session in registration.event.sessions[:sessions]:
            mark_attendance(
                registration,
                session,
                status,
                None,
                marked_at=utcnow() + timedelta(seconds=later),
            )
        db.session.commit()


def attending_people(app, event_id: int, attended: list[int]) -> list[int]:
    """One registration per entry, each present in that many sessions."""
    ids = []
    for i, n in enumerate(attended):
        rid = register_attendee(app, event_id, f"Peserta {i + 1}", 1000 * event_id + i)
        attend(app, rid, n)
        ids.append(rid)
    return ids


def issue(app, event_id: int):
    with app.test_request_context():
        result = issue_certificates(db.session.get(Event, event_id), None)
        db.session.commit()
        return result


def certs(app, event_id: int) -> list[Certificate]:
    with app.app_context():
        rows = list(
            db.session.scalars(
                sa.select(Certificate)
                .where(Certificate.event_id == event_id)
                .order_by(Certificate.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def bulk(app, event_id: int, n: int) -> None:
    """``n`` registered people inserted at once, each present in every session."""
    with app.app_context():
        sessions = db.session.scalars(
            sa.select(EventSession.id).where(EventSession.event_id == event_id)
        ).all()
        start = db.session.scalar(sa.select(sa.func.count(Registration.id))) or 0
        rows = [
            {
                "event_id": event_id,
                "name": f"Massal {start + i:03d} Nama Peserta Yang Cukup Panjang",
                "institution": "KIM Sebakung Jaya Kecamatan Babulu",
                "gender": Gender.P,
                "phone": f"+62815{event_id:03d}{start + i:05d}",
                "source": Source.IMPOR,
                "status": RegistrationStatus.TERDAFTAR,
                "ticket": secrets.token_urlsafe(18),
                "checkin_code": secrets.token_hex(4).upper(),
            }
            for i in range(n)
        ]
        db.session.execute(sa.insert(Registration), rows)
        ids = db.session.scalars(
            sa.select(Registration.id).where(
                Registration.event_id == event_id, Registration.name.like("Massal%")
            )
        ).all()
        now = utcnow()
        db.session.execute(
            sa.insert(Attendance),
            [
                {
                    "registration_id": rid,
                    "session_id": sid,
                    "status": Presence.HADIR,
                    "method": "roll_call",
                    "marked_at": now,
                }
                for rid in ids
                for sid in sessions
            ],
        )
        db.session.commit()


def ppu_villages(app) -> list[tuple[str, str, str]]:
    """(code, village name, district name) of every village in Penajam Paser Utara."""
    district = sa.orm.aliased(Region)
    with app.app_context():
        return [
            tuple(row)
            for row in db.session.execute(
                sa.select(Region.code, Region.name, district.name)
                .join(district, district.code == Region.parent_code)
                .where(Region.level == RegionLevel.DESA, Region.code.startswith(PPU + "."))
                .order_by(Region.code)
            )
        ]


def dashboard_event(
    make_event, app, *, day: date, sessions: int, kind=EventKind.PELATIHAN, **kw
) -> int:
    """An event whose sessions are on ``day`` at 09:00, 13:00, … (local time)."""
    event = make_event(days=1, sessions_per_day=sessions, kind=kind, **kw)
    with app.app_context():
        rows = db.session.scalars(
            sa.select(EventSession)
            .where(EventSession.event_id == event.id)
            .order_by(EventSession.id)
        ).all()
        first = datetime.combine(day, datetime.min.time()) + timedelta(hours=9)
        for i, s in enumerate(rows):
            s.starts_at, s.ends_at = (
                first + timedelta(hours=4 * i),
                first + timedelta(hours=4 * i + 3),
            )
        db.session.get(Event, event.id).starts_on = first
        db.session.commit()
    return event.id


def dashboard_person(app, event_id, phone, gender=None, kim=None, marks=(), cancelled=False):
    """Register someone (phone ``+628120000<phone>``) and mark sessions in order (None: no mark)."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        reg, _new = register_person(
            event,
            PersonData(name=f"Orang {phone}", phone=f"+62812000{phone:04d}", gender=gender),
            Source.MANDIRI,
            kim_id=kim.id if kim else None,
        )
        sessions = db.session.scalars(
            sa.select(EventSession)
            .where(EventSession.event_id == event_id)
            .order_by(EventSession.id)
        ).all()
        for session, mark in zip(sessions, marks, strict=False):
            if mark is not None:
                mark_attendance(reg, session, mark, None)
        if cancelled:
            reg.status = RegistrationStatus.BATAL
        db.session.commit()


KALTIM = "64"
H = Presence.HADIR


def dashboard_scene(app, make_kim, make_event):
    """PPU: verified Alfa, Bravo (Babulu), Charlie (Penajam), Golf (Sepaku); Delta submitted
    (Babulu), Echo inactive (Sepaku), Foxtrot draft (Waru); Luar (Majalengka) outside.

    2025 events counted for PPU: E1 pelatihan 10 Mar (2 sessions), E2 sosialisasi 20 Mar, E3
    pelatihan 5 May; not counted: a draft, a cancelled one, one in Dec 2024, Majalengka's, and
    the province's forum in June (owner 64, counted for Kalimantan Timur and for Babulu)."""
    alfa = make_kim(village=PPU_VILLAGE, name="KIM Alfa")
    bravo = make_kim(village="64.09.03.2001", name="KIM Bravo")
    charlie = make_kim(village=PPU_OTHER_VILLAGE, name="KIM Charlie")
    golf = make_kim(village="64.09.04.2002", name="KIM Golf")
    make_kim(village="64.09.03.2002", name="KIM Delta", status=KimStatus.DIAJUKAN)
    make_kim(village="64.09.04.2001", name="KIM Echo", status=KimStatus.NONAKTIF)
    make_kim(village="64.09.02.2001", name="KIM Foxtrot", status=KimStatus.DRAFT)
    luar = make_kim(village=MAJALENGKA_VILLAGE, name="KIM Luar")

    e1 = dashboard_event(
        make_event, app, day=date(2025, 3, 10), sessions=2, status=EventStatus.SELESAI
    )
    dashboard_person(app, e1, 1, Gender.L, alfa, (H, H))
    dashboard_person(app, e1, 2, Gender.P, alfa, (H, None))
    dashboard_person(app, e1, 3, Gender.P, bravo)
    dashboard_person(app, e1, 4, None, charlie, (H, Presence.IZIN))
    dashboard_person(app, e1, 5, Gender.L, None, (None, H))
    dashboard_person(
        app, e1, 9, Gender.L, bravo, (H, H), cancelled=True
    )  # cancelled: never counted
    e2 = dashboard_event(
        make_event, app, day=date(2025, 3, 20), sessions=1, kind=EventKind.SOSIALISASI
    )
    dashboard_person(app, e2, 1, Gender.L, alfa, (H,))  # the same person again
    dashboard_person(app, e2, 6, Gender.P, charlie)
    e3 = dashboard_event(
        make_event, app, day=date(2025, 5, 5), sessions=1, status=EventStatus.SELESAI
    )
    dashboard_person(app, e3, 7, Gender.L, bravo, (H,))

    draft = dashboard_event(
        make_event, app, day=date(2025, 4, 1), sessions=1, status=EventStatus.DRAFT
    )
    dashboard_person(app, draft, 11, Gender.L, alfa, (H,))
    cancelled = dashboard_event(
        make_event, app, day=date(2025, 4, 2), sessions=1, status=EventStatus.DIBATALKAN
    )
    dashboard_person(app, cancelled, 12, Gender.L, alfa, (H,))
    last_year = dashboard_event(make_event, app, day=date(2024, 12, 15), sessions=1)
    dashboard_person(app, last_year, 13, Gender.L, alfa, (H,))
    outside = dashboard_event(make_event, app, day=date(2025, 3, 15), sessions=1, region="32.10")
    dashboard_person(app, outside, 14, Gender.P, luar, (H,))
    e8 = dashboard_event(
        make_event, app, day=date(2025, 6, 10), sessions=1, region=KALTIM,
        kind=EventKind.FORUM_KEMITRAAN,
    )  # fmt: skip
    dashboard_person(app, e8, 8, Gender.P, alfa, (H,))
    return {"alfa": alfa, "bravo": bravo, "charlie": charlie, "golf": golf}


def place_event(app, event_id: int, start: datetime) -> None:
    """Move an event's sessions so that the first starts at ``start`` (one a day)."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        for i, session in enumerate(event.sessions):
            session.starts_at = start + timedelta(days=i)
            session.ends_at = start + timedelta(days=i, hours=3)
        event.starts_on = start
        db.session.commit()


def invite_kim(app, event_id: int, kim_id: int, quota: int) -> None:
    with app.app_context():
        db.session.add(Invitation(event_id=event_id, kim_id=kim_id, quota=quota))
        db.session.commit()


def delegate(
    app,
    event_id: int,
    kim_id: int | None,
    name: str,
    phone: str,
    *,
    hadir: tuple[int, ...] = (),
    status: RegistrationStatus = RegistrationStatus.TERDAFTAR,
    marks: dict[int, Presence] | None = None,
) -> int:
    """Register someone for the event (for ``kim_id``), mark ``hadir`` in those sessions (by
    position) and other marks, then set the status."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        registration, _new = register_person(
            event,
            PersonData(name, phone, institution="Kecamatan Babulu"),
            Source.UNDANGAN if kim_id else Source.MANDIRI,
            kim_id=kim_id,
            phone_required=False,
        )
        sessions = event.sessions
        for i in hadir:
            mark_attendance(registration, sessions[i], Presence.HADIR, None)
        for i, presence in (marks or {}).items():
            mark_attendance(registration, sessions[i], presence, None)
        registration.status = status
        db.session.commit()
        return registration.id


HISTORY_PHONE = "+6281234567890"  # Siti Aminah, in two events


def history_scene(app, make_kim, make_event):
    """KIM A (Sebakung Jaya) in four published events and one draft, KIM B (Giri Mukti) in one:

    - E3, newest: quota 3, A sends 2 registered (hadir 2 + 1 of 2 sessions) and 1 waiting → 75 %
    - E5: no invitation, A sends 1 registered, no marks → 0 %
    - E2: quota 2, 1 registered (hadir 1 of 2) and 1 cancelled with a hadir mark → 50 %
    - E1, oldest: quota 2, nobody sent → no rate
    - a draft invitation (not shown); B's delegate in E3 with 2 hadir marks (not A's)
    """
    kim_a = make_kim(village=PPU_VILLAGE, name="KIM Sebakung Maju")
    kim_b = make_kim(village=PPU_OTHER_VILLAGE, name="KIM Giri Mukti")
    events = {}
    for key, month in (("E1", 1), ("E2", 2), ("E5", 3), ("E3", 4)):
        event = make_event(days=2, sessions_per_day=1, title=f"Kegiatan {key}")
        place_event(app, event.id, datetime(2026, month, 10, 9))
        events[key] = event.id
    draft = make_event(status=EventStatus.DRAFT, title="Kegiatan Draf")
    invite_kim(app, events["E3"], kim_a.id, 3)
    invite_kim(app, events["E2"], kim_a.id, 2)
    invite_kim(app, events["E1"], kim_a.id, 2)
    invite_kim(app, draft.id, kim_a.id, 2)
    invite_kim(app, events["E3"], kim_b.id, 2)
    people = {
        "d1": delegate(app, events["E3"], kim_a.id, "Siti Aminah", HISTORY_PHONE, hadir=(0, 1)),
        "d2": delegate(
            app,
            events["E3"],
            kim_a.id,
            "Budi Santoso",
            "+6281300000002",
            hadir=(0,),
            marks={1: Presence.IZIN},
        ),
        "d3": delegate(
            app,
            events["E3"],
            kim_a.id,
            "Rina",
            "+6281300000003",
            status=RegistrationStatus.DAFTAR_TUNGGU,
        ),
        "b1": delegate(app, events["E3"], kim_b.id, "Joko", "+6281300000009", hadir=(0, 1)),
        "d6": delegate(app, events["E5"], kim_a.id, "Dewi", "+6281300000006"),
        "d4": delegate(app, events["E2"], kim_a.id, "Siti Aminah", HISTORY_PHONE, hadir=(0,)),
        "d5": delegate(
            app,
            events["E2"],
            kim_a.id,
            "Agus",
            "+6281300000005",
            hadir=(0,),
            status=RegistrationStatus.BATAL,
        ),
    }
    return {"a": kim_a, "b": kim_b, "events": events, "draft": draft.id, "people": people}
