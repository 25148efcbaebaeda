"""Members and pengurus of one KIM: who may see and keep them, adding, editing and deactivating
inline (htmx fragments) and with plain forms (303 back), phone numbers, page weight and queries."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Gender, Member, Position
from tests.budget import counted_queries, page_weight
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of
from tests.helpers import BUDGET

JATIM_VILLAGE = "35.14.01.2001"
# role → (its scope, the village of a KIM inside that scope)
ACTORS = {
    Role.ADMIN: (None, PPU_VILLAGE),
    Role.OPERATOR_PROVINSI: (JATIM, JATIM_VILLAGE),
    Role.OPERATOR_KABKOTA: (PPU, PPU_VILLAGE),
    Role.KEPALA_DESA: (PPU_VILLAGE, PPU_VILLAGE),
    Role.PENGURUS_KIM: (PPU_VILLAGE, PPU_VILLAGE),
    Role.PETUGAS_ABSENSI: (PPU, PPU_VILLAGE),
}
ENDPOINTS = (
    "groups.members",
    "groups.member_add",
    "groups.member_edit:get",
    "groups.member_edit:post",
    "groups.member_status",
)
NEW_MEMBER = {"name": "Siti Aminah", "position": "anggota", "gender": "P", "phone": "", "email": ""}


def member_ids(app, kim_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Member.id).where(Member.kim_id == kim_id).order_by(Member.id)
            )
        )


def load_member(app, member_id: int) -> Member:
    with app.app_context():
        member = db.session.get(Member, member_id)
        db.session.expunge(member)
        return member


def _request(client, endpoint: str, kim_id: int, member_id: int, headers=None):
    token = client.token("/")
    base = f"/kim/{kim_id}/anggota"
    if endpoint == "groups.members":
        return client.get(base, headers=headers)
    if endpoint == "groups.member_add":
        return client.post(base, data={**NEW_MEMBER, "csrf_token": token}, headers=headers)
    if endpoint == "groups.member_edit:get":
        return client.get(f"{base}/{member_id}/ubah", headers=headers)
    if endpoint == "groups.member_edit:post":
        data = {**NEW_MEMBER, "name": "Nama Baru", "csrf_token": token}
        return client.post(f"{base}/{member_id}/ubah", data=data, headers=headers)
    return client.post(
        f"{base}/{member_id}/status", data={"active": "0", "csrf_token": token}, headers=headers
    )


def _expected(role: Role, endpoint: str, inside: bool) -> int:
    if role is Role.PETUGAS_ABSENSI:
        return 403
    if not inside and role is not Role.ADMIN:
        return 404
    return 200 if endpoint in ("groups.members", "groups.member_edit:get") else 303


@pytest.mark.parametrize(
    ("role", "endpoint", "inside"),
    [(r, e, i) for r in ACTORS for e in ENDPOINTS for i in (True, False)],
    ids=lambda v: getattr(v, "value", str(v)),
)
def test_member_scope_matrix(app, client, make_user, make_kim, login, role, endpoint, inside):
    """In-scope KIM: allowed; a KIM in Majalengka: 404 (admin reaches it); petugas absensi: 403."""
    scope, village = ACTORS[role]
    kim = make_kim(village=village if inside else MAJALENGKA_VILLAGE)
    own = kim if inside else make_kim(village=village)
    login(make_user(role, scope, kim_id=own.id if role is Role.PENGURUS_KIM else None))
    response = _request(client, endpoint, kim.id, member_ids(app, kim.id)[0])
    assert response.status_code == _expected(role, endpoint, inside)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_pengurus_of_another_kim_in_the_village_gets_404(
    app, client, make_user, make_kim, login, endpoint
):
    """A pengurus account reaches only its own KIM, even in its own village."""
    mine, other = make_kim(), make_kim()
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=mine.id))
    response = _request(client, endpoint, other.id, member_ids(app, other.id)[0])
    assert response.status_code == 404


def test_visitors_are_sent_to_sign_in(client, make_kim):
    """The member list is behind sign-in."""
    kim = make_kim()
    response = client.get(f"/kim/{kim.id}/anggota")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "endpoint", ["groups.member_edit:get", "groups.member_edit:post", "groups.member_status"]
)
def test_member_of_another_kim_under_this_url_is_404(
    app, client, make_user, make_kim, login, endpoint
):
    """A member id of KIM B under KIM A's address is not found, even when both are in scope."""
    kim, other = make_kim(), make_kim()
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    stranger = member_ids(app, other.id)[0]
    assert _request(client, endpoint, kim.id, stranger).status_code == 404
    assert _request(client, endpoint, kim.id, 999_999).status_code == 404
    assert load_member(app, stranger).name != "Nama Baru" and load_member(app, stranger).active


@pytest.fixture
def kades(make_user, login):
    """Signed in as the village head of Sebakung Jaya."""
    return login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))


def _set_members(app, kim_id: int, rows: list[tuple[str, Position, bool, str | None]]) -> None:
    with app.app_context():
        db.session.execute(sa.delete(Member).where(Member.kim_id == kim_id))
        for name, position, active, phone in rows:
            db.session.add(
                Member(kim_id=kim_id, name=name, position=position, active=active, phone=phone)
            )
        db.session.commit()


def test_list_orders_active_first_then_position_then_name(app, kades, make_kim):
    """Active members come first, ketua before sekretaris before anggota, then by name."""
    kim = make_kim()
    _set_members(
        app,
        kim.id,
        [
            ("Zaenal", Position.ANGGOTA, True, None),
            ("Ahmad", Position.ANGGOTA, False, None),
            ("Bambang", Position.SEKRETARIS, True, None),
            ("Citra", Position.KETUA, True, None),
            ("Agus", Position.ANGGOTA, True, None),
        ],
    )
    page = html_of(kades.get(f"/kim/{kim.id}/anggota"))
    names = re.findall(r"<strong>([^<]+)</strong>", page)
    assert names == ["Citra", "Bambang", "Agus", "Zaenal", "Ahmad"]
    assert re.search(r'class="inactive">\s*<strong>Ahmad</strong>.*?nonaktif', page, re.S)
    assert "4 anggota aktif" in page


def test_numbers_are_shown_the_indonesian_way_to_signed_in_keepers(app, kades, make_kim):
    """A stored +6281234567890 reads 0812-3456-7890 on the members page."""
    kim = make_kim()
    _set_members(app, kim.id, [("Dewi", Position.KETUA, True, "+6281234567890")])
    page = html_of(kades.get(f"/kim/{kim.id}/anggota"))
    assert ">0812-3456-7890<" in page


def test_warning_when_fewer_than_three_active_members(app, kades, make_kim):
    """Two active members get a warning; three do not."""
    few, enough = make_kim(members=2), make_kim(members=3)
    assert "Kurang dari 3 anggota aktif" in html_of(kades.get(f"/kim/{few.id}/anggota"))
    assert "Kurang dari 3 anggota aktif" not in html_of(kades.get(f"/kim/{enough.id}/anggota"))


def _add(client, kim_id: int, headers=None, **values):
    data = {**NEW_MEMBER, **values, "csrf_token": client.token(f"/kim/{kim_id}/anggota")}
    return client.post(f"/kim/{kim_id}/anggota", data=data, headers=headers)


def _stored(app, kim_id: int, name: str) -> Member | None:
    with app.app_context():
        member = db.session.scalar(
            sa.select(Member).where(Member.kim_id == kim_id, Member.name == name)
        )
        if member is not None:
            db.session.expunge(member)
        return member


@pytest.mark.parametrize(
    "written", ["0812 3456 7890", "0812-3456-7890", "+62 812-3456-7890", "6281234567890"]
)
def test_add_without_javascript_stores_the_number_as_e164(app, kades, make_kim, written):
    """A plain POST adds the member (303 back to the list) and stores +6281234567890."""
    kim = make_kim()
    response = _add(kades, kim.id, phone=written)
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/kim/{kim.id}/anggota")
    member = _stored(app, kim.id, "Siti Aminah")
    assert member.phone == "+6281234567890" and member.gender is Gender.P and member.active
    page = html_of(kades.get(response.headers["Location"]))
    assert "Siti Aminah ditambahkan." in page and "0812-3456-7890" in page


def test_add_with_htmx_returns_a_fresh_form_the_row_and_the_count(
    app, kades, make_kim, partial_headers
):
    """The add form comes back empty; the new row and the new count travel as partials."""
    kim = make_kim(members=2)
    response = _add(kades, kim.id, partial_headers, phone="0812 3456 7890")
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html
    assert html.lstrip().startswith('<form id="tambah-anggota"')
    assert 'name="name" required type="text" value=""' in html
    member = _stored(app, kim.id, "Siti Aminah")
    row = re.search(
        r'<hx-partial hx-target="#daftar-anggota" hx-swap="beforeend">(.*?)</hx-partial>',
        html,
        re.S,
    )
    assert row and f'id="anggota-{member.id}"' in row.group(1) and "0812-3456-7890" in row.group(1)
    assert re.search(r'hx-target="#jumlah-anggota"[^>]*><p class="meta">3 anggota aktif', html)
    assert html.count("<hx-partial") == 3  # the row, the count, the message — once each
    assert "Kurang dari" not in html


def test_invalid_number_is_refused_on_its_field_and_the_rest_is_kept(
    app, kades, make_kim, partial_headers
):
    """A non-Indonesian-mobile number: 422, a clear message on the phone field, values kept."""
    kim = make_kim()
    for headers in (None, partial_headers):
        response = _add(kades, kim.id, headers, phone="021-555 1234", email="siti@desa.example")
        assert response.status_code == 422
        html = html_of(response)
        assert ("<html" in html) is (headers is None)
        assert re.search(
            r'id="phone-err" class="error">021-555 1234 bukan nomor HP Indonesia yang valid', html
        )
        assert 'value="Siti Aminah"' in html and 'value="siti@desa.example"' in html
        assert '<option selected value="P">' in html
    assert _stored(app, kim.id, "Siti Aminah") is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "  "}, "Wajib diisi."),
        ({"position": "presiden"}, "Pilihan tidak valid."),
        ({"gender": "X"}, "Pilihan tidak valid."),
        ({"email": "bukan-email"}, "Alamat email tidak valid."),
        ({"phone": "+1 202 555 0100"}, "bukan nomor HP Indonesia yang valid"),
        ({"name": "x" * 200}, "Paling banyak 120 karakter."),
        ({"phone": "0812" * 10}, "Paling banyak 30 karakter."),
    ],
)
def test_bad_input_is_a_422_with_a_message_never_a_500(kades, make_kim, values, message):
    """Every malformed field answers 422 with an Indonesian message on that field."""
    kim = make_kim()
    response = _add(kades, kim.id, **values)
    assert response.status_code == 422
    assert message in html_of(response)


def test_edit_opens_the_row_as_a_form_with_htmx_and_without(app, kades, make_kim, partial_headers):
    """htmx gets the row as a form; a plain GET (or ?ubah=) gets the page with that row editable."""
    kim = make_kim()
    _set_members(app, kim.id, [("Dewi", Position.KETUA, True, "+6281234567890")])
    member_id = member_ids(app, kim.id)[0]
    fragment = html_of(
        kades.get(f"/kim/{kim.id}/anggota/{member_id}/ubah", headers=partial_headers)
    )
    assert "<html" not in fragment
    assert fragment.lstrip().startswith(f'<li id="anggota-{member_id}" class="editing">')
    assert f'id="phone-{member_id}"' in fragment and 'value="0812-3456-7890"' in fragment
    assert '<option selected value="ketua">' in fragment
    for url in (
        f"/kim/{kim.id}/anggota/{member_id}/ubah",
        f"/kim/{kim.id}/anggota?ubah={member_id}",
    ):
        page = html_of(kades.get(url))
        assert "<html" in page and f'id="name-{member_id}"' in page and 'id="name"' in page
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), "every id on the page is unique"


def test_cancel_brings_the_row_back(app, kades, make_kim, partial_headers):
    """Cancelling an inline edit fetches the plain row again (htmx); without htmx, the page."""
    kim = make_kim()
    member_id = member_ids(app, kim.id)[0]
    html = html_of(kades.get(f"/kim/{kim.id}/anggota?baris={member_id}", headers=partial_headers))
    assert html.lstrip().startswith(f'<li id="anggota-{member_id}">') and "<form" in html
    assert "<html" in html_of(kades.get(f"/kim/{kim.id}/anggota?baris={member_id}"))


def _edit(client, kim_id, member_id, headers=None, **values):
    data = {**NEW_MEMBER, **values, "csrf_token": client.token(f"/kim/{kim_id}/anggota")}
    return client.post(f"/kim/{kim_id}/anggota/{member_id}/ubah", data=data, headers=headers)


def test_save_with_htmx_returns_the_row(app, kades, make_kim, partial_headers):
    """Saving an edit swaps the form back into a row showing the new values."""
    kim = make_kim()
    member_id = member_ids(app, kim.id)[0]
    response = _edit(
        kades,
        kim.id,
        member_id,
        partial_headers,
        name="Dewi Lestari",
        position="ketua",
        phone="+62 813-1111-2222",
    )
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html and html.lstrip().startswith(f'<li id="anggota-{member_id}">')
    assert "Dewi Lestari" in html and "0813-1111-2222" in html and "<input" in html  # row forms
    assert 'name="name"' not in html
    member = load_member(app, member_id)
    assert (member.name, member.phone, member.gender) == (
        "Dewi Lestari",
        "+6281311112222",
        Gender.P,
    )


def test_save_without_javascript_redirects_back(app, kades, make_kim):
    """A plain edit POST saves and answers 303 to the list, anchored at the row."""
    kim = make_kim()
    member_id = member_ids(app, kim.id)[0]
    response = _edit(kades, kim.id, member_id, name="Dewi Lestari", position="ketua")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/kim/{kim.id}/anggota#anggota-{member_id}"
    assert load_member(app, member_id).name == "Dewi Lestari"


def test_bad_edit_keeps_the_form_open_with_the_message(app, kades, make_kim, partial_headers):
    """An invalid number on edit: 422, the row stays a form (fragment or whole page), nothing saved."""
    kim = make_kim()
    member_id = member_ids(app, kim.id)[0]
    before = load_member(app, member_id)
    for headers in (partial_headers, None):
        response = _edit(kades, kim.id, member_id, headers, name="Nama Lain", phone="12345")
        assert response.status_code == 422
        html = html_of(response)
        assert ("<html" in html) is (headers is None)
        assert f'id="phone-{member_id}-err"' in html and "bukan nomor HP Indonesia" in html
        assert 'value="Nama Lain"' in html
    after = load_member(app, member_id)
    assert (after.name, after.phone) == (before.name, before.phone)


def test_status_toggle_with_htmx_is_one_small_fragment(app, kades, make_kim, partial_headers):
    """Deactivating swaps the row (with its nonaktif tag) and the count, all under 2 KB."""
    kim = make_kim(members=3)
    member_id = member_ids(app, kim.id)[0]
    token = kades.token(f"/kim/{kim.id}/anggota")
    url = f"/kim/{kim.id}/anggota/{member_id}/status"
    response = kades.post(url, data={"active": "0", "csrf_token": token}, headers=partial_headers)
    assert response.status_code == 200
    html = html_of(response)
    print(f"status toggle fragment: {len(response.data)} bytes")
    assert len(response.data) <= 2 * 1024
    assert "<html" not in html and 'class="inactive"' in html and "nonaktif" in html
    assert re.search(r"2 anggota aktif</p>\s*<p class=\"flash error\">Kurang dari 3", html)
    assert not load_member(app, member_id).active
    response = kades.post(url, data={"active": "1", "csrf_token": token}, headers=partial_headers)
    assert "3 anggota aktif" in html_of(response) and load_member(app, member_id).active


def test_status_toggle_without_javascript_redirects_back(app, kades, make_kim):
    """A plain status POST answers 303 to the list and the flash names the member."""
    kim = make_kim()
    member_id = member_ids(app, kim.id)[0]
    token = kades.token(f"/kim/{kim.id}/anggota")
    response = kades.post(
        f"/kim/{kim.id}/anggota/{member_id}/status", data={"active": "0", "csrf_token": token}
    )
    assert response.status_code == 303
    assert "dinonaktifkan." in html_of(kades.get(response.headers["Location"]))


def test_status_needs_a_clear_wish_and_a_token(app, kades, make_kim):
    """A missing ``active`` value is a 400; a missing CSRF token is a 400 asking to reload."""
    kim = make_kim()
    member_id = member_ids(app, kim.id)[0]
    url = f"/kim/{kim.id}/anggota/{member_id}/status"
    token = kades.token(f"/kim/{kim.id}/anggota")
    assert kades.post(url, data={"active": "ya", "csrf_token": token}).status_code == 400
    response = kades.post(url, data={"active": "0"})
    assert response.status_code == 400 and "kedaluwarsa" in html_of(response)
    assert load_member(app, member_id).active


def test_every_change_is_audited_without_the_phone_number(
    app, kades, make_kim, caplog, partial_headers
):
    """Add, edit and status changes are in the audit log; the number is in neither log nor audit."""
    caplog.set_level(logging.DEBUG)
    kim = make_kim()
    _add(kades, kim.id, phone="0812 9876 5432")
    member = _stored(app, kim.id, "Siti Aminah")
    _edit(kades, kim.id, member.id, partial_headers, name="Siti A.", phone="0812 9876 5433")
    kades.post(
        f"/kim/{kim.id}/anggota/{member.id}/status",
        data={"active": "0", "csrf_token": kades.token("/")},
    )
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.object_id == str(member.id))
            .order_by(AuditEntry.id)
        ).all()
        actions = [e.action for e in entries]
        dumped = repr([(e.changes, e.object_id) for e in entries])
    assert actions == ["member.create", "member.update", "member.deactivate"]
    for digits in ("98765432", "9876-5432", "98765433"):
        assert digits not in dumped and digits not in caplog.text


def test_members_page_queries_do_not_grow_with_members(app, kades, make_kim):
    """3 or 30 members: the same number of SQL queries (no query per row)."""
    small, large = make_kim(members=3), make_kim(members=30)
    counts = []
    for kim in (small, large):
        with counted_queries(app) as seen:
            assert kades.get(f"/kim/{kim.id}/anggota").status_code == 200
        counts.append(len(seen))
    print(f"members page queries: {counts}")
    assert counts[0] == counts[1]


def _weigh(response) -> int:
    html = html_of(response)
    assert "<html" in html
    return page_weight(response)


def test_members_page_with_30_members_fits_in_14_kb(app, client, make_user, login, make_kim):
    """30 members with numbers and emails, every row editable: page + CSS ≤ 14 KB gzip."""
    kim = make_kim(members=30)
    with app.app_context():
        for member in db.session.scalars(sa.select(Member).where(Member.kim_id == kim.id)):
            member.email = f"anggota.{member.id}@desa-sebakung.example"
            member.name = f"{member.name} Nama Panjang Sekali"
        db.session.commit()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    first = member_ids(app, kim.id)[0]
    for path in (f"/kim/{kim.id}/anggota", f"/kim/{kim.id}/anggota/{first}/ubah"):
        response = client.get(path)
        assert response.status_code == 200
        size = _weigh(response)
        print(f"page weight {path}: {size} bytes gzip")
        assert size <= BUDGET


def test_kim_name_and_village_head_the_page(app, kades, make_kim):
    """The page says whose members these are and links back to the KIM."""
    kim = make_kim(name="KIM Sebakung Maju")
    page = html_of(kades.get(f"/kim/{kim.id}/anggota"))
    assert "KIM Sebakung Maju · Desa Sebakung Jaya" in page
    assert f'href="/kim/{kim.id}"' in page


SCOPE_CHECKED = {
    "groups.members",
    "groups.member_add",
    "groups.member_edit",
    "groups.member_status",
}
WEIGHED = {"groups.members", "groups.member_edit"}
NOT_PAGES = {"groups.member_add", "groups.member_status"}


def test_ids_beyond_the_database_range_are_404_not_500(app, kades, make_kim):
    """An id too large for a 64-bit integer is simply not found (in the path or in ?ubah=)."""
    kim = make_kim()
    huge = "99999999999999999999"
    member_id = member_ids(app, kim.id)[0]
    for path in (
        f"/kim/{huge}/anggota",
        f"/kim/{kim.id}/anggota/{huge}/ubah",
        f"/kim/{kim.id}/anggota?ubah={huge}",
        f"/kim/{huge}/anggota/{member_id}/ubah",
    ):
        assert kades.get(path).status_code == 404, path
    token = kades.token(f"/kim/{kim.id}/anggota")
    response = kades.post(
        f"/kim/{kim.id}/anggota/{huge}/status", data={"active": "0", "csrf_token": token}
    )
    assert response.status_code == 404
