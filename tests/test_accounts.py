"""Accounts that reach their owners: one-time invitation and reset links, sign-in by WhatsApp
number, account changes by operators, pengurus accounts from the member list, onboarding every
village head of an area in one step."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from kim_app.auth.models import AccountLink, Role, User
from kim_app.extensions import db
from kim_app.phones import MAX_HANDOFF_TEXT
from kim_app.regions.models import Region, RegionLevel
from kim_app.timezones import utcnow
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE, html_of

DISTRICT = "64.09.03"  # Kec. Babulu, PPU


def _link_of(html: str) -> str:
    """The one-time link an operator's page shows (the copy field)."""
    match = re.search(r'id="alamat-tautan" type="text" readonly value="([^"]+)"', html)
    assert match, "no link on the page"
    return urlsplit(unescape(match.group(1))).path


def _handoffs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="(https://wa\.me/[^"]+)"', html)]


def _create(client, **fields):
    data = {"name": "Bu Sari", "role": "kepala_desa", "cakupan_pilih": PPU_VILLAGE, **fields}
    return client.submit("/pengguna/baru", data)


def test_operator_creates_an_account_with_a_number_only_and_gets_its_invitation(
    client, make_user, login, app
):
    """No email and no password: the account page offers a wa.me hand-off to 62… with the
    one-time link in an Indonesian message under 1,000 characters."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = _create(client, phone="0812-3456-7801")
    assert response.status_code == 303, html_of(response)
    page = html_of(client.get(response.headers["Location"]))
    [handoff] = _handoffs(page)
    parts = urlsplit(handoff)
    assert parts.path == "/6281234567801"
    text = parse_qs(parts.query)["text"][0]
    assert len(text) < MAX_HANDOFF_TEXT and "Anda diundang memakai aplikasi KIM" in text
    assert _link_of(page) in text
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.phone == "+6281234567801"))
        assert user.email is None and user.password_hash is None


def test_an_account_needs_an_email_or_a_number(client, make_user, login):
    """Neither given: 422 with a message on the form; a malformed number: its own message."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = _create(client)
    assert response.status_code == 422
    assert "Isi email atau nomor WhatsApp" in html_of(response)
    response = _create(client, phone="12345")
    assert response.status_code == 422
    assert "Nomor WhatsApp tidak valid" in html_of(response)


def test_invitation_link_sets_the_password_once_then_signs_in_by_number(
    client, app, make_user, login
):
    """The owner opens the link, sets a password and is signed in; the link then answers
    'no longer valid'; signing in later works with the number in any common spelling."""
    operator_client = app.test_client()
    login(make_user(Role.OPERATOR_KABKOTA, PPU), on=operator_client)
    created = _create(operator_client, phone="081234567802")
    link = _link_of(html_of(operator_client.get(created.headers["Location"])))
    assert "Buat kata sandi" in html_of(client.get(link))
    short = client.submit(link, {"new": "pendek", "confirm": "pendek"})
    assert short.status_code == 422
    done = client.submit(link, {"new": "sandi-kades-1", "confirm": "sandi-kades-1"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/")
    assert "Bu Sari" in html_of(client.get("/"))
    assert client.get(link).status_code == 404
    client.submit("/logout", form_page="/")
    for spelling in ("+62 812-3456-7802", "6281234567802", "0812 3456 7802"):
        answer = client.submit("/login", {"email": spelling, "password": "sandi-kades-1"})
        assert answer.status_code == 303, spelling
        client.submit("/logout", form_page="/")


def test_forged_expired_and_replaced_links_open_nothing(client, app, make_user, login):
    """A changed signature, a made-up id, a replaced link and an expired one all answer 404
    with the same translated page."""
    operator_client = app.test_client()
    login(make_user(Role.OPERATOR_KABKOTA, PPU), on=operator_client)
    created = _create(operator_client, phone="081234567803")
    detail = created.headers["Location"]
    first = _link_of(html_of(operator_client.get(detail)))
    forged = first[:-4] + ("0000" if not first.endswith("0000") else "1111")
    for bad in (forged, "/akun/999999-" + "a" * 32, "/akun/x", "/akun/" + "9" * 40):
        response = client.get(bad)
        assert response.status_code == 404 and "Tautan tidak berlaku" in html_of(response)
    operator_client.submit(detail + "/tautan", form_page=detail)
    second = _link_of(html_of(operator_client.get(detail)))
    assert second != first
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    with app.app_context():
        db.session.execute(sa.update(AccountLink).values(expires_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    assert client.get(second).status_code == 404


def test_operator_edits_an_account_and_the_owner_is_signed_out(client, app, make_user, login):
    """Name, number and role change; a changed number retires the owner's sessions; the log
    says which fields changed, never the number itself."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    owner = app.test_client()
    login(head, on=owner)
    assert owner.get("/").status_code == 200 and "Pengguna Uji" in html_of(owner.get("/"))
    login(operator)
    page = f"/pengguna/{head.id}"
    response = client.submit(
        page,
        {
            "name": "Pak Budi",
            "phone": "0812-3456-7804",
            "email": head.email,
            "role": "kepala_desa",
            "cakupan_pilih": PPU_VILLAGE,
        },
    )
    assert response.status_code == 303, html_of(response)
    assert "Pak Budi" in html_of(client.get(page))
    assert "Halo, Pak Budi" not in html_of(owner.get("/"))  # signed out
    with app.app_context():
        changed = db.session.get(User, head.id)
        assert changed.phone == "+6281234567804"
        from kim_app.audit import AuditEntry

        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user.update"))
        assert "6281234567804" not in str(entry.changes) and "phone" in entry.changes


def test_operator_cannot_edit_outside_scope_above_own_role_or_self(client, make_user, login):
    """Another regency's account is 404; a province operator's is 403; one's own is read-only."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    outside = make_user(Role.KEPALA_DESA, MAJALENGKA_VILLAGE)
    above = make_user(Role.OPERATOR_PROVINSI, "64")
    login(operator)
    assert client.get(f"/pengguna/{outside.id}").status_code == 404
    assert client.get(f"/pengguna/{above.id}").status_code == 404  # the province is above the scope
    peer = make_user(Role.OPERATOR_KABKOTA, PPU)
    assert client.get(f"/pengguna/{peer.id}").status_code == 403
    own = client.get(f"/pengguna/{operator.id}")
    assert own.status_code == 200 and "Ini akun Anda sendiri" in html_of(own)
    assert client.submit(f"/pengguna/{operator.id}", {"name": "X"}).status_code == 403
    response = client.submit(
        f"/pengguna/{make_user(Role.KEPALA_DESA, PPU_VILLAGE).id}",
        {"name": "X", "phone": "081234567805", "role": "operator_provinsi"},
    )
    assert response.status_code == 422


def test_pengurus_account_from_the_member_list_reaches_its_kim(
    client, app, make_user, make_kim, login
):
    """'Buat akun' on a member creates a pengurus account tied to the KIM, with the member's
    name and number; once the owner sets a password, the KIM is on their home page."""
    kim = make_kim(PPU_VILLAGE, name="KIM Sebakung Maju")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    members = html_of(client.get(f"/kim/{kim.id}/anggota"))
    [action, *_rest] = re.findall(r'action="(/kim/\d+/anggota/\d+/akun)"', members)
    response = client.submit(action, form_page=f"/kim/{kim.id}/anggota")
    assert response.status_code == 303
    page = html_of(client.get(response.headers["Location"]))
    assert "Pengurus KIM" in page
    link = _link_of(page)
    owner = app.test_client()
    owner.submit(link, {"new": "sandi-pengurus-1", "confirm": "sandi-pengurus-1"})
    home = html_of(owner.get("/"))
    assert "KIM Sebakung Maju" in home and "Desa ini belum mendaftarkan KIM" not in home
    members = html_of(client.get(f"/kim/{kim.id}/anggota"))
    assert action not in members  # the member's row now leads to the account instead
    assert re.search(r'href="/pengguna/\d+">Akun pengurus', members)
    again = client.submit(action, form_page=f"/kim/{kim.id}/anggota")
    assert "sudah dipakai akun lain" in html_of(client.get(again.headers["Location"]))


def test_pengurus_account_on_the_form_takes_the_village_kim(
    client, app, make_user, make_kim, login
):
    """Choosing role pengurus and a village with one KIM ties the account to it; a village
    without a KIM is refused with a message on the KIM field."""
    kim = make_kim(PPU_VILLAGE)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = _create(client, role="pengurus_kim", phone="081234567806")
    assert response.status_code == 303, html_of(response)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.phone == "+6281234567806"))
        assert user.kim_id == kim.id and user.scope_code == PPU_VILLAGE
    refused = _create(
        client, role="pengurus_kim", phone="081234567807", cakupan_pilih="64.09.01.2020"
    )
    assert refused.status_code == 422 and "Desa ini belum punya KIM" in html_of(refused)
    second = make_kim(PPU_VILLAGE, name="KIM Kedua")
    ask = _create(client, role="pengurus_kim", phone="081234567809")
    assert ask.status_code == 422 and "Pilih KIM tempat pengurus ini bertugas" in html_of(ask)
    assert f'<option value="{second.id}">KIM Kedua</option>' in html_of(ask)


def test_onboarding_a_district_creates_every_missing_village_head(client, app, make_user, login):
    """One step makes an account and a link for each village of Babulu without a head (an
    existing head is skipped); a bad number refuses the whole step; the work list offers a
    hand-off per account, to 62… where the number was given."""
    make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    with app.app_context():
        villages = db.session.scalars(
            sa.select(Region.code).where(
                Region.level == RegionLevel.DESA, Region.code.like(DISTRICT + ".%")
            )
        ).all()
    missing = sorted(set(villages) - {PPU_VILLAGE})
    form = html_of(client.get(f"/pengguna/kepala-desa?area_kecamatan={DISTRICT}"))
    assert f"{len(missing)} desa/kelurahan di" in form and f'name="nomor-{PPU_VILLAGE}"' not in form
    bad = client.submit(
        "/pengguna/kepala-desa",
        {"area_pilih": DISTRICT, f"nomor-{missing[0]}": "0812"},
        form_page="/pengguna/kepala-desa",
    )
    assert bad.status_code == 422 and "tidak valid" in html_of(bad)
    numbers = {f"nomor-{code}": f"0813{i:08d}" for i, code in enumerate(missing[:3], 1)}
    done = client.submit(
        "/pengguna/kepala-desa",
        {"area_pilih": DISTRICT, **numbers},
        form_page="/pengguna/kepala-desa",
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/pengguna/undangan")
    with app.app_context():
        heads = db.session.scalars(
            sa.select(User).where(User.role == Role.KEPALA_DESA, User.scope_code.in_(missing))
        ).all()
        assert len(heads) == len(missing)
    listed = html_of(client.get("/pengguna/undangan"))
    assert f"{len(missing)} tautan menunggu dibuka" in listed
    numbered = [h for h in _handoffs(listed) if not h.startswith("https://wa.me/?")]
    assert len(numbered) == 3 and all(urlsplit(h).path.startswith("/628") for h in numbered)
    again = html_of(client.get(f"/pengguna/kepala-desa?area_kecamatan={DISTRICT}"))
    assert "sudah punya akun kepala desa" in again


def test_forgot_password_says_the_same_for_everyone_and_names_who_to_ask(client, make_user):
    """Known and unknown accounts get the same answer and the way to an operator; without
    email configured no link is made (a stranger cannot retire someone's invitation)."""
    user = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    assert "Lupa kata sandi?" in html_of(client.get("/login"))
    answers = []
    for who in (user.email, "tidak.ada@uji.example", "081234567899"):
        response = client.submit("/lupa-kata-sandi", {"email": who})
        assert response.status_code == 200
        answers.append(re.sub(r'value="[^"]*"', "", html_of(response)))
    assert answers[0] == answers[1] == answers[2]
    assert "Hubungi operator Diskominfo" in answers[0]


SCOPE_CHECKED = {
    "auth.user_detail",
    "auth.user_link",
    "auth.user_links",
    "auth.onboard",
    "auth.member_account",
}
WEIGHED = {"auth.user_detail", "auth.user_links", "auth.onboard", "auth.accept", "auth.forgot"}
NOT_PAGES = {"auth.user_link", "auth.member_account"}


def test_account_pages_fit_the_page_budget(client, app, make_user, login):
    """The onboarding list of a whole regency, the work list, an account page with its link,
    the link's own page and the forgotten-password page each fit in 14 KB compressed."""
    from tests.budget import PAGE_BUDGET, page_weight

    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    onboarding = client.get(f"/pengguna/kepala-desa?area_kabupaten={PPU}")
    assert "belum punya akun kepala desa" in html_of(onboarding)
    created = _create(client, phone="081234567808")
    detail = client.get(created.headers["Location"])
    link = _link_of(html_of(detail))
    pages = {
        "onboard": onboarding,
        "links": client.get("/pengguna/undangan"),
        "detail": detail,
        "accept": app.test_client().get(link),
        "forgot": app.test_client().get("/lupa-kata-sandi"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert page_weight(response) <= PAGE_BUDGET, (name, page_weight(response))


TAPIN = "63.05"  # Kabupaten Tapin, Kalimantan Selatan: 135 villages


def test_onboarding_a_135_village_regency_fits_the_page_budget(client, app, make_user, login):
    """Tapin's onboarding form, empty and sent back with all 135 numbers typed and one wrong,
    fits in 14 KB compressed."""
    from tests.budget import PAGE_BUDGET, page_weight

    login(make_user(Role.OPERATOR_KABKOTA, TAPIN))
    form = client.get("/pengguna/kepala-desa")
    codes = re.findall(r'name="nomor-([0-9.]+)"', html_of(form))
    assert len(codes) == 135 and "135 desa/kelurahan di Kabupaten Tapin" in html_of(form)
    numbers = {f"nomor-{code}": f"0813{52_000_000 + i:08d}" for i, code in enumerate(codes)}
    numbers[f"nomor-{codes[-1]}"] = "0812"
    refused = client.submit("/pengguna/kepala-desa", numbers, form_page="/pengguna/kepala-desa")
    assert refused.status_code == 422 and 'value="081352000133"' in html_of(refused)
    wrong = re.search(rf'<input [^>]*id="nomor-{re.escape(codes[-1])}"[^>]*>', html_of(refused))
    assert 'aria-invalid="true"' in wrong.group(0) and "autofocus" in wrong.group(0)
    for response in (form, refused):
        assert page_weight(response) <= PAGE_BUDGET, page_weight(response)


def test_forgotten_password_tells_the_operators_who_manage_the_account(
    client, app, make_user, login
):
    """Without email, asking on the sign-in page puts a notice in the list of the regency's
    operators, with the way to the account's page; another regency's operator hears nothing."""
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE, name="Pak Lupa")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    stranger = make_user(Role.OPERATOR_KABKOTA, "32.10")
    answer = client.submit("/lupa-kata-sandi", {"email": head.email})
    assert "operator wilayahnya mendapat pesan" in html_of(answer)
    login(operator)
    notices = html_of(client.get("/pesan"))
    assert "Pak Lupa minta atur ulang kata sandi" in notices
    login(stranger)
    assert "Pak Lupa" not in html_of(client.get("/pesan"))


def test_control_characters_in_a_name_are_dropped_or_refused(app, client, make_user, login):
    """ESC, BEL and a right-to-left override never reach the lists and the messages: control
    characters are dropped from every form value (issue 21), a format character is refused."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = _create(client, name="Kepala\u202eDarat", phone="081234567810")
    assert response.status_code == 422
    assert "Nama berisi karakter yang tidak bisa dipakai." in html_of(response)
    assert _create(client, name="Budi\x1bSantoso\x07", phone="081234567810").status_code == 303
    with app.app_context():
        names = db.session.scalars(sa.select(User.name).where(User.phone == "+6281234567810"))
        assert list(names) == ["BudiSantoso"]


def test_a_link_for_an_account_without_a_number_asks_for_it_at_its_field(
    client, app, make_user, login
):
    """An onboarded head with no number opens the link: without a number the error stands at
    the number's field; with one, the account signs in with it."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    client.submit(
        "/pengguna/kepala-desa", {"area_pilih": DISTRICT}, form_page="/pengguna/kepala-desa"
    )
    with app.app_context():
        head = db.session.scalar(
            sa.select(User).where(User.role == Role.KEPALA_DESA, User.scope_code == PPU_VILLAGE)
        )
    link = _link_of(html_of(client.get(f"/pengguna/{head.id}")))
    owner = app.test_client()
    missing = owner.submit(link, {"new": "sandi-kades-1", "confirm": "sandi-kades-1"})
    assert missing.status_code == 422
    page = html_of(missing)
    assert re.search(r'id="phone"[^>]*aria-invalid="true"', page) or re.search(
        r'aria-invalid="true"[^>]*id="phone"', page
    )
    assert "Isi nomor WhatsApp Anda" in page
    done = owner.submit(
        link, {"phone": "0812-3456-7811", "new": "sandi-kades-1", "confirm": "sandi-kades-1"}
    )
    assert done.status_code == 303


def test_accounts_are_found_by_name_number_or_village(client, make_user, login, partial_headers):
    """Among many accounts: by part of the name, by the number in any spelling, by the village's
    name; nothing outside the scope; the htmx answer is the list alone, keeping the query."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    _create(client, name="Bu Sumarni", phone="0812-3456-7812")
    make_user(Role.KEPALA_DESA, "64.09.01.2020", name="Pak Giri")
    make_user(Role.KEPALA_DESA, MAJALENGKA_VILLAGE, name="Bu Sumarni Majalengka")
    for query in ("sumarni", "+62 812 3456 7812", "sebakung"):
        page = html_of(client.get("/pengguna", query_string={"q": query}))
        assert "Bu Sumarni" in page and "Pak Giri" not in page, query
        assert "Majalengka" not in page
    assert "Pak Giri" in html_of(client.get("/pengguna", query_string={"q": "giri mukti"}))
    fragment = html_of(client.get("/pengguna?q=sumarni", headers=partial_headers))
    assert fragment.startswith('<div id="daftar-pengguna">') and "Bu Sumarni" in fragment


def test_a_number_taken_at_the_same_moment_is_a_refusal_not_an_error(
    client, app, make_user, login, monkeypatch
):
    """Another request takes the number after this one looked: the unique index refuses it and
    the form says so (422), nothing half written."""
    from kim_app.auth import operations

    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    make_user(Role.KEPALA_DESA, "64.09.01.2020", email=None, phone="+6281234567813")

    def looked_too_early(email, phone, **_kw):  # the other request had not committed yet
        return (email or None), "+6281234567813"

    monkeypatch.setattr(operations, "_contact", looked_too_early)
    response = _create(client, phone="0812-3456-7813")
    assert response.status_code == 422
    assert "sudah dipakai akun lain" in html_of(response)
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.phone == "+6281234567813")
        )
        assert count == 1
