"""Registering a KIM and taking it through verification: drafts, officers, SK files, statuses."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus, KimStatusChange, Member, Position
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of
from tests.helpers import kim_registration_form, multipart, upload_sk

SCOPE_CHECKED = {
    "groups.new",
    "groups.edit",
    "groups.detail",
    "groups.set_status",
    "groups.sk_upload",
    "groups.sk_file",
    "groups.queue",
    "groups.mine",
}
WEIGHED = {"groups.new", "groups.edit", "groups.detail", "groups.queue", "groups.mine"}
NOT_PAGES = {"groups.sk_file"}

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "KameraRahasia"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _register(client, **overrides):
    return client.submit("/kim/baru", kim_registration_form(**overrides))


def _kim(app, name="KIM Sebakung Maju") -> Kim:
    with app.app_context():
        kim = db.session.scalar(sa.select(Kim).where(Kim.name == name))
        db.session.expunge(kim)
        return kim


def test_village_head_registers_a_draft_for_their_own_village(app, client, make_user, login):
    """The village is fixed to the head's own; officers' numbers are stored as E.164; audited."""
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    login(head)
    form = html_of(client.get("/kim/baru"))
    assert 'name="desa_kim_desa" value="64.09.03.2006"' in form  # fixed, not a choice
    assert 'name="desa_kim_q"' not in form  # nothing to search for
    response = _register(client)
    assert response.status_code == 303
    kim = _kim(app)
    assert response.headers["Location"] == f"/kim/{kim.id}"
    assert kim.village_code == PPU_VILLAGE and kim.status is KimStatus.DRAFT
    with app.app_context():
        members = db.session.scalars(
            sa.select(Member).where(Member.kim_id == kim.id).order_by(Member.id)
        ).all()
        assert [(m.name, m.position, m.phone) for m in members] == [
            ("Siti Aminah", Position.KETUA, "+6281234567890"),
            ("Budi", Position.SEKRETARIS, "+6281311112222"),
            ("Wati", Position.BENDAHARA, None),
        ]
        assert (
            db.session.scalar(
                sa.select(AuditEntry.action).where(
                    AuditEntry.object_type == "kim", AuditEntry.object_id == str(kim.id)
                )
            )
            == "kim.create"
        )


def test_village_head_cannot_register_for_another_village(app, client, make_user, login):
    """A village sent for another village is ignored: the head's own village is used."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    _register(client, desa_kim_pilih=PPU_OTHER_VILLAGE, desa_kim_desa=PPU_OTHER_VILLAGE)
    assert _kim(app).village_code == PPU_VILLAGE


def test_operator_registers_for_a_village_in_scope_but_not_outside(app, client, make_user, login):
    """An operator picks any village of the regency; a Majalengka village gets a 422 message."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = _register(client, desa_kim_pilih=MAJALENGKA_VILLAGE)
    assert response.status_code == 422
    assert "Pilih desa/kelurahan KIM ini." in html_of(response)
    assert _register(client, desa_kim_pilih=PPU_OTHER_VILLAGE).status_code == 303
    assert _kim(app).village_code == PPU_OTHER_VILLAGE


def test_bad_officer_phone_is_shown_on_its_row_and_nothing_is_lost(client, make_user, login):
    """A landline in row 2 gets a message there; the typed values come back; nothing is saved."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    response = _register(client, **{"pengurus-1-phone": "021-555-1234"})
    page = html_of(response)
    assert response.status_code == 422
    assert "021-555-1234 bukan nomor HP Indonesia yang valid" in page
    assert re.search(r'id="pengurus-1-phone-err"', page)
    assert 'value="KIM Sebakung Maju"' in page and 'value="Siti Aminah"' in page


def test_officer_rows_are_added_and_removed_without_saving(
    client, make_user, login, partial_headers
):
    """ "+ Tambah" adds a row and "Hapus" removes one — as a fragment for htmx, a page without."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    token = client.token("/kim/baru")
    data = kim_registration_form(_baris="tambah", csrf_token=token)
    fragment = html_of(client.post("/kim/baru", data=data, headers=partial_headers))
    assert "<html" not in fragment and 'name="pengurus-3-name"' in fragment
    page = html_of(
        client.post("/kim/baru", data=kim_registration_form(_baris="hapus-1", csrf_token=token))
    )
    assert "<html" in page
    assert (
        'value="Budi"' not in page
        and 'value="Wati"' in page
        and 'name="pengurus-2-name"' not in page
    )
    with client.application.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Kim)) == 0


def _submit(client, kim_id, to, note=""):
    return client.submit(
        f"/kim/{kim_id}/status", {"to": to, "note": note}, form_page=f"/kim/{kim_id}"
    )


def test_full_workflow_return_fix_resubmit_verify(app, make_user, login):
    """Draft → diajukan → perlu perbaikan (note seen by the head) → diajukan → terverifikasi."""
    head_client, operator_client = app.test_client(), app.test_client()
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE), on=head_client)
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Bu Operator")
    login(operator, on=operator_client)
    _register(head_client, sk_number="")
    kim = _kim(app)

    response = _submit(head_client, kim.id, "diajukan")
    assert "Belum lengkap" in html_of(head_client.get(response.headers["Location"]))
    assert upload_sk(head_client, kim.id, PDF).status_code == 303
    head_client.submit(f"/kim/{kim.id}/ubah", kim_registration_form(sk_number="141/05/2026"))
    _submit(head_client, kim.id, "diajukan")
    assert _kim(app).status is KimStatus.DIAJUKAN

    queue = html_of(operator_client.get("/kim/verifikasi"))
    assert "KIM Sebakung Maju" in queue
    assert _submit(operator_client, kim.id, "perlu_perbaikan", "").status_code == 303
    assert _kim(app).status is KimStatus.DIAJUKAN  # a return needs a note
    _submit(operator_client, kim.id, "perlu_perbaikan", "Tanggal SK keliru, mohon periksa.")
    page = html_of(head_client.get(f"/kim/{kim.id}"))
    assert "Perlu perbaikan:" in page and "Tanggal SK keliru, mohon periksa." in page

    head_client.submit(f"/kim/{kim.id}/ubah", kim_registration_form(sk_date="2026-01-06"))
    _submit(head_client, kim.id, "diajukan")
    _submit(operator_client, kim.id, "terverifikasi")
    verified = _kim(app)
    assert verified.status is KimStatus.TERVERIFIKASI
    assert verified.registration_number == "KIM-64.09-0001"
    page = html_of(head_client.get(f"/kim/{kim.id}"))
    assert "Bu Operator" in page and "KIM-64.09-0001" in page
    with app.app_context():
        steps = db.session.scalars(
            sa.select(KimStatusChange.to_status)
            .where(KimStatusChange.kim_id == kim.id)
            .order_by(KimStatusChange.id)
        ).all()
    assert [s.value for s in steps] == [
        "draft",
        "diajukan",
        "perlu_perbaikan",
        "diajukan",
        "terverifikasi",
    ]


def test_village_head_cannot_verify_or_edit_after_submission(
    app, client, make_user, login, make_kim
):
    """Verification is for operators; a submitted KIM is frozen for the village head."""
    kim = make_kim(status=KimStatus.DIAJUKAN)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    _submit(client, kim.id, "terverifikasi")
    assert _kim(app, kim.name).status is KimStatus.DIAJUKAN
    assert client.get(f"/kim/{kim.id}/ubah").status_code == 403


def test_reject_needs_a_reason_and_deactivation_can_be_undone(
    app, client, make_user, login, make_kim
):
    """Rejecting records the reason; an active KIM can be deactivated and reactivated."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    pending = make_kim(status=KimStatus.DIAJUKAN)
    _submit(client, pending.id, "ditolak", "Sudah ada KIM aktif di desa ini.")
    assert _kim(app, pending.name).status is KimStatus.DITOLAK
    active = make_kim()
    _submit(client, active.id, "nonaktif", "Tidak ada kegiatan setahun.")
    assert _kim(app, active.name).status is KimStatus.NONAKTIF
    _submit(client, active.id, "terverifikasi")
    assert _kim(app, active.name).status is KimStatus.TERVERIFIKASI


def test_queue_is_oldest_first_and_only_in_scope(client, make_user, login, make_kim):
    """The queue lists submitted KIM of the regency, oldest submission first."""
    first = make_kim(status=KimStatus.DIAJUKAN, name="KIM Pertama")
    second = make_kim(status=KimStatus.DIAJUKAN, name="KIM Kedua", village=PPU_OTHER_VILLAGE)
    make_kim(status=KimStatus.DIAJUKAN, name="KIM Majalengka", village=MAJALENGKA_VILLAGE)
    make_kim(status=KimStatus.DRAFT, name="KIM Draf")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get("/kim/verifikasi"))
    assert page.index(first.name) < page.index(second.name)
    assert "KIM Majalengka" not in page and "KIM Draf" not in page
    assert '<span class="tag">2</span>' in page


def test_similar_name_in_the_same_village_is_flagged_to_the_operator(
    client, make_user, login, make_kim
):
    """ "KIM Sebakung Jaya" and "Sebakung-Jaya" in one village: the operator sees a warning."""
    existing = make_kim(name="KIM Sebakung Jaya")
    new = make_kim(name="Sebakung-Jaya", status=KimStatus.DIAJUKAN)
    make_kim(name="KIM Sebakung Jaya", village=PPU_OTHER_VILLAGE)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get(f"/kim/{new.id}"))
    assert "Nama mirip KIM lain di desa ini:" in page
    assert f'href="/kim/{existing.id}"' in page
    assert page.count("/kim/") >= 1


def test_sk_image_is_reencoded_without_metadata_and_served_as_attachment(
    app, client, make_user, login, make_kim
):
    """A JPEG loses its EXIF; the file is served to those in scope as a download with nosniff."""
    kim = make_kim(status=KimStatus.DRAFT)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    assert (
        upload_sk(client, kim.id, _jpeg_with_exif(), name="../../etc/passwd.jpg").status_code == 303
    )
    response = client.get(f"/kim/{kim.id}/sk")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"KameraRahasia" not in response.data
    stored = _kim(app, kim.name).sk_file
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", stored)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "Dokumen SK harus berupa PDF, JPEG atau PNG."),
        (b"MZ\x90\x00 program", "Dokumen SK harus berupa PDF, JPEG atau PNG."),
        (b"\x89PNG\r\n\x1a\nnot really a png", "Gambar tidak dapat dibaca."),
        (b"", "Pilih berkas SK terlebih dahulu."),
    ],
)
def test_sk_upload_rejects_what_is_not_a_document(
    app, client, make_user, login, make_kim, data, message
):
    """Types are read from the content; a refused file leaves a clear message and no file."""
    kim = make_kim(status=KimStatus.DRAFT)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    response = upload_sk(client, kim.id, data, name="sk.pdf")
    assert response.status_code == 303
    assert message in html_of(client.get(f"/kim/{kim.id}"))
    assert _kim(app, kim.name).sk_file is None


def test_oversized_sk_is_a_413_stating_2_mb_and_the_draft_is_kept(
    app, client, make_user, login, make_kim
):
    """A 3 MB upload gets the Indonesian 413 page naming the 2 MB limit; the KIM is untouched."""
    kim = make_kim(status=KimStatus.DRAFT)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    response = upload_sk(client, kim.id, PDF + b"0" * (3 * 1024 * 1024))
    assert response.status_code == 413
    assert "2 MB" in html_of(response)
    assert _kim(app, kim.name).name == kim.name


def test_sk_file_is_404_outside_scope(client, make_user, login, make_kim, app):
    """A Penajam Paser Utara operator cannot fetch a Majalengka KIM's SK."""
    kim = make_kim(village=MAJALENGKA_VILLAGE, status=KimStatus.DRAFT)
    owner = make_user(Role.OPERATOR_KABKOTA, "32.10")
    owner_client = app.test_client()
    login(owner, on=owner_client)
    upload_sk(owner_client, kim.id, PDF)
    assert owner_client.get(f"/kim/{kim.id}/sk").status_code == 200
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    assert client.get(f"/kim/{kim.id}/sk").status_code == 404
    assert client.get(f"/kim/{kim.id}").status_code == 404


# role → (scope, the village inside it) for the matrix below
ACTORS = {
    Role.ADMIN: (None, PPU_VILLAGE),
    Role.OPERATOR_PROVINSI: (JATIM, "35.14.01.2001"),
    Role.OPERATOR_KABKOTA: (PPU, PPU_VILLAGE),
    Role.KEPALA_DESA: (PPU_VILLAGE, PPU_VILLAGE),
    Role.PENGURUS_KIM: (PPU_VILLAGE, PPU_VILLAGE),
    Role.PETUGAS_ABSENSI: (PPU, PPU_VILLAGE),
}
OPERATORS = {Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA}


def _expected(role: Role, what: str, inside: bool) -> int:
    if role is Role.PETUGAS_ABSENSI:  # scan-only: turned away before any KIM page
        return 403
    if what == "queue":
        return 200 if role in OPERATORS else 403
    if what == "mine":
        return 200 if role in (Role.KEPALA_DESA, Role.PENGURUS_KIM) else 403
    if what == "new":
        return 200 if role in OPERATORS or role is Role.KEPALA_DESA else 403
    seen = (inside or role is Role.ADMIN) and role is not Role.PETUGAS_ABSENSI
    if what == "detail":
        return 200 if seen else 404
    if what in ("edit", "sk_upload", "set_status"):
        if role not in OPERATORS and role is not Role.KEPALA_DESA:
            return 403
        if not seen:
            return 404
        return 200 if what == "edit" else 303
    if what == "sk_file":
        return 200 if seen else 404
    raise AssertionError(what)


@pytest.mark.parametrize("role", list(ACTORS), ids=lambda r: r.value)
@pytest.mark.parametrize(
    "what", ["detail", "edit", "set_status", "sk_upload", "sk_file", "queue", "mine", "new"]
)
@pytest.mark.parametrize("inside", [True, False], ids=["dalam", "luar"])
def test_groups_scope_matrix(app, client, make_user, login, make_kim, role, what, inside):
    """Each role reaches KIM in its wilayah (pengurus: only its own KIM) and gets 404 for the rest."""
    scope, village = ACTORS[role]
    kim = make_kim(village=village if inside else MAJALENGKA_VILLAGE, status=KimStatus.DRAFT)
    with app.app_context():
        db.session.execute(sa.update(Kim).where(Kim.id == kim.id).values(sk_file=None))
        db.session.commit()
    if what == "sk_file":
        helper = app.test_client()
        login(make_user(Role.ADMIN), on=helper)
        upload_sk(helper, kim.id, PDF)
    actor = make_user(role, scope, kim_id=kim.id if role is Role.PENGURUS_KIM and inside else None)
    login(actor)
    token = client.token("/")
    if what == "detail":
        response = client.get(f"/kim/{kim.id}")
    elif what == "edit":
        response = client.get(f"/kim/{kim.id}/ubah")
    elif what == "set_status":
        response = client.post(
            f"/kim/{kim.id}/status", data={"to": "diajukan", "csrf_token": token}
        )
    elif what == "sk_upload":
        response = client.post(
            f"/kim/{kim.id}/sk", **multipart({"csrf_token": token, "sk": (PDF, "sk.pdf")})
        )
    elif what == "sk_file":
        response = client.get(f"/kim/{kim.id}/sk")
    elif what == "queue":
        response = client.get("/kim/verifikasi")
    elif what == "mine":
        response = client.get("/kim/desa")
    else:
        response = client.get("/kim/baru")
    assert response.status_code == _expected(role, what, inside)


def test_pengurus_sees_only_their_own_kim(client, make_user, login, make_kim):
    """A pengurus of one KIM gets 404 for another KIM in the same village."""
    own, other = make_kim(), make_kim()
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=own.id))
    assert client.get(f"/kim/{own.id}").status_code == 200
    assert client.get(f"/kim/{other.id}").status_code == 404


def test_timeline_times_are_in_the_kim_s_own_time_zone(app, client, make_user, login, make_kim):
    """A Penajam Paser Utara KIM's history reads in WITA (UTC+8), not in Jakarta time."""
    from datetime import datetime

    kim = make_kim(status=KimStatus.DRAFT)
    with app.app_context():
        db.session.add(
            KimStatusChange(
                kim_id=kim.id, to_status=KimStatus.DRAFT, at=datetime(2026, 3, 1, 1, 30)
            )
        )
        db.session.commit()
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    assert "09.30.00 WITA" in html_of(client.get(f"/kim/{kim.id}"))


def test_the_checklist_names_only_what_is_missing(client, make_user, login, make_kim):
    """Issue 22 item 15: a draft whose SK lacks only the signer is asked for the signer, not
    for "nomor, tanggal dan penanda tangan SK"; with nothing missing the checklist is gone."""
    kim = make_kim(status=KimStatus.DRAFT)
    with client.application.app_context():
        db.session.get(Kim, kim.id).sk_signer = None
        db.session.commit()
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    page = html_of(client.get(f"/kim/{kim.id}"))
    checklist = page.split("Sebelum diajukan, lengkapi:")[1].split("</ul>")[0]
    assert f'<li><a href="/kim/{kim.id}/ubah#sk_signer">penanda tangan SK</a></li>' in checklist
    assert "nomor SK" not in checklist and "tanggal SK" not in checklist
    assert "nomor, tanggal" not in page


def test_the_kim_page_shows_the_saved_whatsapp_number(client, make_user, login, make_kim):
    """Issue 22 item 12: a KIM with only a WhatsApp number saved shows it under Kontak (as
    people read it) instead of "—"; email and website follow it."""
    kim = make_kim(whatsapp="+6281234560001")
    both = make_kim(whatsapp="+6281234560002", email="kim@desa.example")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get(f"/kim/{kim.id}"))
    contact = page.split(">Kontak</dt><dd>")[1].split("</dd>")[0]
    assert contact == "WhatsApp 0812-3456-0001"
    contact = html_of(client.get(f"/kim/{both.id}")).split(">Kontak</dt><dd>")[1].split("</dd>")[0]
    assert contact == "WhatsApp 0812-3456-0002 · kim@desa.example"
