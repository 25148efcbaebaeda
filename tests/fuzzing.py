"""The fuzzing machinery of test_fuzz.py and test_fuzz_control.py: the world of records every
actor can reach, URLs for each endpoint, and the Fuzzer that sends examples and reads answers.
Over 600 lines on purpose: one engine, moved whole out of test_fuzz.py so both modules share it.
"""

from __future__ import annotations

import io
import itertools
import re
import secrets
import traceback
from collections import Counter
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import url_for
from hypothesis import HealthCheck, Phase, example, given, settings
from werkzeug.datastructures import MultiDict
from werkzeug.security import generate_password_hash

from kim_app import create_app, importing, tables
from kim_app.activity.dissemination.operations import ItemData, send_item
from kim_app.activity.models import ActivityKind, ReportStatus
from kim_app.activity.operations import ReportData, review_report, send_report
from kim_app.attendance.certificates.operations import clean_image, set_image
from kim_app.attendance.models import Certificate, Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.auth.models import LinkPurpose, Role, User
from kim_app.auth.operations import create_user, issue_link, link_token
from kim_app.competitions.models import Stage
from kim_app.competitions.operations import (
    CategoryData,
    CompetitionData,
    CriterionData,
    EntryData,
    advance,
    create_competition,
    save_category,
    save_entry,
)
from kim_app.evaluation.imports import QuestionImporter
from kim_app.evaluation.operations import (
    MaterialData,
    QuestionData,
    SettingsData,
    add_material,
    add_question,
    save_settings,
)
from kim_app.evaluation.participant import pass_of
from kim_app.events.imports import ParticipantImporter
from kim_app.events.models import Event, EventStatus, Invitation, Registration, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.files.models import FileStatus, PreparedFile
from kim_app.files.operations import params_key, path_of
from kim_app.groups.imports import KimImporter
from kim_app.groups.models import Gender, Kim, KimStatus
from kim_app.groups.operations import add_bidang, store_sk
from kim_app.notices.models import Notice, NoticeKind
from kim_app.regions.models import Region
from kim_app.reports.operations import add_photo
from kim_app.timezones import utcnow, zone_name_for
from tests.conftest import PASSWORD, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE
from tests.fuzz_forms import (
    REFLECTED,
    Form,
    form_values,
    image_bytes,
    killer_values,
    killers,
    payload,
    query_values,
    read_page,
)

VILLAGE_CHAIN = ["64", PPU, "64.09.03", PPU_VILLAGE]  # what a region picker may be given


CSRF = frozenset({"csrf_token"})  # sent as the page gave it


ACTORS = ("operator", "tamu", "kepala_desa", "pengurus", "petugas")


def make_password_hash() -> str:
    """One hash for every account of the module (hashing is slow on purpose)."""
    return generate_password_hash(PASSWORD)


def build_world(app, make_kim, make_event, password_hash: str) -> dict:
    """Accounts of every role, a verified and a submitted KIM, an event running now with
    registrations, marks, a certificate, an invitation, a report photo and two pending imports,
    another event tomorrow, a one-time account link and a notice."""
    kim = make_kim(members=5, public_contact=True, website="https://kim.example")
    queued = make_kim(village=PPU_OTHER_VILLAGE, status=KimStatus.DIAJUKAN, members=3)
    event = make_event(
        status=EventStatus.BERLANGSUNG,
        days=1,
        capacity=40,
        certificate_min_percent=50,
        signatures=True,
        signer_name="Ahmad Fauzi",
    )
    # tomorrow in the event's own zone: the outbox offers its reminders
    tomorrow = make_event(title="Sosialisasi Besok", days=1, sessions_per_day=1)
    with app.test_request_context():
        operator = _account(Role.OPERATOR_KABKOTA, PPU, password_hash)
        head = _account(Role.KEPALA_DESA, PPU_VILLAGE, password_hash)
        pengurus = _account(Role.PENGURUS_KIM, PPU_VILLAGE, password_hash, kim_id=kim.id)
        petugas = _account(Role.PETUGAS_ABSENSI, PPU, password_hash, event_id=event.id)
        db.session.flush()
        ev = db.session.get(Event, event.id)
        now = datetime.now(ZoneInfo(zone_name_for(PPU))).replace(tzinfo=None, microsecond=0)
        first, second = ev.sessions
        first.starts_at, first.ends_at = now - timedelta(hours=1), now + timedelta(hours=2)
        second.starts_at, second.ends_at = now + timedelta(hours=3), now + timedelta(hours=5)
        ev.starts_on = first.starts_at
        next_day = db.session.get(Event, tomorrow.id)
        start = (now + timedelta(days=1)).replace(hour=9, minute=0, second=0)
        next_day.sessions[0].starts_at, next_day.sessions[0].ends_at = (
            start,
            start + timedelta(hours=3),
        )
        next_day.starts_on = start
        db.session.add(Invitation(event_id=ev.id, kim_id=kim.id, quota=3))
        member = db.session.get(Kim, kim.id).members[0]
        people = [
            register_person(
                ev,
                PersonData(f"Peserta {i}", f"0812-7777-{i:04d}", "Kecamatan", "Staf", Gender.P),
                Source.MANDIRI,
                kim_id=kim.id if i == 0 else None,
                member_id=member.id if i == 0 else None,
            )[0]
            for i in range(3)
        ]
        mark_attendance(people[0], first, Presence.HADIR, None)
        mark_attendance(people[1], first, Presence.IZIN, None)
        # written directly: issuing waits for the last session, which is still ahead
        db.session.add(
            Certificate(
                registration_id=people[0].id,
                event_id=ev.id,
                serial=1,
                number="1/S",
                code="FUZZ2345AB",
            )
        )
        set_image(ev, "certificate_logo", clean_image(image_bytes("PNG"), "certificate_logo"))
        store_sk(db.session.get(Kim, kim.id), image_bytes("JPEG"), operator)
        add_bidang(db.session.get(Region, PPU), "Komunitas strategis", "", operator)
        photo = add_photo(ev, image_bytes("JPEG"), "Suasana pelatihan", operator)
        question = add_question(
            ev, QuestionData("Siapa membina KIM?", ["Diskominfo", "Bank"], 0), operator
        )
        # the pre-test has closed, the post-test and with it the survey are open now, so their
        # forms are fuzzed too
        save_settings(
            ev,
            SettingsData(
                now - timedelta(hours=3),
                now - timedelta(hours=1),
                now - timedelta(hours=1),
                now + timedelta(hours=2),
                True,
                True,
                False,
                {},
                rate_speakers=True,
            ),
            operator,
        )
        kim_token = importing.save_upload(
            KimImporter(),
            _csv("nama kim,desa,nomor sk\nKIM Baru,Sebakung Jaya,1/SK/2026\n"),
            "kim.csv",
            operator,
        )
        peserta_token = importing.save_upload(
            ParticipantImporter(),
            _csv("nama,nomor whatsapp,instansi\nTamu Impor,0812-8888-0001,Dinas\n"),
            "peserta.csv",
            operator,
        )
        soal_token = importing.save_upload(
            QuestionImporter(),
            _csv("soal,pilihan a,pilihan b,jawaban benar\nApa itu KIM?,Komunitas,Kantor,A\n"),
            "soal.csv",
            operator,
        )
        material = add_material(
            ev,
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            MaterialData("Modul", None, public=True, from_start=False),
            operator,
        )
        certificate = db.session.scalar(sa.select(Certificate.code).limit(1))
        # an activity report of the KIM, waiting for review (its people may change it)
        report, _new = send_report(
            db.session.get(Kim, kim.id),
            ReportData(ActivityKind.INFORMASI, utcnow().date(), "Sosialisasi posyandu", (), "", 25),
            [image_bytes("JPEG")],
            "fuzz-laporan-1",
            head,
        )
        # and an accepted one, which the KIM's public profile shows with its photo
        shown, _new = send_report(
            db.session.get(Kim, kim.id),
            ReportData(ActivityKind.HOAKS, utcnow().date(), "Klarifikasi hoaks", (), "", 60),
            [image_bytes("JPEG")],
            "fuzz-laporan-2",
            head,
        )
        review_report(shown, ReportStatus.DITERIMA, "", operator)
        # information the operator asks the regency's KIM to spread, with an image
        info = send_item(
            ItemData(PPU, "", "Klarifikasi hoaks", "Isi klarifikasi.", "", "", urgent=True),
            image_bytes("JPEG"),
            operator,
        )
        # a competition of the regency taking entries, with the KIM's sent entry
        competition = create_competition(
            CompetitionData(
                "Lomba KIM", "", now.year, now.date() - timedelta(days=1),
                now.date() + timedelta(days=30), nominated_only=False, presentation=False,
            ),
            operator,
        )  # fmt: skip
        category = save_category(
            competition,
            None,
            CategoryData("Literasi", "", (CriterionData("Dampak", 100, 1, 100),)),
            operator,
        )
        # a second category the KIM has not entered: its entry form is the one fuzzed
        open_category = save_category(
            competition,
            None,
            CategoryData("Inovasi desa", "", (CriterionData("Dampak", 100, 1, 100),)),
            operator,
        )
        advance(competition, Stage.DRAF, operator)
        entry, _sent = save_entry(
            db.session.get(Kim, kim.id), category, EntryData("Cerita", (), ()), head, submit=True
        )
        invited = create_user(
            name="Kades Diundang",
            role=Role.KEPALA_DESA,
            scope_code=PPU_VILLAGE,
            phone="0812-6666-0001",
            by=None,
        )
        account_token = link_token(issue_link(invited, LinkPurpose.INVITE, None))
        notice = Notice(
            kind=NoticeKind.UNDANGAN,
            user_id=head.id,
            name=head.name,
            phone="+6281266660002",
            region_code=PPU_VILLAGE,
            kim_id=kim.id,
            event_id=event.id,
            subject="Undangan",
            text="Yth. Kepala Desa, KIM Anda diundang.",
        )
        db.session.add(notice)
        now = utcnow()
        made = PreparedFile(
            token=secrets.token_urlsafe(18),
            kind="sertifikat_pdf",
            params=params_key({"event_id": event.id, "lang": "id"}),
            user_id=operator.id,
            region_code=PPU,
            title="Semua sertifikat (PDF)",
            filename="sertifikat.pdf",
            status=FileStatus.SELESAI,
            total=1,
            done=1,
            created_at=now,
            expires_at=now + timedelta(days=1),
        )
        db.session.add(made)
        db.session.flush()
        path_of(made).write_bytes(b"%PDF-1.4\n%%EOF\n")
        db.session.commit()
        return {
            "users": {
                "operator": operator.id,
                "kepala_desa": head.id,
                "pengurus": pengurus.id,
                "petugas": petugas.id,
            },
            "event_id": event.id,
            "event_code": event.code,
            "session_id": first.id,
            "registration_id": people[0].id,
            "ticket": people[0].ticket,
            "kim_id": kim.id,
            "queued_kim_id": queued.id,
            "member_id": member.id,
            "photo_id": photo.id,
            "question_id": question.id,
            "key": pass_of(people[0]),
            "user_id": head.id,
            "certificate": certificate,
            "kim_token": kim_token,
            "peserta_token": peserta_token,
            "soal_token": soal_token,
            "material_id": material.id,
            "account_token": account_token,
            "notice_id": notice.id,
            "file_token": made.token,
            "report_id": report.id,
            "activity_photo_id": report.photos[0].id,
            "public_report": (shown.id, shown.photos[0].id),
            "item_id": info.id,
            "competition_id": competition.id,
            "competition_code": competition.code,
            "category_id": open_category.id,
            "entry_id": entry.id,
        }


def url_for_endpoint(app, endpoint: str, world: dict, override: dict | None = None) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {name: _path_value(endpoint, name, world) for name in rule.arguments}
    values.update(override or {})
    with app.test_request_context():
        return url_for(endpoint, **values)


class Fuzzer:
    """Sends requests for one test, checks each answer and keeps every problem it sees."""

    def __init__(self, app, world: dict) -> None:
        self.app = app
        self.world = world
        self.problems: list[str] = []
        self.clients: dict[str, object] = {}
        self.raw_tokens: dict[str, str] = {}
        self.actor_of: dict[int, str] = {}
        self.dirty: set[str] = set()  # actors whose session a POST may have changed
        self.tables = self._tables()
        self.marker = itertools.count(1)

    # sessions

    def client(self, actor: str):
        """``actor``'s client, signed in afresh after any POST it sent (a GET changes nothing)."""
        if actor not in self.clients:
            self.clients[actor] = self.app.test_client()
            self.actor_of[id(self.clients[actor])] = actor
            self.dirty.add(actor)
        if actor in self.dirty:
            self.sign_in(actor)
        return self.clients[actor]

    def sign_in(self, actor: str) -> None:
        """(Re)sign ``actor`` in with the current session version and put the CSRF secret back,
        so a password change, a sign-out or a language switch in one example spoils no other."""
        self.dirty.discard(actor)
        client = self.clients[actor]
        user_id = self.world["users"].get(actor)
        with self.app.app_context():
            user = db.session.get(User, user_id) if user_id else None
            ident = user.get_id() if user is not None else None
            db.session.rollback()
        with client.session_transaction() as session:
            session.clear()
            if ident:
                session["_user_id"] = ident
                session["_fresh"] = True
            if actor in self.raw_tokens:
                session["csrf_token"] = self.raw_tokens[actor]

    def keep_token(self, actor: str) -> None:
        with self.clients[actor].session_transaction() as session:
            if "csrf_token" in session and actor not in self.raw_tokens:
                self.raw_tokens[actor] = session["csrf_token"]

    # requests and checks

    def send(
        self, client, method: str, path: str, *, what: str, data=None, query=None, headers=None
    ):
        """One request; a 5xx or an exception is a problem. Returns the response or None."""
        STATS["inputs"] += 1
        if method != "GET":
            self.dirty.add(self.actor_of[id(client)])
        try:
            if method == "GET":
                response = client.get(path, query_string=query, headers=headers)
            else:
                response = client.post(path, data=data, query_string=query, headers=headers)
        except Exception:
            STATS["5xx"] += 1
            self.problems.append(
                f"EXCEPTION {method} {path} ({what}) {_short(data or query)}\n"
                + traceback.format_exc(limit=-6)
            )
            return None
        if response.status_code >= 500:
            STATS["5xx"] += 1
            self.problems.append(
                f"{response.status_code} {method} {path} ({what}) {_short(data or query)}"
            )
        self.check_markup(response, f"{method} {path} ({what})", data or query)
        return response

    def check_markup(self, response, where: str, sent) -> None:
        if response.mimetype not in HTML_TYPES and response.mimetype != "image/svg+xml":
            return
        found = REFLECTED.search(response.get_data(as_text=True))
        if found:
            html = response.get_data(as_text=True)
            around = html[max(0, found.start() - 120) : found.end() + 40]
            self.problems.append(f"REFLECTED {where}: …{around}… sent {_short(sent)}")

    def _tables(self) -> list[str]:
        with self.app.app_context():
            names = sa.inspect(db.engine).get_table_names()
        return sorted(set(names) - {"regions", "alembic_version"})

    def counts(self) -> dict[str, int]:
        query = " UNION ALL ".join(f"SELECT '{name}', COUNT(*) FROM {name}" for name in self.tables)
        with self.app.app_context():
            rows = db.session.execute(sa.text(query)).all()
            db.session.rollback()
        return dict(rows)

    def consistency(self, where: str) -> None:
        """The data as a whole still holds: known enum values, strings within their column's
        length (SQLite would keep longer ones), seat counters equal to the seated people."""
        with self.app.app_context():
            problems = _inconsistencies()
            db.session.rollback()
        self.problems.extend(f"INCONSISTENT after {where}: {p}" for p in problems)


def collect_examples(strategy, body, count: int, explicit=()) -> None:
    """Run ``body`` on each ``explicit`` value, then on ``count`` values drawn from ``strategy``
    (reproducible, no example database)."""

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(value):
        body(value)

    for value in explicit:
        run = example(value)(run)
    run()


def form_pairs(values: dict) -> MultiDict:
    """Generated values as a request body: repeated keys kept, files as (stream, name)."""
    pairs = MultiDict()
    for name, items in values.items():
        for item in items:
            pairs.add(name, (io.BytesIO(item[0]), item[1]) if isinstance(item, tuple) else item)
    return pairs


def html_pages(app, world: dict) -> dict[str, str]:
    """Each GET endpoint that answers with a page (not a file), with its URL in the world."""
    return {
        e: url_for_endpoint(app, e, world)
        for e in GET_ENDPOINTS
        if not FILE_RULE.search(_rule(app, e))
    }


def post_forms(fz: Fuzzer, urls) -> list[tuple[str, Form, str]]:
    """``(actor, form, endpoint)`` for each distinct POST form the actors who open ``urls`` find
    there; forms that close, cancel or remove things last, so the others find what they need."""
    found: dict[tuple, tuple[str, Form, str]] = {}
    for url in urls:
        for actor, response in _who_opens(fz, url).items():
            if response.status_code != 200 or response.mimetype not in HTML_TYPES:
                continue
            for form in read_page(response.get_data(as_text=True), url)[0]:
                target = _endpoint_of(fz.app, form.action, form.method)
                if form.method == "POST" and target is not None:
                    found.setdefault((actor, *form.signature(target)), (actor, form, target))
    return sorted(found.values(), key=lambda item: item[2] in CLOSING)


FORM_EXAMPLES = 8  # per distinct form, besides the killers in every field


QUERY_EXAMPLES = 6  # per GET endpoint and actor


PATH_EXAMPLES = 3  # per string part of a path


FILE_EXAMPLES = 1  # endpoints that answer with a PDF, spreadsheet or other file


STORED_EXAMPLES = 3  # plausible submissions per form whose values are then looked for


# every name the routes read from the query string (grep queryargs / from_args / from_values)
ARG_NAMES = [
    "aksi",
    "tahun",
    "bulan",
    "jenis",
    "pelaku",
    "sebelum",
    "q",
    "halaman",
    "kegiatan",
    "page",
    "dari",
    "sampai",
    "wilayah",
    "status",
    "bidang",
    "urut",
    "sumber",
    "asal",
    "jk",
    "provinsi",
    "kabupaten",
    "kecamatan",
    "kim",
    "baris",
    "ubah",
    "bagian",
    "contoh",
    "certificate_number_format",
    "kode",
    "tiket",
    "next",
    "waktu",
    "lihat",
    "ukuran",
    "_picker",
    "wilayah_q",
    "wilayah_pilih",
    "wilayah_provinsi",
    "wilayah_kabupaten",
    "wilayah_kecamatan",
    "wilayah_desa",
]


HTML_TYPES = {"text/html"}


NOT_A_PAGE = {"static"}  # files on disk, served by the web server in production


FIXED_PARTS = {
    "fmt": "csv",
    "name": "status",
    "part": "logo",
    "phase": "post",
}  # <any(…)> parts: one of their choices


CSRF_TEXT = "Formulir kedaluwarsa"


EDGE_IDS = [0, 2**31 - 1, 2**31, 2**63 - 1, 2**63]  # 32- and 64-bit integer limits


PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


FILE_RULE = re.compile(r"\.(pdf|docx|xlsx|csv|ics|js)$|<any\(|/foto/|/sk$")  # not HTML pages


# forms that close, cancel or remove things (sent last when values are stored)
CLOSING = {
    "auth.logout",
    "auth.user_status",
    "events.participant_status",
    "events.set_status",
    "events.ticket_cancel",
    "groups.member_status",
    "groups.set_status",
    "reports.photo_delete",
}


STATS: Counter = Counter()


FUZZED: set[tuple] = set()  # form signatures already fuzzed in this run


SUBMITTED: set[str] = set()  # endpoints a fuzzed form was sent to


ENDPOINTS_DONE: set[str] = set()


def _endpoints(method: str) -> list[str]:
    """The app's endpoints answering ``method`` (read from a throwaway app at collection)."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    rules = app.url_map.iter_rules()
    return sorted({r.endpoint for r in rules if method in r.methods} - NOT_A_PAGE)


GET_ENDPOINTS = _endpoints("GET")


POST_ENDPOINTS = _endpoints("POST")


def _csv(text: str) -> tables.Table:
    return tables.read_table(text.encode())


def _account(role: Role, scope: str, password_hash: str, **links) -> User:
    user = User(
        email=f"{role.value}@fuzz.example",
        name=f"Akun {role.label}",
        role=role,
        scope_code=scope,
        password_hash=password_hash,
        **links,
    )
    db.session.add(user)
    return user


def _path_value(endpoint: str, name: str, world: dict) -> str:
    """The value of one path variable of ``endpoint`` in the world."""
    if name == "code" and endpoint.startswith("competitions."):
        return world["competition_code"]
    if name == "code":
        prefixes = ("events.", "attendance.", "evaluation.")
        if endpoint.startswith(prefixes) and endpoint != "attendance.verify":
            return world["event_code"]
        if endpoint == "attendance.verify":
            return world["certificate"]
        return "64.09.03" if endpoint == "groups.coverage_missing" else PPU
    if name == "token" and endpoint.startswith("files."):
        return world["file_token"]
    if name == "token" and endpoint == "auth.accept":
        return world["account_token"]
    if name == "token" and endpoint.startswith("evaluation."):
        return world["soal_token"]
    if name == "token":
        return world["kim_token"] if endpoint.startswith("groups.") else world["peserta_token"]
    if endpoint == "activity.public_photo" and name in ("report_id", "photo_id"):
        return str(world["public_report"][0 if name == "report_id" else 1])
    if name == "photo_id" and endpoint.startswith("activity."):
        return str(world["activity_photo_id"])
    if name in FIXED_PARTS:
        return FIXED_PARTS[name]
    return str(world[name])


def _short(value) -> str:
    text = repr(value.to_dict(flat=False) if isinstance(value, MultiDict) else value)
    return text if len(text) < 400 else text[:400] + "…"


def _inconsistencies() -> list[str]:
    """Every check is one scalar subquery of a single statement (one round trip)."""
    checks: dict[str, sa.ScalarSelect] = {}
    for table in db.metadata.sorted_tables:
        if table.name == "regions":
            continue
        for column in table.columns:
            kind, name = column.type, f"{table.name}.{column.name}"
            if isinstance(kind, sa.Enum) and kind.enums:
                checks[f"{name}: values outside {kind.enums}"] = (
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(column.is_not(None), column.not_in(kind.enums))
                    .scalar_subquery()
                )
            elif isinstance(kind, sa.String) and kind.length:
                checks[f"{name}: longer than {kind.length} characters"] = (
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(sa.func.length(column) > kind.length)
                    .scalar_subquery()
                )
    seated = (
        sa.select(sa.func.count())
        .where(Registration.event_id == Event.id, Registration.status == "terdaftar")
        .scalar_subquery()
    )
    checks["events.registered_count: differs from the seated registrations"] = (
        sa.select(sa.func.count()).select_from(Event).where(Event.registered_count != seated)
    ).scalar_subquery()
    row = db.session.execute(
        sa.select(*(q.label(f"c{i}") for i, q in enumerate(checks.values())))
    ).one()
    return [f"{what} ({bad} rows)" for what, bad in zip(checks, row, strict=True) if bad]


def _refused(response) -> bool:
    if response.status_code >= 400:
        return True
    return response.status_code == 200 and 'aria-invalid="true"' in response.get_data(as_text=True)


def _endpoint_of(app, path: str, method: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(urlsplit(path).path, method=method)
    except Exception:
        return None
    return endpoint


def fuzz_form(fz: Fuzzer, actor: str, form: Form, endpoint: str) -> None:
    """Submit ``form`` with generated values; check status, markup, rows and consistency."""
    n = next(fz.marker) + 1000 * len(FUZZED)
    where = f"{actor} {form.method} {endpoint}"
    STATS["forms"] += 1
    SUBMITTED.add(endpoint)

    def body(values: dict) -> None:
        client = fz.client(actor)
        pairs = form_pairs(values)
        if form.method == "GET":
            fz.send(client, "GET", form.action, what=where, query=pairs)
            return
        before = fz.counts()
        response = fz.send(client, "POST", form.action, what=where, data=pairs)
        if response is None:
            return
        after = fz.counts()
        # a named button beside the form's own submit re-renders it (a new row, a region
        # picked, a PIN suggested) and saves nothing
        side_step = form.plain_submit and any(name in values for name, _v in form.buttons)
        if side_step or _refused(response):
            STATS["side steps" if side_step else "refused"] += 1
            STATS["csrf"] += response.status_code == 400 and CSRF_TEXT in response.get_data(
                as_text=True
            )
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            if changed:
                fz.problems.append(
                    f"HALF-WRITTEN {where} answered {response.status_code} yet changed {changed}: "
                    f"{_short(pairs)}"
                )
            return
        STATS["accepted"] += 1
        fz.consistency(where)
        target = response.headers.get("Location", "")
        if 300 <= response.status_code < 400 and target.startswith("/"):
            fz.send(client, "GET", target, what=f"after {where}")

    explicit = [killer_values(form, value, CSRF) for value in killers(n)]
    collect_examples(form_values(form, n, keep=CSRF), body, FORM_EXAMPLES, explicit)


def fuzz_query(fz: Fuzzer, actor: str, url: str, endpoint: str, names: list[str], count: int):
    """GET ``url`` with generated query strings; nothing but exports' audit entries is written."""
    n = next(fz.marker)
    where = f"{actor} GET {endpoint} ?query"

    def body(values: dict) -> None:
        client = fz.client(actor)
        before = fz.counts()
        fz.send(
            client,
            "GET",
            url,
            what=where,
            query=MultiDict([(k, v) for k, items in values.items() for v in items]),
        )
        after = fz.counts()
        changed = {
            k: (before[k], after[k]) for k in before if before[k] != after[k] and k != "audit_log"
        }
        if changed:
            fz.problems.append(f"GET WROTE {where}: {changed} {_short(values)}")

    # every name at once; a URL carries one 10,000-character value (servers refuse longer lines)
    short = [value for value in killers(n) if len(value) < 100]
    explicit = [{name: [value] for name in names} for value in short] if count > 2 else []
    collect_examples(query_values(names, n), body, count, explicit)


def fuzz_path(fz: Fuzzer, actor: str, endpoint: str, count: int) -> None:
    """Hostile text in the string parts of the path (codes, tokens, tickets), and ids at the
    edges of what a database integer holds in the number parts."""
    rule = _rule(fz.app, endpoint)
    texts = [name for _kind, name in re.findall(r"<(?:(string|path):)?(\w+)>", rule)]
    numbers = re.findall(r"<int:(\w+)>", rule)
    n = next(fz.marker)

    def get(override: dict) -> None:
        path = url_for_endpoint(fz.app, endpoint, fz.world, override)
        fz.send(fz.client(actor), "GET", path, what=f"{actor} GET {endpoint} path {override}")

    for value in EDGE_IDS if numbers else ():
        get({name: value for name in numbers})
    if texts:
        explicit = [v for v in killers(n) if v and len(v) < 100] if count > 1 else []
        strategy = payload(n).filter(lambda v: v and "/" not in v)
        collect_examples(strategy, lambda v: get({name: v for name in texts}), count, explicit)


def _who_opens(fz: Fuzzer, url: str) -> dict[str, object]:
    """Actors for whom the page answers 200: the operator and a visitor first; the others only
    when neither may open it."""
    found = {}
    for actor in ACTORS:
        if found and actor not in ("operator", "tamu"):
            break
        response = fz.send(fz.client(actor), "GET", url, what=f"{actor} opens {url}")
        if response is None:
            continue
        to_sign_in = response.headers.get("Location", "").startswith("/login")
        if response.status_code == 200 or (300 <= response.status_code < 400 and not to_sign_in):
            fz.keep_token(actor)
            found[actor] = response
    return found


def _discover(fz: Fuzzer, actor: str, url: str, endpoint: str, page) -> tuple[list, set[str]]:
    """The forms of a page (full and htmx fragment, and the same page under each other set of
    query keys its links use, which may open an inline editor), and the query names it uses."""
    forms, links = read_page(page.get_data(as_text=True), url)
    partial = fz.send(fz.client(actor), "GET", url, what=f"{actor} fragment", headers=PARTIAL)
    if partial is not None:
        forms += read_page(partial.get_data(as_text=True), url)[0]
    own = [link for link in links if _endpoint_of(fz.app, link, "GET") == endpoint]
    names = {name for link in own for name, _v in _query_pairs(link)}
    seen_keys = {frozenset()}
    for link in own:
        keys = frozenset(name for name, _v in _query_pairs(link))
        if keys in seen_keys:
            continue
        seen_keys.add(keys)
        other = fz.send(fz.client(actor), "GET", link, what=f"{actor} link {endpoint}")
        if other is not None and other.mimetype in HTML_TYPES:
            forms += read_page(other.get_data(as_text=True), link)[0]
    names |= {name for form in forms if form.method == "GET" for name in form.fields}
    return forms, names


def _rule(app, endpoint: str) -> str:
    return next(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _query_pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)
