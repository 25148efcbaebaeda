"""Issue 22 items 13, 14 and 16 of the KIM registry: one KIM per village unless an operator
allows another; registration as one connected path (checklist links, the SK upload before
"Ajukan", the evidence before the decision, the SK shown in the browser); fields of activity kept
per province and regency beside the national list."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from openpyxl import load_workbook
from PIL import Image

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus
from tests.budget import PAGE_BUDGET, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of
from tests.helpers import kim_registration_form, upload_sk

MAJALENGKA = "32.10"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

SCOPE_CHECKED = {"groups.bidang", "groups.bidang_option"}
WEIGHED = {"groups.bidang"}


def _kims_named(app, name: str) -> list[Kim]:
    with app.app_context():
        return db.session.scalars(sa.select(Kim).where(Kim.name == name)).all()


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (240, 240, 230)).save(out, "PNG")
    return out.getvalue()


# --- item 13: one KIM per village --------------------------------------------------------------


def test_a_second_kim_in_a_village_is_refused_naming_the_first(
    app, client, make_user, login, make_kim
):
    """Item 13: the village head is told before typing that the village has a KIM (linked), and a
    second registration is refused with 422, everything typed kept, nothing created."""
    first = make_kim(name="KIM Sebakung Jaya", status=KimStatus.TERVERIFIKASI)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    form = html_of(client.get("/kim/baru"))
    assert "Desa ini sudah memiliki KIM:" in form
    assert f'href="/kim/{first.id}"' in form
    response = client.submit("/kim/baru", kim_registration_form(name="KIM Sebakung Jaya Baru"))
    assert response.status_code == 422
    page = html_of(response)
    assert f'<a href="/kim/{first.id}">KIM Sebakung Jaya</a> (Terverifikasi)' in page
    assert 'value="KIM Sebakung Jaya Baru"' in page and 'value="Siti Aminah"' in page
    assert "Saya mengizinkan KIM kedua" not in page  # only an operator may allow one
    assert _kims_named(app, "KIM Sebakung Jaya Baru") == []


def test_drafts_and_kim_in_verification_hold_the_village_rejected_and_inactive_do_not(
    app, client, make_user, login, make_kim
):
    """Item 13, what "active" means: a draft, a submitted or a returned KIM holds the village as a
    verified one does; a rejected or deactivated one leaves it free."""
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    for status in (KimStatus.DRAFT, KimStatus.DIAJUKAN, KimStatus.PERLU_PERBAIKAN):
        holder = make_kim(status=status)
        response = client.submit(
            "/kim/baru", kim_registration_form(name=f"KIM Lain {status.value}")
        )
        assert response.status_code == 422, status
        with app.app_context():
            db.session.get(Kim, holder.id).status = KimStatus.DITOLAK
            db.session.commit()
    make_kim(status=KimStatus.NONAKTIF)
    assert client.submit("/kim/baru", kim_registration_form()).status_code == 303


def test_an_operator_allows_a_second_kim_deliberately_and_it_is_audited(
    app, client, make_user, login, make_kim
):
    """Item 13: the operator gets the same refusal with a box to allow a second KIM; ticking it
    needs a reason; the reason is kept on the KIM, shown on its page and audited."""
    first = make_kim(name="KIM Sebakung Jaya")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    data = kim_registration_form(name="KIM Pemuda Sebakung", desa_kim_pilih=PPU_VILLAGE)
    refused = client.submit("/kim/baru", data)
    assert refused.status_code == 422
    assert "Saya mengizinkan KIM kedua di desa ini" in html_of(refused)
    assert client.submit("/kim/baru", data | {"allow_second": "y"}).status_code == 422
    reason = "KIM pemuda, sekretariat dan pengurus terpisah; disepakati musdes."
    allowed = client.submit("/kim/baru", data | {"allow_second": "y", "second_reason": reason})
    assert allowed.status_code == 303
    (second,) = _kims_named(app, "KIM Pemuda Sebakung")
    assert second.second_allowed_note == reason
    (entry,) = _audit(app, "kim.allow_second")
    assert entry.object_id == str(second.id)
    assert entry.changes["beside"] == [first.id] and entry.changes["reason"] == reason
    page = html_of(client.get(f"/kim/{second.id}"))
    assert "Diizinkan sebagai KIM kedua di desanya:" in page and reason in page


def test_a_duplicate_already_registered_is_not_submitted_or_verified_until_allowed(
    app, client, make_user, login, make_kim
):
    """Item 13: two KIM of one village from before the rule: the second is named on the page and
    can be neither submitted nor verified until an operator allows it (through its edit form)."""
    first = make_kim(name="KIM Sebakung Jaya", registration_number=f"KIM-{PPU}-0001")
    second = make_kim(name="KIM Sebakung Raya", status=KimStatus.DIAJUKAN)
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    page = html_of(client.get(f"/kim/{second.id}"))
    assert f'href="/kim/{first.id}"' in page and f'href="/kim/{second.id}/ubah#izin"' in page
    client.submit(
        f"/kim/{second.id}/status", {"to": "terverifikasi"}, form_page=f"/kim/{second.id}"
    )
    with app.app_context():
        assert db.session.get(Kim, second.id).status is KimStatus.DIAJUKAN
    assert "Desa ini sudah memiliki KIM: KIM Sebakung Jaya" in html_of(
        client.get(f"/kim/{second.id}")
    )
    edit = html_of(client.get(f"/kim/{second.id}/ubah"))
    assert 'id="izin"' in edit
    data = kim_registration_form(name="KIM Sebakung Raya", desa_kim_pilih=PPU_VILLAGE)
    data |= {"allow_second": "y", "second_reason": "Dua dusun berjauhan."}
    for key in [k for k in data if k.startswith("pengurus-")]:
        del data[key]
    assert client.submit(f"/kim/{second.id}/ubah", data).status_code == 303
    client.submit(
        f"/kim/{second.id}/status", {"to": "terverifikasi"}, form_page=f"/kim/{second.id}"
    )
    with app.app_context():
        assert db.session.get(Kim, second.id).status is KimStatus.TERVERIFIKASI


def test_reactivating_a_kim_whose_village_has_a_new_one_needs_the_same_allowance(
    app, client, make_user, login, make_kim
):
    """Item 13: a deactivated KIM left its village free; once another KIM holds it, reactivating
    the old one is refused (named) until an operator allows it, as for a new one."""
    old = make_kim(
        name="KIM Lama", status=KimStatus.NONAKTIF, registration_number=f"KIM-{PPU}-0001"
    )
    make_kim(name="KIM Baru", registration_number=f"KIM-{PPU}-0002")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    client.submit(f"/kim/{old.id}/status", {"to": "terverifikasi"}, form_page=f"/kim/{old.id}")
    page = html_of(client.get(f"/kim/{old.id}"))
    assert "Desa ini sudah memiliki KIM: KIM Baru (Terverifikasi)" in page
    assert 'id="izin"' in html_of(client.get(f"/kim/{old.id}/ubah"))
    data = kim_registration_form(name="KIM Lama", desa_kim_pilih=PPU_VILLAGE)
    data = {k: v for k, v in data.items() if not k.startswith("pengurus-")}
    data |= {"allow_second": "y", "second_reason": "Dua dusun berjauhan, disepakati musdes."}
    assert client.submit(f"/kim/{old.id}/ubah", data).status_code == 303
    client.submit(f"/kim/{old.id}/status", {"to": "terverifikasi"}, form_page=f"/kim/{old.id}")
    with app.app_context():
        assert db.session.get(Kim, old.id).status is KimStatus.TERVERIFIKASI


# --- item 14: one connected registration, evidence before the decision, the SK seen ------------


def test_each_checklist_item_links_to_where_it_is_fixed(app, client, make_user, login, make_kim):
    """Item 14: "dokumen SK" leads to the upload on the same page, an SK detail and the bidang to
    their fields on the edit form, a missing officer to the add form of the member list — and
    each target exists there."""
    kim = make_kim(status=KimStatus.DRAFT, members=2, bidang=())
    with app.app_context():
        db.session.get(Kim, kim.id).sk_signer = None
        db.session.commit()
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    page = html_of(client.get(f"/kim/{kim.id}"))
    checklist = page.split("Sebelum diajukan, lengkapi:")[1].split("</ul>")[0]
    links = dict(
        (text, href) for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', checklist)
    )
    assert links == {
        "penanda tangan SK": f"/kim/{kim.id}/ubah#sk_signer",
        "dokumen SK": "#sk",
        "bendahara": f"/kim/{kim.id}/anggota#tambah-anggota",
        "bidang kegiatan": f"/kim/{kim.id}/ubah#bidang-0",
    }
    assert 'id="sk"' in page
    edit = html_of(client.get(f"/kim/{kim.id}/ubah"))
    assert 'id="sk_signer"' in edit and 'id="bidang-0"' in edit
    assert 'id="tambah-anggota"' in html_of(client.get(f"/kim/{kim.id}/anggota"))


def test_the_sk_upload_sits_above_the_submit_button_and_a_refusal_returns_to_the_checklist(
    app, client, make_user, login, make_kim
):
    """Item 14: on a draft the upload comes before "Ajukan ke Diskominfo" (and the KIM's data
    after both); submitting too early lands on the checklist (#lengkapi), not the page top."""
    kim = make_kim(status=KimStatus.DRAFT)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    page = html_of(client.get(f"/kim/{kim.id}"))
    assert page.index('id="lengkapi"') < page.index('id="sk"') < page.index("Ajukan ke Diskominfo")
    assert page.index("Ajukan ke Diskominfo") < page.index("<h2>Data KIM</h2>")
    response = client.submit(
        f"/kim/{kim.id}/status", {"to": "diajukan"}, form_page=f"/kim/{kim.id}"
    )
    assert response.headers["Location"] == f"/kim/{kim.id}#lengkapi"
    assert "Belum lengkap: dokumen SK." in html_of(client.get(f"/kim/{kim.id}"))
    assert upload_sk(client, kim.id, PDF).status_code == 303
    page = html_of(client.get(f"/kim/{kim.id}"))
    assert "Siap diajukan" in page and page.index("Lihat dokumen SK") < page.index("Ajukan ke")


def test_the_verification_page_shows_the_evidence_before_the_decision(
    app, client, make_user, login, make_kim
):
    """Item 14: for the operator the data, the SK and the pengurus come first, then Verifikasi,
    Kembalikan and Tolak."""
    kim = make_kim(status=KimStatus.DIAJUKAN)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    _upload_as_draft(app, client, kim)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get(f"/kim/{kim.id}"))
    decision = page.index(">Verifikasi</button>")
    for evidence in ("<h2>Data KIM</h2>", '<img class="sk-image"', "<h2>Pengurus</h2>"):
        assert page.index(evidence) < decision, evidence
    assert decision < page.index("Kembalikan untuk perbaikan") and decision < page.index(">Tolak<")


def _upload_as_draft(app, client, kim, data: bytes | None = None, name: str = "sk.png") -> None:
    """Upload an SK (a PNG by default) while the KIM is a draft, then put its status back."""
    with app.app_context():
        stored = db.session.get(Kim, kim.id)
        status, stored.status = stored.status, KimStatus.DRAFT
        db.session.commit()
    assert upload_sk(client, kim.id, data or _png(), name=name).status_code == 303
    with app.app_context():
        db.session.get(Kim, kim.id).status = status
        db.session.commit()


def test_the_sk_is_shown_in_the_browser_image_on_the_page_pdf_inline(
    app, client, make_user, login, make_kim
):
    """Item 14: an image SK appears on the KIM page; ``?lihat`` answers inline (a PDF opens in
    the browser's viewer) under the app's CSP, nosniff and no framing; the plain link still
    downloads."""
    kim = make_kim(status=KimStatus.DIAJUKAN)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    _upload_as_draft(app, client, kim)
    page = html_of(client.get(f"/kim/{kim.id}"))
    assert f'<img class="sk-image" src="/kim/{kim.id}/sk?lihat=1"' in page
    shown = client.get(f"/kim/{kim.id}/sk?lihat=1")
    assert shown.mimetype == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    _upload_as_draft(app, client, kim, PDF, "sk.pdf")
    shown = client.get(f"/kim/{kim.id}/sk?lihat=1")
    assert shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    policy = shown.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["X-Frame-Options"] == "DENY"
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/kim/{kim.id}/sk").headers["Content-Disposition"].startswith("attachment;")


def test_a_stored_pdf_with_a_script_is_only_downloaded(app, client, make_user, login, make_kim):
    """Item 14, safety: a PDF stored before uploads were checked, carrying JavaScript, is checked
    again when asked to be shown, and only downloaded."""
    from pathlib import Path

    hostile = b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n%%EOF\n"
    folder = Path(app.config["KIM_UPLOAD_FOLDER"]) / "sk"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ("a" * 32 + ".pdf")).write_bytes(hostile)
    kim = make_kim(sk_file="a" * 32 + ".pdf", sk_mime="application/pdf")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(f"/kim/{kim.id}/sk?lihat=1")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")


# --- item 16: fields of activity per area ------------------------------------------------------

MAJALENGKA_FIELDS = [
    "KIM",
    "Komunitas strategis",
    "Komunitas pembuat konten positif",
    "Kelompok pertunjukan rakyat",
    "Kebudayaan",
    "Sosial",
]


def _add_fields(client, labels, area: str | None = None) -> None:
    path = "/kim/bidang" + (f"?wilayah={area}" if area else "")
    for label in labels:
        response = client.submit(path, {"label": label}, form_page=path)
        assert response.status_code == 303, html_of(response)


def _key(app, label: str) -> str:
    from kim_app.groups.models import BidangOption

    with app.app_context():
        return db.session.scalar(sa.select(BidangOption.key).where(BidangOption.label == label))


def test_majalengka_keeps_its_own_fields_and_its_kim_form_offers_them(
    app, client, make_user, login, make_kim
):
    """Item 16: Majalengka's operator adds its fields (keagamaan and lingkungan are national
    already, and refused as duplicates); a Majalengka KIM may choose them beside the national
    ones, a PPU KIM is not offered them; the page, the registry filter and the export show them."""
    login(make_user(Role.OPERATOR_KABKOTA, MAJALENGKA))
    _add_fields(client, MAJALENGKA_FIELDS)
    duplicate = client.submit("/kim/bidang", {"label": "keagamaan"}, form_page="/kim/bidang")
    assert duplicate.status_code == 422
    assert "Bidang keagamaan sudah ada di daftar." in html_of(duplicate)
    form = html_of(client.get(f"/kim/baru?desa_kim_pilih={MAJALENGKA_VILLAGE}"))
    for label in [*MAJALENGKA_FIELDS, "Keagamaan", "Lingkungan", "Informasi publik"]:
        assert f" {label}</label>" in form, label
    strategis = _key(app, "Komunitas strategis")
    data = kim_registration_form(
        name="KIM Sindangkasih", desa_kim_pilih=MAJALENGKA_VILLAGE, bidang=[strategis, "keagamaan"]
    )
    assert client.submit("/kim/baru", data).status_code == 303
    (kim,) = _kims_named(app, "KIM Sindangkasih")
    page = html_of(client.get(f"/kim/{kim.id}"))
    assert "<dt>Bidang</dt><dd>Keagamaan, Komunitas strategis</dd>" in page
    registry = html_of(client.get(f"/kim/?bidang={strategis}"))
    assert f'<option value="{strategis}" selected>Komunitas strategis</option>' in registry
    assert "KIM Sindangkasih" in registry
    export = load_workbook(io.BytesIO(client.get(f"/kim/ekspor.xlsx?bidang={strategis}").data))
    rows = list(export.active.iter_rows(values_only=True))
    assert len(rows) == 2 and "Keagamaan, Komunitas strategis" in rows[1]

    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    ppu_form = html_of(client.get(f"/kim/baru?desa_kim_pilih={PPU_VILLAGE}"))
    assert "Komunitas strategis" not in ppu_form and "Informasi publik" in ppu_form
    refused = client.submit(
        "/kim/baru", kim_registration_form(desa_kim_pilih=PPU_VILLAGE, bidang=[strategis])
    )
    assert refused.status_code == 422


def test_renaming_and_retiring_a_field_keeps_the_kim_that_have_it(
    app, client, make_user, login, make_kim
):
    """Item 16: renaming changes the label everywhere (the key stays); a retired field is no
    longer offered to a new KIM, but a KIM that has it keeps it, also through an edit; audited."""
    operator = make_user(Role.OPERATOR_KABKOTA, MAJALENGKA)
    login(operator)
    _add_fields(client, ["Sosial"])
    key = _key(app, "Sosial")
    kim = make_kim(village=MAJALENGKA_VILLAGE, name="KIM Cigasong", bidang=())
    with app.app_context():
        from kim_app.groups.models import BidangOption, KimField

        stored = db.session.get(Kim, kim.id)
        stored.fields = [KimField(field=key), KimField(field="keagamaan")]
        db.session.commit()
        option_id = db.session.scalar(sa.select(BidangOption.id).where(BidangOption.key == key))
    path = f"/kim/bidang/{option_id}"
    client.submit(
        path, {"label": "Sosial kemasyarakatan", "aksi": "simpan"}, form_page="/kim/bidang"
    )
    assert "Keagamaan, Sosial kemasyarakatan" in html_of(client.get(f"/direktori/{kim.id}"))
    client.submit(
        path, {"label": "Sosial kemasyarakatan", "aksi": "pensiun"}, form_page="/kim/bidang"
    )
    assert " Sosial kemasyarakatan</label>" not in html_of(
        client.get(f"/kim/baru?desa_kim_pilih={MAJALENGKA_VILLAGE}")
    )
    edit = html_of(client.get(f"/kim/{kim.id}/ubah"))
    assert re.search(rf'<input checked[^>]*value="{key}"> Sosial kemasyarakatan</label>', edit)
    data = kim_registration_form(
        name="KIM Cigasong", desa_kim_pilih=MAJALENGKA_VILLAGE, bidang=[key]
    )
    assert client.submit(f"/kim/{kim.id}/ubah", data).status_code == 303
    with app.app_context():
        assert [f.field for f in db.session.get(Kim, kim.id).fields] == [key]
    actions = [e.action for e in _audit(app, "bidang.create") + _audit(app, "bidang.update")]
    assert actions == ["bidang.create", "bidang.update"] and _audit(app, "bidang.retire")


def test_a_regency_sees_its_province_s_fields_but_keeps_only_its_own(app, client, make_user, login):
    """Item 16: the province's fields are offered to its regencies' KIM and listed read-only to
    the regency's operator, who gets 404 renaming them; the province's operator may keep a
    regency's list too."""
    province = make_user(Role.OPERATOR_PROVINSI, "32")
    login(province)
    _add_fields(client, ["Jabar Digital"])
    _add_fields(client, ["Pertunjukan rakyat Majalengka"], area=MAJALENGKA)
    regency = make_user(Role.OPERATOR_KABKOTA, MAJALENGKA)
    login(regency)
    page = html_of(client.get("/kim/bidang"))
    assert "Jabar Digital" in page.split("Dari wilayah di atasnya")[1].split("</section>")[0]
    assert 'value="Pertunjukan rakyat Majalengka"' in page
    form = html_of(client.get(f"/kim/baru?desa_kim_pilih={MAJALENGKA_VILLAGE}"))
    assert "Jabar Digital" in form and "Pertunjukan rakyat Majalengka" in form
    with app.app_context():
        from kim_app.groups.models import BidangOption

        province_option = db.session.scalar(
            sa.select(BidangOption.id).where(BidangOption.area_code == "32")
        )
    response = client.submit(
        f"/kim/bidang/{province_option}",
        {"label": "Diubah", "aksi": "simpan"},
        form_page="/kim/bidang",
    )
    assert response.status_code == 404


def test_english_readers_get_the_english_label_when_given(app, client, make_user, login, make_kim):
    """Item 16: an area's field may carry an English label; without one the Indonesian shows."""
    login(make_user(Role.OPERATOR_KABKOTA, MAJALENGKA))
    client.submit(
        "/kim/bidang",
        {"label": "Kelompok pertunjukan rakyat", "label_en": "Folk performance groups"},
        form_page="/kim/bidang",
    )
    _add_fields(client, ["Komunitas strategis"])
    client.submit("/bahasa", {"lang": "en", "next": "/"}, form_page="/kim/bidang")
    form = html_of(client.get(f"/kim/baru?desa_kim_pilih={MAJALENGKA_VILLAGE}"))
    assert " Folk performance groups</label>" in form and " Komunitas strategis</label>" in form
    assert "Kelompok pertunjukan rakyat" not in form


def test_the_fields_page_fits_its_budget_with_many_fields(app, client, make_user, login):
    """The fields page of a province with 40 fields of its own still fits 14 KB compressed."""
    login(make_user(Role.OPERATOR_PROVINSI, "32"))
    _add_fields(client, [f"Bidang khusus nomor {n}" for n in range(40)])
    response = client.get("/kim/bidang")
    assert response.status_code == 200 and "Bidang khusus nomor 39" in html_of(response)
    assert page_weight(response) <= PAGE_BUDGET
