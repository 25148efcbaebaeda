"""The benchmark datasets: national on PostgreSQL, one regency on SQLite (issue 7, "Data").

``python -m bench.data [--national|--regency|--all] [--rebuild]``

The schema comes from the app's migrations and the regions from its importer; the bench
accounts from ``create_user``. Everything else is generated here, deterministically, and loaded
in bulk: ``COPY`` on PostgreSQL (indexes and unique constraints of the big tables dropped during
the load and rebuilt after, foreign-key triggers off), ``executemany`` in one transaction per
table on SQLite. A built dataset carries ``version`` in its ``bench_meta`` table and is reused
until ``--rebuild``.

Other bench modules use ``ensure_national()`` / ``ensure_regency()`` (build if missing, return
the meta) and ``NATIONAL_URI`` / ``REGENCY_URI`` to point the app at a dataset.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

from kim_app.attendance import tallies
from kim_app.reports import tallies as year_tallies

ROOT = Path(__file__).resolve().parent.parent
VERSION = "2"  # 2: KIM activity reports, information items and relays, the monev figures
PASSWORD = "bench-pass-2026"
REGENCY_CODE = "64.09"  # Kabupaten Penajam Paser Utara
PG_SERVER = os.environ.get("KIM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
NATIONAL_DB = "kim_bench"
NATIONAL_URL = f"{PG_SERVER}/{NATIONAL_DB}"
NATIONAL_URI = "postgresql+psycopg://" + NATIONAL_URL.split("://", 1)[1]
REGENCY_PATH = ROOT / "instance" / "bench" / "regency.sqlite3"
REGENCY_URI = f"sqlite:///{REGENCY_PATH}"
REGION_DIR = ROOT / "node_modules" / "idn-area-data" / "data"

# email, name, role, scope
ACCOUNTS = (
    ("admin@bench.example", "Admin Bench", "admin", None),
    ("ppu@bench.example", "Operator Penajam Paser Utara", "operator_kabkota", REGENCY_CODE),
    ("jatim@bench.example", "Operator Jawa Timur", "operator_provinsi", "35"),
    ("petugas@bench.example", "Petugas Absensi Bench", "petugas_absensi", REGENCY_CODE),
)


@dataclass(frozen=True)
class Spec:
    """How big a dataset is."""

    name: str
    scope: str | None  # None: all of Indonesia; else the one regency it covers
    events: int
    attendance_target: int | None  # tune registrations per event to reach this many rows
    registrations_base: int  # registrations per event when there is no target
    participants: int | None  # members + guests in the whole dataset (None: guest pool below)
    guest_pool: int
    member_share: float = 0.7  # of an event's people, the share that are KIM members
    big_event_people: int = 500
    public_event_people: int = 20


NATIONAL = Spec("national", None, 20_000, 10_000_000, 0, None, 300_000)
REGENCY = Spec("regency", REGENCY_CODE, 100, None, 120, 5_000, 0, member_share=0.5)

MEMBERS_PER_KIM = 12
POSITIONS = ("ketua", "wakil_ketua", "sekretaris", "bendahara") + ("koordinator_bidang",) * 2
POSITION_TEXT = {
    "ketua": "Ketua KIM",
    "wakil_ketua": "Wakil Ketua KIM",
    "sekretaris": "Sekretaris KIM",
    "bendahara": "Bendahara KIM",
    "koordinator_bidang": "Koordinator Bidang",
    "anggota": "Anggota KIM",
}
FIRST_NAMES = (
    ("Siti", "P"), ("Budi", "L"), ("Rina", "P"), ("Agus", "L"), ("Dewi", "P"), ("Hendra", "L"),
    ("Nur", "P"), ("Yusuf", "L"), ("Lestari", "P"), ("Rahmat", "L"), ("Wati", "P"), ("Andi", "L"),
    ("Fitri", "P"), ("Joko", "L"), ("Ayu", "P"), ("Bambang", "L"), ("Sri", "P"), ("Eko", "L"),
    ("Yuliana", "P"), ("Dedi", "L"), ("Ratna", "P"), ("Taufik", "L"), ("Indah", "P"),
    ("Slamet", "L"), ("Maya", "P"), ("Irfan", "L"), ("Novi", "P"), ("Arif", "L"), ("Putri", "P"),
    ("Hasan", "L"), ("Kartika", "P"), ("Wahyu", "L"), ("Rosmini", "P"), ("Fajar", "L"),
    ("Mega", "P"), ("Ilham", "L"), ("Sari", "P"), ("Rudi", "L"), ("Aminah", "P"), ("Gilang", "L"),
)  # fmt: skip
LAST_NAMES = (
    "Rahayu", "Santoso", "Hidayat", "Wijaya", "Saputra", "Lestari", "Kurniawan", "Pratama",
    "Siregar", "Nasution", "Simanjuntak", "Sulistyo", "Hasibuan", "Purnomo", "Setiawan",
    "Gunawan", "Rahman", "Syahputra", "Wulandari", "Maharani", "Baso", "Daeng", "Lamba",
    "Manurung", "Tanjung", "Harahap", "Susanto", "Firmansyah", "Utami", "Anggraini",
)  # fmt: skip
KINDS = (
    "pelatihan", "bimtek", "sosialisasi", "forum_kemitraan", "workshop", "rapat_koordinasi",
    "lomba", "monev",
)  # fmt: skip
KIND_TITLES = {
    "pelatihan": "Pelatihan",
    "bimtek": "Bimbingan Teknis",
    "sosialisasi": "Sosialisasi",
    "forum_kemitraan": "Forum Kemitraan",
    "workshop": "Workshop",
    "rapat_koordinasi": "Rapat Koordinasi",
    "lomba": "Lomba",
    "monev": "Monitoring dan Evaluasi",
}
TOPICS = (
    "Literasi Digital", "Anti-Hoaks", "Konten Positif", "Pemasaran Produk Desa",
    "Jurnalisme Warga", "Fotografi Ponsel", "Keterbukaan Informasi Publik", "Video Pendek",
    "Pengelolaan Media Sosial", "Keamanan Data Pribadi",
)  # fmt: skip
BIDANG = (
    "informasi_publik", "literasi_digital", "ekonomi_kreatif", "potensi_desa", "pertanian",
    "sosial_budaya", "seni_pertunjukan", "keagamaan", "lingkungan", "kesehatan", "pendidikan",
    "kebencanaan", "konten_positif",
)  # fmt: skip
CHECKIN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
UTC_OFFSET = {"Asia/Jakarta": 7, "Asia/Makassar": 8, "Asia/Jayapura": 9}
FIRST_DAY = date(2025, 1, 1)
SPREAD_DAYS = 730  # events start over 2025–2026


def iso(moment: datetime | date | None) -> str | None:
    """Dates and times as SQLAlchemy stores them on SQLite (and PostgreSQL reads as text)."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.isoformat(" ", "microseconds")
    return moment.isoformat()


def scrambled_code(number: int, multiplier: int) -> str:
    """Eight characters of the check-in alphabet, a bijection of ``number`` (< 31⁸): unique
    wherever the numbers are, and not sequential to the eye."""
    high, low = divmod((number * multiplier + 12345) % 31**8, 31**4)
    halves = _code_halves()
    return halves[low] + halves[high]


@functools.cache
def _code_halves() -> list[str]:
    """All 31⁴ four-character strings, least significant character first."""
    a = CHECKIN_ALPHABET
    return [w + x + y + z for z in a for y in a for x in a for w in a]


def person_name(n: int) -> tuple[str, str]:
    first, gender = FIRST_NAMES[n % len(FIRST_NAMES)]
    return f"{first} {LAST_NAMES[(n // len(FIRST_NAMES) + n) % len(LAST_NAMES)]}", gender


def member_phone(member_id: int) -> str:
    return f"+62812{member_id:08d}"


def guest_phone(guest: int) -> str:
    return f"+62813{guest:08d}"


# --- the plan: what is generated, computed once and shared by every table's rows -----------------


@dataclass
class EventPlan:
    id: int
    kind: str
    region: str
    status: str
    first_day: date
    sessions: list[tuple[int, datetime, datetime]] = field(default_factory=list)
    first_registration: int = 0
    members: tuple[int, int] = (0, 0)  # first member id, how many
    guests: tuple[int, int] = (0, 0)  # first guest number, how many
    capacity: int | None = None
    mode: str = "keduanya"
    cancel_every: int = 29  # every n-th registration (n-1, 2n-1, …) is cancelled; 0: none

    @property
    def people(self) -> int:
        return self.members[1] + self.guests[1]

    def cancelled(self, j: int) -> bool:
        return bool(self.cancel_every) and j % self.cancel_every == self.cancel_every - 1

    @property
    def registered(self) -> int:
        if not self.cancel_every:
            return self.people
        return self.people - self.people // self.cancel_every


@dataclass
class Plan:
    spec: Spec
    today: date
    villages: list[tuple[str, str]]  # (code, name) ordered by code; KIM id = index + 1
    region_names: dict[str, str]
    owners: list[str]  # regions that own events
    member_range: dict[str, tuple[int, int]]  # region → (first member id, count)
    first_user_id: int
    operator_id: dict[str, int] = field(default_factory=dict)
    kades_id: dict[str, int] = field(default_factory=dict)
    bulk_users: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    events: list[EventPlan] = field(default_factory=list)
    guest_pool: int = 0

    @property
    def kims(self) -> int:
        return len(self.villages)

    def village_name(self, kim_id: int) -> str:
        return self.villages[kim_id - 1][1]


def make_plan(
    spec: Spec,
    villages: list[tuple[str, str]],
    region_names: dict[str, str],
    first_user_id: int,
    today: date,
) -> Plan:
    if spec.scope:
        owners = [spec.scope]
    else:
        owners = sorted(code for code in region_names if len(code) in (2, 5))
    member_range: dict[str, tuple[int, int]] = {}
    for index, (code, _name) in enumerate(villages):
        first_member = index * MEMBERS_PER_KIM + 1
        for prefix in (code[:2], code[:5]):
            start, count = member_range.get(prefix, (first_member, 0))
            member_range[prefix] = (start, count + MEMBERS_PER_KIM)
    plan = Plan(spec, today, villages, region_names, owners, member_range, first_user_id)
    members_total = len(villages) * MEMBERS_PER_KIM
    plan.guest_pool = (spec.participants - members_total) if spec.participants else spec.guest_pool

    # accounts: an operator for every province and regency in scope, a head for every village
    uid = first_user_id
    regions = [c for c in sorted(region_names) if len(c) in (2, 5)]
    if spec.scope:
        regions = [spec.scope[:2], spec.scope]
    for code in regions:
        role = "operator_provinsi" if len(code) == 2 else "operator_kabkota"
        plan.operator_id[code] = uid
        plan.bulk_users.append((uid, f"op-{code}@bench.example", region_names[code], role, code))
        uid += 1
    for code, name in villages:
        plan.kades_id[code] = uid
        plan.bulk_users.append((uid, f"kades-{code}@bench.example", name, "kepala_desa", code))
        uid += 1

    # the two events of the contract, then the rest spread over owners and 2025–2026
    big = EventPlan(1, "pelatihan", REGENCY_CODE, "berlangsung", today, cancel_every=0)
    big.mode = "undangan"
    public = EventPlan(2, "sosialisasi", REGENCY_CODE, "terbit", today + timedelta(days=14))
    public.mode, public.cancel_every = "terbuka", 0
    plan.events = [big, public]
    for k in range(spec.events - 2):
        region = owners[k % len(owners)] if spec.scope else owners[(k * 7) % len(owners)]
        first_day = FIRST_DAY + timedelta(days=(k * 7919) % SPREAD_DAYS)
        plan.events.append(EventPlan(k + 3, KINDS[k % len(KINDS)], region, "", first_day))

    session_id = 1
    for ev in plan.events:
        count = 2 if ev.id <= 2 else 2 + (ev.id * 7) % 4
        for day in range(count):
            start = datetime.combine(ev.first_day + timedelta(days=day), datetime.min.time())
            ev.sessions.append(
                (session_id, start + timedelta(hours=8), start + timedelta(hours=15))
            )
            session_id += 1
        if ev.id > 2:
            last_day = ev.first_day + timedelta(days=count - 1)
            if last_day < today:
                ev.status = "dibatalkan" if ev.id % 20 == 7 else "selesai"
            elif ev.first_day > today:
                ev.status = "draft" if ev.id % 7 == 3 else "terbit"
            else:
                ev.status = "berlangsung"

    # how many people each event has: a factor per event, scaled to the attendance target
    def factor(ev: EventPlan) -> float:
        return 0.5 + ((ev.id * 31) % 100) / 100

    regular = [ev for ev in plan.events if ev.id > 2 and ev.status != "draft"]
    base = float(spec.registrations_base)
    if spec.attendance_target:
        weight = sum(
            factor(ev) * len(ev.sessions) * (1 - 1 / 29) for ev in regular if ev.status == "selesai"
        )
        base = spec.attendance_target / weight
    registration_id = 1
    # members and guests are taken in consecutive windows, so every one of them takes part
    guest_cursor, member_cursor = 0, {}
    for ev in plan.events:
        if ev.id == 1:
            people = spec.big_event_people
        elif ev.id == 2:
            people = spec.public_event_people
        elif ev.status == "draft":
            people = 0
        else:
            people = round(base * factor(ev))
        first_member, pool = member_range[ev.region]
        share = 0.6 if ev.id == 1 else spec.member_share
        taken = 0 if ev.id == 2 else min(pool, round(people * share))
        start = member_cursor.get(ev.region, 0)
        if start + taken > pool:  # the last window reaches the end, the next starts over
            start = pool - taken
        member_cursor[ev.region] = (start + taken) % pool if pool else 0
        ev.members = (first_member + start, taken)
        guests = min(people - taken, plan.guest_pool)
        if guest_cursor + guests > plan.guest_pool:
            guest_cursor = plan.guest_pool - guests
        ev.guests = (guest_cursor, guests)
        guest_cursor = (guest_cursor + guests) % plan.guest_pool
        ev.first_registration = registration_id
        registration_id += ev.people
        if ev.id > 2 and ev.id % 4 == 0:
            ev.capacity = ev.people + 10
        if ev.id > 2:
            ev.mode = ("undangan", "keduanya", "terbuka")[ev.id % 3]
    return plan


# --- rows, table by table (the same for both databases) ------------------------------------------

Row = tuple
Table = tuple[str, tuple[str, ...], Callable[[Plan], Iterator[Row]]]


def user_rows(plan: Plan, password_hash: str) -> Iterator[Row]:
    created = iso(datetime(2024, 12, 1, 8))
    for uid, email, name, role, scope in plan.bulk_users:
        yield (uid, email, name, password_hash, role, scope, True, 1, created)


def kim_rows(plan: Plan) -> Iterator[Row]:
    from kim_app.groups.models import name_key

    per_regency: dict[str, int] = {}
    for index, (code, village) in enumerate(plan.villages):
        kim_id = index + 1
        regency = code[:5]
        per_regency[regency] = per_regency.get(regency, 0) + 1
        name = f"KIM {village}"
        created = datetime(2024, 1, 1, 9) + timedelta(minutes=kim_id * 7)
        kelurahan = code.rsplit(".", 1)[1].startswith("1")
        founded = date(2015, 1, 1) + timedelta(days=kim_id % 3000)
        yield (
            kim_id,
            f"KIM-{regency}-{per_regency[regency]:04d}",
            name,
            name_key(name),
            code,
            f"Jl. Poros {village} No. {kim_id % 90 + 1}",
            iso(founded),
            f"{kim_id % 400 + 1}/SK-KIM/{founded.year}",
            iso(founded + timedelta(days=30)),
            "lurah" if kelurahan else "kepala_desa",
            f"Komunitas informasi warga {village}: potensi desa, pertanian dan UMKM.",
            member_phone(index * MEMBERS_PER_KIM + 1),
            "",
            "",
            "",
            kim_id % 3 == 0,
            kim_id % 4 == 0,
            "terverifikasi",
            iso(created + timedelta(days=2)),
            iso(created + timedelta(days=9)),
            iso(created),
            iso(created + timedelta(days=9)),
            plan.kades_id[code],
        )


def kim_field_rows(plan: Plan) -> Iterator[Row]:
    for kim_id in range(1, plan.kims + 1):
        fields = {BIDANG[kim_id % 13], BIDANG[(kim_id * 7 + 3) % 13]}
        if kim_id % 3 == 0:
            fields.add(BIDANG[(kim_id * 5 + 1) % 13])
        for name in sorted(fields):
            yield (kim_id, name)


def status_change_rows(plan: Plan) -> Iterator[Row]:
    for kim_id in range(1, plan.kims + 1):
        code = plan.villages[kim_id - 1][0]
        at = datetime(2024, 1, 10, 9) + timedelta(minutes=kim_id * 7)
        yield (kim_id, kim_id, "diajukan", "terverifikasi", plan.operator_id[code[:5]], iso(at), "")


def member_rows(plan: Plan) -> Iterator[Row]:
    created = iso(datetime(2024, 2, 1, 10))
    for kim_id in range(1, plan.kims + 1):
        for j in range(MEMBERS_PER_KIM):
            member_id = (kim_id - 1) * MEMBERS_PER_KIM + j + 1
            name, gender = person_name(member_id)
            position = POSITIONS[j] if j < len(POSITIONS) else "anggota"
            phone = member_phone(member_id)
            yield (member_id, kim_id, name, position, gender, phone, "", True, created, created)


def event_rows(plan: Plan) -> Iterator[Row]:
    from kim_app.timezones import zone_name_for

    for ev in plan.events:
        place = plan.region_names[ev.region]
        topic = TOPICS[ev.id % len(TOPICS)]
        if ev.id == 1:
            title = "Pelatihan Literasi Digital KIM (bench, 500 peserta)"
        elif ev.id == 2:
            title = "Sosialisasi Keterbukaan Informasi (bench, pendaftaran terbuka)"
        else:
            title = f"{KIND_TITLES[ev.kind]} {topic} KIM {place} {ev.first_day.year}"
        created = datetime.combine(ev.first_day, datetime.min.time()) - timedelta(days=30)
        organiser = f"Diskominfo {place}"
        yield (
            ev.id,
            scrambled_code(ev.id, 7_368_787),
            ev.kind,
            title,
            f"{KIND_TITLES[ev.kind]} {topic.lower()} untuk pengurus dan anggota KIM.",
            organiser,
            "0812-0000-0000",
            ev.region,
            zone_name_for(ev.region),
            f"Aula {organiser}",
            f"Jl. Merdeka No. {ev.id % 200 + 1}, {place}",
            "",
            ev.capacity,
            ev.mode,
            None,
            ev.status,
            "Ditunda oleh penyelenggara." if ev.status == "dibatalkan" else "",
            ev.registered,
            iso(ev.sessions[0][1]),
            60,
            "",
            False,
            "Kepala Dinas Kominfo",
            f"Kepala Dinas Komunikasi dan Informatika {place}",
            "",
            75 if ev.id % 3 == 0 else None,
            "{no}/SERT-KIM/{bulan}/{tahun}",
            plan.operator_id.get(ev.region),
            iso(created),
            iso(created),
        )


def session_rows(plan: Plan) -> Iterator[Row]:
    for ev in plan.events:
        for day, (sid, start, end) in enumerate(ev.sessions, 1):
            topic = f"Hari {day}: {TOPICS[(ev.id + day) % len(TOPICS)]}"
            yield (sid, ev.id, iso(start), iso(end), topic)


def speaker_rows(plan: Plan) -> Iterator[Row]:
    for ev in plan.events:
        for sid, _start, _end in ev.sessions:
            name, _gender = person_name(sid * 3)
            yield (sid, sid, name, "Narasumber", "Dinas Komunikasi dan Informatika")


def invitation_rows(plan: Plan) -> Iterator[Row]:
    invitation_id = 0
    for ev in plan.events:
        first, count = ev.members
        if not count:
            continue
        created = iso(datetime.combine(ev.first_day, datetime.min.time()) - timedelta(days=20))
        kims: dict[int, int] = {}
        for member_id in range(first, first + count):
            kim_id = (member_id - 1) // MEMBERS_PER_KIM + 1
            kims[kim_id] = kims.get(kim_id, 0) + 1
        for kim_id, quota in kims.items():
            invitation_id += 1
            yield (invitation_id, ev.id, kim_id, quota, created)


def registration_rows(plan: Plan) -> Iterator[Row]:
    for ev in plan.events:
        base = datetime.combine(ev.first_day, datetime.min.time()) - timedelta(days=14)
        first_member, members = ev.members
        first_guest, _guests = ev.guests
        for j in range(ev.people):
            rid = ev.first_registration + j
            created = base + timedelta(minutes=j)
            if j < members:
                member_id = first_member + j
                kim_id = (member_id - 1) // MEMBERS_PER_KIM + 1
                name, gender = person_name(member_id)
                j_in_kim = (member_id - 1) % MEMBERS_PER_KIM
                position = POSITIONS[j_in_kim] if j_in_kim < len(POSITIONS) else "anggota"
                person = (
                    kim_id,
                    member_id,
                    name,
                    f"KIM {plan.village_name(kim_id)}",
                    POSITION_TEXT[position],
                    gender,
                    member_phone(member_id),
                    "undangan",
                )
            else:
                guest = first_guest + j - members
                name, gender = person_name(guest + 7)
                source = "walk_in" if guest % 10 == 0 else "mandiri"
                person = (None, None, name, "", "", gender, guest_phone(guest), source)
            cancelled = ev.cancelled(j)
            created_text = iso(created)
            later = iso(created + timedelta(days=2)) if cancelled else None
            yield (
                rid,
                ev.id,
                *person,
                "batal" if cancelled else "terdaftar",
                hashlib.md5(f"bench-ticket-{rid}".encode()).hexdigest()[:24],
                scrambled_code(rid, 982_451_653),
                created_text,
                later if cancelled else created_text,
                later if cancelled else None,
            )


def attendance_rows(plan: Plan) -> Iterator[Row]:
    """Every registered person × every session of the finished events: mostly hadir."""
    from kim_app.timezones import zone_name_for

    attendance_id = 0
    for ev in plan.events:
        if ev.status != "selesai":
            continue
        recorder = plan.operator_id.get(ev.region)
        offset = timedelta(hours=UTC_OFFSET[zone_name_for(ev.region)])
        for sid, start, _end in ev.sessions:
            times = [iso(start - offset + timedelta(minutes=m - 20)) for m in range(0, 60, 2)]
            for j in range(ev.people):
                if ev.cancelled(j):
                    continue
                rid = ev.first_registration + j
                h = (rid * 2_654_435_761 + sid * 97) % 100
                if h < 78:
                    status = "hadir"
                elif h < 84:
                    status = "izin"
                elif h < 88:
                    status = "sakit"
                else:
                    status = "alpa"
                m = (rid + sid) % 10
                method = "roll_call" if m < 6 else ("qr" if m < 9 else "self")
                at = times[j % 30]
                attendance_id += 1
                yield (attendance_id, rid, sid, status, method, at, recorder, at)


def mark_rows(plan: Plan) -> Iterator[Row]:
    """The mark history only for the bench regency's events (the rest keep attendance alone)."""
    kept = replace(plan, events=[ev for ev in plan.events if ev.region == REGENCY_CODE])
    for mark_id, row in enumerate(attendance_rows(kept), 1):
        _id, rid, sid, status, method, at, recorder, _updated = row
        client = f"bench-{rid}-{sid}"
        yield (mark_id, client, rid, sid, status, method, at, at, recorder, True)


# KIM activity (issue 26): two reports a month per KIM over the activity year, one item a month
# per regency and two relays in three; every tenth KIM reports nothing (the idle ones monev flags)
ACTIVITY_KINDS = ("informasi", "hoaks", "potensi", "aspirasi", "darurat", "pertemuan", "konten")


def activity_year(plan: Plan) -> int:
    return plan.today.year


def _regencies(plan: Plan) -> list[str]:
    return sorted({code[:5] for code, _name in plan.villages})


def activity_report_rows(plan: Plan) -> Iterator[Row]:
    year, report_id = activity_year(plan), 0
    for index, (code, village) in enumerate(plan.villages):
        kim_id = index + 1
        if kim_id % 10 == 0:
            continue
        for month in range(1, 13):
            for day in (5, 20):
                done = date(year, month, day)
                if done > plan.today:
                    continue
                report_id += 1
                status = ("diterima", "diterima", "diterima", "diterima", "dikirim")[report_id % 5]
                at = iso(datetime(year, month, day, 10))
                yield (
                    report_id, kim_id, code, f"bench-{report_id}",
                    ACTIVITY_KINDS[(kim_id + month + day) % len(ACTIVITY_KINDS)], iso(done),
                    f"Kegiatan KIM {village} bulan {month}.", "whatsapp,pertemuan", "",
                    20 + (kim_id * 7 + month) % 180, status, "",
                    None, at if status == "diterima" else None, plan.kades_id[code], at, at,
                )  # fmt: skip


def info_item_rows(plan: Plan) -> Iterator[Row]:
    year = activity_year(plan)
    for r, regency in enumerate(_regencies(plan)):
        for month in range(1, 13):
            if date(year, month, 2) > plan.today:
                continue
            title = f"Informasi {month}/{year} untuk KIM {plan.region_names.get(regency, regency)}"
            yield (
                r * 12 + month, regency, "", title, "Isi informasi untuk disebarkan.", "",
                title, None, None, 0, month % 4 == 0, 0, iso(datetime(year, month, 2, 8)),
                plan.operator_id.get(regency),
            )  # fmt: skip


def info_relay_rows(plan: Plan) -> Iterator[Row]:
    year, relay_id = activity_year(plan), 0
    number = {regency: r for r, regency in enumerate(_regencies(plan))}
    for index, (code, _village) in enumerate(plan.villages):
        kim_id = index + 1
        if kim_id % 10 == 0:
            continue
        for month in range(1, 13):
            at = datetime(year, month, 3, 9)
            if (kim_id + month) % 3 == 0 or at.date() > plan.today:
                continue
            relay_id += 1
            yield (
                relay_id, number[code[:5]] * 12 + month, kim_id, code, "whatsapp", "",
                30 + kim_id % 70, iso(at), plan.kades_id[code],
            )  # fmt: skip


TABLES: list[Table] = [
    ("kims", ("id", "registration_number", "name", "name_key", "village_code", "address",
              "founded_on", "sk_number", "sk_date", "sk_signer", "potensi", "whatsapp", "email",
              "website", "social_links", "public_contact", "show_ketua", "status",
              "submitted_at", "verified_at", "created_at", "updated_at", "created_by_id"),
     kim_rows),
    ("kim_fields", ("kim_id", "field"), kim_field_rows),
    ("kim_status_changes", ("id", "kim_id", "from_status", "to_status", "by_id", "at", "note"),
     status_change_rows),
    ("members", ("id", "kim_id", "name", "position", "gender", "phone", "email", "active",
                 "created_at", "updated_at"), member_rows),
    ("events", ("id", "code", "kind", "title", "description", "organiser", "contact",
                "region_code", "timezone", "venue_name", "venue_address", "online_link",
                "capacity", "registration_mode", "registration_deadline", "status",
                "cancel_reason", "registered_count", "starts_on", "checkin_opens_minutes",
                "venue_pin", "signatures", "signer_name", "signer_position", "signer_nip",
                "certificate_min_percent", "certificate_number_format", "created_by_id",
                "created_at", "updated_at"), event_rows),
    ("event_sessions", ("id", "event_id", "starts_at", "ends_at", "topic"), session_rows),
    ("event_speakers", ("id", "session_id", "name", "position", "institution"), speaker_rows),
    ("event_invitations", ("id", "event_id", "kim_id", "quota", "created_at"), invitation_rows),
    ("registrations", ("id", "event_id", "kim_id", "member_id", "name", "institution",
                       "position", "gender", "phone", "source", "status", "ticket",
                       "checkin_code", "created_at", "updated_at", "cancelled_at"),
     registration_rows),
    ("attendance", ("id", "registration_id", "session_id", "status", "method", "marked_at",
                    "recorded_by_id", "updated_at"), attendance_rows),
    ("attendance_marks", ("id", "client_id", "registration_id", "session_id", "status", "method",
                          "marked_at", "received_at", "recorded_by_id", "applied"), mark_rows),
    ("activity_reports", ("id", "kim_id", "village_code", "client_id", "kind", "done_on", "text",
                          "channels", "link", "reach", "status", "review_note", "reviewed_by_id",
                          "reviewed_at", "created_by_id", "created_at", "updated_at"),
     activity_report_rows),
    ("info_items", ("id", "area_code", "field", "title", "text", "link", "share_text", "file",
                    "file_mime", "file_size", "urgent", "kims", "sent_at", "created_by_id"),
     info_item_rows),
    ("info_relays", ("id", "item_id", "kim_id", "village_code", "channels", "link", "reach",
                     "relayed_at", "by_id"), info_relay_rows),
]  # fmt: skip
USER_COLUMNS = (
    "id", "email", "name", "password_hash", "role", "scope_code", "active", "session_version",
    "created_at",
)  # fmt: skip
# tables loaded frozen, their secondary indexes and unique constraints rebuilt after the load, on
# PostgreSQL (nothing they cascade to when truncated holds rows yet: see the order of TABLES)
REINDEXED = {
    "members",
    "registrations",
    "attendance",
    "attendance_marks",
    "event_invitations",
    "activity_reports",
    "info_relays",
}


# --- the steps both builds share ------------------------------------------------------------------


class Timer:
    """Phases with their row counts and seconds, printed as a table at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int | None, float]] = []
        self.started = time.perf_counter()

    def run(self, phase: str, action: Callable[[], int | None]) -> int | None:
        began = time.perf_counter()
        count = action()
        seconds = time.perf_counter() - began
        self.rows.append((phase, count, seconds))
        shown = "" if count is None else f"{count:,} rows, "
        print(f"  {phase}: {shown}{seconds:.1f} s", flush=True)
        return count

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started

    def table(self, title: str) -> str:
        lines = [
            title,
            f"| {'phase':<28} | {'rows':>12} | {'seconds':>8} |",
            f"|{'-' * 30}|{'-' * 14}:|{'-' * 9}:|",
        ]
        for phase, count, seconds in self.rows:
            shown = "" if count is None else f"{count:,}"
            lines.append(f"| {phase:<28} | {shown:>12} | {seconds:>8.1f} |")
        lines.append(f"| {'total':<28} | {'':>12} | {self.total:>8.1f} |")
        return "\n".join(lines)


def _app(uri: str):
    from kim_app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": uri, "RATELIMIT_ENABLED": False})


def upgrade(uri: str) -> None:
    """A reused dataset gets the app's newer migrations (indexes, mostly), so the bench always
    measures the schema the app ships."""
    from flask_migrate import upgrade as migrate

    with _app(uri).app_context():
        migrate()


def _prepare_schema(app, timer: Timer, regency_only: bool) -> tuple[dict, list, int, str]:
    """Migrations, regions (the app's importer), the bench accounts (``create_user``)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from kim_app.auth.models import Role, User
    from kim_app.auth.operations import create_user
    from kim_app.extensions import db
    from kim_app.regions.models import Region
    from kim_app.regions.operations import import_regions

    with app.app_context():
        timer.run("migrations", upgrade)

        def regions() -> int:
            result = import_regions(REGION_DIR)
            db.session.commit()
            return result.total

        timer.run("regions (app importer)", regions)

        def accounts() -> int:
            for email, name, role, scope in ACCOUNTS:
                create_user(
                    email=email,
                    name=name,
                    role=Role(role),
                    scope_code=scope,
                    password=PASSWORD,
                    by=None,
                )
            db.session.commit()
            return len(ACCOUNTS)

        timer.run("bench accounts (create_user)", accounts)
        names = dict(db.session.execute(sa.select(Region.code, Region.name)).all())
        first_user = db.session.scalar(sa.select(sa.func.max(User.id))) + 1
        password_hash = db.session.scalar(
            sa.select(User.password_hash).where(User.email == ACCOUNTS[0][0])
        )
        db.session.remove()
        db.engine.dispose()
    prefix = REGENCY_CODE + "." if regency_only else ""
    villages = sorted(
        (code, name) for code, name in names.items() if len(code) == 13 and code.startswith(prefix)
    )
    return names, villages, first_user, password_hash


def monev_refresh(uri: str, plan: Plan) -> int:
    """The monev figures of every KIM for the activity year, by the worker's own recount."""
    from kim_app.activity.monev.operations import refresh_area
    from kim_app.extensions import db

    app = _app(uri)
    with app.app_context():
        kept = refresh_area("", activity_year(plan))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return kept


def _meta_rows(plan: Plan, seconds: float, counts: dict[str, int]) -> dict[str, str]:
    big = plan.events[0]
    return {
        "big_event_id": str(big.id),
        "big_session_id": str(big.sessions[0][0]),
        "public_code": scrambled_code(plan.events[1].id, 7_368_787),
        "regency_code": REGENCY_CODE,
        "password": PASSWORD,
        "build_seconds": f"{seconds:.1f}",
        "built_at": datetime.now().isoformat(timespec="seconds"),
        "attendance_rows": str(counts.get("attendance", 0)),
        "version": VERSION,  # last: the marker that the build finished
    }


# --- PostgreSQL -----------------------------------------------------------------------------------


def _pg_admin() -> psycopg.Connection:
    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True)


def _pg_meta() -> dict[str, str] | None:
    with _pg_admin() as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (NATIONAL_DB,))
        if exists.fetchone() is None:
            return None
    with psycopg.connect(NATIONAL_URL) as conn:
        found = conn.execute("SELECT to_regclass('bench_meta')").fetchone()[0]
        if found is None:
            return None
        meta = dict(conn.execute("SELECT key, value FROM bench_meta").fetchall())
    return meta if meta.get("version") == VERSION else None


def _pg_reindex_plan(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """Drop the secondary indexes and unique constraints of ``table``; return how to rebuild."""
    rebuild: list[tuple[str, str]] = []
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'",
        (table,),
    ).fetchall()
    for name, definition in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        rebuild.append((name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    indexes = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary",
        (table,),
    ).fetchall()
    for name, definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
        rebuild.append((name, definition))
    return rebuild


def _pg_copy(
    conn: psycopg.Connection, table: str, columns: Iterable[str], rows, freeze: bool = False
) -> int:
    """COPY the rows; ``freeze`` writes them frozen (the table is truncated first, in the same
    transaction, with the empty tables that refer to it), which spares the vacuum afterwards."""
    count = 0
    if freeze:
        conn.execute(f"TRUNCATE {table} CASCADE")
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN" + (" (FREEZE)" if freeze else "")
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _tune_national() -> None:
    """The planner setting the README recommends for a PostgreSQL whose data sits on SSD or in
    memory: random reads cost about as much as sequential ones (PostgreSQL's default of 4
    assumes spinning disks and sent the directory search through a scan of every KIM)."""
    with _pg_admin() as admin:
        admin.execute(f"ALTER DATABASE {NATIONAL_DB} SET random_page_cost = 1.1")


def build_national(rebuild: bool = False) -> dict[str, str]:
    meta = None if rebuild else _pg_meta()
    if meta:
        print(f"national dataset: reusing {NATIONAL_DB} (built in {meta['build_seconds']} s)")
        upgrade(NATIONAL_URI)
        _tune_national()
        return meta
    # built under another name and renamed at the end: the old dataset serves until then
    building = f"{NATIONAL_DB}_build"
    url = f"{PG_SERVER}/{building}"
    print(
        f"national dataset: building PostgreSQL database {NATIONAL_DB} (as {building})", flush=True
    )
    timer = Timer()

    def fresh_database() -> None:
        with _pg_admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {building}")

    timer.run("create database", fresh_database)
    names, villages, first_user, password_hash = _prepare_schema(
        _app("postgresql+psycopg://" + url.split("://", 1)[1]), timer, regency_only=False
    )
    began = time.perf_counter()
    plan = make_plan(NATIONAL, villages, names, first_user, date.today())
    timer.rows.append(("plan", len(plan.events), time.perf_counter() - began))
    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        counts["users"] = timer.run(
            "users (bulk)",
            lambda: _pg_copy(conn, "users", USER_COLUMNS, user_rows(plan, password_hash)),
        )
        conn.commit()
        for table, columns, rows in TABLES:
            rebuild_later = _pg_reindex_plan(conn, table) if table in REINDEXED else []

            def load(table=table, columns=columns, rows=rows) -> int:
                return _pg_copy(conn, table, columns, rows(plan), freeze=table in REINDEXED)

            counts[table] = timer.run(table, load)
            if rebuild_later:

                def reindex(statements=rebuild_later) -> None:
                    for _name, statement in statements:
                        conn.execute(statement)

                timer.run(f"{table} indexes", reindex)
            conn.commit()

        def fix_up() -> int:
            conn.execute(
                "UPDATE users SET event_id = %s WHERE email = %s",
                (plan.events[0].id, "petugas@bench.example"),
            )
            fixed = conn.execute(
                "UPDATE events e SET registered_count = c.n FROM ("
                " SELECT event_id, count(*) AS n FROM registrations WHERE status = 'terdaftar'"
                " GROUP BY event_id) c WHERE c.event_id = e.id AND e.registered_count <> c.n"
            ).rowcount
            for table in ("users", *(t for t, cols, _r in TABLES if cols[0] == "id")):
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            conn.commit()
            return fixed

        timer.run("counters and sequences", fix_up)

        def recount() -> int:  # the load ran without triggers: the dashboard's tallies
            empty, fill = tallies.RECOUNT
            conn.execute(empty)
            written = conn.execute(fill).rowcount
            conn.commit()
            return written

        timer.run("attendance tallies", recount)

        def recount_year_tallies() -> int:  # the dashboard's (issue 24), from the rows loaded
            written = 0
            for statement in year_tallies.recount_statements("postgresql"):
                result = conn.execute(statement)
                if statement.startswith("INSERT"):
                    written += result.rowcount
            conn.commit()
            return written

        timer.run("year tallies", recount_year_tallies)
    timer.run(
        "monev tallies (the app's refresh)",
        lambda: monev_refresh("postgresql+psycopg://" + url.split("://", 1)[1], plan),
    )
    with psycopg.connect(url, autocommit=True) as conn:
        timer.run("vacuum analyze", lambda: conn.execute("VACUUM ANALYZE") and None)
        meta = _meta_rows(plan, timer.total, counts)
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        with conn.transaction():
            conn.execute("DELETE FROM bench_meta")
            for key, value in meta.items():
                conn.execute("INSERT INTO bench_meta VALUES (%s, %s)", (key, value))
    with _pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {NATIONAL_DB} WITH (FORCE)")
        admin.execute(f"ALTER DATABASE {building} RENAME TO {NATIONAL_DB}")
    _tune_national()
    print(timer.table(f"national dataset ({NATIONAL_DB}), built {date.today()}"))
    return meta


# --- SQLite ---------------------------------------------------------------------------------------


def _sqlite_meta() -> dict[str, str] | None:
    if not REGENCY_PATH.exists():
        return None
    with sqlite3.connect(REGENCY_PATH) as conn:
        try:
            meta = dict(conn.execute("SELECT key, value FROM bench_meta").fetchall())
        except sqlite3.OperationalError:
            return None
    return meta if meta.get("version") == VERSION else None


def _sqlite_load(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], rows) -> int:
    counter = [0]

    def counted():
        for row in rows:
            counter[0] += 1
            yield row

    marks = ", ".join("?" * len(columns))
    with conn:
        conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", counted())
    return counter[0]


def build_regency(rebuild: bool = False) -> dict[str, str]:
    meta = None if rebuild else _sqlite_meta()
    if meta:
        print(f"regency dataset: reusing {REGENCY_PATH} (built in {meta['build_seconds']} s)")
        upgrade(REGENCY_URI)
        return meta
    print(f"regency dataset: building {REGENCY_PATH}", flush=True)
    timer = Timer()
    REGENCY_PATH.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{REGENCY_PATH}{suffix}").unlink(missing_ok=True)
    names, villages, first_user, password_hash = _prepare_schema(
        _app(REGENCY_URI), timer, regency_only=True
    )
    began = time.perf_counter()
    plan = make_plan(REGENCY, villages, names, first_user, date.today())
    timer.rows.append(("plan", len(plan.events), time.perf_counter() - began))
    counts: dict[str, int] = {}
    conn = sqlite3.connect(REGENCY_PATH)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA foreign_keys = OFF")
        counts["users"] = timer.run(
            "users (bulk)",
            lambda: _sqlite_load(conn, "users", USER_COLUMNS, user_rows(plan, password_hash)),
        )
        for table, columns, rows in TABLES:

            def load(table=table, columns=columns, rows=rows) -> int:
                return _sqlite_load(conn, table, columns, rows(plan))

            counts[table] = timer.run(table, load)

        def fix_up() -> int:
            with conn:
                conn.execute(
                    "UPDATE users SET event_id = ? WHERE email = ?",
                    (plan.events[0].id, "petugas@bench.example"),
                )
                return conn.execute(
                    "UPDATE events SET registered_count = (SELECT count(*) FROM registrations r"
                    " WHERE r.event_id = events.id AND r.status = 'terdaftar')"
                    " WHERE registered_count <> (SELECT count(*) FROM registrations r"
                    " WHERE r.event_id = events.id AND r.status = 'terdaftar')"
                ).rowcount

        timer.run("counters", fix_up)

        def check_tallies() -> int:  # the triggers kept them during the load: as a recount?
            kept = conn.execute(f"{tallies.KEPT} ORDER BY 1, 2").fetchall()
            if kept != conn.execute(f"{tallies.COUNTED} ORDER BY 1, 2").fetchall():
                raise RuntimeError("the attendance tallies differ from a recount of the marks")
            return len(kept)

        timer.run("attendance tallies (checked)", check_tallies)

        def check_year_tallies() -> int:  # the same for the dashboard's tallies (issue 24)
            counted = year_tallies.counted_statements("sqlite")
            kept = year_tallies.kept_statements()
            rows = 0
            for table in year_tallies.TABLES:
                order = ", ".join(map(str, range(1, len(table.key) + len(table.values) + 1)))
                held = conn.execute(f"SELECT * FROM ({kept[table.name]}) ORDER BY {order}")
                held = held.fetchall()
                fresh = conn.execute(f"SELECT * FROM ({counted[table.name]}) ORDER BY {order}")
                if held != fresh.fetchall():
                    raise RuntimeError(f"{table.name} differ from a recount of the rows")
                rows += len(held)
            return rows

        timer.run("year tallies (checked)", check_year_tallies)
        timer.run("monev tallies (the app's refresh)", lambda: monev_refresh(REGENCY_URI, plan))

        def check_and_analyze() -> int:
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken: {broken[:5]}")
            conn.execute("ANALYZE")
            return 0

        timer.run("foreign key check, analyze", check_and_analyze)
        meta = _meta_rows(plan, timer.total, counts)
        with conn:
            conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("DELETE FROM bench_meta")
            conn.executemany("INSERT INTO bench_meta VALUES (?, ?)", meta.items())
    finally:
        conn.close()
    print(timer.table(f"regency dataset ({REGENCY_PATH.name}), built {date.today()}"))
    return meta


# --- checks ---------------------------------------------------------------------------------------

COUNTED = ("regions", "users", *(t for t, _c, _r in TABLES))


def row_counts(uri: str) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(uri)
    try:
        with engine.connect() as conn:
            return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in COUNTED}
    finally:
        engine.dispose()


def check_app(uri: str, meta: dict[str, str]) -> list[str]:
    """The app starts on the dataset; the PPU operator signs in and sees the registry, the big
    event's participants; the public event page answers. Returns lines to print."""
    app = _app(uri)
    client = app.test_client()
    lines = []

    def get(path: str) -> tuple[int, str, float]:
        began = time.perf_counter()
        response = client.get(path)
        return response.status_code, response.get_data(as_text=True), time.perf_counter() - began

    status, page, _s = get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = client.post(
        "/login",
        data={
            "email": "ppu@bench.example",
            "password": PASSWORD,
            "csrf_token": token.group(1) if token else "",
        },
    )
    lines.append(f"  sign-in as ppu@bench.example: {response.status_code}")
    checks = (
        ("/kim/", "KIM-64.09-"),
        (f"/kegiatan/{meta['big_event_id']}/peserta", "Peserta"),
        (f"/e/{meta['public_code']}", "Sosialisasi"),
    )
    for path, expected in checks:
        status, page, seconds = get(path)
        found = "ok" if expected in page else f"'{expected}' missing"
        lines.append(
            f"  GET {path}: {status}, {len(page):,} bytes, {seconds * 1000:.0f} ms, {found}"
        )
    return lines


def ensure_national(rebuild: bool = False) -> dict[str, str]:
    return build_national(rebuild)


def ensure_regency(rebuild: bool = False) -> dict[str, str]:
    return build_regency(rebuild)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.data", description=__doc__.split("\n")[0]
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--national", action="store_true", help="PostgreSQL database kim_bench")
    which.add_argument("--regency", action="store_true", help="instance/bench/regency.sqlite3")
    which.add_argument("--all", action="store_true", help="both (the default)")
    parser.add_argument("--rebuild", action="store_true", help="build again even if present")
    parser.add_argument("--check", action="store_true", help="print row counts, try the app")
    args = parser.parse_args(argv)
    wanted = []
    if not args.regency:
        wanted.append(("national", build_national, NATIONAL_URI))
    if not args.national:
        wanted.append(("regency", build_regency, REGENCY_URI))
    for name, build, uri in wanted:
        meta = build(args.rebuild)
        print(
            f"{name}: big_event_id={meta['big_event_id']} big_session_id={meta['big_session_id']}"
            f" public_code={meta['public_code']} regency_code={meta['regency_code']}"
        )
        if args.check:
            for table, count in row_counts(uri).items():
                print(f"  {table:<20} {count:>12,}")
            for line in check_app(uri, meta):
                print(line)


if __name__ == "__main__":
    main()
