"""Issue 21 items 2 and 8 (uploads): the work one upload may cause is bounded and refused with a
clear message (hostile workbooks, images with too many pixels), re-encoded images keep no
metadata, and SK PDFs that carry actions are refused."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, ImageCms, PngImagePlugin
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from kim_app import tables, uploads
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus
from kim_app.reports.models import ReportPhoto
from kim_app.uploads import ImageError, ImageTooLarge, PdfRefused, check_pdf, reencode_image
from tests.conftest import PPU, PPU_VILLAGE, html_of

# --- hand-built workbooks ---------------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PACKAGE_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        f'ContentType="{SHEET_TYPE}.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        f'ContentType="{SHEET_TYPE}.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
        f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets>'
        '<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def _write(archive: zipfile.ZipFile, name: str, pieces: Iterable[str]) -> None:
    """Stream a part into the archive, so a 95 MB part never sits in memory whole."""
    with archive.open(name, "w", force_zip64=True) as part:
        buffer: list[str] = []
        size = 0
        for piece in pieces:
            buffer.append(piece)
            size += len(piece)
            if size > 1 << 20:
                part.write("".join(buffer).encode())
                buffer, size = [], 0
        part.write("".join(buffer).encode())


def workbook(rows: Iterable[str], strings: Iterable[str] = ()) -> bytes:
    """An XLSX as Excel lays it out: ``rows`` are ``<row>`` elements of the first sheet,
    ``strings`` the ``<si>`` elements of the shared strings."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in PACKAGE_PARTS.items():
            archive.writestr(name, text)
        _write(archive, "xl/sharedStrings.xml", [f'<sst xmlns="{MAIN}">', *strings, "</sst>"])
        _write(
            archive,
            "xl/worksheets/sheet1.xml",
            [f'<worksheet xmlns="{MAIN}"><sheetData>', *rows, "</sheetData></worksheet>"],
        )
    return out.getvalue()


def text_row(number: int, *texts: str) -> str:
    cells = "".join(
        f'<c r="{tables.column_letter(i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(texts)
    )
    return f'<row r="{number}">{cells}</row>'


def shared_row(number: int, *indexes: int) -> str:
    cells = "".join(
        f'<c r="{tables.column_letter(i)}{number}" t="s"><v>{index}</v></c>'
        for i, index in enumerate(indexes)
    )
    return f'<row r="{number}">{cells}</row>'


HEADER = text_row(1, "Nama KIM", "Desa")


def sst_bomb() -> bytes:
    """The issue's file: 236 KB of zip whose shared strings unpack to about 95 MB."""
    strings = (f"<si><t>{'A' * 1000}{i}</t></si>" for i in range(95_000))
    return workbook([HEADER, shared_row(2, 0, 1)], strings)


def many_strings() -> bytes:
    """400,000 tiny shared strings: a 9 MB part, under every size limit."""
    return workbook([HEADER, shared_row(2, 0, 1)], (f"<si><t>{i}</t></si>" for i in range(400_000)))


def many_rows() -> bytes:
    """100,000 rows of one cell each."""
    return workbook(
        [HEADER, *(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(2, 100_002))]
    )


def many_columns() -> bytes:
    """40 rows of 16,384 columns (Excel's widest), 655,360 cells."""
    return workbook(
        [HEADER] + [f'<row r="{n}">' + "<c><v>1</v></c>" * 16_384 + "</row>" for n in range(2, 42)]
    )


def huge_cell() -> bytes:
    """One inline text of 5 million characters (Excel allows 32,767)."""
    return workbook([HEADER, text_row(2, "KIM A", "x" * 5_000_000)])


def huge_shared_cell() -> bytes:
    """One shared string of 5 million characters."""
    return workbook([HEADER, shared_row(2, 0)], ["<si><t>" + "y" * 5_000_000 + "</t></si>"])


HOSTILE = {
    "sst_bomb": (sst_bomb, "Isi workbook terlalu besar"),
    "many_strings": (many_strings, "lebih dari 320.000 teks berbeda"),
    "many_rows": (many_rows, "lebih dari 50.000 baris"),
    "many_columns": (many_columns, "lebih dari 320.000 sel"),
    "huge_cell": (huge_cell, "Satu sel berisi lebih dari 32.767 karakter"),
    "huge_shared_cell": (huge_shared_cell, "Satu sel berisi lebih dari 32.767 karakter"),
}


@pytest.fixture(scope="module")
def hostile_files() -> dict[str, bytes]:
    return {name: build() for name, (build, _message) in HOSTILE.items()}


def post_import(client, data: bytes, path: str = "/kim/impor", **fields):
    boundary, body = encode_multipart(
        {
            "csrf_token": client.token(path),
            **fields,
            "berkas": FileStorage(io.BytesIO(data), filename="data.xlsx"),
        }
    )
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def stored_imports(app) -> list[str]:
    folder = Path(app.config["KIM_UPLOAD_FOLDER"]) / "impor"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def kim_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Kim))


# --- item 2: workbooks --------------------------------------------------------------------------------


def test_the_hand_built_workbook_is_read_when_it_is_small(ctx):
    """The builder makes workbooks openpyxl reads: small ones pass, so refusals below are bounds."""
    table = tables.read_table(
        workbook(
            [HEADER, shared_row(2, 0, 1)], ["<si><t>KIM A</t></si>", "<si><t>6409012001</t></si>"]
        )
    )
    assert table.headers == ["Nama KIM", "Desa"] and table.rows == [["KIM A", "6409012001"]]
    table = tables.read_table(workbook([HEADER, text_row(2, "KIM B", "x" * 400)]))
    assert table.rows == [["KIM B", "x" * 400]]


def test_the_issue_file_is_small_but_unpacks_to_95_mb(hostile_files):
    """The reproduction matches the report: a zip of a few hundred KB, 95 MB unpacked."""
    data = hostile_files["sst_bomb"]
    assert len(data) < 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.getinfo("xl/sharedStrings.xml").file_size > 95_000_000


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_workbook_is_refused_with_422_and_nothing_is_kept(
    app, client, make_user, login, hostile_files, name
):
    """Each hostile workbook sent to /kim/impor gets the translated refusal, no upload is kept and
    no KIM is written."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    before, kims = stored_imports(app), kim_count(app)
    response = post_import(client, hostile_files[name], jenis="kim")
    assert response.status_code == 422
    assert HOSTILE[name][1] in html_of(response)
    assert stored_imports(app) == before and kim_count(app) == kims


def test_the_refusal_is_translated(app, client, make_user, login, hostile_files):
    """In English the same refusal reads in English."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = post_import(client, hostile_files["many_columns"], jenis="kim")
    assert response.status_code == 422
    assert "more than 320,000 cells" in html_of(response)


def test_participant_import_passes_the_same_bounds(
    app, client, make_user, login, make_event, hostile_files
):
    """The event's participant import reads through the same bounds."""
    event = make_event()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    path = f"/kegiatan/{event.id}/peserta/impor"
    before = stored_imports(app)
    response = post_import(client, hostile_files["many_strings"], path)
    assert response.status_code == 422
    assert "lebih dari 320.000 teks berbeda" in html_of(response)
    assert stored_imports(app) == before


def _scan(data: bytes, limits: tables.Limits = tables.LIMITS) -> tuple[bool, tables.Budget]:
    """Run the archive check alone: whether it refused, and how far it read."""
    budget = tables.Budget(limits)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            tables.check_workbook(archive, budget)
        except tables.TableRefused:
            return True, budget
    return False, budget


def test_oversize_part_is_refused_from_the_zip_directory(ctx, hostile_files):
    """The 95 MB shared strings are refused before one byte of them is unpacked."""
    refused, budget = _scan(hostile_files["sst_bomb"])
    assert refused and budget.bytes_read == 0


@pytest.mark.parametrize("name", ["many_strings", "many_rows", "many_columns", "huge_cell"])
def test_refusal_stops_reading_at_the_bound(ctx, hostile_files, name):
    """A workbook over a count is refused at that count, well before its last byte is read."""
    data = hostile_files[name]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(part.file_size for part in archive.infolist())
    refused, budget = _scan(data)
    assert refused
    assert budget.bytes_read < unpacked * 0.9


def test_a_part_that_lies_about_its_size_is_not_read_past_it(ctx):
    """A zip whose directory declares 1,000 bytes for a 2 MB part is refused as damaged, and no
    more than the declared size (plus one read) is unpacked."""
    data = bytearray(workbook([HEADER], [f"<si><t>{'z' * 1000}</t></si>"] * 2000))
    name = b"xl/sharedStrings.xml"
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(name.decode())
        assert info.file_size > 2_000_000
    # the sizes in the local header (offset 22) and the central directory entry (offset 24)
    struct.pack_into("<I", data, info.header_offset + 22, 1000)
    central = data.find(b"PK\x01\x02", info.header_offset)
    while data[central + 46 : central + 46 + len(name)] != name:
        central = data.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", data, central + 24, 1000)
    refused, budget = _scan(bytes(data))
    assert refused
    assert budget.bytes_read < 1000 + tables.XML_CHUNK * 2
    with pytest.raises(tables.TableRefused, match="rusak"):
        tables.read_table(bytes(data))


def test_reading_time_is_bounded_too(ctx):
    """With no time left, a legitimate file is refused as taking too long (the clock is checked
    for every row and every chunk; the budget here is zero, nothing is timed)."""
    data = workbook([HEADER, text_row(2, "KIM A", "1")])
    with pytest.raises(tables.TableRefused, match="terlalu lama dibaca"):
        tables.read_table(data, replace(tables.LIMITS, seconds=0))
    with pytest.raises(tables.TableRefused, match="terlalu lama dibaca"):
        tables.read_table(b"Nama;Desa\nKIM A;1\n", replace(tables.LIMITS, seconds=0))


def test_document_type_declarations_are_refused(ctx):
    """Workbook XML never declares entities; a part that does (billion laughs) is refused."""
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in PACKAGE_PARTS.items():
            archive.writestr(name, text)
        archive.writestr(
            "xl/sharedStrings.xml", laughs + f'<sst xmlns="{MAIN}"><si><t>&b;</t></si></sst>'
        )
        archive.writestr(
            "xl/worksheets/sheet1.xml",
            f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER}{shared_row(2, 0)}</sheetData></worksheet>',
        )
    with pytest.raises(tables.TableRefused, match="rusak"):
        tables.read_table(out.getvalue())


# --- item 8: images ---------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, idat: bytes | None = None) -> bytes:
    """An RGB PNG built by hand; without ``idat``, all black, deflated row by row (a 12000 ×
    12000 one is the issue's 434 KB file without holding 432 MB at once)."""
    if idat is None:
        deflate = zlib.compressobj(9)
        row = bytes(1 + 3 * width)
        idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    return png(12_000, 12_000)


def post_file(client, path: str, form_page: str, field: str, data: bytes, name: str, **fields):
    boundary, body = encode_multipart(
        {
            "csrf_token": client.token(form_page),
            **fields,
            field: FileStorage(io.BytesIO(data), filename=name),
        }
    )
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def files_in(app, kind: str) -> list[str]:
    folder = Path(app.config["KIM_UPLOAD_FOLDER"]) / kind
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_the_issue_png_is_small_and_huge(huge_png):
    """The reproduction matches the report: about 434 KB declaring 12000 × 12000 pixels."""
    assert 300_000 < len(huge_png) < 600_000
    assert struct.unpack(">II", huge_png[16:24]) == (12_000, 12_000)


def test_144_megapixel_report_photo_is_refused_before_decoding(
    app, client, make_user, make_event, login, huge_png
):
    """The 12000 × 12000 PNG sent as a report photo gets a translated 422, nothing is stored."""
    event = make_event()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = f"/kegiatan/{event.id}/laporan"
    before = files_in(app, "laporan")
    response = post_file(
        client, page + "/foto", page, "foto", huge_png, "foto.png", caption="Peserta"
    )
    assert response.status_code == 422
    assert "Gambar lebih dari 40 megapiksel" in html_of(response)
    assert files_in(app, "laporan") == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportPhoto)) == 0


def test_144_megapixel_sk_image_is_refused(app, client, make_user, make_kim, login, huge_png):
    """The same PNG as an SK document is refused with the message, and the KIM keeps no file."""
    kim = make_kim(status=KimStatus.DRAFT)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    response = post_file(client, f"/kim/{kim.id}/sk", f"/kim/{kim.id}", "sk", huge_png, "sk.png")
    assert response.status_code == 303
    assert "Gambar lebih dari 40 megapiksel" in html_of(client.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.get(Kim, kim.id).sk_file is None


def test_pixel_limit_is_read_from_the_header(ctx):
    """A header declaring 45 megapixels over garbage image data is refused as too large: the
    decision came before any decoding (a small header over the same garbage is unreadable)."""
    garbage = b"\x00not deflate\xff" * 10
    with pytest.raises(ImageTooLarge):
        reencode_image(png(7_500, 6_000, garbage), "image/png")
    with pytest.raises(ImageError) as small:
        reencode_image(png(100, 100, garbage), "image/png")
    assert not isinstance(small.value, ImageTooLarge)


def test_a_truncated_image_is_refused_after_a_pdf_was_drawn(ctx):
    """WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import (the first PDF a
    worker draws): an upload of garbage is still refused as unreadable, and the setting is left
    as WeasyPrint wants it."""
    import weasyprint  # noqa: F401 - its import is the point
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is True
    with pytest.raises(ImageError) as refused:
        reencode_image(png(100, 100, b"\x00not deflate\xff" * 10), "image/png")
    assert not isinstance(refused.value, ImageTooLarge)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_pillow_bomb_limits_become_the_same_refusal(ctx, monkeypatch):
    """Pillow's own decompression-bomb warning and error are a clean refusal, never a 500."""
    monkeypatch.setattr(uploads, "MAX_PIXELS", 10**12)  # let Pillow's checks speak first
    with pytest.raises(ImageTooLarge):
        reencode_image(png(10_000, 10_000, b"x"), "image/png")  # 100 MP: Pillow warns
    with pytest.raises(ImageTooLarge):
        reencode_image(png(15_000, 15_000, b"x"), "image/png")  # 225 MP: Pillow refuses


def jpeg_with_everything(size=(40, 20)) -> bytes:
    """A JPEG carrying a comment with a script, EXIF (orientation 6, camera), XMP and an ICC
    profile."""
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90° clockwise to show
    exif[0x010F] = "Kamera Rahasia"
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(
        out,
        "JPEG",
        comment=b"<script>alert(1)</script>",
        exif=exif.tobytes(),
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">rahasia-xmp</x:xmpmeta>',
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    return out.getvalue()


def png_with_everything() -> bytes:
    """A PNG with text chunks (one holding a script), EXIF and an ICC profile."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_text("Lokasi", "rahasia-teks", zip=True)
    info.add_itxt("XML:com.adobe.xmp", "rahasia-xmp")
    exif = Image.Exif()
    exif[0x010F] = "Kamera Rahasia"
    out = io.BytesIO()
    Image.new("RGBA", (30, 10), (0, 0, 255, 128)).save(
        out,
        "PNG",
        pnginfo=info,
        exif=exif.tobytes(),
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    return out.getvalue()


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's segments up to its image data."""
    assert data[:2] == b"\xff\xd8"
    markers, at = [], 2
    while True:
        marker = data[at + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: the picture follows
            return markers
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]


def png_chunks(data: bytes) -> list[bytes]:
    chunks, at = [], 8
    while at < len(data):
        length = struct.unpack(">I", data[at : at + 4])[0]
        chunks.append(data[at + 4 : at + 8])
        at += 12 + length
    return chunks


SECRETS = (b"<script>", b"Kamera Rahasia", b"rahasia", b"sRGB")
JPEG_METADATA = {0xFE, *range(0xE1, 0xF0)}  # COM and APP1..APP15 (EXIF, XMP, ICC, Photoshop…)


def _stored_photo(app) -> bytes:
    with app.app_context():
        photo = db.session.scalars(sa.select(ReportPhoto)).one()
    folder = Path(app.config["KIM_UPLOAD_FOLDER"]) / "laporan"
    return (folder / photo.file).read_bytes()


def test_report_photo_keeps_no_metadata(app, client, make_user, make_event, login):
    """The stored photo and its thumbnail have no comment, EXIF, XMP or ICC segment and none of
    their bytes; the orientation was applied (40 × 20 turned to 20 × 40) before EXIF went."""
    event = make_event()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = f"/kegiatan/{event.id}/laporan"
    response = post_file(
        client, page + "/foto", page, "foto", jpeg_with_everything(), "foto.jpg", caption="x"
    )
    assert response.status_code == 303
    stored = _stored_photo(app)
    with app.app_context():
        name = db.session.scalars(sa.select(ReportPhoto.file)).one()
    # the thumbnail beside it (the folder is shared by the whole run: other tests' photos too)
    folder = Path(app.config["KIM_UPLOAD_FOLDER"]) / "laporan"
    thumb = (folder / name.replace(".jpg", "-kecil.jpg")).read_bytes()
    for data in (stored, thumb):
        assert not JPEG_METADATA & set(jpeg_markers(data))
        assert not any(secret in data for secret in SECRETS)
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (20, 40) and not image.info.get("comment")


def test_sk_images_keep_no_metadata(app, client, make_user, make_kim, login):
    """An SK as JPEG or PNG is stored upright without comments, EXIF, XMP, ICC or text chunks;
    the PNG keeps its transparency."""
    kim = make_kim(status=KimStatus.DRAFT)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    path = f"/kim/{kim.id}/sk"
    for data, name in ((jpeg_with_everything(), "sk.jpg"), (png_with_everything(), "sk.png")):
        response = post_file(client, path, f"/kim/{kim.id}", "sk", data, name)
        assert response.status_code == 303
        with app.app_context():
            stored_name = db.session.get(Kim, kim.id).sk_file
        stored = (Path(app.config["KIM_UPLOAD_FOLDER"]) / "sk" / stored_name).read_bytes()
        assert not any(secret in stored for secret in SECRETS)
        with Image.open(io.BytesIO(stored)) as image:
            if name.endswith(".jpg"):
                assert not JPEG_METADATA & set(jpeg_markers(stored))
                assert image.size == (20, 40)
            else:
                assert set(png_chunks(stored)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
                assert image.mode == "RGBA" and image.getpixel((0, 0)) == (0, 0, 255, 128)


# --- item 8: SK PDFs --------------------------------------------------------------------------------


def pdf(*objects: str, version: str = "1.7") -> bytes:
    """A PDF built by hand: ``objects`` numbered from 1 (1 is the catalog), a cross-reference
    table with their true offsets."""
    out = f"%PDF-{version}\n".encode()
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    return out + f"startxref\n{xref}\n%%EOF\n".encode()


def one_page(catalog: str = "", page: str = "", *more: str) -> bytes:
    return pdf(
        f"<< /Type /Catalog /Pages 2 0 R {catalog} >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] {page} >>",
        *more,
    )


def hidden_in_object_stream(annotation: str) -> bytes:
    """A PDF 1.5 whose page annotation (object 4) sits compressed in an object stream, so its
    names never appear in the file as text; cross-referenced by an xref stream."""
    out = b"%PDF-1.5\n"
    offsets = {}
    plain = {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        2: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Annots [4 0 R] >>",
    }
    for number, body in plain.items():
        offsets[number] = len(out)
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    head = b"4 0 "
    packed = zlib.compress(head + annotation.encode())
    offsets[5] = len(out)
    out += (
        f"5 0 obj\n<< /Type /ObjStm /N 1 /First {len(head)} /Filter /FlateDecode "
        f"/Length {len(packed)} >>\nstream\n"
    ).encode()
    out += packed + b"\nendstream\nendobj\n"
    offsets[6] = len(out)
    rows = b"\x00" + struct.pack(">IH", 0, 65535)
    for number in range(1, 7):
        if number == 4:
            rows += b"\x02" + struct.pack(">IH", 5, 0)
        else:
            rows += b"\x01" + struct.pack(">IH", offsets[number], 0)
    out += (
        f"6 0 obj\n<< /Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R /Length {len(rows)} >>\nstream\n"
    ).encode()
    out += rows + b"\nendstream\nendobj\n"
    return out + f"startxref\n{offsets[6]}\n%%EOF\n".encode()


ALERT = "<< /S /JavaScript /JS (app.alert(1)) >>"
LINK = "<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A {} >>"
ACTIVE_PDFS = {
    "open_action_javascript": lambda: one_page(f"/OpenAction {ALERT}"),
    "escaped_names": lambda: one_page("/Op#65nAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
    "document_javascript": lambda: one_page(
        "/Names << /JavaScript << /Names [(a) 4 0 R] >> >>", "", ALERT
    ),
    "page_open_action": lambda: one_page("", f"/AA << /O {ALERT} >>"),
    "launch_link": lambda: one_page(
        "", "/Annots [4 0 R]", LINK.format("<< /S /Launch /F (cmd.exe) >>")
    ),
    "embedded_file": lambda: one_page(
        "/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
        "",
        "<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
        "<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
    ),
    "javascript_in_object_stream": lambda: hidden_in_object_stream(LINK.format(ALERT)),
}
CLEAN_PDFS = {
    "one_page": lambda: one_page(),
    "link_to_a_page": lambda: one_page(
        "", "/Annots [4 0 R]", LINK.format("<< /S /GoTo /D [3 0 R /Fit] >>")
    ),
    "object_stream": lambda: hidden_in_object_stream(
        LINK.format("<< /S /URI /URI (https://example.org) >>")
    ),
    "damaged_without_object_streams": lambda: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
}


def test_the_issue_pdf_is_refused_as_an_sk(app, client, make_user, make_kim, login):
    """An SK PDF with ``/OpenAction << /S /JavaScript /JS (app.alert(1)) >>`` is refused with a
    translated message and not stored; a clean PDF is stored."""
    kim = make_kim(status=KimStatus.DRAFT)
    login(make_user(Role.KEPALA_DESA, PPU_VILLAGE))
    data = ACTIVE_PDFS["open_action_javascript"]()
    before = files_in(app, "sk")
    assert b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>" in data
    response = post_file(client, f"/kim/{kim.id}/sk", f"/kim/{kim.id}", "sk", data, "sk.pdf")
    assert response.status_code == 303
    page = html_of(client.get(response.headers["Location"]))
    assert "PDF ini berisi skrip, tindakan otomatis atau berkas sisipan" in page
    with app.app_context():
        assert db.session.get(Kim, kim.id).sk_file is None
    assert files_in(app, "sk") == before
    response = post_file(client, f"/kim/{kim.id}/sk", f"/kim/{kim.id}", "sk", one_page(), "sk.pdf")
    with app.app_context():
        stored = db.session.get(Kim, kim.id).sk_file
    assert (
        stored
        and (Path(app.config["KIM_UPLOAD_FOLDER"]) / "sk" / stored).read_bytes() == one_page()
    )


@pytest.mark.parametrize("name", list(ACTIVE_PDFS))
def test_pdfs_with_scripts_actions_or_files_are_refused(ctx, name):
    """Scripts, actions on opening or on page events, launches and embedded files are refused,
    also behind ``#xx`` escapes or inside a compressed object stream."""
    with pytest.raises(PdfRefused, match="skrip, tindakan otomatis"):
        check_pdf(ACTIVE_PDFS[name]())


@pytest.mark.parametrize("name", list(CLEAN_PDFS))
def test_plain_pdfs_pass(ctx, name):
    """Pages, links to a page or a web address, object streams: nothing to refuse."""
    check_pdf(CLEAN_PDFS[name]())


def test_pdf_with_object_streams_pypdf_cannot_read_is_refused(ctx):
    """Object streams that cannot be opened cannot be checked: refused with its own message."""
    data = hidden_in_object_stream(LINK.format("<< /S /GoTo /D [3 0 R /Fit] >>"))
    with pytest.raises(PdfRefused, match="PDF ini tidak dapat diperiksa"):
        check_pdf(data[: len(data) // 2])
