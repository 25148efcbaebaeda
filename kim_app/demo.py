"""Demo data for a local trial (``flask kim load-demo``): accounts, and one running two-day
training in Penajam Paser Utara with 30 registered people and a petugas absensi, so that the
roll call, ticket scanning and self check-in can be tried at once. Never for a real deployment."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from kim_app.auth.models import Role, User
from kim_app.auth.operations import create_user
from kim_app.events.models import Event, EventKind, EventSession, EventStatus, Source
from kim_app.events.operations import PersonData, local_now, new_code, register_person
from kim_app.extensions import db
from kim_app.groups.models import Gender
from kim_app.timezones import zone_name_for

DEMO_PASSWORD = "kim-demo-2026"
# email, name, role, scope: demo accounts for a local trial only
DEMO_USERS = (
    ("admin@kim.example", "Admin Demo", Role.ADMIN, None),
    ("ppu@kim.example", "Operator Penajam Paser Utara", Role.OPERATOR_KABKOTA, "64.09"),
    ("jatim@kim.example", "Operator Jawa Timur", Role.OPERATOR_PROVINSI, "35"),
    ("kades@kim.example", "Kepala Desa Sebakung Jaya", Role.KEPALA_DESA, "64.09.03.2006"),
    ("petugas@kim.example", "Petugas Absensi Demo", Role.PETUGAS_ABSENSI, "64.09"),
)
DEMO_EVENT_TITLE = "Pelatihan Literasi Digital KIM (demo)"
FIRST_NAMES = (
    "Siti", "Budi", "Rina", "Agus", "Dewi", "Hendra", "Nur", "Yusuf", "Lestari", "Rahmat",
    "Wati", "Andi", "Fitri", "Joko", "Ayu",
)  # fmt: skip
LAST_NAMES = ("Rahayu", "Santoso", "Hidayat")


def load_demo_users() -> None:
    for email, name, role, scope in DEMO_USERS:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
            create_user(
                email=email, name=name, role=role, scope_code=scope, password=DEMO_PASSWORD, by=None
            )
    db.session.flush()


def load_demo_event() -> Event | None:
    """A training running today and tomorrow (08.00–12.00, 13.00–16.00 WITA) with 30 people;
    the demo petugas absensi is assigned to it. Created once."""
    if db.session.scalar(sa.select(Event.id).where(Event.title == DEMO_EVENT_TITLE)):
        return None
    operator = db.session.scalar(sa.select(User).where(User.email == "ppu@kim.example"))
    region = "64.09"
    zone = zone_name_for(region)
    event = Event(
        code=new_code(),
        kind=EventKind.PELATIHAN,
        title=DEMO_EVENT_TITLE,
        description="Pelatihan membuat konten positif dan menangkal hoaks untuk pengurus KIM.",
        organiser="Diskominfo Kabupaten Penajam Paser Utara",
        region_code=region,
        timezone=zone,
        status=EventStatus.BERLANGSUNG,
        venue_name="Aula Kantor Bupati Penajam Paser Utara",
        venue_address="Jl. Propinsi Km. 9, Nipah-Nipah, Penajam",
        capacity=60,
        registered_count=0,
        signatures=True,
        signer_name="Ahmad Fauzi, S.Kom., M.M.",
        signer_position="Kepala Dinas Komunikasi dan Informatika",
        certificate_min_percent=50,
        created_by_id=operator.id if operator else None,
    )
    today = datetime.combine(local_now(event).date(), datetime.min.time())
    for day in range(2):
        for start, end, topic in ((8, 12, "Literasi digital"), (13, 16, "Praktik membuat konten")):
            event.sessions.append(
                EventSession(
                    starts_at=today + timedelta(days=day, hours=start),
                    ends_at=today + timedelta(days=day, hours=end),
                    topic=f"Hari {day + 1}: {topic}",
                )
            )
    event.starts_on = event.sessions[0].starts_at
    db.session.add(event)
    db.session.flush()
    for i in range(30):
        name = f"{FIRST_NAMES[i % 15]} {LAST_NAMES[i // 15 % 3]}"
        register_person(
            event,
            PersonData(
                name=name,
                phone=f"0812{5550000 + i:07d}",
                institution="KIM Sebakung Jaya" if i % 2 else "Kecamatan Babulu",
                position="Anggota",
                gender=Gender.P if i % 2 else Gender.L,
            ),
            Source.OPERATOR,
            by=operator,
        )
    petugas = db.session.scalar(sa.select(User).where(User.email == "petugas@kim.example"))
    if petugas is not None:
        petugas.event_id = event.id
    db.session.flush()
    return event
