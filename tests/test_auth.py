"""Accounts: sign-in and its throttle, sign-out, password change, the command line, user admin."""

from __future__ import annotations

import re

import sqlalchemy as sa

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role, User
from kim_app.extensions import db
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PASSWORD, PPU, PPU_VILLAGE, html_of


def _sign_in(client, email, password=PASSWORD, next_=""):
    return client.submit("/login", {"email": email, "password": password, "next": next_})


def test_sign_in_and_out(client, make_user):
    """Right email and password sign in (303 home); sign-out by POST ends the session and tells
    the browser to drop its copies (the offline roll call keeps names in its cache)."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    response = _sign_in(client, user.email.upper())  # email is not case-sensitive
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Halo," in html_of(client.get("/"))
    response = client.submit("/logout", form_page="/")
    assert response.status_code == 303
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert client.get("/wilayah/").status_code == 302


def test_sign_out_ends_every_copy_of_the_session(app, client, make_user):
    """The session cookie is signed, not stored server-side: sign-out retires the account's
    session version, so a copy taken before (another device, a stolen cookie) stops working."""
    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    _sign_in(client, user.email)
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/wilayah/").status_code == 200
    client.submit("/logout", form_page="/")
    assert copy.get("/wilayah/").status_code == 302
    assert _sign_in(client, user.email).status_code == 303  # signing in again works


def test_wrong_password_and_unknown_email_get_the_same_message(client, make_user):
    """No hint whether the account exists: one generic message, status 422, email kept."""
    user = make_user()
    for email in (user.email, "tidak.ada@uji.example"):
        response = _sign_in(client, email, "salah-sekali")
        assert response.status_code == 422
        page = html_of(response)
        assert "Email/nomor WhatsApp atau kata sandi salah." in page
        assert f'value="{email}"' in page


def test_an_unknown_account_costs_what_a_wrong_password_costs(client, make_user, monkeypatch):
    """Issue 21 item 6: no account enumeration by timing. An unknown email, an unknown number
    and a known account with a wrong password each check exactly one password hash of the same
    method and work factor (counted, not timed)."""
    from werkzeug import security as werkzeug_security

    from kim_app.auth import operations

    user = make_user(Role.OPERATOR_KABKOTA, PPU)
    checked: list[str] = []
    real = werkzeug_security.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checked.append(stored.split("$", 1)[0])  # the method and its parameters, not the salt
        return real(stored, password)

    monkeypatch.setattr(operations, "check_password_hash", counting)
    for identifier in ("nobody@example.org", "0819 9999 0000", user.email):
        checked.clear()
        response = _sign_in(client, identifier, "salah-sekali")
        assert response.status_code == 422
        with client.application.app_context():
            stored = db.session.get(User, user.id).password_hash
        assert checked == [stored.split("$", 1)[0]], identifier


def test_inactive_account_cannot_sign_in(client, make_user, app):
    """A deactivated account is refused like a wrong password."""
    user = make_user()
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user.id).values(active=False))
        db.session.commit()
    assert _sign_in(client, user.email).status_code == 422


def test_login_is_throttled_per_account_with_a_retry_time(client, make_user):
    """After 5 failures for one account, the 6th try is a 429 that says when to retry."""
    user = make_user()
    for _ in range(5):
        assert _sign_in(client, user.email, "salah").status_code == 422
    response = _sign_in(client, user.email, PASSWORD)  # even the right password waits
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 0 < retry <= 600
    said = re.search(r"Coba lagi dalam (\d+) (detik|menit)", html_of(response))
    assert said, html_of(response)
    told = int(said.group(1)) * (60 if said.group(2) == "menit" else 1)
    # in minutes, rounded up: within a minute of the header's seconds
    assert 0 <= told - retry < (60 if said.group(2) == "menit" else 2)


def test_login_is_throttled_per_address(client, make_user, app):
    """Many failures from one address across different accounts are throttled too."""
    for n in range(20):
        assert _sign_in(client, f"orang{n}@uji.example", "salah").status_code == 422
    assert _sign_in(client, "orang99@uji.example", "salah").status_code == 429


def test_successful_sign_ins_are_not_counted(client, make_user):
    """Signing in correctly many times never hits the limit."""
    user = make_user()
    for _ in range(7):
        assert _sign_in(client, user.email).status_code == 303
        client.submit("/logout", form_page="/")


def test_next_is_followed_only_to_local_paths(client, make_user):
    """``next`` leads back to a page of this site, never to another host."""
    user = make_user()
    assert (
        _sign_in(client, user.email, next_="/wilayah/64.09").headers["Location"] == "/wilayah/64.09"
    )
    client.submit("/logout", form_page="/")
    for evil in (
        "https://jahat.example/",
        "//jahat.example/",
        "/\\jahat.example",
        "javascript:alert(1)",
    ):
        assert _sign_in(client, user.email, next_=evil).headers["Location"] == "/", evil
        client.submit("/logout", form_page="/")


def test_sign_in_renews_the_session(client, make_user):
    """Values planted in the session before sign-in do not survive it (no fixation)."""
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "x"
    _sign_in(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_password_change_signs_out_other_devices(app, make_user, login):
    """After a change, the old password fails and another device's session ends."""
    user = make_user()
    phone, laptop = app.test_client(), app.test_client()
    login(user, on=phone)
    login(user, on=laptop)
    response = phone.submit(
        "/kata-sandi", {"current": PASSWORD, "new": "kata-sandi-baru", "confirm": "kata-sandi-baru"}
    )
    assert response.status_code == 303
    assert phone.get("/wilayah/").status_code == 200  # this device stays signed in
    assert laptop.get("/wilayah/").status_code == 302  # the other one is signed out
    assert _sign_in(app.test_client(), user.email, PASSWORD).status_code == 422
    assert _sign_in(app.test_client(), user.email, "kata-sandi-baru").status_code == 303


def test_password_change_errors(client, make_user, login):
    """Wrong current password, short or mismatched new ones: 422 with the reason."""
    login(make_user())
    cases = [
        (
            {"current": "salah", "new": "kata-sandi-baru", "confirm": "kata-sandi-baru"},
            "Kata sandi saat ini salah.",
        ),
        ({"current": PASSWORD, "new": "pendek", "confirm": "pendek"}, "8"),
        (
            {"current": PASSWORD, "new": "kata-sandi-baru", "confirm": "lain-lagi-123"},
            "Kedua kata sandi tidak sama.",
        ),
    ]
    for data, message in cases:
        response = client.submit("/kata-sandi", data)
        assert response.status_code == 422
        assert message in html_of(response)


def test_create_user_command(app, monkeypatch):
    """The command creates an account with the password from KIM_PASSWORD."""
    monkeypatch.setenv("KIM_PASSWORD", "rahasia-baru-1")
    result = app.test_cli_runner().invoke(
        args=[
            "kim",
            "create-user",
            "--email",
            "Op@Uji.Example",
            "--name",
            "Op",
            "--role",
            "operator_kabkota",
            "--scope",
            PPU,
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "op@uji.example"))
        assert user.role is Role.OPERATOR_KABKOTA and user.scope_code == PPU
        assert user.check_password("rahasia-baru-1")
        assert "rahasia" not in user.password_hash


def test_create_user_command_rejects_bad_role_and_region(app, monkeypatch):
    """Unknown role, unknown region, or a region of the wrong level: exit 2 with a clear message."""
    monkeypatch.setenv("KIM_PASSWORD", "rahasia-baru-1")
    runner = app.test_cli_runner()
    base = ["kim", "create-user", "--email", "x@uji.example", "--name", "X"]
    result = runner.invoke(args=[*base, "--role", "raja", "--scope", PPU])
    assert result.exit_code == 2 and "Unknown role 'raja'" in result.output
    result = runner.invoke(args=[*base, "--role", "operator_kabkota", "--scope", "99.99"])
    assert result.exit_code == 2 and "Kode wilayah tidak dikenal." in result.output
    result = runner.invoke(args=[*base, "--role", "kepala_desa", "--scope", PPU])
    assert result.exit_code == 2 and "Desa/Kelurahan" in result.output


def test_operator_creates_a_village_head_in_scope(client, make_user, login, app):
    """A regency operator creates a kepala desa for a village of the regency; it is audited."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    response = client.submit(
        "/pengguna/baru",
        {
            "name": "Pak Kades",
            "email": "kades.baru@uji.example",
            "role": "kepala_desa",
            "password": "awal-rahasia-1",
            "cakupan_kecamatan": "64.09.03",
            "cakupan_desa": PPU_VILLAGE,
        },
    )
    assert response.status_code == 303, html_of(response)
    assert "kades.baru@uji.example" in html_of(client.get("/pengguna"))
    with app.app_context():
        created = db.session.scalar(sa.select(User).where(User.email == "kades.baru@uji.example"))
        assert created.scope_code == PPU_VILLAGE and created.created_by_id == operator.id
        entry = db.session.scalar(
            sa.select(AuditEntry).where(
                AuditEntry.action == "user.create", AuditEntry.object_id == str(created.id)
            )
        )
        assert entry.actor_id == operator.id
        assert entry.region_code == PPU_VILLAGE


def test_operator_cannot_create_above_own_role_or_outside_scope(client, make_user, login):
    """Roles above one's own are not offered; a village outside the regency is refused."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get("/pengguna/baru"))
    assert 'value="kepala_desa"' in page
    assert 'value="operator_provinsi"' not in page and 'value="admin"' not in page
    response = client.submit(
        "/pengguna/baru",
        {
            "name": "X",
            "email": "x@uji.example",
            "role": "operator_provinsi",
            "password": "awal-rahasia-1",
        },
    )
    assert response.status_code == 422
    response = client.submit(
        "/pengguna/baru",
        {
            "name": "X",
            "email": "x@uji.example",
            "role": "kepala_desa",
            "password": "awal-rahasia-1",
            "cakupan_pilih": MAJALENGKA_VILLAGE,
        },
    )
    assert response.status_code == 422
    assert "Peran Kepala desa/lurah memerlukan wilayah tingkat Desa/Kelurahan." in html_of(response)


def test_picker_refresh_without_javascript_keeps_the_form(client, make_user, login):
    """The no-JavaScript "refresh" button re-renders the form with its values and no errors."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.submit(
        "/pengguna/baru",
        {
            "name": "Bu Ani",
            "email": "ani@uji.example",
            "role": "kepala_desa",
            "cakupan_kecamatan": "64.09.03",
            "_pick": "1",
        },
    )
    page = html_of(response)
    assert response.status_code == 200
    assert 'value="Bu Ani"' in page and "Desa Sebakung Jaya" in page
    assert 'class="error"' not in page


def test_duplicate_email_is_refused(client, make_user, login):
    """An email already in use gets a message on the email field."""
    existing = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.submit(
        "/pengguna/baru",
        {
            "name": "X",
            "email": existing.email,
            "role": "kepala_desa",
            "password": "awal-rahasia-1",
            "cakupan_pilih": PPU_VILLAGE,
        },
    )
    assert response.status_code == 422
    assert "Email ini sudah dipakai akun lain." in html_of(response)


def test_deactivation_ends_the_sessions_and_can_be_undone(app, client, make_user, login):
    """A deactivated kepala desa is signed out at once; reactivation lets them sign in again."""
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    their_phone = app.test_client()
    login(head, on=their_phone)
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.submit(f"/pengguna/{head.id}/status", {"active": "0"}, form_page="/pengguna")
    assert response.status_code == 303
    assert their_phone.get("/wilayah/").status_code == 302
    assert "nonaktif" in html_of(client.get("/pengguna"))
    client.submit(f"/pengguna/{head.id}/status", {"active": "1"}, form_page="/pengguna")
    assert _sign_in(app.test_client(), head.email).status_code == 303


def test_operator_cannot_deactivate_self_or_peers(client, make_user, login, app):
    """Own account and same-rank accounts cannot be switched off by an operator."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    peer = make_user(Role.OPERATOR_KABKOTA, PPU)
    login(operator)
    for target in (operator, peer):
        client.submit(f"/pengguna/{target.id}/status", {"active": "0"}, form_page="/pengguna")
    with app.app_context():
        assert all(db.session.get(User, u.id).active for u in (operator, peer))


def test_user_list_shows_only_accounts_in_scope(client, make_user, login):
    """A regency operator sees accounts of the regency, not of Jawa Timur or Majalengka."""
    mine = make_user(Role.KEPALA_DESA, PPU_VILLAGE, email="kades.ppu@uji.example")
    make_user(Role.OPERATOR_PROVINSI, JATIM, email="op.jatim@uji.example")
    make_user(Role.KEPALA_DESA, MAJALENGKA_VILLAGE, email="kades.mjl@uji.example")
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = html_of(client.get("/pengguna"))
    assert mine.email in page
    assert "op.jatim@uji.example" not in page and "kades.mjl@uji.example" not in page


def test_user_list_page_is_a_fragment_for_htmx(client, make_user, login, partial_headers):
    """Paging the user list over htmx returns only the list."""
    login(make_user(Role.ADMIN))
    fragment = html_of(client.get("/pengguna?halaman=1", headers=partial_headers))
    assert fragment.startswith('<div id="daftar-pengguna">') and "<html" not in fragment
