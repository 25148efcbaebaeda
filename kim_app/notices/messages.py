"""The texts of every notice, in one place.

They are written in Bahasa Indonesia whatever language the person who causes them reads: they
travel to village heads, KIM officers and participants by WhatsApp and email as they are. Each
text stays under ``phones.MAX_HANDOFF_TEXT`` (1,000 characters) with its link, so the hand-off
carries it whole: free text typed by people (notes, reasons, titles) is shortened to fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date
from flask_babel import force_locale

from kim_app.events import documents
from kim_app.events.models import Event
from kim_app.groups.models import Kim, KimStatus
from kim_app.notices.models import NoticeKind
from kim_app.phones import MAX_HANDOFF_TEXT

GREETING = "Yth. {name},"
SIGNATURE = "— Aplikasi KIM (pesan otomatis)"


@dataclass(frozen=True)
class Message:
    kind: NoticeKind
    subject: str
    text: str


def _short(value: str, limit: int) -> str:
    value = " ".join((value or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _compose(kind: NoticeKind, subject: str, name: str, *lines: str) -> Message:
    """Greeting, the lines, the signature; never longer than a hand-off carries."""
    body = [GREETING.format(name=_short(name, 80) or "Bapak/Ibu"), "", *lines, "", SIGNATURE]
    text = "\n".join(body)
    if len(text) > MAX_HANDOFF_TEXT:  # only a pathological mix of long fields gets here
        text = text[: MAX_HANDOFF_TEXT - 1] + "…"
    return Message(kind, _short(subject, 200), text)


def _when(event: Event) -> str:
    with force_locale("id"):
        return documents.event_first_time(event)


def _place(event: Event) -> str:
    place = ", ".join(p for p in (event.venue_name, event.venue_address) if p)
    return _short(place or event.online_link or "-", 200)


KIM_KINDS = {
    KimStatus.TERVERIFIKASI: NoticeKind.KIM_TERVERIFIKASI,
    KimStatus.PERLU_PERBAIKAN: NoticeKind.KIM_PERLU_PERBAIKAN,
    KimStatus.DITOLAK: NoticeKind.KIM_DITOLAK,
}


def kim_status(kim: Kim, name: str, note: str, link: str) -> Message:
    """The verification result: verified (with its number), returned with the note, rejected."""
    kim_name = _short(kim.name, 120)
    note = _short(note, 400)
    if kim.status is KimStatus.TERVERIFIKASI:
        return _compose(
            NoticeKind.KIM_TERVERIFIKASI,
            f"{kim_name} terverifikasi",
            name,
            f"{kim_name} telah diverifikasi Diskominfo dan kini aktif dengan nomor registrasi "
            f"{kim.registration_number}.",
            *([f"Catatan: {note}"] if note else []),
            f"Lihat: {link}",
        )
    if kim.status is KimStatus.PERLU_PERBAIKAN:
        return _compose(
            NoticeKind.KIM_PERLU_PERBAIKAN,
            f"{kim_name} perlu perbaikan",
            name,
            f"Pendaftaran {kim_name} dikembalikan Diskominfo untuk diperbaiki.",
            f"Catatan: {note}",
            f"Perbaiki lalu ajukan kembali: {link}",
        )
    return _compose(
        NoticeKind.KIM_DITOLAK,
        f"Pendaftaran {kim_name} ditolak",
        name,
        f"Pendaftaran {kim_name} ditolak Diskominfo.",
        f"Alasan: {note}",
        f"Lihat: {link}",
    )


def invitation(event: Event, kim: Kim, quota: int, name: str, link: str) -> Message:
    """A KIM invited to an event: who may come, when, where, and where to name delegates."""
    title = _short(event.title, 150)
    return _compose(
        NoticeKind.UNDANGAN,
        f"Undangan: {title}",
        name,
        f"{_short(kim.name, 120)} diundang ke {title}.",
        f"Waktu: {_when(event)}",
        f"Tempat: {_place(event)}",
        f"Kuota: {quota} orang. Pengurus KIM atau kepala desa menunjuk delegasi di: {link}",
    )


def ticket(event: Event, name: str, waiting: bool, link: str) -> Message:
    """A registered person's ticket link (or their place on the waiting list)."""
    title = _short(event.title, 150)
    state = (
        "Anda masuk daftar tunggu; kami kabari bila ada kursi."
        if waiting
        else "Anda terdaftar sebagai peserta."
    )
    return _compose(
        NoticeKind.TIKET,
        f"Tiket: {title}",
        name,
        f"{title}",
        f"Waktu: {_when(event)}",
        f"Tempat: {_place(event)}",
        state,
        f"Tiket dan kode QR Anda (jangan dibagikan): {link}",
    )


def promotion(event: Event, name: str, link: str) -> Message:
    """Someone moved from the waiting list to a seat."""
    title = _short(event.title, 150)
    return _compose(
        NoticeKind.PROMOSI,
        f"Anda mendapat kursi: {title}",
        name,
        f"Kabar baik: ada kursi kosong, dan Anda kini terdaftar sebagai peserta {title}.",
        f"Waktu: {_when(event)}",
        f"Tempat: {_place(event)}",
        f"Tiket Anda: {link}",
    )


def event_changed(event: Event, name: str, link: str) -> Message:
    """The time or place of an event changed."""
    title = _short(event.title, 150)
    return _compose(
        NoticeKind.KEGIATAN_BERUBAH,
        f"Perubahan jadwal/tempat: {title}",
        name,
        f"Ada perubahan pada {title}. Waktu dan tempat yang berlaku sekarang:",
        f"Waktu: {_when(event)}",
        f"Tempat: {_place(event)}",
        f"Tiket Anda tetap berlaku: {link}",
    )


def event_cancelled(event: Event, name: str, link: str) -> Message:
    """An event was cancelled, with the organiser's reason."""
    title = _short(event.title, 150)
    return _compose(
        NoticeKind.KEGIATAN_BATAL,
        f"Dibatalkan: {title}",
        name,
        f"Mohon maaf, {title} ({_when(event)}) dibatalkan.",
        f"Alasan: {_short(event.cancel_reason, 400)}",
        f"Keterangan: {link}",
    )


def reminder(event: Event, name: str, link: str) -> Message:
    """The day before: when, where, and the ticket to bring."""
    title = _short(event.title, 150)
    return _compose(
        NoticeKind.PENGINGAT,
        f"Pengingat besok: {title}",
        name,
        f"Pengingat: besok Anda mengikuti {title}.",
        f"Waktu: {_when(event)}",
        f"Tempat: {_place(event)}",
        f"Tunjukkan kode QR tiket Anda saat datang: {link}",
    )


def reset_requested(operator: str, account: str, role: str, where: str, link: str) -> Message:
    """To the operators above an account whose owner asked for a new password on the sign-in
    page (nobody there is told whether the account exists; its operators are)."""
    return _compose(
        NoticeKind.ATUR_ULANG,
        f"{_short(account, 80)} minta atur ulang kata sandi",
        operator,
        f"{_short(account, 80)} ({role}, {_short(where, 120)}) meminta tautan baru untuk "
        "kata sandinya lewat halaman Masuk.",
        f"Buat tautan baru dan kirim lewat WhatsApp: {link}",
    )


def file_finished(name: str, title: str, ready: bool, link: str) -> Message:
    """To the account that asked for a file the worker made: ready to download, or failed."""
    if ready:
        return _compose(
            NoticeKind.BERKAS,
            f"Berkas siap diunduh: {_short(title, 150)}",
            name,
            f"Berkas {_short(title, 200)} sudah jadi dan tersimpan sehari.",
            f"Unduh di sini: {link}",
        )
    return _compose(
        NoticeKind.BERKAS,
        f"Berkas gagal disiapkan: {_short(title, 150)}",
        name,
        f"Berkas {_short(title, 200)} gagal disiapkan.",
        f"Lihat alasannya dan coba lagi di sini: {link}",
    )


def activity_reviewed(report, name: str, link: str) -> Message:
    """A KIM's activity report returned for a fix (with what to fix) or hidden (with why)."""
    kim_name = _short(report.kim.name, 120)
    what = f"{report.kind.label} tanggal {format_date(report.done_on, 'long', locale='id')}"
    note = _short(report.review_note, 400)
    if report.status.value == "perlu_perbaikan":
        return _compose(
            NoticeKind.AKTIVITAS_PERBAIKAN,
            f"Laporan kegiatan {kim_name} perlu perbaikan",
            name,
            f"Laporan kegiatan {kim_name} ({what}) dikembalikan Diskominfo untuk diperbaiki.",
            f"Catatan: {note}",
            f"Perbaiki lalu kirim lagi: {link}",
        )
    return _compose(
        NoticeKind.AKTIVITAS_DISEMBUNYIKAN,
        f"Laporan kegiatan {kim_name} disembunyikan",
        name,
        f"Laporan kegiatan {kim_name} ({what}) disembunyikan Diskominfo dan tidak dihitung.",
        f"Alasan: {note}",
        f"Lihat: {link}",
    )


def info_sent(item, kim, name: str, link: str) -> Message:
    """Information Diskominfo asks a KIM to spread; an urgent one says so first."""
    title = _short(item.title, 150)
    return _compose(
        NoticeKind.INFORMASI,
        f"{'MENDESAK: ' if item.urgent else ''}Informasi untuk disebarkan: {title}",
        name,
        *(["MENDESAK — klarifikasi yang perlu segera disebarkan."] if item.urgent else []),
        f"Diskominfo meminta {_short(kim.name, 120)} menyebarkan: {title}.",
        f"Buka, bagikan lewat WhatsApp dan catat penyebarannya: {link}",
    )


def entry_checked(entry, name: str, link: str) -> Message:
    """A competition entry after the committee's administrative check: passed, returned for
    fixes (with what to fix) or not eligible (with why)."""
    kim_name = _short(entry.kim.name, 120)
    what = f"{_short(entry.competition.title, 150)}, kategori {_short(entry.category.name, 80)}"
    note = _short(entry.note, 400)
    if entry.status.value == "lolos":
        return _compose(
            NoticeKind.LOMBA_LOLOS,
            f"{kim_name} lolos seleksi administrasi",
            name,
            f"Pendaftaran {kim_name} di {what} lolos seleksi administrasi dan masuk penjurian.",
            f"Lihat: {link}",
        )
    if entry.status.value == "perlu_perbaikan":
        return _compose(
            NoticeKind.LOMBA_PERBAIKAN,
            f"Pendaftaran lomba {kim_name} perlu perbaikan",
            name,
            f"Pendaftaran {kim_name} di {what} dikembalikan panitia untuk diperbaiki.",
            f"Catatan: {note}",
            f"Perbaiki lalu kirim lagi: {link}",
        )
    return _compose(
        NoticeKind.LOMBA_TIDAK_LOLOS,
        f"{kim_name} tidak lolos seleksi administrasi",
        name,
        f"Pendaftaran {kim_name} di {what} tidak lolos seleksi administrasi.",
        f"Alasan: {note}",
        f"Lihat: {link}",
    )
