"""Plain helpers that several browser test modules share (fixtures live in conftest.py)."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from kim_app.groups.models import KimStatus
from tests.conftest import PASSWORD, PPU_OTHER_VILLAGE


def sign_pad(page: Page) -> None:
    """Draw two strokes on the pad with the mouse (pointer events, as a finger would).

    The pad is revealed by its script, which may still be loading: wait until it shows, and
    bring it on screen, since mouse events land at viewport coordinates."""
    canvas = page.locator("canvas.pad-canvas")
    expect(canvas).to_be_visible()
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.1 * w, y + 0.7 * h)
    page.mouse.down()
    for i in range(1, 30):
        page.mouse.move(x + (0.1 + 0.025 * i) * w, y + (0.7 - 0.4 * ((i % 10) / 10)) * h)
    page.mouse.up()
    page.mouse.move(x + 0.6 * w, y + 0.3 * h)
    page.mouse.down()
    page.mouse.move(x + 0.9 * w, y + 0.8 * h, steps=12)
    page.mouse.up()


def sign_in_by_form(page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()


def qr_video(path, text: str) -> None:
    """A short Y4M clip of the QR code of ``text`` (white margin, 480×480) for Chromium's fake camera."""
    import io

    import segno
    from PIL import Image

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=4)
    qr = Image.open(buffer).convert("L")
    frame = Image.new("L", (480, 480), 255)
    qr.thumbnail((440, 440))
    frame.paste(qr, ((480 - qr.width) // 2, (480 - qr.height) // 2))
    luma, chroma = frame.tobytes(), bytes([128]) * (240 * 240)
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W480 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            out.write(b"FRAME\n" + luma + chroma + chroma)


def register_on_page(page: Page, base: str, code: str, name: str, phone: str) -> str:
    """Open the public page, register, wait for the ticket; returns the ticket's URL."""
    page.goto(f"{base}/e/{code}")
    fill_registration(page, name, phone)
    page.get_by_role("button", name="Daftar", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Tiket")
    return page.url


AGENDA = [
    ("2030-05-15", "09:00", "12:00", "Menulis berita desa", "Siti Rahmah"),
    ("2030-05-15", "13:00", "16:00", "Foto jurnalistik dengan ponsel", "Budi Hartono"),
    ("2030-05-16", "08:30", "12:00", "Melawan hoaks", "Rina Wulandari"),
    ("2030-05-16", "13:00", "15:30", "Rencana tindak lanjut", "Agus Salim"),
]


def fill_session(page: Page, number: int, day: str, start: str, end: str, topic: str, speaker: str):
    row = page.get_by_role("group", name=f"Sesi {number}")
    row.get_by_label("Tanggal", exact=True).fill(day)
    row.get_by_label("Jam mulai", exact=True).fill(start)
    row.get_by_label("Jam selesai", exact=True).fill(end)
    row.get_by_label("Topik atau acara").fill(topic)
    first = row.get_by_role("group", name="Narasumber 1")
    first.get_by_label("Nama narasumber").fill(speaker)
    first.get_by_label("Instansi").fill("Diskominfo PPU")


def invitation_kims(make_kim):
    """Two verified KIM in Babulu, one in Penajam; a draft in Penajam and one KIM in Sepaku."""
    babulu = make_kim(name="KIM Sebakung Maju", members=4)
    make_kim(name="KIM Sebakung Kreatif")
    make_kim(village=PPU_OTHER_VILLAGE, name="KIM Giri Mukti")
    make_kim(village=PPU_OTHER_VILLAGE, status=KimStatus.DRAFT, name="KIM Draf")
    make_kim(village=SEPAKU_VILLAGE, name="KIM Sepaku")
    return babulu


CACHED = """async () => {
  const keys = await caches.keys();
  for (const key of keys) {
    const cache = await caches.open(key);
    if (await cache.match(location.href, {ignoreVary: true})) return true;
  }
  return false;
}"""


def wait_until(check, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def fill_registration(
    page: Page, name: str, phone: str, institution: str = "KIM Sebakung Jaya"
) -> None:
    form = page.locator("#daftar form")
    form.get_by_label("Nama lengkap").fill(name)
    form.get_by_label("Nomor WhatsApp").fill(phone)
    form.get_by_label("KIM atau instansi").fill(institution)
    form.get_by_label("Jabatan").fill("Anggota")
    form.get_by_label("Perempuan").check()
    form.get_by_label("Saya setuju data saya diproses").check()


SEPAKU_VILLAGE = "64.09.04.2001"
