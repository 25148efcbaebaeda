"""Issue 22 items 4 and 5 on a 360 px phone: the roll call of a hall of 85 people. Without
JavaScript a tap comes back to the same row, in sight below the sticky counters, with a message
naming the person; with it, rows of one name and its buttons stay within 64 px, the session tabs
show day and time and which one runs, the "belum ditandai" filter and the walk-in form sit above
the list — in Indonesian and in English."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from kim_app.events.models import Event
from kim_app.events.operations import local_now
from kim_app.extensions import db
from tests.browser.conftest import SCREENSHOTS, screenshot, sign_in
from tests.conftest import PPU
from tests.scenes import people

ROW_BUDGET = 64  # px at 360 px wide, for a name, its status and origin, and the buttons
LONG_NAME = "Raden Ayu Siti Nurhaliza Kusumawardhani"


def _hall(app, make_event, make_user) -> tuple[object, int, list[int]]:
    """An operator; a two-day event whose first session started 20 minutes ago; 85 people."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    event = make_event(days=2, sessions_per_day=2, title="Pelatihan Literasi Digital")
    with app.app_context():
        stored = db.session.get(Event, event.id)
        now = local_now(stored).replace(second=0, microsecond=0)
        first = stored.sessions[0]
        first.starts_at, first.ends_at = now - timedelta(minutes=20), now + timedelta(hours=2)
        db.session.commit()
        session_id = first.id
    ids = people(app, event.id, 84)
    ids += people(app, event.id, 1, 84, name=LONG_NAME)
    return operator, session_id, ids


def _viewport_shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), caret="initial")


def _in_sight_below_the_board(page: Page, row_selector: str) -> None:
    """The row is inside the viewport and not under the sticky counters."""
    board = page.locator(".papan").bounding_box()
    row = page.locator(row_selector).bounding_box()
    height = page.viewport_size["height"]
    assert row["y"] >= board["y"] + board["height"] - 1, (row, board)
    assert row["y"] + row["height"] <= height, (row, height)


def test_without_javascript_a_tap_returns_to_its_row_and_names_the_person(
    phone_no_js, app, live_server, make_user, make_event
):
    """Item 4: JavaScript off, the 30th person is marked hadir and the 35th izin (the menu opens
    without a script): each time the page comes back at that row, in sight below the sticky
    counters, highlighted, and the message says whose mark was saved."""
    page = phone_no_js
    operator, session_id, ids = _hall(app, make_event, make_user)
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/absensi/sesi/{session_id}")
    rows = page.locator("#daftar > li")
    expect(rows).to_have_count(40)

    target = f"#baris-{ids[29]}"
    page.locator(target).get_by_role("button", name="Hadir", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/absensi/sesi/{session_id}#baris-{ids[29]}$"))
    expect(page.locator(".tersimpan")).to_have_text("Peserta 029: Hadir tersimpan.")
    expect(page.locator(target).locator(".st")).to_have_text("Hadir")
    page.wait_for_function("() => window.scrollY > 1500")  # not back at the top of the list
    _in_sight_below_the_board(page, target)
    expect(page.locator(".tersimpan")).to_be_in_viewport()
    _viewport_shot(page, "absensi-tanpa-js-kembali-ke-baris")

    target = f"#baris-{ids[34]}"
    page.locator(target).locator("summary").click()
    page.locator(target).get_by_role("button", name="Izin").click()
    expect(page).to_have_url(re.compile(rf"#baris-{ids[34]}$"))
    page.wait_for_function("() => window.scrollY > 1500")
    expect(page.locator(".tersimpan")).to_have_text("Peserta 034: Izin tersimpan.")
    expect(page.locator(target).locator(".st")).to_have_text("Izin")
    _in_sight_below_the_board(page, target)


def test_rows_tabs_filter_and_walk_in_at_360_px(phone, app, live_server, make_user, make_event):
    """Item 5: every row of a name and its buttons is at most 64 px tall (measured), so ten or
    more people fit a screen; the four session tabs show day and start time and mark the one
    under way; the filter and the walk-in form are in the first screen; "Belum ditandai" lists
    only those not marked. The same in English."""
    page = phone
    operator, session_id, ids = _hall(app, make_event, make_user)
    sign_in(page, live_server, operator.email)
    page.goto(f"{live_server}/absensi/sesi/{session_id}")
    rows = page.locator("#daftar > li")
    expect(rows).to_have_count(40)

    heights = rows.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert max(heights) <= ROW_BUDGET, max(heights)
    print(f"roll-call rows at 360 px: {min(heights):.0f}–{max(heights):.0f} px")

    tabs = page.locator("nav.sesi a")
    expect(tabs).to_have_count(4)
    texts = tabs.all_inner_texts()
    assert all(re.fullmatch(r"\w{3}, \d{1,2} \w{3} \d{2}\.\d{2}( berlangsung)?", t) for t in texts)
    assert texts[0].endswith("berlangsung") and not any("berlangsung" in t for t in texts[1:])
    expect(tabs.first).to_have_attribute("aria-current", "page")

    walk_in = page.get_by_text("+ Peserta datang langsung")
    expect(walk_in).to_be_in_viewport()
    expect(page.get_by_role("link", name="Belum ditandai")).to_be_in_viewport()
    screenshot(page, "absensi-daftar-panggil-360")
    _viewport_shot(page, "absensi-daftar-panggil-360-layar")

    # a long name is never cut: it wraps, and only its own row grows (three lines, ~97 px)
    page.goto(f"{live_server}/absensi/sesi/{session_id}?halaman=3")
    long_row = page.locator(f"#baris-{ids[84]}")
    expect(long_row.get_by_role("link")).to_have_text(LONG_NAME)
    name = long_row.get_by_role("link").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert name[0] <= name[1], name
    print(f"the long name's row: {long_row.bounding_box()['height']:.0f} px")
    assert long_row.bounding_box()["height"] <= 2 * ROW_BUDGET

    # the filter: mark two, and only the others are left
    page.goto(f"{live_server}/absensi/sesi/{session_id}")
    for rid in ids[:2]:
        with page.expect_response(lambda r: r.url.endswith("/tandai")):
            page.locator(f"#baris-{rid}").get_by_role("button", name="Hadir", exact=True).click()
    page.get_by_role("link", name="Belum ditandai").click()
    expect(page.locator("#daftar > li").first).to_have_id(f"baris-{ids[2]}")
    expect(page.locator("#hitungan")).to_contain_text("83 Belum")
    walk_in.click()
    field = page.get_by_label("Nama", exact=True)
    expect(field).to_be_visible()
    # the form opens above the list, not 40 rows down
    assert field.bounding_box()["y"] < page.locator("#daftar > li").first.bounding_box()["y"]
    field.scroll_into_view_if_needed()
    _viewport_shot(page, "absensi-belum-ditandai-360")

    # English
    page.get_by_role("button", name="English").click()
    page.goto(f"{live_server}/absensi/sesi/{session_id}")
    texts = page.locator("nav.sesi a").all_inner_texts()
    assert texts[0].endswith("under way")  # "Mon, Dec 7 9:00 AM under way"
    assert all(
        re.fullmatch(r"\w{3}, \w{3} \d{1,2} \d{1,2}:\d{2}\W[AP]M( under way)?", t) for t in texts
    )
    expect(page.get_by_role("link", name="Not marked yet")).to_be_visible()
    heights = page.locator("#daftar > li").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    )
    assert max(heights) <= ROW_BUDGET, max(heights)
    _viewport_shot(page, "absensi-daftar-panggil-360-en")
