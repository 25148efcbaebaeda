"""Accessibility (issue 9): axe-core checks every HTML page the app serves, and the page again
after its main htmx swaps, at WCAG 2.2 AA in Chromium at 360×740; the roll call is done by
keyboard alone, with a visible focus ring and the focus kept in the row after each tap.

The pages come from the access table (``tests/access_cases.py``): every GET that answers 200
with HTML to some role for the inside object, checked as each role that sees a different page
(visitor, regency operator, village head, petugas absensi), plus forms sent back with errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from kim_app import ROOT
from kim_app.auth.models import Role
from kim_app.events.models import Event
from kim_app.extensions import db
from tests.access_cases import CASES, SCOPES, Probe, World
from tests.browser.conftest import HTMX_FILE, JSQR_FILE, PHONE, _serve, sign_in
from tests.conftest import PASSWORD, PPU
from tests.helpers import FILE_TYPES

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DOWNLOADS = set(FILE_TYPES) | {"json"}  # files a browser saves rather than shows
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# a page is checked as the first of these roles that may see it (None: a visitor)
ORDER: tuple[Role | None, ...] = (
    None,
    Role.OPERATOR_KABKOTA,
    Role.KEPALA_DESA,
    Role.PENGURUS_KIM,
    Role.PETUGAS_ABSENSI,
    Role.OPERATOR_PROVINSI,
    Role.ADMIN,
)
ALSO = (None, Role.OPERATOR_KABKOTA, Role.KEPALA_DESA, Role.PETUGAS_ABSENSI)
# the violations' essentials, small enough to cross from the page
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""

UNFOLD = """() => {
  const closed = document.querySelectorAll("details:not([open])");
  closed.forEach((d) => { d.open = true; });
  return closed.length;
}"""


def html_pages() -> list[tuple[str, Probe, Role | None]]:
    """(endpoint, probe, role) for every full-page GET that some role gets as 200: a public page
    as a visitor; a staff page as each of ALSO that may see it (an operator's page and a village
    head's differ), else as the first role of ORDER that may; the home page as each of ALSO."""
    pages = []
    for endpoint, case in sorted(CASES.items()):
        allowed = [r for r in ORDER if case.expect(r, True) == 200]
        if case.public and endpoint != "main.home":
            allowed = allowed[:1]
        elif allowed:
            allowed = [r for r in ALSO if r in allowed] or allowed[:1]
        for probe in case.probes:
            if probe.method != "GET" or probe.partial or probe.name in DOWNLOADS:
                continue
            pages += [(endpoint, probe, role) for role in allowed]
    return sorted(pages, key=lambda page: ORDER.index(page[2]))


def axe_context(browser: Browser, app) -> BrowserContext:
    """A phone-sized profile like ``new_phone``'s, but with the page's CSP bypassed: the app's
    policy (rightly) refuses injected scripts, and axe-core must be injected to run. Only the
    accessibility checks use this."""
    context = browser.new_context(**PHONE, locale="id-ID", bypass_csp=True)
    context.route(app.config["KIM_HTMX_URL"], lambda route: _serve(HTMX_FILE, route))
    context.route(app.config["KIM_JSQR_URL"], lambda route: _serve(JSQR_FILE, route))
    context.set_default_timeout(10_000)
    return context


def violations(page: Page, *, unfold: bool = False) -> list[str]:
    """axe-core's WCAG 2.2 AA violations on the page as it stands, one line per rule; with
    ``unfold``, again with every <details> opened (axe skips what is hidden)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE, WCAG)
    if unfold and page.evaluate(UNFOLD):
        found += [v | {"id": v["id"] + " (unfolded)"} for v in page.evaluate(RUN_AXE, WCAG)]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in found]


@pytest.fixture
def contexts(browser, app, live_server) -> Iterator[dict]:
    """One browser profile per role (with its account), opened and signed in on first use."""
    opened: dict = {}
    yield opened
    for context, _user in opened.values():
        context.close()


def _page_for(
    opened: dict, role: Role | None, world: World, browser, app, base: str, lang: str = "id"
) -> Page:
    """The page of ``role``'s profile, signed in (through the form) when first opened, reading
    ``lang`` (chosen with the switch at the foot of the page, as a person would)."""
    if role not in opened:
        context = axe_context(browser, app)
        page = context.new_page()
        user = None
        if role is not None:
            user = world.actor if role is world.role else _account(world, role)
            page.goto(base + "/login")
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Kata sandi").fill(PASSWORD)
            page.get_by_role("button", name="Masuk").click()
            expect(page).not_to_have_url(re.compile("/login"))  # home, or the petugas' scan page
        else:
            page.goto(base + "/")
        if lang == "en":
            page.get_by_role("button", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
        opened[role] = (context, user)
    context, world.viewer = opened[role]  # the page's "own" objects are made for this account
    return context.pages[0]


def _account(world: World, role: Role):
    """A further account of ``role`` in the world (a pengurus of its KIM, a petugas of its
    event)."""
    extra = {}
    if role is Role.PENGURUS_KIM:
        extra["kim_id"] = world.inside.kim.id
    if role is Role.PETUGAS_ABSENSI:
        extra["event_id"] = world.inside.event.id
    return world.accounts.add(role, SCOPES[role], **extra)


def _form_errors(page: Page, base: str, path: str, button: str) -> None:
    """A form sent back with its errors (status 422): the focus is on the first field to fix."""
    page.goto(base + path)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button, exact=True).click()
    assert answer.value.status == 422
    expect(page.locator(".error").first).to_be_visible()
    page.wait_for_load_state()
    focus_on(page, "[aria-invalid=true]")
    assert page.evaluate(
        "() => document.activeElement === document.querySelector('[aria-invalid=true]')"
    ), f"focus on {focused(page)}, not on the first field with an error"


BROKEN = (
    '<html lang="id"><title>x</title><main><input name="q">'
    '<p class="meta">x</p><p><font color="#bbb">tipis</font></p></main></html>'
)
# states no GET reaches: (name, role, how to get there)
STATES = (
    ("not found", None, lambda page, base: page.goto(base + "/tidak-ada")),
    ("sign-in errors", None, lambda page, base: _form_errors(page, base, "/login", "Masuk")),
    (
        "event form errors",
        Role.OPERATOR_KABKOTA,
        lambda page, base: _form_errors(page, base, "/kegiatan/baru", "Simpan draf"),
    ),
)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_has_no_wcag_violations(
    browser, app, live_server, make_kim, make_event, contexts, lang
):
    """Every HTML page of the access table (and a few error states, in Indonesian), as the roles
    that may see it, every <details> opened too, in Indonesian and in English: zero axe
    violations."""
    world = World(app, Role.OPERATOR_KABKOTA, make_kim, make_event)
    place = world.inside
    assert place.certificate and place.photo  # the pages show a certificate and a photo
    # the harness is not blind: a broken page is reported
    page = _page_for(contexts, None, world, browser, app, live_server, lang)
    page.set_content(BROKEN)
    assert {line.split(" ")[0] for line in violations(page)} >= {"label", "color-contrast"}
    problems, checked = [], []
    for endpoint, probe, role in html_pages():
        page = _page_for(contexts, role, world, browser, app, live_server, lang)
        url = probe.url(world, place)
        response = page.goto(live_server + url)
        assert response is not None
        if "text/html" not in response.headers["content-type"]:
            continue  # /healthz: plain text for load balancers
        if response.status != 200:
            problems.append(f"{endpoint} {url}: {response.status}")
            continue
        if page.locator("html").get_attribute("lang") != lang:
            problems.append(f"{endpoint} {url}: not in {lang}")
        checked.append((endpoint, role))
        problems += [f"{endpoint} {url}: {v}" for v in violations(page, unfold=True)]
    for name, role, reach in STATES if lang == "id" else ():  # the buttons are named in Indonesian
        page = _page_for(contexts, role, world, browser, app, live_server)
        reach(page, live_server)
        checked.append((name, role))
        problems += [f"{name}: {v}" for v in violations(page, unfold=True)]
    print(f"axe: {len(checked)} pages checked, {len({e for e, _r in checked})} distinct")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert len(checked) >= 65


# counts settled htmx swaps, so a test can wait for the next one (installed with the CSP bypass)
COUNT_SWAPS = """document.addEventListener("htmx:after:settle", () => {
  window.kimSwaps = (window.kimSwaps || 0) + 1;
});"""


def after_swap(page: Page, action) -> None:
    """Do ``action`` and wait until htmx has swapped and settled its answer."""
    before = page.evaluate("window.kimSwaps || 0")
    action()
    page.wait_for_function("n => (window.kimSwaps || 0) > n", arg=before)


def focused(page: Page) -> str:
    """The focused element as tag#id (or tag.class), 'body' when focus was lost."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return !e || e === document.body ? 'body'"
        " : e.tagName.toLowerCase() + (e.id ? '#' + e.id : '.' + e.className); }"
    )


def focus_on(page: Page, selector: str) -> None:
    """Wait (briefly) until the focus is on ``selector``; fail naming where it is instead."""
    try:
        page.wait_for_function("s => document.activeElement.matches(s)", arg=selector, timeout=3000)
    except PlaywrightTimeout:
        raise AssertionError(f"focus on {focused(page)}, not on {selector}") from None


def rows_keep_focus(page: Page, row: str, problems: list[str]) -> int:
    """A list row edited in place and its status changed twice, by keyboard: the focus goes
    to the form's first field, back to "Ubah" after cancelling or saving, and stays on the
    status button (whose label changes). Returns the number of swaps checked."""
    edit, status = f"{row} a[hx-get$='/ubah']", f"{row} button[id^=status-]"
    page.locator(edit).focus()
    after_swap(page, lambda: page.keyboard.press("Enter"))
    focus_on(page, f"{row} input[name=name]")
    problems += [f"{row} form: {v}" for v in violations(page)]
    page.locator(row).get_by_role("link", name="Batal").focus()
    after_swap(page, lambda: page.keyboard.press("Enter"))
    focus_on(page, edit)
    page.keyboard.press("Enter")
    focus_on(page, f"{row} input[name=name]")
    page.keyboard.press("End")
    page.keyboard.type(" Baru")
    after_swap(page, lambda: page.keyboard.press("Enter"))  # the form is sent from the field
    expect(page.locator(row)).to_contain_text(" Baru")
    focus_on(page, edit)
    problems += [f"{row} saved: {v}" for v in violations(page)]
    label = page.locator(status).inner_text()
    page.locator(status).focus()
    for _ in range(2):
        after_swap(page, lambda: page.keyboard.press("Enter"))
        expect(page.locator(status)).not_to_have_text(label)
        focus_on(page, status)
        label = page.locator(status).inner_text()
    problems += [f"{row} status: {v}" for v in violations(page)]
    return 5


def test_htmx_swaps_leave_no_violations_and_keep_focus(
    browser, app, live_server, make_kim, make_event
):
    """After each main htmx swap the page still has no axe violations and focus stays put."""
    world = World(app, Role.OPERATOR_KABKOTA, make_kim, make_event)
    place = world.inside
    assert place.registration.name
    context = axe_context(browser, app)
    context.add_init_script(script=COUNT_SWAPS)
    page = context.new_page()
    problems, swaps = [], 0
    try:
        sign_in(page, live_server, world.actor.email)

        # the registry's search: typing swaps the results under the box, which keeps focus
        page.goto(f"{live_server}/kim/")
        after_swap(page, lambda: page.get_by_label("Cari nama KIM").fill(place.kim.name))
        expect(page.locator("#hasil")).to_contain_text(place.kim.name)
        problems += [f"registry search: {v}" for v in violations(page)]
        assert focused(page) == "input#q"
        swaps += 1

        # the participants' search, then a filter chosen from the list
        page.goto(f"{live_server}/kegiatan/{place.event.id}/peserta")
        after_swap(page, lambda: page.get_by_label("Cari nama, instansi").fill("Anggota"))
        expect(page.locator("#hasil")).to_contain_text(place.registration.name)
        problems += [f"participant search: {v}" for v in violations(page, unfold=True)]
        assert focused(page) == "input#q"
        swaps += 1 + rows_keep_focus(page, f"#peserta-{place.registration.id}", problems)
        page.get_by_label("Status").focus()
        after_swap(page, lambda: page.get_by_label("Status").select_option("batal"))
        expect(page.locator("#hasil")).to_contain_text("0 peserta")
        problems += [f"participant filter: {v}" for v in violations(page)]
        assert focused(page) == "select#status"
        swaps += 1

        # a KIM's members: the same row edits and status changes
        page.goto(f"{live_server}/kim/{place.kim.id}/anggota")
        swaps += rows_keep_focus(page, f"#anggota-{place.kim.member_id}", problems)

        # the dashboard's date range: the report under the form is swapped
        page.goto(f"{live_server}/laporan/?wilayah={place.regency}")
        page.get_by_label("Dari").fill("2026-01-01")
        after_swap(page, lambda: page.get_by_role("button", name="Tampilkan").click())
        expect(page).to_have_url(re.compile(r"dari=2026-01-01"))
        problems += [f"dashboard dates: {v}" for v in violations(page)]
        assert focused(page).startswith("button")
        swaps += 1

        # the region picker (province and regency fixed by the operator's scope): each choice
        # re-renders the whole fieldset, select included; htmx refocuses the select of that id
        page.goto(f"{live_server}/wilayah/pilih")
        district = page.locator("#wilayah_kecamatan")
        district.focus()
        after_swap(page, lambda: district.select_option(place.village[:8]))
        expect(page.locator("#wilayah_desa")).to_be_visible()
        problems += [f"region picker: {v}" for v in violations(page)]
        assert focused(page) == "select#wilayah_kecamatan"
        village = page.locator("#wilayah_desa")
        village.focus()
        after_swap(page, lambda: village.select_option(place.village))
        expect(page.locator("#wilayah_desa")).to_have_value(place.village)
        problems += [f"region picker, village: {v}" for v in violations(page)]
        assert focused(page) == "select#wilayah_desa"
        swaps += 2

        # the roll call: a tap answers with the row and the counters (attendance.js swaps them)
        page.goto(f"{live_server}/absensi/sesi/{place.event.sessions[0]}")
        row = page.locator(f"#baris-{place.registration.id}")
        with page.expect_response(lambda r: r.url.endswith("/tandai")):
            row.get_by_role("button", name="Hadir", exact=True).click()
        expect(row).to_have_attribute("data-status", "hadir")
        expect(row).not_to_have_class("menunggu")
        problems += [f"roll call tap: {v}" for v in violations(page, unfold=True)]
        after_swap(page, lambda: page.get_by_label("Cari nama atau instansi").fill("zzz"))
        expect(page.locator("#daftar-wrap")).to_contain_text("Tidak ada peserta")
        problems += [f"roll call search: {v}" for v in violations(page)]
        assert focused(page) == "input#q"
        swaps += 2
    finally:
        context.close()
    print(f"axe: {swaps} swaps checked")
    assert not problems, f"{len(problems)} violations after swaps:\n" + "\n".join(problems)


FOCUS_RING = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  return e.matches(":focus-visible") && (outline || s.boxShadow !== "none");
}"""


def tab_to(page: Page, selector: str, key: str = "Tab", limit: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focus is on ``selector``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            assert page.evaluate(FOCUS_RING), f"no visible focus indicator on {selector}"
            return
    raise AssertionError(f"{selector} not reached with {key} in {limit} presses")


def counters(page: Page) -> dict[str, str]:
    """The roll call's counters: status → number shown."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("#hitungan span")]
             .map((s) => [s.className.slice(2), s.querySelector("strong").textContent]))"""
    )


def shown_counts(**numbers: int) -> dict[str, str]:
    """The counters as the page should show them: the given numbers, 0 for the rest."""
    return {p: str(numbers.get(p, 0)) for p in ("hadir", "izin", "sakit", "alpa", "belum")}


def test_roll_call_by_keyboard_alone(browser, app, live_server, make_user, make_event):
    """Mark hadir, izin and an undo with Tab, Shift+Tab, Enter and Space only; focus stays in
    the person's row after each tap and is always visibly ringed."""
    from tests.scenes import people, run_now

    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = make_event()
    first, second, _third = people(app, event.id, 3)
    with app.app_context():
        session_id = db.session.get(Event, event.id).sessions[0].id
    run_now(app, session_id)  # taps are taken inside the session's attendance window
    context = axe_context(browser, app)
    page = context.new_page()
    try:
        sign_in(page, live_server, operator.email)
        page.goto(f"{live_server}/absensi/sesi/{session_id}")
        assert counters(page) == shown_counts(belum=3)

        def tap(key: str, row: str, status: str) -> None:
            with page.expect_response(lambda r: r.url.endswith("/tandai")):
                page.keyboard.press(key)
            expect(page.locator(row)).to_have_attribute("data-status", status)
            expect(page.locator(row)).not_to_have_class(re.compile("menunggu"))
            # the tapped button may be gone (hidden or replaced): focus stays in the row
            assert page.evaluate("s => !!document.activeElement.closest(s)", row), focused(page)
            assert page.evaluate(FOCUS_RING)

        row_a, row_b = f"#baris-{first}", f"#baris-{second}"
        tab_to(page, f"{row_a} button.ya")
        tap("Enter", row_a, "hadir")
        assert counters(page)["hadir"] == "1"

        tab_to(page, f"{row_b} summary")
        page.keyboard.press("Enter")  # opens the other statuses
        expect(page.locator(f"{row_b} details")).to_have_attribute("open", "")
        tab_to(page, f"{row_b} button[value=izin]")
        tap("Space", row_b, "izin")
        expect(page.locator(row_b).locator(".st")).to_have_text("Izin")

        tab_to(page, f"{row_a} button.urung", key="Shift+Tab")
        tap("Enter", row_a, "belum")
        assert counters(page) == shown_counts(izin=1, belum=2)
        expect(page.locator(row_a).locator(".st")).to_have_text("Belum")
        assert violations(page) == []
    finally:
        context.close()
