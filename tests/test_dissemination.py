"""Issue 26, part 2: information to spread, through the pages. The operator sends an item to the
KIM of an area (and a field); each KIM finds it on its home page (an urgent one on top until it
is relayed), shares it with a prepared WhatsApp hand-off and records where and to how many; the
operator sees who relayed it and the total reach, only inside the wilayah."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from kim_app.activity.models import InfoItem, Relay
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Bidang, KimStatus
from kim_app.notices.models import Notice, NoticeKind
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of
from tests.helpers import image_bytes

WEIGHED = {
    "activity.info_index",
    "activity.info_new",
    "activity.info_item",
    "activity.kim_info",
    "activity.kim_item",
}
NOT_PAGES = {"activity.info_file", "activity.kim_item_file"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

HOAX = {
    "title": "Klarifikasi: bantuan tunai lewat tautan palsu",
    "text": "Kabar bantuan Rp2 juta lewat tautan WhatsApp adalah hoaks. Jangan isi data pribadi.",
    "link": "https://diskominfo.example/klarifikasi-bantuan",
    "area": PPU,
    "field": "",
    "urgent": "y",
}


def send(client, fields: dict, file: tuple[bytes, str] | None = None):
    values = MultiDict({"csrf_token": client.token("/informasi/baru"), **fields})
    if file:
        values.add("berkas", FileStorage(io.BytesIO(file[0]), file[1]))
    boundary, body = encode_multipart(values)
    return client.post(
        "/informasi/baru", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def items(app) -> list[InfoItem]:
    with app.app_context():
        return list(db.session.scalars(sa.select(InfoItem).order_by(InfoItem.id)))


def test_an_urgent_item_reaches_the_area_and_waits_on_top_until_relayed(
    app, client, make_kim, make_user, login
):
    """An urgent item for the regency reaches its verified KIM only: each KIM's home shows it
    first with a wa.me hand-off carrying the prepared text; once the pengurus records the relay
    it leaves the home page, and the operator reads who relayed it, where and the total reach;
    the KIM's people are told, the ketua by WhatsApp since it is urgent."""
    mine = make_kim(name="KIM Sebakung")
    neighbour = make_kim(village=PPU_OTHER_VILLAGE, name="KIM Tetangga")
    make_kim(village=PPU_OTHER_VILLAGE, status=KimStatus.DRAFT, name="KIM Draf")
    far = make_kim(village=MAJALENGKA_VILLAGE, name="KIM Jauh")
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=mine.id)
    login(operator)
    response = send(client, HOAX, (PDF, "klarifikasi.pdf"))
    assert response.status_code == 303, html_of(response)
    [item] = items(app)
    assert item.kims == 2 and item.urgent and item.file_mime == "application/pdf"
    page = html_of(client.get(response.headers["Location"]))
    assert "Informasi dikirim ke 2 KIM." in page
    assert "0 dari 2 KIM menyebarkan" in page and "KIM Tetangga" in page

    login(pengurus)
    home = html_of(client.get("/"))
    assert home.index("Mendesak") < home.index("Perlu tindakan Anda") + 400
    assert HOAX["title"] in home
    item_page = f"/kim/{mine.id}/informasi/{item.id}"
    shown = html_of(client.get(item_page))
    share = re.search(r'href="(https://wa\.me/\?text=[^"]+)"', shown)[1].replace("&amp;", "&")
    text = parse_qs(urlsplit(share).query)["text"][0]
    assert HOAX["title"] in text and HOAX["link"] in text
    assert client.get(f"/kim/{mine.id}/informasi/{item.id}/berkas").data == PDF
    refused = client.submit(item_page, {"reach": "80"})
    assert refused.status_code == 422
    assert "Pilih di mana informasi ini disebarkan." in html_of(refused)
    done = client.submit(item_page, {"channels": ["whatsapp", "pertemuan"], "reach": "80"})
    assert done.status_code == 303
    assert HOAX["title"] not in html_of(client.get("/"))
    # a second confirmation changes the record, never adds one
    client.submit(item_page, {"channels": ["whatsapp"], "reach": "95"})
    with app.app_context():
        relays = db.session.scalars(sa.select(Relay)).all()
        assert [(r.kim_id, r.reach) for r in relays] == [(mine.id, 95)]
        told = db.session.scalars(
            sa.select(Notice).where(Notice.kind == NoticeKind.INFORMASI)
        ).all()
        assert pengurus.id in {n.user_id for n in told}
        assert any(n.user_id is None and n.phone for n in told)  # the ketua, by WhatsApp
        assert all(n.kim_id in (mine.id, neighbour.id) for n in told)
    # another regency's KIM never sees it
    login(make_user(Role.PENGURUS_KIM, MAJALENGKA_VILLAGE, kim_id=far.id))
    assert client.get(f"/kim/{far.id}/informasi/{item.id}").status_code == 404
    assert HOAX["title"] not in html_of(client.get("/"))

    login(operator)
    report = html_of(client.get(f"/informasi/{item.id}"))
    assert "1 dari 2 KIM menyebarkan" in report and "±95 orang dijangkau" in report
    assert "KIM Sebakung" in report
    assert "1 dari 2 KIM menyebarkan" in html_of(client.get("/informasi"))
    # the operator of the other regency does not read it at all
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert client.get(f"/informasi/{item.id}").status_code == 404
    assert HOAX["title"] not in html_of(client.get("/informasi"))


def test_a_field_narrows_who_is_asked(app, client, make_kim, make_user, login):
    """An item for one field goes only to the KIM that keep that field."""
    culture = make_kim(bidang=(Bidang.SOSIAL_BUDAYA,))
    other = make_kim(village=PPU_OTHER_VILLAGE, bidang=(Bidang.INFORMASI_PUBLIK,))
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = send(client, {**HOAX, "field": Bidang.SOSIAL_BUDAYA.value, "urgent": ""})
    assert response.status_code == 303, html_of(response)
    [item] = items(app)
    assert item.kims == 1
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    assert client.get(f"/kim/{culture.id}/informasi/{item.id}").status_code == 200
    login(make_user(Role.KEPALA_DESA, PPU_OTHER_VILLAGE))
    assert client.get(f"/kim/{other.id}/informasi/{item.id}").status_code == 404


def test_bad_input_is_refused_clearly_and_sends_nothing(app, client, make_kim, make_user, login):
    """An area outside the wilayah (a forged option), an unknown field, a fake file, a PDF with a
    script, a link that is not a web address, an empty title, an area without a verified KIM:
    each a message on its field, nothing sent."""
    make_kim()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    cases = [
        ({"area": "32.10"}, None, "Pilihan tidak valid."),
        ({"field": "rahasia"}, None, "Pilihan tidak valid."),
        (
            {},
            (b"MZ\x90\x00" + b"\x00" * 300, "foto.jpg"),
            "Berkas harus berupa PDF, JPEG atau PNG.",
        ),
        (
            {},
            (b"%PDF-1.4\n1 0 obj<</OpenAction<</JS(app.alert(1))>>>>endobj\n%%EOF", "a.pdf"),
            "skrip",
        ),
        ({}, (image_bytes("JPEG")[:200], "rusak.jpg"), "Gambar tidak dapat dibaca"),
        ({"link": "javascript:alert(1)"}, None, "diawali http:// atau https://"),
        ({"title": ""}, None, "Wajib diisi."),
        ({"area": "64.09.01"}, None, "Belum ada KIM terverifikasi"),
    ]
    for change, file, message in cases:
        response = send(client, {**HOAX, **change}, file)
        assert response.status_code == 422, change
        assert message in html_of(response), (change, message)
    assert items(app) == []
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = send(client, HOAX, (b"MZ" + b"\x00" * 100, "x.png"))
    assert "The file must be a PDF, JPEG or PNG." in html_of(response)


def test_pages_fit_the_budget_and_lists_do_not_grow_queries(
    app, client, make_kim, make_user, login
):
    """Every page of information fits 14 KB compressed; the operator's list and the KIM's list
    ask the same number of queries for 2 items as for 12."""
    kim = make_kim()
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id)

    def count(url: str) -> int:
        with counted_queries(app) as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    login(operator)
    for n in range(2):
        send(client, {**HOAX, "title": f"Informasi {n}", "urgent": ""})
    before = count("/informasi")
    login(pengurus)
    before_kim = count(f"/kim/{kim.id}/informasi")
    login(operator)
    for n in range(10):
        send(client, {**HOAX, "title": f"Informasi lagi {n}", "urgent": ""})
    assert count("/informasi") == before
    first = items(app)[0].id
    for url in ("/informasi", "/informasi/baru", f"/informasi/{first}"):
        assert page_weight(client.get(url)) <= PAGE_BUDGET, url
    login(pengurus)
    assert count(f"/kim/{kim.id}/informasi") == before_kim
    for url in (f"/kim/{kim.id}/informasi", f"/kim/{kim.id}/informasi/{first}"):
        assert page_weight(client.get(url)) <= PAGE_BUDGET, url
