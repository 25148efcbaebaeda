"""Issue 9's field journey, one story told three ways on 360×740 touch phones: a kepala desa
registers a KIM, the operator verifies it, creates a two-day pelatihan and invites the KIM, a
pengurus names two delegates and an outsider registers by the public link; day one has a roll
call with a stretch offline and a petugas absensi scanning the outsider's ticket; on day two the
outsider checks in by themselves and the operator calls the roll; the daftar hadir PDFs, the
certificates and the dashboard then agree with exactly what happened.

``normal``: JavaScript on. ``no_js``: JavaScript off — the petugas types the ticket code, the
self check-in has no signature pad (the paper list's signature column instead), and there is no
offline stretch (without JavaScript there is no offline queue: a tap is a plain form post).
``slow_3g``: JavaScript on, every phone throttled through CDP to 400 kbit/s each way and 400 ms
round trip (as bench/phone.py does); htmx and jsQR are answered by the harness's route, which
skips the emulation, so only the app's own pages, fragments, CSS and JS are slowed.

Each step's wall time is recorded and printed at the end of the pytest run (see
``pytest_terminal_summary`` in tests/browser/conftest.py) and written to
tests/screenshots/field-journey-<variant>.json. The normal variant also saves the README's tour
screenshots into docs/tour/.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect

from kim_app import ROOT
from kim_app.attendance.models import Attendance, AttendanceMark, Certificate, Presence
from kim_app.auth.models import Role
from kim_app.events.models import Event, Registration, RegistrationStatus
from kim_app.events.operations import local_now
from kim_app.extensions import db
from kim_app.groups.models import Kim
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    SCREENSHOTS,
    accept_invitation,
    invite_account,
    member_account,
    new_phone,
    register_kim,
    screenshot,
    sign_in,
)
from tests.browser.helpers import CACHED, qr_video, register_on_page, sign_pad, wait_until
from tests.conftest import PASSWORD, PPU
from tests.helpers import pdf_text, strokes

TOUR = ROOT / "docs" / "tour"
SLOW_3G = {  # the profile, as bench/phone.py sends it
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 // 8,
    "uploadThroughput": 400_000 // 8,
}
KIM_NAME = "KIM Sebakung Cerdas"
TITLE = "Pelatihan Jurnalistik Warga"
# the kepala desa's three pengurus: the first two become the delegates
KETUA, SEKRETARIS, BENDAHARA = "Siti Aminah", "Budi Santoso", "Wati Lestari"
OUTSIDER = "Rina Jurnalis"
PIN = "482193"
FETCH_BYTES = """async (url) => {
  const answer = await fetch(url);
  return [answer.headers.get("content-type"), Array.from(new Uint8Array(await answer.arrayBuffer()))];
}"""


class Steps:
    """Wall time of each named step of one variant, in order."""

    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.times: list[tuple[str, float]] = []

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.times.append((name, round(time.perf_counter() - start, 2)))


@pytest.fixture
def steps(request, record_property) -> Iterator[Steps]:
    """The step timer; the times go to the report (printed in the terminal summary) and a file."""
    timer = Steps(request.node.callspec.id)
    yield timer
    record_property("field_journey_steps", {"variant": timer.variant, "steps": timer.times})
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / f"field-journey-{timer.variant}.json").write_text(
        json.dumps({"variant": timer.variant, "steps": timer.times}, indent=1)
    )


def _tour(page: Page, name: str, top: str | None = None) -> None:
    """A viewport-only screenshot for the README's tour (from the top of the page, or with the
    element ``top`` at the top), reduced to a small palette PNG."""
    from PIL import Image, ImageChops

    TOUR.mkdir(parents=True, exist_ok=True)
    if top:
        page.locator(top).first.evaluate("element => element.scrollIntoView()")
    else:
        page.evaluate("window.scrollTo(0, 0)")
    shot = Image.open(io.BytesIO(page.screenshot(caret="initial"))).convert("RGB")
    path = TOUR / f"{name}.png"
    if path.exists():
        # the times of day in view change every run: keep the committed file unless more than
        # 1 % of its pixels changed (a changed screen, not a changed clock)
        kept = Image.open(path).convert("RGB")
        if kept.size == shot.size:
            changed = ImageChops.difference(kept, shot).convert("L").point(lambda v: v > 40 and 255)
            if changed.histogram()[255] < 0.01 * shot.width * shot.height:
                return
    shot.quantize(colors=64).save(path, optimize=True)


def _move_clock(app, event_id: int, day_one_starts_in: timedelta) -> tuple[int, int]:
    """Put day one's session ``day_one_starts_in`` from now (3 hours long) and day two a day
    later — the clock moving, not a step of anybody's. Returns the two session ids."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        start = local_now(event).replace(second=0, microsecond=0) + day_one_starts_in
        day_one, day_two = event.sessions
        day_one.starts_at, day_one.ends_at = start, start + timedelta(hours=3)
        day_two.starts_at = start + timedelta(days=1)
        day_two.ends_at = day_two.starts_at + timedelta(hours=3)
        event.starts_on = day_one.starts_at
        db.session.commit()
        return day_one.id, day_two.id


def _roll_row(page: Page, name: str):
    return page.locator("#daftar > li", has_text=name)


def _tap_hadir(page: Page, name: str, *, online: bool = True) -> None:
    """One tap on "Hadir"; online, until the server has the mark (the queue shows it at once)."""
    row = _roll_row(page, name)
    row.get_by_role("button", name="Hadir").click()
    expect(row.locator(".st")).to_have_text("Hadir")
    if online:
        expect(row).not_to_have_class(re.compile("menunggu"))


def _throttle_service_workers(browser, page: Page, network: dict) -> object:
    """Slow 3G for the service workers too: the roll call's worker fetches its pages itself
    (network first), and Chromium emulates the network per target, so a page's emulation does
    not reach them. Playwright addresses no worker target, so the browser session's own
    (non-flattened) channel carries the commands; returns that session, to be kept alive.
    Only the workers of ``page``'s own browser context: the session-wide browser may still hold
    an idle worker of an earlier test's profile, which would never answer."""
    page_session = page.context.new_cdp_session(page)
    context_id = page_session.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    page_session.detach()
    session = browser.new_browser_cdp_session()
    answered: set[int] = set()
    session.on(
        "Target.receivedMessageFromTarget",
        lambda event: answered.add(json.loads(event["message"]).get("id", 0)),
    )
    workers = [
        target["targetId"]
        for target in session.send("Target.getTargets")["targetInfos"]
        if target["type"] == "service_worker" and target.get("browserContextId") == context_id
    ]
    assert workers, "no service worker to throttle"
    for target in workers:
        channel = session.send("Target.attachToTarget", {"targetId": target, "flatten": False})
        for number, (method, params) in enumerate(
            (("Network.enable", {}), ("Network.emulateNetworkConditions", network)), start=1
        ):
            session.send(
                "Target.sendMessageToTarget",
                {
                    "sessionId": channel["sessionId"],
                    "message": json.dumps({"id": number, "method": method, "params": params}),
                },
            )
        # the answers arrive as events, dispatched while Playwright is called: ask something
        wait_until(lambda: session.send("Browser.getVersion") and 2 in answered)
        answered.clear()
    return session


@pytest.mark.parametrize("variant", ["normal", "no_js", "slow_3g"])
def test_field_journey(browser, app, live_server, make_user, tmp_path, steps, variant):
    """KIM registration to certificates on phones; documents and figures match what was done."""
    javascript = variant != "no_js"
    # the one account made by a fixture; every other one is made through the pages
    operator = make_user(Role.OPERATOR_KABKOTA, PPU, name="Bu Operator")
    contexts: list[BrowserContext] = []
    errors: list[str] = []
    offline = {"now": False}

    def watch(page: Page) -> None:
        def console(message) -> None:
            if message.type == "error" and not (
                "status of 422" in message.text
                or (offline["now"] and "ERR_INTERNET_DISCONNECTED" in message.text)
            ):
                errors.append(f"{message.text} at {message.location}")

        page.on("console", console)
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    links = {}  # page → its CDP session, slow_3g only

    def throttle(page: Page, *, cut: bool = False) -> None:
        """Slow 3G on this page's network (``cut``: no network at all) — slow_3g only."""
        if variant != "slow_3g":
            return
        if page not in links:
            links[page] = page.context.new_cdp_session(page)
            links[page].send("Network.enable")
        links[page].send("Network.emulateNetworkConditions", {**SLOW_3G, "offline": cut})

    def phone(on=browser) -> Page:
        context = new_phone(on, app, javascript=javascript)
        contexts.append(context)
        page = context.new_page()
        watch(page)
        throttle(page)
        return page

    camera_browser = worker_link = None
    try:
        # -- the village: the kepala desa registers the KIM and sends it to Diskominfo ----------
        with steps("operator invites the kepala desa"):
            desk = phone()
            sign_in(desk, live_server, operator.email)
            head_link = invite_account(
                desk,
                live_server,
                name="Pak Kades",
                phone="0812-7000-2001",
                role="kepala_desa",
                district="Kec. Babulu",
                village="Desa Sebakung Jaya",
            )

        with steps("kepala desa registers the KIM"):
            village = phone()
            accept_invitation(village, head_link)
            kim_id = register_kim(
                village,
                tmp_path,
                KIM_NAME,
                [(KETUA, "0812 3456 7890"), (SEKRETARIS, "0813-1111-2222"), (BENDAHARA, "")],
                before_save=(lambda page: _tour(page, "1-daftar-kim"))
                if variant == "normal"
                else None,
            )

        with steps("operator verifies the KIM"):
            desk.goto(live_server + "/")
            desk.get_by_role("link", name="Antrean verifikasi").click()
            desk.get_by_role("link", name=KIM_NAME).click()
            desk.get_by_role("button", name="Verifikasi").click()
            expect(desk.locator(".tag").first).to_have_text("Terverifikasi")
            expect(desk.locator("main")).to_contain_text("KIM-64.09-")

        # -- Diskominfo: a two-day pelatihan, its attendance settings, a petugas, invitations ---
        with steps("operator creates and publishes a two-day pelatihan"):
            desk.goto(live_server + "/kegiatan/")
            desk.get_by_role("link", name="Buat kegiatan").click()
            desk.get_by_label("Jenis kegiatan").select_option("pelatihan")
            desk.get_by_label("Judul kegiatan").fill(TITLE)
            desk.get_by_label("Nama tempat").fill("Aula Kantor Bupati")
            desk.get_by_label("Kapasitas peserta").fill("40")
            # typed for two days next year; the clock is moved to them later
            first_day = date(date.today().year + 1, 5, 15)
            for number, day in ((1, first_day), (2, first_day + timedelta(days=1))):
                if number > 1:
                    desk.get_by_role("button", name="+ Tambah sesi").click()
                session = desk.get_by_role("group", name=f"Sesi {number}")
                expect(session).to_be_visible()
                session.get_by_label("Tanggal", exact=True).fill(day.isoformat())
                session.get_by_label("Jam mulai", exact=True).fill("09:00")
                session.get_by_label("Jam selesai", exact=True).fill("12:00")
                session.get_by_label("Topik atau acara").fill(f"Hari {number}: menulis berita desa")
                speaker = session.get_by_role("group", name="Narasumber 1")
                speaker.get_by_label("Nama narasumber").fill("Siti Rahmah")
                speaker.get_by_label("Instansi").fill("Diskominfo PPU")
            desk.get_by_role("button", name="Simpan draf").click()
            desk.get_by_role("button", name="Terbitkan").click()
            expect(desk.locator(".tag").first).to_have_text("Terbit")
            event_url = desk.url
            event_id = int(event_url.rstrip("/").rsplit("/", 1)[-1])
            public = desk.get_by_role("link", name=re.compile(r"\/e\/")).first.get_attribute("href")
            code = public.rstrip("/").rsplit("/", 1)[-1]

        with steps("operator sets the PIN, signatures, certificates and a petugas"):
            desk.get_by_role("link", name="Absensi", exact=True).click()
            desk.get_by_role("link", name="Pengaturan").click()
            desk.get_by_label("Peserta boleh presensi mandiri dari ponselnya").check()
            desk.get_by_label("PIN lokasi").fill(PIN)
            desk.get_by_label("Minta tanda tangan peserta saat presensi").check()
            desk.get_by_label("Nama pejabat penandatangan").fill("Dra. Sri Wahyuni")
            desk.get_by_label("Terbitkan sertifikat bagi peserta yang cukup hadir").check()
            desk.get_by_label("Kehadiran minimal (persen dari jumlah sesi)").fill("100")
            desk.get_by_role("button", name="Simpan pengaturan").click()
            expect(desk.locator("#pesan")).to_contain_text("Pengaturan absensi disimpan.")
            desk.goto(f"{live_server}/absensi/kegiatan/{event_id}/petugas")
            desk.get_by_label("Nama lengkap").fill("Rudi Petugas")
            desk.get_by_label("Nomor WhatsApp").fill("0813-4821-0001")
            desk.get_by_role("button", name="Buat dan tugaskan").click()
            officer_row = desk.locator(".list li", has_text="Rudi Petugas")
            # the invitation the operator sends by WhatsApp (the hand-off opens no page here)
            expect(officer_row.get_by_role("link", name="Kirim lewat WhatsApp")).to_have_attribute(
                "href", re.compile(r"^https://wa\.me/6281348210001\?text=")
            )
            officer_link = officer_row.get_by_label("Atau salin tautannya").input_value()

        with steps("operator invites the KIM of Babulu"):
            desk.goto(event_url)
            desk.get_by_role("link", name="Undangan").click()
            desk.get_by_label("Babulu").check()
            desk.get_by_role("button", name="Undang KIM yang cocok").click()
            expect(desk.locator("#pesan")).to_contain_text("1 KIM diundang, masing-masing 2 orang.")
            expect(desk.locator("#diundang")).to_contain_text(KIM_NAME)

        # -- the participants: two delegates named by the pengurus, one outsider ---------------
        with steps("operator gives the ketua a pengurus account"):
            pengurus_link = member_account(desk, live_server, kim_id, KETUA)
            desk.goto(event_url)

        with steps("pengurus names two delegates"):
            officer = phone()
            accept_invitation(officer, pengurus_link)
            officer.goto(live_server + "/kegiatan/")
            officer.get_by_role("link", name="Tunjuk delegasi").click()
            officer.get_by_label(KETUA).check()
            officer.get_by_label(SEKRETARIS).check()
            if variant == "normal":
                _tour(officer, "2-delegasi")
            officer.get_by_role("button", name="Simpan delegasi").click()
            expect(officer.locator("#pesan")).to_contain_text("Delegasi disimpan: 2 ditunjuk.")

        with steps("outsider registers by the public link"):
            outsider = phone()
            if variant == "normal":
                outsider.goto(public)
                expect(outsider.locator("#kursi")).to_have_text("38 dari 40 tersisa")
                _tour(outsider, "3-pendaftaran-publik")
            ticket_url = register_on_page(outsider, live_server, code, OUTSIDER, "0813 5555 0101")
            expect(outsider.locator("#status-tiket")).to_have_text("Terdaftar")
            expect(outsider.locator("svg.qr")).to_be_visible()

        # -- day one ---------------------------------------------------------------------------
        day_one, day_two = _move_clock(app, event_id, timedelta(minutes=-30))
        with steps("day 1: roll call"):
            desk.goto(f"{live_server}/absensi/kegiatan/{event_id}")
            desk.get_by_role("link", name="Daftar panggil").first.click()
            expect(desk.locator("#daftar > li")).to_have_count(3)
            _tap_hadir(desk, KETUA)
            if not javascript:
                # no offline queue without JavaScript: the second tap is a plain post as well
                _tap_hadir(desk, SEKRETARIS)
            expect(desk.locator("#hitungan")).to_contain_text(
                "1 Hadir" if javascript else "2 Hadir"
            )

        if javascript:
            with steps("day 1: a tap while offline, synced when back"):
                # the service worker keeps a copy of the page for a reload without signal
                wait_until(lambda: desk.evaluate(CACHED))
                if variant == "slow_3g":
                    worker_link = _throttle_service_workers(browser, desk, SLOW_3G)
                offline["now"] = True
                # slow_3g cuts its own emulated link: Playwright's set_offline would send a second
                # emulation for the same page, and whichever came last would win
                if variant == "slow_3g":
                    throttle(desk, cut=True)
                else:
                    desk.context.set_offline(True)
                # this Chromium lets a service worker's own fetches through: cut them too
                desk.context.route(
                    f"{live_server}/**", lambda route: route.abort("internetdisconnected")
                )
                _tap_hadir(desk, SEKRETARIS, online=False)
                expect(desk.locator("#antrean")).to_have_text("1 tanda menunggu dikirim")
                reloaded = desk.reload()
                assert reloaded.from_service_worker
                expect(_roll_row(desk, SEKRETARIS)).to_have_class("menunggu")
                desk.context.unroute(f"{live_server}/**")
                if variant == "slow_3g":
                    throttle(desk)  # back to slow 3G, not to a fast network
                else:
                    desk.context.set_offline(False)
                offline["now"] = False
                expect(desk.locator("#antrean")).to_be_hidden()
                expect(desk.locator("#hitungan")).to_contain_text("2 Hadir")
                if variant == "normal":
                    _tour(desk, "4-daftar-panggil")

        with steps("day 1: petugas checks the outsider in"):
            if javascript:
                # a (fake) camera showing the outsider's ticket QR code
                video = tmp_path / "tiket.y4m"
                qr_video(video, ticket_url)
                camera_browser = browser.browser_type.launch(
                    executable_path=CHROMIUM,
                    args=[
                        *CHROMIUM_FLAGS,
                        "--use-fake-ui-for-media-stream",
                        "--use-fake-device-for-media-stream",
                        f"--use-file-for-fake-video-capture={video}",
                    ],
                )
                scanner = phone(camera_browser)
                scanner.context.grant_permissions(["camera"])
            else:
                scanner = phone()
            # the petugas opens the invitation on their own phone, sets a password, lands on
            # the scan page
            scanner.goto(officer_link)
            scanner.get_by_label("Kata sandi baru", exact=True).fill(PASSWORD)
            scanner.get_by_label("Ulangi kata sandi baru").fill(PASSWORD)
            scanner.get_by_role("button", name="Simpan kata sandi dan masuk").click()
            expect(scanner).to_have_url(re.compile(rf"/absensi/sesi/{day_one}/pindai$"))
            verdict = scanner.locator("#hasil .vonis")
            if javascript:
                scanner.get_by_role("button", name="Mulai kamera").click()
                expect(verdict).to_contain_text("Hadir tercatat", timeout=20_000)
                scanner.get_by_role("button", name="Hentikan kamera").click()
            else:
                expect(scanner.get_by_role("button", name="Mulai kamera")).to_be_hidden()
                # the code as the outsider's ticket shows it, read out to the petugas
                shown = outsider.locator(".kode-hadir").inner_text()
                typed = re.search(r"[A-Z0-9]{4} [A-Z0-9]{4}", shown).group(0)
                scanner.get_by_label("Kode tiket").fill(typed)
                scanner.get_by_role("button", name="Catat hadir").click()
                expect(verdict).to_contain_text("Hadir tercatat")
            expect(verdict).to_contain_text(OUTSIDER)
            expect(scanner.locator("#jumlah-hadir")).to_have_text("3 hadir")
            if variant == "normal":
                _tour(scanner, "5-pindai-tiket")

        # -- day two ---------------------------------------------------------------------------
        _move_clock(app, event_id, timedelta(days=-1, minutes=-30))
        with steps("day 2: the outsider checks in alone"):
            outsider.goto(ticket_url)
            outsider.get_by_role("link", name="Presensi mandiri").click()
            expect(outsider.get_by_role("heading", level=1)).to_have_text("Presensi mandiri")
            if javascript:
                sign_pad(outsider)
            else:
                expect(outsider.locator("canvas.pad-canvas")).to_be_hidden()
                expect(
                    outsider.get_by_text("Tanpa JavaScript: tanda tangani daftar hadir kertas.")
                ).to_be_visible()
            outsider.get_by_label("PIN di layar ruangan").fill(PIN)
            if variant == "normal":
                _tour(outsider, "6-presensi-mandiri")
            outsider.get_by_role("button", name="Konfirmasi hadir").click()
            expect(outsider.locator(".hasil-checked_in")).to_contain_text("Hadir tercatat")
            expect(outsider.locator(".hasil-checked_in")).to_contain_text(OUTSIDER)

        with steps("day 2: roll call"):
            desk.goto(f"{live_server}/absensi/sesi/{day_two}")
            expect(_roll_row(desk, OUTSIDER).locator(".st")).to_have_text("Hadir")
            _tap_hadir(desk, KETUA)
            expect(desk.locator("#hitungan")).to_contain_text("2 Hadir")

        # -- what the documents and figures say ------------------------------------------------
        with steps("daftar hadir PDFs"):
            desk.goto(f"{live_server}/absensi/kegiatan/{event_id}")
            # download buttons of one GET form that carries the document language (Indonesian)
            links = desk.get_by_role("button", name="Daftar hadir PDF")
            expect(links).to_have_count(2)
            expect(desk.get_by_label("Bahasa dokumen")).to_have_value("id")
            texts, signed = [], []
            for href in [link.get_attribute("formaction") + "?bahasa=id" for link in links.all()]:
                # fetched by the phone itself, so through its (throttled) network: Chromium's
                # PDF viewer, which a tap on the link opens, gives Playwright no body to read
                # (Playwright's evaluate runs also where the page's own JavaScript is off)
                kind, body = desk.evaluate(FETCH_BYTES, href)
                assert kind == "application/pdf"
                texts.append(pdf_text(bytes(body)))
                signed.append(strokes(bytes(body)))
        day_one_text, day_two_text = texts
        for name in (KETUA, SEKRETARIS, OUTSIDER):
            assert name in day_one_text, name
        assert "Hadir 3 · Izin 0 · Sakit 0 · Alpa 0 · Belum 0 dari 3 peserta" in day_one_text
        assert "Hadir 2 · Izin 0 · Sakit 0 · Alpa 0 · Belum 1 dari 3 peserta" in day_two_text
        assert KETUA in day_two_text and OUTSIDER in day_two_text
        assert "Dra. Sri Wahyuni" in day_one_text and "Dra. Sri Wahyuni" in day_two_text
        # the signature column stays for the paper; drawn only where the pad was used
        assert "Tanda tangan" in day_one_text and "Tanda tangan" in day_two_text
        assert signed == [0, 1 if javascript else 0]

        # day two's session ends: certificates wait for it
        _move_clock(app, event_id, timedelta(days=-1, hours=-4))
        with steps("operator issues the certificates"):
            desk.get_by_role("link", name="Sertifikat", exact=True).click()
            desk.get_by_role("button", name="Terbitkan sertifikat").click()
            expect(desk.locator("#pesan")).to_contain_text("2 sertifikat baru diterbitkan")
            rows = desk.locator("#daftar-sertifikat li")
            expect(rows).to_have_count(3)
            for name in (KETUA, OUTSIDER):
                expect(rows.filter(has_text=name)).to_contain_text("Hadir 2/2 sesi")
                expect(rows.filter(has_text=name)).to_contain_text("No.")
            expect(rows.filter(has_text=SEKRETARIS)).to_contain_text("Hadir 1/2 sesi")
            expect(rows.filter(has_text=SEKRETARIS)).to_contain_text("Belum memenuhi")
            expect(rows.filter(has_text=SEKRETARIS)).not_to_contain_text("No.")
            expect(desk.locator("main")).to_contain_text("2 sertifikat berlaku")
            if variant == "normal":
                _tour(desk, "7-sertifikat")

        with steps("dashboard"):
            today = date.today()
            desk.goto(
                f"{live_server}/laporan/?dari={(today - timedelta(days=3)).isoformat()}"
                f"&sampai={(today + timedelta(days=3)).isoformat()}"
            )
            figures = desk.locator(".angka:not(#di-luar)")
            for label, value in (
                ("Kegiatan", "1"),
                ("Jumlah pendaftaran", "3"),
                ("Orang", "3"),
                # both days have ended (certificates waited for it): 3 hadir on day one and 2
                # on day two, of 3 people × 2 sessions
                ("Kehadiran (sesi selesai)", "83,3%"),
            ):
                expect(figures.locator(f"dt:text-is('{label}') + dd")).to_have_text(value)
            status_table = desk.locator("table", has_text="Jumlah KIM per status")
            expect(status_table.locator("tr", has_text="Terverifikasi").first).to_contain_text("1")
            if variant == "normal":
                _tour(desk, "8-dasbor", top=".angka:not(#di-luar)")
            screenshot(desk, f"perjalanan-lapangan-dasbor-{variant}")
    finally:
        for context in contexts:
            context.close()
        if camera_browser is not None:
            camera_browser.close()
        if worker_link is not None:
            worker_link.detach()
    assert errors == [], errors

    # -- the database holds exactly what the journey did -------------------------------------
    with app.app_context():
        kim = db.session.get(Kim, kim_id)
        assert kim.registration_number.startswith("KIM-64.09-")
        people = dict(
            db.session.execute(
                sa.select(Registration.name, Registration.status).where(
                    Registration.event_id == event_id
                )
            ).all()
        )
        assert people == {
            KETUA: RegistrationStatus.TERDAFTAR,
            SEKRETARIS: RegistrationStatus.TERDAFTAR,
            OUTSIDER: RegistrationStatus.TERDAFTAR,
        }
        present = {
            session_id: sorted(
                db.session.scalars(
                    sa.select(Registration.name)
                    .join(Attendance, Attendance.registration_id == Registration.id)
                    .where(
                        Attendance.session_id == session_id,
                        Attendance.status == Presence.HADIR,
                    )
                )
            )
            for session_id in (day_one, day_two)
        }
        assert present == {
            day_one: sorted([KETUA, SEKRETARIS, OUTSIDER]),
            day_two: sorted([KETUA, OUTSIDER]),
        }
        # every mark applied once, the offline one included
        marks = db.session.scalar(sa.select(sa.func.count()).select_from(AttendanceMark))
        assert marks == 5
        holders = db.session.scalars(
            sa.select(Registration.name)
            .join(Certificate, Certificate.registration_id == Registration.id)
            .where(Certificate.revoked_at.is_(None))
        ).all()
        assert sorted(holders) == sorted([KETUA, OUTSIDER])
