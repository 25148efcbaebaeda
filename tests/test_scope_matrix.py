"""The wilayah-scope rule as one matrix: role × endpoint × in-scope / out-of-scope → status.

Out-of-scope objects answer 404 (their existence is not revealed); roles without the right to an
endpoint answer 403; visitors are sent to sign in.
"""

from __future__ import annotations

import pytest

from kim_app.auth.models import Role
from tests.conftest import JATIM, MAJALENGKA_VILLAGE, PPU, PPU_VILLAGE

# role → (its scope, a region inside that scope, a village inside that scope)
ACTORS = {
    Role.ADMIN: (None, "64.09", PPU_VILLAGE),
    Role.OPERATOR_PROVINSI: (JATIM, "35.14", "35.14.01.2001"),
    Role.OPERATOR_KABKOTA: (PPU, "64.09.03", PPU_VILLAGE),
    Role.KEPALA_DESA: (PPU_VILLAGE, PPU_VILLAGE, PPU_VILLAGE),
    Role.PENGURUS_KIM: (PPU_VILLAGE, PPU_VILLAGE, PPU_VILLAGE),
    Role.PETUGAS_ABSENSI: (PPU, "64.09.03", PPU_VILLAGE),
}
OPERATORS = {Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA}


def _expected(role: Role, endpoint: str, inside: bool) -> int:
    if role is Role.PETUGAS_ABSENSI and endpoint == "regions.detail":  # scan-only (403 first)
        return 403
    if endpoint in {"auth.users", "auth.user_new"}:
        return 200 if role in OPERATORS else 403
    if endpoint == "auth.user_status":
        if role not in OPERATORS:
            return 403
        return 303 if inside or role is Role.ADMIN else 404
    # regions.detail
    return 200 if inside or role is Role.ADMIN else 404


CASES = [
    (role, endpoint, inside)
    for role in ACTORS
    for endpoint in ("regions.detail", "auth.users", "auth.user_new", "auth.user_status")
    for inside in (True, False)
]


@pytest.mark.parametrize(
    ("role", "endpoint", "inside"), CASES, ids=lambda v: getattr(v, "value", str(v))
)
def test_scope_matrix(client, make_user, login, role, endpoint, inside):
    """Each role reaches what lies in its wilayah and gets 404 (or 403) for the rest."""
    scope, region_inside, village_inside = ACTORS[role]
    actor = make_user(role, scope)
    login(actor)
    if endpoint == "regions.detail":
        code = region_inside if inside else MAJALENGKA_VILLAGE
        response = client.get(f"/wilayah/{code}")
    elif endpoint == "auth.users":
        response = client.get("/pengguna")
    elif endpoint == "auth.user_new":
        response = client.get("/pengguna/baru")
    else:
        target = make_user(Role.KEPALA_DESA, village_inside if inside else MAJALENGKA_VILLAGE)
        token = client.token("/")
        response = client.post(
            f"/pengguna/{target.id}/status", data={"active": "0", "csrf_token": token}
        )
    assert response.status_code == _expected(role, endpoint, inside)


@pytest.mark.parametrize(
    "path",
    ["/wilayah/", "/wilayah/pilih", "/wilayah/64.09", "/pengguna", "/pengguna/baru", "/kata-sandi"],
)
def test_visitors_are_sent_to_sign_in(client, path):
    """Every page behind sign-in redirects a visitor to /login with the way back."""
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


SCOPE_CHECKED = {
    "regions.detail",
    "regions.index",
    "regions.picker",
    "auth.users",
    "auth.user_new",
    "auth.user_status",
    "auth.password",
}
PUBLIC = {"static", "main.home", "main.language", "main.healthz", "auth.login", "auth.logout"}


def test_every_endpoint_is_in_the_matrix_or_public(app):
    """A new endpoint must be covered by some module's SCOPE_CHECKED (or be public) before it ships."""
    from tests.coverage import declared

    public = declared("PUBLIC")
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - declared("SCOPE_CHECKED") - public == set()
