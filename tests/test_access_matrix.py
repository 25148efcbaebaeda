"""The access matrix (DESIGN §2), generated from the URL map: every endpoint × every role and the
visitor × an object inside the actor's wilayah (Penajam Paser Utara) and one outside it
(Majalengka) → the status the rules give. Operators in scope get the page (200) or the action's
redirect (303); out of scope 404, so nobody learns the object exists; a role without the right
403; a visitor is sent to sign in; public pages answer everyone; the petugas absensi, bound to
one event, gets 403 everywhere except its scan pages and its own account.

The table lives in ``tests/access_cases.py``; an endpoint without an entry fails
``test_every_endpoint_has_an_entry``. POSTs carry a valid CSRF token taken from a page, as a
browser would (protection stays on). Files (SK documents, photos, PDFs, XLSX/CSV/DOCX/ICS) and
htmx fragments (``HX-Request-Type: partial``) are probed like pages; lists are also checked for
what they show: the inside object, never the outside one (except to the admin).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from kim_app.auth.models import Role
from kim_app.events.models import Event, Registration, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from tests.access_cases import (
    ACTORS,
    CASES,
    SIGN_IN,
    SIGN_IN_HTMX,
    Place,
    Probe,
    World,
    unique_phone,
)
from tests.conftest import PPU_VILLAGE, html_of
from tests.helpers import FILE_TYPES, multipart

SCOPE_CHECKED = {endpoint for endpoint, case in CASES.items() if not case.public}
PUBLIC = {"static"} | {endpoint for endpoint, case in CASES.items() if case.public}


MATRIX = [(endpoint, role) for endpoint in sorted(CASES) for role in ACTORS]


def _role_id(role: Role | None) -> str:
    return role.value if role is not None else "visitor"


def _token(client, world: World) -> str:
    """The CSRF token a page gives this browser (its own account page, or the sign-in page)."""
    return client.token("/kata-sandi" if world.actor is not None else "/login")


def _send(client, login, world: World, probe: Probe, inside: bool, url: str, partial: dict):
    """Ask as the actor, signed in afresh (an earlier sign-out must not carry over)."""
    place = world.place(inside)
    if world.actor is not None:
        login(world.actor)
    headers = partial if probe.partial else {}
    if probe.method == "GET":
        return client.get(url, headers=headers)
    data = dict(probe.data(world, place) if probe.data else {})
    data["csrf_token"] = _token(client, world)
    if probe.files:
        return client.post(url, headers=headers, **multipart(data | probe.files(world, place)))
    return client.post(url, data=data, headers=headers)


def _gist(response) -> str:
    """A page's title, a redirect's target, or the start of anything else."""
    if response.location:
        return f"to {response.location}"
    match = re.search(r"<title>(.*?)</title>", html_of(response), re.S)
    return match.group(1).strip() if match else repr(response.get_data()[:80])


def _problems(role: Role | None, probe: Probe, inside: bool, expected: int, response, marker):
    """What is wrong with one answer (nothing, when it is what the rules say)."""
    where = f"{probe.name} {'inside' if inside else 'outside'}"
    got = response.status_code
    if expected == SIGN_IN and probe.partial:  # htmx: the whole page goes to the sign-in page
        expected = SIGN_IN_HTMX
        if not response.headers.get("HX-Redirect", "").startswith("/login"):
            return [f"{where}: htmx request not sent to sign in ({got}, {_gist(response)})"]
    if got != expected:
        return [f"{where}: expected {expected}, got {got} ({_gist(response)})"]
    problems = []
    if got == SIGN_IN and not response.headers.get("Location", "").startswith("/login?next="):
        problems.append(f"{where}: redirect to {response.headers.get('Location')!r}, not sign-in")
    if probe.partial and got in (403, 404) and response.headers.get("HX-Retarget") != "#pesan":
        problems.append(f"{where}: htmx error not retargeted to #pesan")
    if got == 200 and probe.partial and "<html" in html_of(response):
        problems.append(f"{where}: htmx partial request got a whole page")
    if got == 200 and probe.name in FILE_TYPES and response.mimetype != FILE_TYPES[probe.name]:
        problems.append(f"{where}: {response.mimetype} instead of {FILE_TYPES[probe.name]}")
    if got == 200 and marker is not None:
        shown = marker in response.get_data().decode("utf-8-sig", "replace")
        if shown != (inside or role is Role.ADMIN):
            state = "shows" if shown else "does not show"
            problems.append(f"{where}: the list {state} {marker!r}")
    return problems


@pytest.mark.parametrize(
    ("endpoint", "role"),
    MATRIX,
    ids=[f"{endpoint}-{_role_id(role)}" for endpoint, role in MATRIX],
)
def test_access(app, client, login, make_kim, make_event, partial_headers, endpoint, role):
    """The endpoint answers this role as the rules say, inside the wilayah and outside it."""
    case = CASES[endpoint]
    world = World(app, role, make_kim, make_event)
    problems = []
    for probe in case.probes:
        # a list is asked for once both places' objects exist
        markers = [probe.marker(world, world.place(i)) if probe.marker else None for i in (1, 0)]
        for inside, marker in zip((True, False), markers, strict=True):
            url = probe.url(world, world.place(inside))
            response = _send(client, login, world, probe, inside, url, partial_headers)
            expected = case.expect(role, inside)
            problems += _problems(role, probe, inside, expected, response, marker)
    assert not problems, f"{endpoint} as {_role_id(role)}:\n" + "\n".join(problems)


def test_every_endpoint_has_an_entry(app):
    """A new endpoint fails the suite until tests/access_cases.py says who may reach it."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    missing = sorted(endpoints - CASES.keys())
    assert not missing, f"endpoints without an entry in tests/access_cases.py: {missing}"
    stale = sorted(CASES.keys() - endpoints)
    assert not stale, f"entries for endpoints the app no longer has: {stale}"


def test_every_post_endpoint_has_a_post_request(app):
    """Each endpoint that accepts POST has a POST request in the table (the CSRF test sends it)."""
    posting = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}
    assert sorted(e for e in posting if CASES[e].posts is None) == []


def test_every_endpoint_is_declared_scope_checked_or_public(app):
    """The declarations other modules make (tests/coverage.py) still cover every endpoint."""
    from tests.coverage import declared

    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - declared("SCOPE_CHECKED") - declared("PUBLIC") == set()


# what a regency operator may open of its own people at the province's event: read-only pages
READ_ONLY_ELSEWHERE = {
    "events.detail": 200,  # the province's event itself (visible to its regencies)
    "attendance.area_people": 200,
    "reports.person": 200,
    "reports.person_export": 200,
}


def test_own_people_at_the_provinces_event_stay_read_only(
    app, client, login, make_kim, make_event, partial_headers
):
    """Every endpoint of the table, asked by PPU's operator about Kalimantan Timur's event and
    a PPU person registered there (origin PPU, a KIM of Majalengka beside it): only the read-only
    pages answer 200; everything that would change the event or the person is still 403/404."""
    world = World(app, Role.OPERATOR_KABKOTA, make_kim, make_event)
    place = Place(app, False, world.accounts, make_kim, make_event)
    place.regency = "64"  # the event belongs to Kalimantan Timur, PPU's province
    with app.test_request_context():
        event = db.session.get(Event, place.event.id)
        person = PersonData("Warga PPU", unique_phone(), origin_code=PPU_VILLAGE)
        registration, _new = register_person(event, person, Source.MANDIRI)
        db.session.commit()
        place.registration = SimpleNamespace(
            id=registration.id, ticket=registration.ticket, name=registration.name
        )
    problems = []
    for endpoint, case in sorted(CASES.items()):
        if case.public:
            continue
        allowed = READ_ONLY_ELSEWHERE.get(endpoint)
        if allowed is None and case.expect(Role.OPERATOR_KABKOTA, False) not in (403, 404):
            continue  # not about one object (a list, a form for something new)
        probes = [*case.probes, *([case.post] if case.post else [])]
        for probe in probes:
            login(world.actor)
            headers = partial_headers if probe.partial else {}
            url = probe.url(world, place)
            if probe.method == "GET":
                response = client.get(url, headers=headers)
            else:
                data = dict(probe.data(world, place) if probe.data else {})
                data["csrf_token"] = _token(client, world)
                if probe.files:
                    files = multipart(data | probe.files(world, place))
                    response = client.post(url, headers=headers, **files)
                else:
                    response = client.post(url, data=data, headers=headers)
            got = response.status_code
            if (got != allowed) if allowed else got not in (403, 404):
                problems.append(f"{endpoint} {probe.name}: {got} ({_gist(response)})")
    assert not problems, "\n".join(problems)
    with app.app_context():
        kept = db.session.get(Registration, place.registration.id)
        assert (kept.name, kept.status.value) == ("Warga PPU", "terdaftar")
