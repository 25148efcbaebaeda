"""The access table: for every endpoint, how to reach an object inside the actor's wilayah
(Penajam Paser Utara) and one outside it (Majalengka), how to ask (method, form data, htmx
headers) and what each role must get. ``test_access_matrix`` walks it role by role;
``test_csrf`` takes its POST requests and sends them without a valid token.

The objects are built on first use for each test (the suite empties the database after every
test), directly or through the services, so a test pays only for what its endpoint needs.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, cached_property
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Flask
from PIL import Image
from werkzeug.security import generate_password_hash

from kim_app import importing
from kim_app.activity.dissemination.operations import ItemData, send_item
from kim_app.activity.models import ActivityKind, ReportStatus
from kim_app.activity.operations import ReportData, review_report, send_report
from kim_app.attendance.certificates.operations import clean_image, set_image
from kim_app.attendance.models import Certificate, Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.auth.models import LinkPurpose, Role, User
from kim_app.auth.operations import issue_link, link_token
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
    add_material,
    add_question,
)
from kim_app.evaluation.participant import pass_of
from kim_app.events.imports import ParticipantImporter
from kim_app.events.models import Event, Invitation, Registration, Source
from kim_app.events.operations import PersonData, local_now, register_person
from kim_app.extensions import db
from kim_app.files.models import FileStatus, PreparedFile
from kim_app.files.operations import params_key, path_of
from kim_app.groups.imports import KimImporter
from kim_app.groups.models import BidangOption, Kim, Member, Position
from kim_app.notices.models import Notice, NoticeKind
from kim_app.reports.operations import add_photo, save_narrative
from kim_app.tables import Table
from kim_app.timezones import utcnow
from tests.conftest import MAJALENGKA_VILLAGE, PASSWORD, PPU, PPU_VILLAGE

MAJALENGKA = "32.10"
KALTIM = "64"  # the province of Penajam Paser Utara

OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA})
VILLAGE_ROLES = frozenset({Role.KEPALA_DESA, Role.PENGURUS_KIM})
VIEWERS = OPERATORS | VILLAGE_ROLES
EDITORS = OPERATORS | {Role.KEPALA_DESA}
# every role, and the visitor (None) last
ACTORS: tuple[Role | None, ...] = (*Role, None)
# the scope each role's account gets: PPU and everything above it is "inside"
SCOPES = {
    Role.ADMIN: None,
    Role.OPERATOR_PROVINSI: KALTIM,
    Role.OPERATOR_KABKOTA: PPU,
    Role.KEPALA_DESA: PPU_VILLAGE,
    Role.PENGURUS_KIM: PPU_VILLAGE,
    Role.PETUGAS_ABSENSI: PPU,
}

SIGN_IN = 302  # Flask-Login's redirect to /login?next=…
SIGN_IN_HTMX = 401  # the same for an htmx request: HX-Redirect to /login, the whole page goes
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def photo_bytes() -> bytes:
    """A small JPEG, as a phone's photo would arrive (re-encoded by the app on upload)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 110, 60)).save(out, "JPEG")
    return out.getvalue()


def unique_phone() -> str:
    return "0813" + "".join(secrets.choice("0123456789") for _ in range(8))


# --- the objects ----------------------------------------------------------------------------------


def fresh_link(app: Flask, user: User) -> str:
    """The path of a new one-time link of ``user`` (an invitation)."""
    with app.test_request_context():
        link = issue_link(db.session.get(User, user.id), LinkPurpose.INVITE, None)
        db.session.commit()
        return f"/akun/{link_token(link)}"


@cache
def _password_hash() -> str:
    return generate_password_hash(PASSWORD)


@dataclass
class Accounts:
    """Accounts inserted directly, all with the suite's password hashed once (hashing it per
    account would cost 80 ms each)."""

    app: Flask
    made: int = 0

    def add(self, role: Role, scope: str | None, **extra) -> User:
        self.made += 1
        with self.app.app_context():
            user = User(
                email=f"{role.value}-{self.made}-{secrets.token_hex(3)}@uji.example",
                name=f"{role.label} Uji {self.made}",
                role=role,
                scope_code=scope,
                password_hash=_password_hash(),
                **extra,
            )
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
        return user


class Place:
    """The objects of one place: a verified KIM with its SK document and members, the village
    head, an operator, and a published event (two sessions, an invited KIM, one registered
    member present in the first session, a certificate, a laporan with a photo)."""

    def __init__(self, app: Flask, inside: bool, accounts: Accounts, make_kim, make_event):
        self.app = app
        self.inside = inside
        self.village = PPU_VILLAGE if inside else MAJALENGKA_VILLAGE
        self.regency = PPU if inside else MAJALENGKA
        self.tag = "Dalam" if inside else "Luar"
        self._accounts = accounts
        self._make_kim = make_kim
        self._make_event = make_event

    @cached_property
    def kim(self) -> SimpleNamespace:
        name = f"SK-{secrets.token_hex(12)}.pdf"
        folder = Path(self.app.config["KIM_UPLOAD_FOLDER"]) / "sk"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(PDF)
        kim = self._make_kim(
            village=self.village,
            members=4,
            name=f"KIM {self.tag} {secrets.token_hex(3)}",
            sk_file=name,
            sk_mime="application/pdf",
        )
        with self.app.app_context():
            members = db.session.execute(
                sa.select(Member.id, Member.name, Member.position)
                .where(Member.kim_id == kim.id)
                .order_by(Member.id)
            ).all()
        anggota = next(m for m in members if m.position is Position.ANGGOTA)
        return SimpleNamespace(id=kim.id, name=kim.name, member_id=anggota.id, member=anggota.name)

    @cached_property
    def bidang_option(self) -> int:
        """A field of activity the place's regency keeps beside the national list."""
        with self.app.app_context():
            option = BidangOption(
                area_code=self.regency,
                key=f"uji_{secrets.token_hex(4)}",
                label=f"Bidang {self.tag} {secrets.token_hex(3)}",
            )
            db.session.add(option)
            db.session.commit()
            return option.id

    @cached_property
    def head(self) -> User:
        """The village head's account (the target of the account switch)."""
        return self._accounts.add(Role.KEPALA_DESA, self.village)

    @cached_property
    def operator(self) -> User:
        return self._accounts.add(Role.OPERATOR_KABKOTA, self.regency)

    @cached_property
    def event(self) -> SimpleNamespace:
        """Its first session starts in half an hour (self check-in is open), the second one
        tomorrow; signatures asked, certificates for 50 %."""
        event = self._make_event(
            region=self.regency,
            days=1,
            sessions_per_day=2,
            certificate_min_percent=50,
            signatures=True,
            title=f"Pelatihan {self.tag} {secrets.token_hex(3)}",
        )
        with self.app.app_context():
            db.session.add(Invitation(event_id=event.id, kim_id=self.kim.id, quota=2))
            loaded = db.session.get(Event, event.id)
            first, now = loaded.sessions[0], local_now(loaded)
            first.starts_at = now.replace(second=0, microsecond=0) + timedelta(minutes=30)
            first.ends_at = first.starts_at + timedelta(hours=2)
            loaded.starts_on = first.starts_at
            db.session.commit()
            sessions = [s.id for s in loaded.sessions]
        return SimpleNamespace(id=event.id, code=event.code, title=event.title, sessions=sessions)

    @cached_property
    def registration(self) -> SimpleNamespace:
        """The KIM's anggota, registered by invitation."""
        with self.app.test_request_context():
            event = db.session.get(Event, self.event.id)
            person = PersonData(self.kim.member, unique_phone(), institution=self.kim.name)
            registration, _new = register_person(
                event,
                person,
                Source.UNDANGAN,
                kim_id=self.kim.id,
                member_id=self.kim.member_id,
            )
            db.session.commit()
            return SimpleNamespace(
                id=registration.id,
                ticket=registration.ticket,
                name=registration.name,
                phone=registration.phone,
            )

    @cached_property
    def certificate(self) -> str:
        """The registered member's certificate code (present in one of two sessions: 50 %).
        Written directly: issuing waits for the last session, which is tomorrow."""
        registration = self.registration
        with self.app.test_request_context():
            event = db.session.get(Event, self.event.id)
            person = db.session.get(Registration, registration.id)
            mark_attendance(person, event.sessions[0], Presence.HADIR, None)
            code = secrets.token_hex(5).upper()
            db.session.add(
                Certificate(
                    registration_id=registration.id,
                    event_id=event.id,
                    serial=1,
                    number=f"1/SERT-KIM/{self.tag}",
                    code=code,
                )
            )
            db.session.commit()
            return code

    @cached_property
    def material(self) -> int:
        """A PDF for the event's participants, shared on the public page at once."""
        with self.app.test_request_context():
            event = db.session.get(Event, self.event.id)
            details = MaterialData("Salindia", None, public=True, from_start=False)
            material = add_material(event, PDF, details, None)
            db.session.commit()
            return material.id

    @cached_property
    def question(self) -> int:
        """A question of the event's test (added through the operation an operator's form
        calls)."""
        with self.app.test_request_context():
            event = db.session.get(Event, self.event.id)
            question = add_question(
                event, QuestionData("Apa itu KIM?", ["Kelompok", "Kabupaten"], 0), None
            )
            db.session.commit()
            return question.id

    @cached_property
    def logo(self) -> str:
        """The agency's logo kept for the event's certificates (a small JPEG)."""
        with self.app.test_request_context():
            event = db.session.get(Event, self.event.id)
            set_image(event, "certificate_logo", clean_image(photo_bytes(), "certificate_logo"))
            db.session.commit()
            return event.certificate_logo

    @cached_property
    def outbox_notice(self) -> SimpleNamespace:
        """A prepared WhatsApp hand-off to one of the KIM's people, in the village's outbox."""
        name = f"Penerima {self.tag} {secrets.token_hex(3)}"
        with self.app.app_context():
            notice = Notice(
                kind=NoticeKind.TIKET,
                name=name,
                phone="+62" + unique_phone()[1:],
                region_code=self.village,
                kim_id=self.kim.id,
                subject="Tiket uji",
                text="Yth. Bapak/Ibu, tiket Anda.",
            )
            db.session.add(notice)
            db.session.commit()
            return SimpleNamespace(id=notice.id, name=name)

    def file_of(self, user: User) -> str:
        """A ready prepared file of ``user``'s (its token), with its bytes on disk."""
        with self.app.app_context():
            now = utcnow()
            file = PreparedFile(
                token=secrets.token_urlsafe(18),
                kind="sertifikat_pdf",
                params=params_key({"event_id": 0, "lang": "id"}),
                user_id=user.id,
                region_code=self.regency,
                title="Semua sertifikat (PDF)",
                filename="sertifikat.pdf",
                status=FileStatus.SELESAI,
                total=1,
                done=1,
                size=len(PDF),
                created_at=now,
                finished_at=now,
                expires_at=now + timedelta(days=1),
            )
            db.session.add(file)
            db.session.commit()
            path_of(file).write_bytes(PDF)
            return file.token

    def notice_to(self, user: User) -> int:
        """A notice in ``user``'s own list."""
        with self.app.app_context():
            notice = Notice(
                kind=NoticeKind.KIM_TERVERIFIKASI,
                user_id=user.id,
                name=user.name,
                region_code=self.village,
                subject="KIM terverifikasi",
                text="Yth. Bapak/Ibu, KIM Anda terverifikasi.",
            )
            db.session.add(notice)
            db.session.commit()
            return notice.id

    def _activity(self, text: str, accepted: bool) -> SimpleNamespace:
        """An activity report of the KIM with a photo, through the operations the pages call;
        accepted by the operator, or still waiting for review."""
        head, operator = self.head, self.operator
        with self.app.test_request_context():
            kim = db.session.get(Kim, self.kim.id)
            data = ReportData(ActivityKind.HOAKS, utcnow().date(), text, (), "", 40)
            report, _new = send_report(kim, data, [photo_bytes()], secrets.token_hex(8), head)
            if accepted:
                review_report(report, ReportStatus.DITERIMA, "", operator)
            db.session.commit()
            return SimpleNamespace(id=report.id, photo=report.photos[0].id)

    @cached_property
    def activity(self) -> SimpleNamespace:
        """An accepted report of a kind the KIM shows in public, with a photo."""
        return self._activity(f"Kegiatan {self.tag} {secrets.token_hex(3)}", accepted=True)

    @cached_property
    def activity_waiting(self) -> SimpleNamespace:
        """A report that waits for review (its people may still change or take it back)."""
        return self._activity(f"Menunggu {self.tag} {secrets.token_hex(3)}", accepted=False)

    @cached_property
    def info(self) -> int:
        """Information with a PDF sent to the KIM of the place's KIM's regency (by an admin: in
        one test the place's operator belongs to another area than its KIM)."""
        sender = self._accounts.add(Role.ADMIN, None)
        area = self.village.rsplit(".", 2)[0]
        self.kim  # noqa: B018 (the item goes to the verified KIM there is)
        with self.app.test_request_context():
            data = ItemData(area, "", f"Info {self.tag}", "Isi.", "", "", urgent=True)
            item = send_item(data, PDF, db.session.get(User, sender.id))
            db.session.commit()
            return item.id

    @cached_property
    def competition(self) -> SimpleNamespace:
        """A competition of the place's regency, taking entries, with one category (two
        criteria) and the place's KIM's sent entry, through the operations the pages call."""
        head, kim_id = self.head, self.kim.id
        # an operator of the KIM's own regency (one test moves the place's regency up)
        operator = self._accounts.add(Role.OPERATOR_KABKOTA, self.village.rsplit(".", 2)[0])
        today = utcnow().date()
        with self.app.test_request_context():
            by = db.session.get(User, operator.id)
            data = CompetitionData(
                f"Lomba {self.tag}", "", today.year, today - timedelta(days=1),
                today + timedelta(days=30), nominated_only=False, presentation=False,
            )  # fmt: skip
            competition = create_competition(data, by)
            rubric = (CriterionData("Dampak", 60, 1, 100), CriterionData("Kreativitas", 40, 1, 100))
            category = save_category(competition, None, CategoryData("Literasi", "", rubric), by)
            other = save_category(competition, None, CategoryData("Inovasi desa", "", rubric), by)
            advance(competition, Stage.DRAF, by)
            entry, _sent = save_entry(
                db.session.get(Kim, kim_id),
                category,
                EntryData(f"Cerita {self.tag}", (), ()),
                db.session.get(User, head.id),
                submit=True,
            )
            db.session.commit()
            return SimpleNamespace(
                id=competition.id,
                code=competition.code,
                category=category.id,  # the KIM's entry is sent
                other=other.id,  # the KIM has not entered it
                entry=entry.id,
            )

    @cached_property
    def photo(self) -> int:
        """A documentation photo of the event's laporan (whose narrative is written too)."""
        operator = self.operator
        with self.app.test_request_context():
            event = db.session.get(Event, self.event.id)
            save_narrative(event, {"background": "Latar belakang uji."}, operator)
            photo = add_photo(event, photo_bytes(), "Foto uji", operator)
            db.session.commit()
            return photo.id


class World:
    """The actor's account (none for a visitor) and the two places. A pengurus KIM belongs to
    the inside KIM; a petugas absensi is bound to the inside event."""

    def __init__(self, app: Flask, role: Role | None, make_kim, make_event):
        self.app = app
        self.role = role
        self.accounts = Accounts(app)
        self.inside = Place(app, True, self.accounts, make_kim, make_event)
        self.outside = Place(app, False, self.accounts, make_kim, make_event)
        self.actor: User | None = None
        # the account a page is being looked at with, when it is not the actor (the browser
        # checks sign in as several roles): "own" objects, such as a notice, are made for it
        self.viewer: User | None = None
        if role is not None:
            extra = {}
            if role is Role.PENGURUS_KIM:
                extra["kim_id"] = self.inside.kim.id
            if role is Role.PETUGAS_ABSENSI:
                extra["event_id"] = self.inside.event.id
            self.actor = self.accounts.add(role, SCOPES[role], **extra)

    def place(self, inside: bool) -> Place:
        return self.inside if inside else self.outside

    def upload(self, kind: importing.Importer, owner: User | None = None) -> str:
        """A kept import file (one row) of ``owner``: the actor by default, and for a visitor
        an operator of the inside place."""
        owner = owner or self.actor or self.inside.operator
        table = Table(
            headers=["Nama", "Nomor WhatsApp"], rows=[["Siti", "081234567890"]], lines=[2]
        )
        with self.app.test_request_context():
            return importing.save_upload(kind, table, "daftar.csv", owner)


# --- what each role must get ----------------------------------------------------------------------

Expect = Callable[[Role | None, bool], int]


def staff(
    ok: int = 200,
    roles: frozenset[Role] = OPERATORS,
    *,
    scoped: bool = True,
    petugas: int | tuple[int, int] = 403,
    **per_role: tuple[int, int],
) -> Expect:
    """Signed-in roles in ``roles`` get ``ok`` inside their wilayah and 404 outside it (the admin
    reaches everything); other roles 403; the petugas absensi 403 (the scan-only hook); a visitor
    is sent to sign in. ``per_role`` (role value → (inside, outside)) states the exceptions."""

    def expect(role: Role | None, inside: bool) -> int:
        if role is None:
            return SIGN_IN
        if role.value in per_role:
            return per_role[role.value][0 if inside else 1]
        if role is Role.PETUGAS_ABSENSI:
            return petugas if isinstance(petugas, int) else petugas[0 if inside else 1]
        if role not in roles:
            return 403
        if scoped and not inside and role is not Role.ADMIN:
            return 404
        return ok

    return expect


def public(ok: int = 200, petugas: int = 403, signed_in: int | None = None) -> Expect:
    """Anyone, inside or out; the petugas absensi is turned away (403) unless ``petugas`` says."""

    def expect(role: Role | None, inside: bool) -> int:
        if role is Role.PETUGAS_ABSENSI:
            return petugas
        if role is not None and signed_in is not None:
            return signed_in
        return ok

    return expect


# --- how to ask ----------------------------------------------------------------------------------

Url = Callable[[World, Place], str]


@dataclass(frozen=True)
class Probe:
    """One request: method, URL for a place, form data, files, htmx headers; ``marker`` names
    text that a list must show for the inside place and hide for the outside one."""

    url: Url
    method: str = "GET"
    data: Callable[[World, Place], dict] | None = None
    files: Callable[[World, Place], dict] | None = None
    partial: bool = False
    marker: Callable[[World, Place], str] | None = None
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or ("htmx" if self.partial else self.method.lower())


@dataclass(frozen=True)
class Case:
    """An endpoint's probes and expectations; ``post`` is its POST request (for GET+POST
    endpoints the matrix only GETs; the CSRF test sends this one)."""

    expect: Expect
    probes: tuple[Probe, ...]
    post: Probe | None = None
    public: bool = False

    @property
    def posts(self) -> Probe | None:
        return self.post or next((p for p in self.probes if p.method == "POST"), None)


def get(url: Url, **kw) -> Probe:
    return Probe(url, **kw)


def htmx(url: Url, **kw) -> Probe:
    return Probe(url, partial=True, **kw)


def post(url: Url, data=None, files=None, **kw) -> Probe:
    return Probe(url, method="POST", data=data, files=files, **kw)


def same(path: str) -> Url:
    """A URL without an object: the same for both places."""
    return lambda _w, _p: path


def kim(path: str = "") -> Url:
    return lambda _w, p: f"/kim/{p.kim.id}{path}"


def event(path: str = "") -> Url:
    return lambda _w, p: f"/kegiatan/{p.event.id}{path}"


def session(path: str = "") -> Url:
    return lambda _w, p: f"/absensi/sesi/{p.event.sessions[0]}{path}"


def attendance_event(path: str = "") -> Url:
    return lambda _w, p: f"/absensi/kegiatan/{p.event.id}{path}"


def public_event(path: str = "") -> Url:
    return lambda _w, p: f"/e/{p.event.code}{path}"


def ticket(path: str = "") -> Url:
    return lambda _w, p: f"/e/{p.event.code}/tiket/{p.registration.ticket}{path}"


def evaluation_pass(path: str = "") -> Url:
    """A page of the registered member's own tests and survey (the question set made first)."""

    def url(w: World, p: Place) -> str:
        assert p.question
        with w.app.test_request_context():
            key = pass_of(db.session.get(Registration, p.registration.id))
        return f"/e/{p.event.code}/tes/{key}{path}"

    return url


def material(path: str = "") -> Url:
    return lambda _w, p: f"/kegiatan/{p.event.id}/materi/{p.material}{path}"


def question(path: str = "") -> Url:
    return lambda _w, p: f"/kegiatan/{p.event.id}/evaluasi/soal/{p.question}{path}"


QUESTION_FIELDS = {"text": "Siapa membina KIM?", "pilihan_1": "Diskominfo", "pilihan_2": "Bank"}
QUESTION_FIELDS |= {"answer": "0"}


def kim_upload(w: World, p: Place) -> str:
    """Inside: the actor's own upload. Outside: another operator's."""
    return f"/kim/impor/{w.upload(KimImporter(), None if p.inside else p.operator)}"


QUESTION_FILE = b"Soal;Pilihan A;Pilihan B;Jawaban benar\nApa itu KIM?;Komunitas;Kantor;A\n"


def question_upload(w: World, p: Place) -> str:
    """The actor's own question upload, under the place's event."""
    return f"/kegiatan/{p.event.id}/evaluasi/soal/impor/{w.upload(QuestionImporter())}"


def participant_upload(w: World, p: Place) -> str:
    """The actor's own participant upload, under the place's event."""
    return f"/kegiatan/{p.event.id}/peserta/impor/{w.upload(ParticipantImporter())}"


def certified(path: str) -> Url:
    """A URL of the place's certificate documents (the certificate is issued first)."""

    def url(_w: World, p: Place) -> str:
        assert p.certificate, "the certificate was not issued"
        return path.format(
            event=p.event.id,
            code=p.event.code,
            ticket=p.registration.ticket,
            registration=p.registration.id,
        )

    return url


def logo(_w: World, p: Place) -> str:
    """The place's certificate logo (kept first)."""
    assert p.logo, "the logo was not kept"
    return f"/absensi/kegiatan/{p.event.id}/sertifikat/logo"


def own_file(path: str = "") -> Url:
    """Inside: a ready file the actor asked for (or, for a visitor, the operator). Outside: a
    file of another account."""

    def url(w: World, p: Place) -> str:
        owner = (w.viewer or w.actor or p.operator) if p.inside else p.operator
        return f"/berkas/{p.file_of(owner)}{path}"

    return url


def own_notice(w: World, p: Place) -> str:
    """Inside: a notice to the actor (or, for a visitor, to the village head). Outside: a
    notice to another account."""
    owner = (w.viewer or w.actor or p.head) if p.inside else p.head
    return f"/pesan/{p.notice_to(owner)}"


def person_fields(_w: World, _p: Place) -> dict:
    return {
        "name": "Tamu Uji",
        "phone": unique_phone(),
        "institution": "PKK Kecamatan",
        "gender": "P",
        "consent": "y",  # the public form asks for it; the operator's ignores it
    }


def info_fields(w: World, _p: Place) -> dict:
    """An item to the KIM of the actor's own wilayah (the inside place's KIM is made first)."""
    w.inside.kim  # noqa: B018
    return {
        "title": "Jadwal posyandu",
        "text": "Posyandu balita setiap Selasa.",
        "area": w.actor.scope_code or "" if w.actor else "",
        "field": "",
    }


def activity_fields(_w: World, _p: Place) -> dict:
    return {
        "client_id": secrets.token_hex(10),
        "kind": "informasi",
        "done_on": utcnow().date().isoformat(),
        "text": "Sosialisasi jadwal posyandu.",
        "channels": ["whatsapp"],
        "reach": "30",
    }


def kim_fields(_w: World, p: Place) -> dict:
    """A complete registration of a KIM in the place's village, with its three officers."""
    data = {
        "name": f"KIM Baru {secrets.token_hex(3)}",
        "desa_kim_pilih": p.village,
        "address": "Jl. Poros Desa",
        "sk_number": "141/05/2026",
        "sk_date": "2026-01-05",
        "sk_signer": "kepala_desa",
        "bidang": "informasi_publik",
    }
    for i, position in enumerate(("ketua", "sekretaris", "bendahara")):
        data |= {
            f"pengurus-{i}-name": f"Pengurus {i + 1}",
            f"pengurus-{i}-position": position,
            f"pengurus-{i}-gender": "P",
            f"pengurus-{i}-phone": unique_phone(),
        }
    return data


def event_fields(_w: World, p: Place) -> dict:
    """A complete one-session event owned by the place's regency (picked, or chosen)."""
    return {
        "kind": "pelatihan",
        "title": f"Sosialisasi Baru {secrets.token_hex(3)}",
        "region": p.regency,
        "penyelenggara_pilih": p.regency,
        "registration_mode": "keduanya",
        "sessions-0-day": "2030-05-15",
        "sessions-0-start": "09:00",
        "sessions-0-end": "12:00",
        "sessions-0-topic": "Menangkal hoaks",
    }


def account_fields(_w: World, p: Place) -> dict:
    return {
        "name": "Kepala Desa Baru",
        "email": f"kades-{secrets.token_hex(3)}@uji.example",
        "role": "kepala_desa",
        "password": "awal-rahasia-1",
        "cakupan_pilih": p.village,
    }


def settings_fields(_w: World, _p: Place) -> dict:
    return {
        "checkin_on": "y",
        "checkin_opens_minutes": "30",
        "signatures": "y",
        "signer_name": "Drs. Budi Santoso",
        "signer_position": "Kepala Dinas Komunikasi dan Informatika",
        "certificates_on": "y",
        "certificate_min_percent": "75",
        "certificate_number_format": "{no}/SERT/{tahun}",
    }


SIGNATURE = "M10 60L40 20L70 80L100 25"


def public_event_privacy(_w: World, p: Place) -> str:
    return f"/privasi?kegiatan={p.event.code}"


def competition_fields() -> dict:
    today = utcnow().date()
    return {
        "title": "Lomba KIM Uji",
        "year": str(today.year),
        "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=7)).isoformat(),
    }


def kim_name(_w: World, p: Place) -> str:
    return p.kim.name


def event_title(_w: World, p: Place) -> str:
    return p.event.title


CASES: dict[str, Case] = {
    # --- main -----------------------------------------------------------------------------------
    "main.home": Case(public(200, petugas=303), (get(same("/")),), public=True),
    "main.language": Case(
        public(303, petugas=303),
        (post(same("/bahasa"), data=lambda _w, _p: {"lang": "en", "next": "/"}),),
        public=True,
    ),
    "main.healthz": Case(public(200, petugas=200), (get(same("/healthz")),), public=True),
    "main.privacy": Case(
        public(200, petugas=200),
        (get(same("/privasi")), get(public_event_privacy, label="event")),
        public=True,
    ),
    # --- auth -----------------------------------------------------------------------------------
    "auth.login": Case(
        public(200, petugas=303, signed_in=303),
        (get(same("/login")),),
        post=post(
            same("/login"),
            data=lambda w, p: {"email": (w.actor or p.operator).email, "password": PASSWORD},
        ),
        public=True,
    ),
    "auth.logout": Case(public(303, petugas=303), (post(same("/logout")),), public=True),
    "auth.password": Case(
        staff(200, frozenset(Role), scoped=False, petugas=200),
        (get(same("/kata-sandi")),),
        post=post(
            same("/kata-sandi"),
            data=lambda *_: {
                "current": PASSWORD,
                "new": "sandi-baru-123",
                "confirm": "sandi-baru-123",
            },
        ),
    ),
    "auth.users": Case(
        staff(scoped=False),
        (
            get(same("/pengguna"), marker=lambda _w, p: p.head.email),
            htmx(same("/pengguna?halaman=1"), marker=lambda _w, p: p.head.email),
        ),
    ),
    "auth.user_new": Case(
        staff(scoped=False),
        (get(same("/pengguna/baru")),),
        post=post(same("/pengguna/baru"), data=account_fields),
    ),
    "auth.user_status": Case(
        staff(303),
        (post(lambda _w, p: f"/pengguna/{p.head.id}/status", lambda *_: {"active": "0"}),),
    ),
    "auth.user_detail": Case(
        staff(),
        (get(lambda _w, p: f"/pengguna/{p.head.id}"),),
        post=post(
            lambda _w, p: f"/pengguna/{p.head.id}",
            lambda _w, p: {
                "name": "Kades Baru",
                "email": p.head.email,
                "role": "kepala_desa",
                "cakupan_pilih": p.village,
            },
        ),
    ),
    "auth.user_link": Case(
        staff(303), (post(lambda _w, p: f"/pengguna/{p.head.id}/tautan", lambda *_: {}),)
    ),
    "auth.user_links": Case(
        staff(scoped=False),
        (get(same("/pengguna/undangan")), htmx(same("/pengguna/undangan?halaman=1"))),
    ),
    "auth.onboard": Case(
        staff(scoped=False),
        (get(same("/pengguna/kepala-desa")),),
        post=post(same("/pengguna/kepala-desa"), data=lambda *_: {"area_pilih": "64.09.03"}),
    ),
    "auth.member_account": Case(
        staff(303),
        (post(lambda _w, p: f"/kim/{p.kim.id}/anggota/{p.kim.member_id}/akun", lambda *_: {}),),
    ),
    # an unknown link: the same 404 page for everyone (tests/test_accounts.py opens real ones)
    "auth.accept": Case(
        public(404),
        (get(same("/akun/1-" + "0" * 32)),),
        post=post(
            lambda w, p: fresh_link(w.app, p.head),
            data=lambda *_: {"new": "sandi-baru-123", "confirm": "sandi-baru-123"},
        ),
        public=True,
    ),
    "auth.forgot": Case(
        public(200),
        (get(same("/lupa-kata-sandi")),),
        post=post(same("/lupa-kata-sandi"), data=lambda _w, p: {"email": p.head.email}),
        public=True,
    ),
    # --- regions --------------------------------------------------------------------------------
    "regions.index": Case(staff(200, VIEWERS, scoped=False), (get(same("/wilayah/")),)),
    "regions.picker": Case(
        staff(200, VIEWERS, scoped=False),
        (get(same("/wilayah/pilih")), htmx(same("/wilayah/pilih?wilayah_q=sebakung&bagian=hasil"))),
    ),
    "regions.detail": Case(staff(200, VIEWERS), (get(lambda _w, p: f"/wilayah/{p.village}"),)),
    # --- groups: registration, the KIM page, SK, workflow ----------------------------------------
    "groups.new": Case(
        staff(200, EDITORS, scoped=False),
        (get(same("/kim/baru")),),
        post=post(same("/kim/baru"), data=kim_fields),
    ),
    "groups.edit": Case(
        # a village head edits only drafts and returned registrations; this KIM is verified
        staff(200, EDITORS, kepala_desa=(403, 404)),
        (get(kim("/ubah")),),
        post=post(kim("/ubah"), data=kim_fields),
    ),
    "groups.detail": Case(staff(200, VIEWERS), (get(kim()),)),
    "groups.set_status": Case(
        # the village head may ask, and is told on the KIM page that the step is not theirs
        staff(303, EDITORS),
        (post(kim("/status"), lambda *_: {"to": "nonaktif", "note": "Tidak berkegiatan lagi."}),),
    ),
    "groups.sk_upload": Case(
        staff(303, EDITORS),
        (post(kim("/sk"), files=lambda *_: {"sk": (PDF, "sk.pdf")}),),
    ),
    "groups.sk_file": Case(staff(200, VIEWERS), (get(kim("/sk"), label="file"),)),
    "groups.queue": Case(staff(scoped=False), (get(same("/kim/verifikasi")),)),
    # fields of activity: an operator keeps the lists of the areas in scope
    "groups.bidang": Case(
        staff(scoped=False),
        (get(same("/kim/bidang")),),
        # an operator adds to its own area's list; the admin names the area it keeps
        post=post(
            lambda w, p: "/kim/bidang" + (f"?wilayah={p.regency}" if w.role is Role.ADMIN else ""),
            data=lambda *_: {"label": f"Bidang {secrets.token_hex(3)}"},
        ),
    ),
    "groups.bidang_option": Case(
        staff(303),
        (
            post(
                lambda _w, p: f"/kim/bidang/{p.bidang_option}",
                lambda *_: {"label": f"Bidang {secrets.token_hex(3)}", "aksi": "simpan"},
            ),
        ),
    ),
    "groups.mine": Case(
        staff(200, VILLAGE_ROLES, scoped=False),
        (get(same("/kim/desa"), marker=kim_name),),
    ),
    # --- groups: registry, coverage, directory ------------------------------------------------------
    "groups.registry": Case(
        staff(scoped=False),
        (get(same("/kim/"), marker=kim_name), htmx(same("/kim/?q=KIM"), marker=kim_name)),
    ),
    "groups.coverage": Case(staff(), (get(lambda _w, p: f"/kim/cakupan?wilayah={p.regency}"),)),
    "groups.coverage_missing": Case(
        staff(),
        (
            get(lambda _w, p: f"/kim/cakupan/{p.regency}/tanpa-kim"),
            htmx(lambda _w, p: f"/kim/cakupan/{p.regency}/tanpa-kim?halaman=2"),
        ),
    ),
    "groups.directory": Case(
        public(), (get(same("/direktori")), htmx(same("/direktori?q=KIM"))), public=True
    ),
    "groups.public_profile": Case(
        public(), (get(lambda _w, p: f"/direktori/{p.kim.id}"),), public=True
    ),
    # --- groups: members --------------------------------------------------------------------------
    "groups.members": Case(
        staff(200, VIEWERS),
        (
            get(kim("/anggota")),
            htmx(lambda _w, p: f"/kim/{p.kim.id}/anggota?baris={p.kim.member_id}", label="row"),
        ),
    ),
    "groups.member_add": Case(
        staff(303, VIEWERS),
        (
            post(
                kim("/anggota"),
                lambda *_: {"name": "Anggota Baru", "position": "anggota", "phone": unique_phone()},
            ),
        ),
    ),
    "groups.member_edit": Case(
        staff(200, VIEWERS),
        (
            get(lambda _w, p: f"/kim/{p.kim.id}/anggota/{p.kim.member_id}/ubah"),
            htmx(lambda _w, p: f"/kim/{p.kim.id}/anggota/{p.kim.member_id}/ubah"),
        ),
        post=post(
            lambda _w, p: f"/kim/{p.kim.id}/anggota/{p.kim.member_id}/ubah",
            lambda *_: {"name": "Nama Diubah", "position": "anggota"},
        ),
    ),
    "groups.member_status": Case(
        staff(303, VIEWERS),
        (
            post(
                lambda _w, p: f"/kim/{p.kim.id}/anggota/{p.kim.member_id}/status",
                lambda *_: {"active": "0"},
            ),
        ),
    ),
    # --- groups: import and export ------------------------------------------------------------------
    "groups.import_upload": Case(
        staff(scoped=False),
        (get(same("/kim/impor")),),
        post=post(
            same("/kim/impor"),
            data=lambda *_: {"jenis": "kim"},
            files=lambda *_: {"berkas": (b"Nama KIM;Desa\nKIM Baru;Sebakung Jaya\n", "kim.csv")},
        ),
    ),
    "groups.import_preview": Case(
        # an upload is its uploader's alone: another account's (even for the admin) is not found
        staff(admin=(200, 404)),
        (get(kim_upload),),
        post=post(
            kim_upload,
            lambda *_: {"aksi": "batal"},
        ),
    ),
    "groups.export": Case(
        staff(scoped=False),
        (
            get(same("/kim/ekspor.xlsx"), label="xlsx"),
            get(same("/kim/ekspor.csv"), label="csv", marker=kim_name),
        ),
        post=post(same("/kim/ekspor.xlsx")),
    ),
    "groups.export_members": Case(
        staff(),
        (
            get(lambda _w, p: f"/kim/anggota/ekspor.xlsx?kim={p.kim.id}", label="xlsx"),
            get(
                lambda _w, p: f"/kim/anggota/ekspor.csv?kim={p.kim.id}",
                label="csv",
                marker=lambda _w, p: p.kim.member,
            ),
        ),
        post=post(lambda _w, p: f"/kim/anggota/ekspor.xlsx?kim={p.kim.id}"),
    ),
    # --- events -------------------------------------------------------------------------------------
    "events.index": Case(
        staff(200, VIEWERS, scoped=False),
        (
            get(same("/kegiatan/"), marker=event_title),
            htmx(same("/kegiatan/?halaman=1"), marker=event_title),
        ),
    ),
    "events.new": Case(
        staff(scoped=False),
        (get(same("/kegiatan/baru")), htmx(same("/kegiatan/baru?bagian=zona"), label="zone")),
        post=post(same("/kegiatan/baru"), data=event_fields),
    ),
    "events.edit": Case(
        staff(),
        (get(event("/ubah")), htmx(event("/ubah?bagian=zona"), label="zone")),
        post=post(event("/ubah"), data=event_fields),
    ),
    "events.detail": Case(staff(200, VIEWERS), (get(event()),)),
    "events.set_status": Case(
        staff(303), (post(event("/status"), lambda *_: {"to": "berlangsung"}),)
    ),
    "events.clone": Case(
        staff(),
        (get(event("/salin")),),
        post=post(event("/salin"), data=lambda *_: {"first_day": "2030-01-07"}),
    ),
    "events.invitations": Case(
        staff(),
        (
            get(event("/undangan")),
            htmx(event("/undangan?bagian=jumlah"), label="count"),
            htmx(event("/undangan?bagian=saring"), label="filter"),
            htmx(event("/undangan?halaman=1"), label="list"),
        ),
        post=post(event("/undangan"), data=lambda w, p: person_fields(w, p) | {"aksi": "tambah"}),
    ),
    "events.delegates": Case(
        staff(200, VIEWERS),
        (
            get(lambda _w, p: f"/kegiatan/{p.event.id}/delegasi/{p.kim.id}"),
            htmx(lambda _w, p: f"/kegiatan/{p.event.id}/delegasi/{p.kim.id}"),
        ),
        post=post(
            lambda _w, p: f"/kegiatan/{p.event.id}/delegasi/{p.kim.id}",
            lambda _w, p: {"anggota": str(p.kim.member_id)},
        ),
    ),
    "events.participants": Case(
        staff(),
        (
            get(event("/peserta")),
            htmx(
                lambda _w, p: f"/kegiatan/{p.event.id}/peserta?baris={p.registration.id}",
                label="row",
            ),
        ),
    ),
    "events.participant_edit": Case(
        staff(),
        (
            get(lambda _w, p: f"/kegiatan/{p.event.id}/peserta/{p.registration.id}/ubah"),
            htmx(lambda _w, p: f"/kegiatan/{p.event.id}/peserta/{p.registration.id}/ubah"),
        ),
        post=post(
            lambda _w, p: f"/kegiatan/{p.event.id}/peserta/{p.registration.id}/ubah",
            person_fields,
        ),
    ),
    "events.participant_status": Case(
        staff(303),
        (
            post(
                lambda _w, p: f"/kegiatan/{p.event.id}/peserta/{p.registration.id}/status",
                lambda *_: {"status": "batal"},
            ),
        ),
    ),
    "events.participants_import": Case(
        staff(),
        (get(event("/peserta/impor")),),
        post=post(
            event("/peserta/impor"),
            files=lambda *_: {"berkas": (b"Nama;Nomor WhatsApp\nSiti;081234567890\n", "p.csv")},
        ),
    ),
    "events.participants_import_preview": Case(
        staff(),
        (get(participant_upload),),
        post=post(
            participant_upload,
            lambda *_: {"kolom_name": "0", "kolom_phone": "1", "aksi": "impor"},
        ),
    ),
    "events.participants_export": Case(
        staff(),
        (
            get(event("/peserta/ekspor.xlsx"), label="xlsx"),
            get(event("/peserta/ekspor.csv"), label="csv"),
        ),
        post=post(event("/peserta/ekspor.xlsx")),
    ),
    "events.poster": Case(staff(), (get(event("/poster.pdf"), label="pdf"),)),
    # read-only: the operator's own people (by origin) at an event; the outside event has none
    "attendance.area_people": Case(
        staff(),
        (
            get(event("/warga"), marker=lambda _w, p: p.registration.name),
            htmx(event("/warga?halaman=1")),
        ),
    ),
    # --- events: the public side ----------------------------------------------------------------------
    "events.public_event": Case(public(), (get(public_event()), htmx(public_event())), public=True),
    "events.public_register": Case(
        public(303), (post(public_event(), person_fields),), public=True
    ),
    "events.ticket": Case(public(), (get(ticket()),), public=True),
    "events.ticket_ics": Case(public(), (get(ticket(".ics"), label="ics"),), public=True),
    "events.ticket_cancel": Case(public(303), (post(ticket("/batal")),), public=True),
    "events.lost_ticket": Case(
        public(),
        (get(public_event("/tiket-hilang")), htmx(public_event("/tiket-hilang"))),
        post=post(
            public_event("/tiket-hilang"),
            data=lambda _w, p: {"phone": p.registration.phone, "name": p.registration.name},
        ),
        public=True,
    ),
    # --- attendance -----------------------------------------------------------------------------------
    "attendance.overview": Case(staff(), (get(attendance_event()),)),
    "attendance.roll_call": Case(
        staff(),
        (get(session()), htmx(lambda _w, p: f"/absensi/sesi/{p.event.sessions[0]}?q=a")),
    ),
    "attendance.mark": Case(
        staff(303),
        (
            post(
                session("/tandai"),
                lambda _w, p: {"registration": str(p.registration.id), "status": "hadir"},
            ),
        ),
    ),
    "attendance.walk_in": Case(staff(303), (post(session("/datang-langsung"), person_fields),)),
    "attendance.person": Case(
        staff(),
        (get(lambda _w, p: f"/absensi/sesi/{p.event.sessions[0]}/peserta/{p.registration.id}"),),
        post=post(
            lambda _w, p: f"/absensi/sesi/{p.event.sessions[0]}/peserta/{p.registration.id}",
            lambda *_: {"tanda_tangan": SIGNATURE},
        ),
    ),
    "attendance.service_worker": Case(
        public(200, petugas=200), (get(same("/absensi/sw.js"), label="script"),), public=True
    ),
    "attendance.scan_event": Case(
        # the scan page of the session at hand: a redirect to it
        staff(303, petugas=(303, 404)),
        (get(attendance_event("/pindai")),),
    ),
    "attendance.scan": Case(
        staff(petugas=(200, 404)),
        (get(session("/pindai")),),
        post=post(session("/pindai"), data=lambda _w, p: {"kode": p.registration.ticket}),
    ),
    "attendance.officers": Case(
        staff(),
        (get(attendance_event("/petugas")),),
        post=post(
            attendance_event("/petugas"),
            data=lambda *_: {
                "aksi": "buat",
                "name": "Petugas Baru",
                "phone": f"0813{secrets.randbelow(10**8):08d}",
            },
        ),
    ),
    "attendance.self_check_in": Case(
        public(),
        (get(public_event("/hadir")),),
        post=post(
            public_event("/hadir"),
            data=lambda _w, p: {"who": p.registration.ticket, "tanda_tangan": SIGNATURE},
        ),
        public=True,
    ),
    "attendance.settings": Case(
        staff(),
        (get(attendance_event("/pengaturan")),),
        post=post(attendance_event("/pengaturan"), data=settings_fields),
    ),
    "attendance.certificates": Case(
        staff(),
        (
            get(attendance_event("/sertifikat")),
            htmx(attendance_event("/sertifikat?halaman=1")),
        ),
        post=post(attendance_event("/sertifikat")),
    ),
    "attendance.certificates_pdf": Case(
        staff(),
        (get(certified("/absensi/kegiatan/{event}/sertifikat.pdf"), label="pdf"),),
        post=post(certified("/absensi/kegiatan/{event}/sertifikat.pdf")),
    ),
    "attendance.certificates_zip": Case(
        staff(),
        (get(certified("/absensi/kegiatan/{event}/sertifikat.zip"), label="zip"),),
        post=post(certified("/absensi/kegiatan/{event}/sertifikat.zip")),
    ),
    "attendance.participant_certificate": Case(
        staff(),
        (get(certified("/absensi/kegiatan/{event}/sertifikat/{registration}.pdf"), label="pdf"),),
    ),
    "attendance.certificate_image": Case(
        staff(),
        (get(logo, label="photo"),),
    ),
    "attendance.projector": Case(
        # the hall's screen: the event's operators and its own petugas absensi
        staff(petugas=(200, 404)),
        (get(attendance_event("/layar")), htmx(attendance_event("/layar"))),
    ),
    "attendance.ticket_certificate": Case(
        public(),
        (get(certified("/e/{code}/tiket/{ticket}/sertifikat.pdf"), label="pdf"),),
        public=True,
    ),
    "attendance.verify_form": Case(public(), (get(same("/v/")),), public=True),
    "attendance.verify": Case(public(), (get(lambda _w, p: f"/v/{p.certificate}"),), public=True),
    "attendance.list_pdf": Case(
        staff(),
        (get(session("/daftar-hadir.pdf"), label="pdf"),),
        post=post(session("/daftar-hadir.pdf")),
    ),
    "attendance.blank_pdf": Case(
        staff(),
        (get(session("/daftar-hadir-kosong.pdf"), label="pdf"),),
        post=post(session("/daftar-hadir-kosong.pdf")),
    ),
    "attendance.all_lists_pdf": Case(
        staff(),
        (get(attendance_event("/daftar-hadir.pdf"), label="pdf"),),
        post=post(attendance_event("/daftar-hadir.pdf")),
    ),
    "attendance.export": Case(staff(), (get(attendance_event("/kehadiran.xlsx"), label="xlsx"),)),
    # --- reports --------------------------------------------------------------------------------------
    "reports.dashboard": Case(
        staff(),
        (
            get(lambda _w, p: f"/laporan/?wilayah={p.regency}"),
            htmx(lambda _w, p: f"/laporan/?wilayah={p.regency}"),
        ),
    ),
    "reports.export": Case(
        staff(),
        (
            get(lambda _w, p: f"/laporan/ekspor/status.xlsx?wilayah={p.regency}", label="xlsx"),
            get(lambda _w, p: f"/laporan/ekspor/peserta.csv?wilayah={p.regency}", label="csv"),
        ),
    ),
    "reports.kim_history": Case(
        staff(200, VIEWERS), (get(kim("/riwayat")), htmx(kim("/riwayat?halaman=1")))
    ),
    "reports.kim_history_export": Case(
        staff(200, VIEWERS),
        (get(kim("/riwayat.xlsx"), label="xlsx"), get(kim("/riwayat.csv"), label="csv")),
    ),
    # --- evaluation: the operator's pages, and the participant's behind a pass -------------------
    "evaluation.overview": Case(staff(), (get(event("/evaluasi")),)),
    "evaluation.question_new": Case(
        staff(),
        (get(event("/evaluasi/soal/baru")),),
        post=post(event("/evaluasi/soal/baru"), data=lambda *_: QUESTION_FIELDS),
    ),
    "evaluation.question_edit": Case(
        staff(),
        (get(question()),),
        post=post(question(), data=lambda *_: QUESTION_FIELDS),
    ),
    "evaluation.question_delete": Case(staff(303), (post(question("/hapus")),)),
    "evaluation.settings": Case(
        staff(),
        (get(event("/evaluasi/pengaturan")),),
        post=post(
            event("/evaluasi/pengaturan"),
            data=lambda *_: {"survey_on": "y", "survey_anonymous": "y"},
        ),
    ),
    "evaluation.results": Case(
        staff(), (get(event("/evaluasi/hasil")), htmx(event("/evaluasi/hasil")))
    ),
    "evaluation.questions_import": Case(
        staff(),
        (get(event("/evaluasi/soal/impor")),),
        post=post(
            event("/evaluasi/soal/impor"),
            files=lambda *_: {"berkas": (QUESTION_FILE, "soal.csv")},
        ),
    ),
    "evaluation.questions_import_preview": Case(
        staff(),
        (get(question_upload),),
        post=post(question_upload, lambda *_: {"aksi": "batal"}),
    ),
    "evaluation.questions_example": Case(
        staff(), (get(event("/evaluasi/soal/contoh.xlsx"), label="xlsx"),)
    ),
    "evaluation.materials": Case(
        staff(),
        (get(event("/materi")),),
        post=post(
            event("/materi"),
            data=lambda *_: {"title": "Modul", "session_id": "", "from_start": "y"},
            files=lambda *_: {"berkas": (PDF, "modul.pdf")},
        ),
    ),
    "evaluation.material_delete": Case(staff(303), (post(material("/hapus")),)),
    "evaluation.material_download": Case(staff(), (get(material(), label="pdf"),)),
    "evaluation.material_ticket": Case(
        public(),
        (get(lambda w, p: ticket(f"/materi/{p.material}")(w, p), label="pdf"),),
        public=True,
    ),
    "evaluation.material_public": Case(
        public(),
        (get(lambda w, p: public_event(f"/materi/{p.material}")(w, p), label="pdf"),),
        public=True,
    ),
    "evaluation.screen": Case(
        staff(), (get(event("/evaluasi/layar")), htmx(event("/evaluasi/layar")))
    ),
    "evaluation.results_xlsx": Case(staff(), (get(event("/evaluasi/hasil.xlsx"), label="xlsx"),)),
    "evaluation.entry": Case(
        public(),
        (get(public_event("/tes")),),
        post=post(public_event("/tes"), data=lambda _w, p: {"who": p.registration.ticket}),
        public=True,
    ),
    # the person's own pages, behind the pass their ticket links to
    "evaluation.hub": Case(public(), (get(evaluation_pass()),), public=True),
    "evaluation.test": Case(
        public(),
        (get(evaluation_pass("/pre")), get(evaluation_pass("/post"), label="later")),
        post=post(evaluation_pass("/pre"), data=lambda *_: {"aksi": "simpan"}),
        public=True,
    ),
    "evaluation.survey": Case(
        public(),
        (get(evaluation_pass("/survei")),),
        post=post(evaluation_pass("/survei"), data=lambda *_: {"aksi": "simpan"}),
        public=True,
    ),
    "reports.laporan": Case(
        staff(),
        (get(event("/laporan")),),
        post=post(event("/laporan"), data=lambda *_: {"background": "Latar belakang baru."}),
    ),
    "reports.laporan_pdf": Case(
        staff(), (get(event("/laporan.pdf"), label="pdf"),), post=post(event("/laporan.pdf"))
    ),
    "reports.laporan_docx": Case(
        staff(), (get(event("/laporan.docx"), label="docx"),), post=post(event("/laporan.docx"))
    ),
    "reports.people": Case(
        staff(scoped=False),
        (
            # both places' members are called "Anggota …": only the inside one is listed
            get(same("/laporan/orang?q=Anggota"), marker=lambda _w, p: p.registration.name),
            htmx(same("/laporan/orang?q=Anggota"), marker=lambda _w, p: p.registration.name),
        ),
    ),
    "reports.person": Case(staff(), (get(lambda _w, p: f"/laporan/orang/{p.registration.id}"),)),
    "reports.person_export": Case(
        staff(),
        (
            get(lambda _w, p: f"/laporan/orang/{p.registration.id}.xlsx", label="xlsx"),
            get(lambda _w, p: f"/laporan/orang/{p.registration.id}.csv", label="csv"),
        ),
    ),
    "reports.person_data_export": Case(
        staff(),
        (get(lambda _w, p: f"/laporan/orang/{p.registration.id}/data.json", label="json"),),
    ),
    "reports.person_erase": Case(
        staff(),
        (
            get(lambda _w, p: f"/laporan/orang/{p.registration.id}/hapus"),
            htmx(lambda _w, p: f"/laporan/orang/{p.registration.id}/hapus"),
        ),
        post=post(
            lambda _w, p: f"/laporan/orang/{p.registration.id}/hapus",
            lambda *_: {"konfirmasi": "HAPUS"},
        ),
    ),
    "reports.audit_log": Case(
        # every place's registration is audited in its event's region: only the inside one shows
        staff(scoped=False),
        (
            get(same("/log-audit"), marker=lambda _w, p: f"Peserta #{p.registration.id}<br>"),
            htmx(
                same("/log-audit?aksi=registration.create"),
                marker=lambda _w, p: f"Peserta #{p.registration.id}<br>",
            ),
        ),
    ),
    "reports.photo": Case(
        staff(),
        (
            get(lambda _w, p: f"/kegiatan/{p.event.id}/laporan/foto/{p.photo}", label="photo"),
            get(
                lambda _w, p: f"/kegiatan/{p.event.id}/laporan/foto/{p.photo}?ukuran=kecil",
                label="small",
            ),
        ),
    ),
    "reports.photo_upload": Case(
        staff(303),
        (
            post(
                event("/laporan/foto"),
                data=lambda *_: {"caption": "Suasana pelatihan"},
                files=lambda *_: {"foto": (photo_bytes(), "foto.jpg")},
            ),
        ),
    ),
    "reports.photo_delete": Case(
        staff(303),
        (post(lambda _w, p: f"/kegiatan/{p.event.id}/laporan/foto/{p.photo}/hapus"),),
    ),
    # --- KIM activity reports: the KIM's people report, the area's operators review -------------
    "activity.kim_reports_view": Case(staff(200, VIEWERS), (get(kim("/aktivitas")),)),
    "activity.new": Case(
        staff(200, VIEWERS),
        (get(kim("/aktivitas/baru")),),
        post=post(kim("/aktivitas/baru"), data=activity_fields),
    ),
    "activity.report": Case(
        staff(200, VIEWERS), (get(lambda _w, p: f"/kim/{p.kim.id}/aktivitas/{p.activity.id}"),)
    ),
    "activity.edit": Case(
        staff(200, VIEWERS),
        (get(lambda _w, p: f"/kim/{p.kim.id}/aktivitas/{p.activity_waiting.id}/ubah"),),
        post=post(
            lambda _w, p: f"/kim/{p.kim.id}/aktivitas/{p.activity_waiting.id}/ubah",
            data=activity_fields,
        ),
    ),
    "activity.delete": Case(
        staff(303, VIEWERS),
        (post(lambda _w, p: f"/kim/{p.kim.id}/aktivitas/{p.activity_waiting.id}/hapus"),),
    ),
    "activity.review": Case(
        staff(303),
        (
            post(
                lambda _w, p: f"/kim/{p.kim.id}/aktivitas/{p.activity_waiting.id}/tinjau",
                data=lambda *_: {"status": "diterima"},
            ),
        ),
    ),
    "activity.public_kinds_view": Case(
        staff(303, VIEWERS),
        (post(kim("/aktivitas/publik"), data=lambda *_: {"kinds": ["hoaks"]}),),
    ),
    "activity.photo": Case(
        staff(200, VIEWERS),
        (
            get(
                lambda _w, p: f"/kim/{p.kim.id}/aktivitas/{p.activity.id}/foto/{p.activity.photo}",
                label="photo",
            ),
        ),
    ),
    "activity.public_photo": Case(
        public(),
        (
            get(
                lambda _w, p: (
                    f"/direktori/{p.kim.id}/aktivitas/{p.activity.id}/foto/{p.activity.photo}"
                    "?ukuran=kecil"
                ),
                label="small",
            ),
        ),
        public=True,
    ),
    "activity.queue": Case(
        staff(scoped=False),
        (
            get(same("/aktivitas?status=semua"), marker=lambda _w, p: (p.activity, p.kim.name)[1]),
            htmx(
                same("/aktivitas?status=diterima&jenis=hoaks"),
                marker=lambda _w, p: (p.activity, p.kim.name)[1],
            ),
        ),
    ),
    # --- information to spread: operators send, the KIM of the area relay -----------------------
    "activity.info_index": Case(
        staff(scoped=False),
        (get(same("/informasi"), marker=lambda _w, p: (p.info, f"Info {p.tag}")[1]),),
    ),
    "activity.info_new": Case(
        staff(scoped=False),
        (get(same("/informasi/baru")),),
        post=post(same("/informasi/baru"), data=info_fields),
    ),
    "activity.info_item": Case(staff(), (get(lambda _w, p: f"/informasi/{p.info}"),)),
    "activity.info_file": Case(
        staff(), (get(lambda _w, p: f"/informasi/{p.info}/berkas", label="pdf"),)
    ),
    "activity.kim_info": Case(staff(200, VIEWERS), (get(kim("/informasi")),)),
    "activity.kim_item": Case(
        staff(200, VIEWERS),
        (get(lambda _w, p: f"/kim/{p.kim.id}/informasi/{p.info}"),),
        post=post(
            lambda _w, p: f"/kim/{p.kim.id}/informasi/{p.info}",
            data=lambda *_: {"channels": ["whatsapp"], "reach": "25"},
        ),
    ),
    "activity.kim_item_file": Case(
        staff(200, VIEWERS),
        (get(lambda _w, p: f"/kim/{p.kim.id}/informasi/{p.info}/berkas", label="pdf"),),
    ),
    # --- monev: an area's operators, the area in ?wilayah= (404 outside the scope) ---------------
    "activity.monev": Case(
        staff(),
        (get(lambda _w, p: f"/monev?wilayah={p.regency}&tahun={utcnow().year}&bulan=6"),),
    ),
    "activity.monev_weights": Case(
        staff(),
        (get(lambda _w, p: f"/monev/bobot?wilayah={p.regency}"),),
        post=post(
            lambda _w, p: f"/monev/bobot?wilayah={p.regency}",
            data=lambda *_: {
                "reports": "50",
                "relays": "20",
                "hadir": "20",
                "certificates": "5",
                "data": "5",
            },
        ),
    ),
    "activity.monev_refresh": Case(
        staff(303), (post(lambda _w, p: f"/monev/hitung?wilayah={p.regency}"),)
    ),
    "activity.monev_file": Case(
        staff(),
        tuple(
            get(lambda _w, p, fmt=fmt: f"/monev.{fmt}?wilayah={p.regency}", label=fmt)
            for fmt in ("xlsx", "csv", "pdf", "docx")
        ),
        post=post(lambda _w, p: f"/monev.pdf?wilayah={p.regency}"),
    ),
    # --- competitions: the area's operators manage, its KIM enter, anyone reads the public page ---
    "competitions.index": Case(staff(scoped=False), (get(same("/lomba")),)),
    "competitions.new": Case(
        staff(scoped=False),
        (get(same("/lomba/baru")),),
        post=post(same("/lomba/baru"), data=lambda *_: competition_fields()),
    ),
    "competitions.edit": Case(
        staff(),
        (get(lambda _w, p: f"/lomba/{p.competition.id}/ubah"),),
        post=post(
            lambda _w, p: f"/lomba/{p.competition.id}/ubah", data=lambda *_: competition_fields()
        ),
    ),
    "competitions.detail": Case(
        staff(200, VIEWERS), (get(lambda _w, p: f"/lomba/{p.competition.id}"),)
    ),
    "competitions.next_stage": Case(
        staff(303),
        (
            post(
                lambda _w, p: f"/lomba/{p.competition.id}/tahap",
                data=lambda *_: {"dari": "pendaftaran"},
            ),
        ),
    ),
    "competitions.category_new": Case(
        staff(),
        (get(lambda _w, p: f"/lomba/{p.competition.id}/kategori/baru"),),
        post=post(
            lambda _w, p: f"/lomba/{p.competition.id}/kategori/baru",
            data=lambda *_: {
                "name": "Inovasi desa",
                "criteria-0-name": "Dampak",
                "criteria-0-weight": "100",
                "criteria-0-lowest": "1",
                "criteria-0-highest": "100",
            },
        ),
    ),
    "competitions.category_edit": Case(
        staff(),
        (get(lambda _w, p: f"/lomba/{p.competition.id}/kategori/{p.competition.category}"),),
        post=post(
            lambda _w, p: f"/lomba/{p.competition.id}/kategori/{p.competition.category}",
            data=lambda *_: {
                "name": "Literasi digital",
                "criteria-0-name": "Dampak",
                "criteria-0-weight": "50",
                "criteria-0-lowest": "1",
                "criteria-0-highest": "10",
            },
        ),
    ),
    "competitions.entry_check": Case(
        staff(),
        (get(lambda _w, p: f"/lomba/{p.competition.id}/peserta/{p.competition.entry}"),),
        post=post(
            lambda _w, p: f"/lomba/{p.competition.id}/peserta/{p.competition.entry}",
            data=lambda *_: {"status": "lolos"},
        ),
    ),
    "competitions.entry": Case(
        staff(200, VIEWERS),
        (
            get(
                lambda _w, p: (
                    f"/kim/{p.kim.id}/lomba/{p.competition.id}/kategori/{p.competition.category}"
                )
            ),
        ),
        post=post(
            lambda _w, p: (
                f"/kim/{p.kim.id}/lomba/{p.competition.id}/kategori/{p.competition.other}"
            ),
            data=lambda *_: {"aksi": "simpan", "summary": "Draf"},
        ),
    ),
    "competitions.public": Case(
        public(200), (get(lambda _w, p: f"/lomba-kim/{p.competition.code}"),), public=True
    ),
    "notices.index": Case(staff(200, VIEWERS, scoped=False), (get(same("/pesan")),)),
    # --- prepared files: one's own only; another account's answers 404, also for the admin ------------
    "files.index": Case(staff(200, VIEWERS, scoped=False), (get(same("/berkas")),)),
    "files.status": Case(
        lambda role, inside: (
            SIGN_IN
            if role is None
            else 403
            if role is Role.PETUGAS_ABSENSI
            else 200
            if inside
            else 404
        ),
        (get(own_file()), htmx(own_file())),
    ),
    "files.download": Case(
        lambda role, inside: (
            SIGN_IN
            if role is None
            else 403
            if role is Role.PETUGAS_ABSENSI
            else 200
            if inside
            else 404
        ),
        (get(own_file("/unduh"), label="pdf"),),
    ),
    "notices.show": Case(
        # one's own notices only: another account's answers 404, also for the admin
        lambda role, inside: (
            SIGN_IN
            if role is None
            else 403
            if role is Role.PETUGAS_ABSENSI
            else 200
            if inside
            else 404
        ),
        (get(own_notice),),
    ),
    "notices.outbox": Case(
        staff(200, VIEWERS, scoped=False),
        (get(same("/pesan/kirim"), marker=lambda _w, p: p.outbox_notice.name),),
    ),
    "notices.mark_sent": Case(
        staff(303, VIEWERS),
        (post(lambda _w, p: f"/pesan/kirim/{p.outbox_notice.id}"),),
    ),
    "notices.prepare_reminders": Case(
        staff(303), (post(lambda _w, p: f"/pesan/pengingat/{p.event.id}"),)
    ),
}
