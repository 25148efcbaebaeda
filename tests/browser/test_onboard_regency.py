"""Issue 20's measure of bulk onboarding: a regency operator of Tapin (Kalimantan Selatan, 135
villages) on a 360×740 phone creates the village-head account of every village in one step,
with a WhatsApp number typed for each, then works through the pending invitations and finds,
on every row, a hand-off to a valid ``62…`` number with a message under 1,000 characters that
carries the account's one-time link. WhatsApp itself is never opened (the network is closed):
each hand-off's address is read and checked.

The taps (clicks, selects, submits), the fields filled and the wall time of the whole flow are
printed at the end of the test and written to tests/screenshots/onboard-regency.json.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.phones import MAX_HANDOFF_TEXT, normalise_phone
from kim_app.regions.models import Region, RegionLevel
from tests.browser.conftest import SCREENSHOTS, screenshot, sign_in

TAPIN = "63.05"  # Kabupaten Tapin, Kalimantan Selatan
VILLAGES = 135


def _number(index: int) -> str:
    """A distinct valid Telkomsel-style number per village: 0813 + eight digits."""
    return f"0813{52_000_000 + index:08d}"


class Taps:
    """What the operator's thumb does: taps (clicks, selects, submits) and fields filled."""

    def __init__(self) -> None:
        self.taps = 0
        self.fields = 0

    def click(self, locator) -> None:
        locator.click()
        self.taps += 1

    def select(self, locator, value: str) -> None:
        locator.select_option(value)
        self.taps += 1

    def fill(self, locator, value: str) -> None:
        locator.fill(value)
        self.fields += 1


def test_onboarding_every_village_head_of_tapin(phone: Page, app, live_server, make_user):
    """135 village heads of Tapin by one submit; every hand-off goes to 62… with its link."""
    with app.app_context():
        villages = db.session.scalars(
            sa.select(Region)
            .where(Region.level == RegionLevel.DESA, Region.code.like(TAPIN + ".%"))
            .order_by(Region.code)
        ).all()
        names = {village.code: village.name for village in villages}
        regency = db.session.get(Region, TAPIN).display_name
    assert len(villages) == VILLAGES and "Tapin" in regency
    operator = make_user(Role.OPERATOR_KABKOTA, TAPIN, name="Bu Operator Tapin")
    taps = Taps()
    start = time.perf_counter()

    sign_in(phone, live_server, operator.email)  # the sign-in itself is not counted
    signed_in = time.perf_counter()
    taps.click(phone.get_by_role("link", name="Pengguna", exact=True))
    taps.click(phone.get_by_role("link", name="Akun kepala desa sekaligus"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Akun kepala desa sekaligus")
    # a regency operator's own regency is already chosen; choosing it means no district
    district = phone.get_by_label("Kecamatan")
    if district.input_value():
        taps.select(district, "")
    expect(phone.get_by_text(f"{VILLAGES} desa/kelurahan di {regency}")).to_be_visible()
    numbers = {code: _number(index) for index, code in enumerate(names, start=1)}
    for code, number in numbers.items():
        taps.fill(phone.locator(f'[id="nomor-{code}"]'), number)
    screenshot(phone, "onboard-regency-form")
    taps.click(phone.get_by_role("button", name=f"Buat {VILLAGES} akun"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Undangan akun tertunda")
    expect(phone.get_by_text(f"{VILLAGES} tautan menunggu dibuka")).to_be_visible()
    screenshot(phone, "onboard-regency-links")

    seen: dict[str, str] = {}
    pages = 1
    while True:
        rows = phone.locator("#daftar-undangan ul.list > li")
        for row in range(rows.count()):
            item = rows.nth(row)
            handoff = item.get_by_role("link", name="Kirim lewat WhatsApp")
            address = handoff.get_attribute("href")
            taps.taps += 1  # the operator's tap on it: WhatsApp opens, the message is sent there
            parts = urlsplit(address)
            assert (parts.scheme, parts.netloc) == ("https", "wa.me"), address
            digits = parts.path.strip("/")
            assert digits.startswith("62") and normalise_phone("+" + digits) == "+" + digits
            text = parse_qs(parts.query)["text"][0]
            assert len(text) < MAX_HANDOFF_TEXT, len(text)
            assert live_server + "/akun/" in text
            until = re.search(r"berlaku sampai (\d+ \w+ \d{4})", text).group(1)
            assert until in item.inner_text()  # the row and the message give one date
            name = item.locator("strong").inner_text()
            assert "+" + digits not in seen, f"{name}: number used twice"
            seen["+" + digits] = name
        following = phone.get_by_role("link", name="Berikutnya ›")
        if not following.count():
            break
        taps.click(following)
        pages += 1
        expect(phone.get_by_text(f"Halaman {pages} dari")).to_be_visible()
    elapsed = time.perf_counter() - start

    expected = {normalise_phone(number) for number in numbers.values()}
    assert set(seen) == expected and len(seen) == VILLAGES
    for code, number in numbers.items():  # each number reached its own village's head
        assert seen[normalise_phone(number)].endswith(" " + names[code])
    result = {
        "regency": regency,
        "villages": VILLAGES,
        "taps": taps.taps,
        "fields_filled": taps.fields,
        "list_pages": pages,
        "seconds": round(elapsed, 1),
        "seconds_after_sign_in": round(time.perf_counter() - signed_in, 1),
    }
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "onboard-regency.json").write_text(json.dumps(result, indent=1))
    print(f"\nonboarding {regency}: {json.dumps(result)}")
