"""Invitations by filter with a quota, guests added by hand, and the delegates a KIM names."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.events.invitations import queries as people
from kim_app.events.models import (
    Event,
    EventStatus,
    Invitation,
    RegistrationStatus,
    Source,
)
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.groups.models import Bidang, Gender, Kim, KimField, KimStatus, Member, name_key
from kim_app.regions.models import Region, RegionLevel
from tests.budget import PAGE_BUDGET as BUDGET
from tests.budget import counted_queries
from tests.conftest import MAJALENGKA_VILLAGE, PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE, html_of
from tests.helpers import MANAGERS, ROLE_SCOPES, registrations_of, weigh

SCOPE_CHECKED = {"events.invitations", "events.delegates"}
WEIGHED = {"events.invitations", "events.delegates"}

BABULU, PENAJAM, SEPAKU = "64.09.03", "64.09.01", "64.09.04"
SEPAKU_VILLAGE = "64.09.04.2001"
JATIM_VILLAGE = "35.14.01.2001"
COUNT = re.compile(
    r"<strong>(\d+)</strong> KIM cocok · (\d+) sudah diundang · <strong>(\d+)</strong> akan diundang"
)


# --- helpers ---------------------------------------------------------------------------------------


def count_of(html: str) -> tuple[int, int, int]:
    """(matching, already invited, to invite) as the count preview states them."""
    match = COUNT.search(html)
    assert match, html[:2000]
    return tuple(int(g) for g in match.groups())


def invitations_of(app, event_id: int) -> dict[int, int]:
    """KIM id → quota of the event's invitations."""
    with app.app_context():
        return dict(
            db.session.execute(
                sa.select(Invitation.kim_id, Invitation.quota).where(
                    Invitation.event_id == event_id
                )
            ).all()
        )


def ppu_villages(app, district: str | None = None) -> list[str]:
    """Village codes of Penajam Paser Utara (or of one of its districts)."""
    area = district or PPU
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Region.code)
                .where(Region.level == RegionLevel.DESA, Region.code.startswith(area + "."))
                .order_by(Region.code)
            )
        )


def bulk_kims(app, villages: list[str], n: int, status=KimStatus.TERVERIFIKASI) -> list[int]:
    """``n`` KIM spread over ``villages``, inserted in bulk (for the scale tests)."""
    with app.app_context():
        start = db.session.scalar(sa.select(sa.func.count()).select_from(Kim)) or 0
        names = [f"KIM Massal {start + i}" for i in range(n)]
        db.session.execute(
            sa.insert(Kim),
            [
                {
                    "name": name,
                    "name_key": name_key(name),
                    "village_code": villages[i % len(villages)],
                    "status": status,
                }
                for i, name in enumerate(names)
            ],
        )
        ids = list(db.session.scalars(sa.select(Kim.id).where(Kim.name.in_(names))))
        db.session.execute(
            sa.insert(KimField),
            [{"kim_id": i, "field": Bidang.INFORMASI_PUBLIK.value} for i in ids],
        )
        db.session.commit()
        return ids


@pytest.fixture
def district_kims(make_kim):
    """Verified KIM in Babulu (2) and Penajam (1); a draft in Penajam, one in Sepaku, one in
    Majalengka — only the first three match "Babulu + Penajam, verified"."""
    return {
        "babulu": [make_kim(name="KIM Sebakung Maju"), make_kim(name="KIM Sebakung Kreatif")],
        "penajam": [make_kim(village=PPU_OTHER_VILLAGE, name="KIM Giri Mukti")],
        "draft": make_kim(village=PPU_OTHER_VILLAGE, status=KimStatus.DRAFT, name="KIM Draf"),
        "sepaku": make_kim(village=SEPAKU_VILLAGE, name="KIM Sepaku"),
        "majalengka": make_kim(village=MAJALENGKA_VILLAGE, name="KIM Majalengka"),
    }


TWO_DISTRICTS = {"kecamatan": [BABULU, PENAJAM], "status": "terverifikasi", "bidang": ""}


# --- inviting by filter ----------------------------------------------------------------------------


def test_count_preview_then_invite_two_districts_with_quota_two(
    app, client, operator, make_event, district_kims, partial_headers
):
    """The count follows the filter (htmx fragment, plain page, no-JS "Hitung"); "Undang" invites
    exactly the matching KIM with quota 2, and inviting again adds nothing."""
    event = make_event()
    url = f"/kegiatan/{event.id}/undangan"
    fragment = client.get(
        url, query_string=TWO_DISTRICTS | {"bagian": "jumlah"}, headers=partial_headers
    )
    assert fragment.status_code == 200
    assert "<html" not in html_of(fragment) and 'id="jumlah-undang"' in html_of(fragment)
    assert count_of(html_of(fragment)) == (3, 0, 3)
    page = html_of(client.get(url, query_string=TWO_DISTRICTS))
    assert "<html" in page and count_of(page) == (3, 0, 3)
    assert count_of(html_of(client.get(url))) == (4, 0, 4)  # every district, verified only
    counted = client.submit(url, TWO_DISTRICTS | {"aksi": "hitung", "kuota": "2"})
    assert counted.status_code == 200 and count_of(html_of(counted)) == (3, 0, 3)
    assert invitations_of(app, event.id) == {}

    response = client.submit(url, TWO_DISTRICTS | {"aksi": "undang", "kuota": "2"})
    assert response.status_code == 303
    expected = {k.id for k in district_kims["babulu"] + district_kims["penajam"]}
    assert invitations_of(app, event.id) == dict.fromkeys(expected, 2)
    page = html_of(client.get(response.headers["Location"]))
    assert "3 KIM diundang, masing-masing 2 orang." in page
    listed = page.split('id="diundang"', 1)[1]  # the invited list (the filter names KIM too)
    assert "KIM Sebakung Maju" in listed and "0/2 delegasi" in listed
    assert "KIM Sepaku" not in listed

    again = client.submit(url, TWO_DISTRICTS | {"aksi": "undang", "kuota": "5"})
    assert again.status_code == 303
    assert invitations_of(app, event.id) == dict.fromkeys(expected, 2)
    page = html_of(client.get(url, query_string=TWO_DISTRICTS))
    assert "semuanya sudah diundang" in page and count_of(page) == (3, 3, 0)
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "event.invite")
        ).all()
        assert [e.changes["kim"] for e in entries] == [3]
        assert entries[0].changes["filter"]["kecamatan"] == f"{PENAJAM},{BABULU}"


def test_bidang_and_status_filters(app, client, operator, make_event, make_kim, partial_headers):
    """A field of activity narrows the count; "semua" takes every invitable status (submissions
    too); an unknown status or field counts as the default."""
    event = make_event()
    make_kim(bidang=(Bidang.PERTANIAN,))
    make_kim(bidang=(Bidang.PERTANIAN, Bidang.KESEHATAN), status=KimStatus.DIAJUKAN)
    make_kim(bidang=(Bidang.KESEHATAN,))
    url = f"/kegiatan/{event.id}/undangan"

    def count(**args) -> tuple[int, int, int]:
        args["bagian"] = "jumlah"
        return count_of(html_of(client.get(url, query_string=args, headers=partial_headers)))

    assert count(bidang="pertanian") == (1, 0, 1)
    assert count(bidang="pertanian", status="semua") == (2, 0, 2)
    assert count(status="diajukan") == (1, 0, 1)
    assert count(bidang="kesehatan", status="semua") == (2, 0, 2)
    assert count(bidang="tidak-ada", status="bukan") == (2, 0, 2)  # unknown: verified, any field


def test_districts_outside_the_event_or_the_scope_are_ignored(
    app, client, operator, make_event, district_kims
):
    """A Majalengka district in the form never reaches a KIM outside the event's area."""
    event = make_event()
    url = f"/kegiatan/{event.id}/undangan"
    response = client.submit(
        url, {"kecamatan": ["32.10.01"], "status": "semua", "aksi": "undang", "kuota": "1"}
    )
    assert response.status_code == 303
    invited = invitations_of(app, event.id)
    assert district_kims["majalengka"].id not in invited
    assert len(invited) == 4  # every PPU KIM that can be invited (not the draft)


def test_quota_must_be_1_to_50(app, client, operator, make_event, district_kims):
    """A quota of 0, 51 or text is refused with a 422 and a message; nothing is invited."""
    event = make_event()
    url = f"/kegiatan/{event.id}/undangan"
    for quota in ("0", "51", "dua", ""):
        response = client.submit(url, TWO_DISTRICTS | {"aksi": "undang", "kuota": quota})
        assert response.status_code == 422
        assert "Kuota harus angka 1 sampai 50 orang per KIM." in html_of(response)
    assert invitations_of(app, event.id) == {}


def test_unknown_action_is_400(client, operator, make_event):
    """A POST without a known ``aksi`` is a clear 400, never a 500."""
    event = make_event()
    response = client.submit(f"/kegiatan/{event.id}/undangan", {"aksi": "meledak"})
    assert response.status_code == 400


def test_inviting_many_kim_uses_the_same_queries(app, client, operator, make_event):
    """Inviting 10 or 500 KIM runs the same number of SQL statements (INSERT … SELECT)."""
    villages = ppu_villages(app)
    counts = []
    for n in (10, 500):
        event = make_event()
        bulk_kims(app, villages, n)
        url = f"/kegiatan/{event.id}/undangan"
        token = client.token(url)
        with counted_queries(app) as seen:
            response = client.post(
                url, data={"csrf_token": token, "aksi": "undang", "kuota": "2", "status": "semua"}
            )
        assert response.status_code == 303
        counts.append(len(seen))
        assert len(invitations_of(app, event.id)) == (10 if n == 10 else 510)
    print(f"invite queries: {counts}")
    assert counts[0] == counts[1]


def test_province_event_filters_by_regency_then_district(
    app, client, make_user, login, make_event, make_kim, partial_headers
):
    """For a province event the regencies come first; their districts follow (htmx or "Hitung")."""
    login(make_user(Role.OPERATOR_PROVINSI, "64"))
    event = make_event(region="64")
    make_kim(name="KIM PPU")
    make_kim(village="64.01.01.2009", name="KIM Paser")
    url = f"/kegiatan/{event.id}/undangan"
    page = html_of(client.get(url))
    assert 'name="kabupaten"' in page and 'name="kecamatan"' not in page
    assert count_of(page) == (2, 0, 2)
    fragment = html_of(
        client.get(
            url, query_string={"kabupaten": PPU, "bagian": "saring"}, headers=partial_headers
        )
    )
    assert fragment.startswith('<fieldset id="saring-undang"') or 'id="saring-undang"' in fragment
    assert f'value="{BABULU}"' in fragment and count_of(fragment) == (1, 0, 1)
    counted = html_of(
        client.submit(url, {"kabupaten": PPU, "kecamatan": [BABULU], "aksi": "hitung"})
    )
    assert f'value="{BABULU}" checked' in counted and count_of(counted) == (1, 0, 1)
    # a district of another regency than the one chosen does not narrow anything
    other = html_of(
        client.get(
            url,
            query_string={"kabupaten": "64.01", "kecamatan": BABULU, "bagian": "jumlah"},
            headers=partial_headers,
        )
    )
    assert count_of(other) == (1, 0, 1)


# --- the invited list ---------------------------------------------------------------------------------


def _invite(client, event, kecamatan=(BABULU, PENAJAM), quota="2"):
    response = client.submit(
        f"/kegiatan/{event.id}/undangan",
        {"kecamatan": list(kecamatan), "status": "terverifikasi", "aksi": "undang", "kuota": quota},
    )
    assert response.status_code == 303


def test_quota_change_with_htmx_returns_the_row(
    app, client, operator, make_event, district_kims, partial_headers
):
    """Changing a quota swaps that one row (and a message out of band); without htmx, 303."""
    event = make_event()
    _invite(client, event)
    kim = district_kims["babulu"][0]
    url = f"/kegiatan/{event.id}/undangan"
    response = client.submit(
        url, {"aksi": "kuota", "kim": kim.id, "kuota": "4"}, headers=partial_headers
    )
    assert response.status_code == 200
    html = html_of(response)
    assert "<html" not in html and html.startswith(f'<li id="undangan-{kim.id}"')
    assert "0/4 delegasi" in html and 'hx-target="#pesan"' in html
    assert len(response.data) < 2048
    assert invitations_of(app, event.id)[kim.id] == 4
    plain = client.submit(url, {"aksi": "kuota", "kim": kim.id, "kuota": "3"})
    assert plain.status_code == 303 and invitations_of(app, event.id)[kim.id] == 3


def test_quota_below_named_and_withdrawing_a_kim_with_delegates_are_refused(
    app, client, operator, make_event, district_kims, partial_headers
):
    """A quota under the people already named, or withdrawing such a KIM: 422 with the reason.
    A KIM with nobody named can be withdrawn (row removed with htmx)."""
    event = make_event()
    _invite(client, event)
    kim, other = district_kims["babulu"]
    members = _member_ids(app, kim.id)
    assert (
        client.submit(
            f"/kegiatan/{event.id}/delegasi/{kim.id}", {"anggota": members[:2]}
        ).status_code
        == 303
    )
    url = f"/kegiatan/{event.id}/undangan"
    low = client.submit(
        url, {"aksi": "kuota", "kim": kim.id, "kuota": "1"}, headers=partial_headers
    )
    assert low.status_code == 422
    assert "sudah menunjuk 2 orang; kuota tidak boleh lebih kecil." in html_of(low)
    assert html_of(low).startswith(f'<li id="undangan-{kim.id}"')
    gone = client.submit(url, {"aksi": "hapus", "kim": kim.id})
    assert gone.status_code == 422 and "Batalkan dulu pendaftaran mereka" in html_of(gone)
    assert kim.id in invitations_of(app, event.id)
    removed = client.submit(url, {"aksi": "hapus", "kim": other.id}, headers=partial_headers)
    assert removed.status_code == 200 and "<li" not in html_of(removed)
    assert "ditarik" in html_of(removed)
    assert other.id not in invitations_of(app, event.id)
    # a KIM that is not invited, or a bad id
    assert client.submit(url, {"aksi": "hapus", "kim": other.id}).status_code == 404
    assert client.submit(url, {"aksi": "hapus", "kim": "x"}).status_code == 400


def test_invited_list_is_paged(app, client, operator, make_event, partial_headers):
    """25 invited KIM per page; the pager swaps the list with htmx."""
    event = make_event()
    bulk_kims(app, ppu_villages(app, BABULU), 30)
    _invite(client, event, kecamatan=(BABULU,))
    url = f"/kegiatan/{event.id}/undangan"
    page = html_of(client.get(url))
    assert 'KIM diundang (<span id="jumlah-diundang">30</span>)' in page
    assert page.count('<li id="undangan-') == 25 and "Halaman 1 dari 2" in page
    second = html_of(client.get(url, query_string={"halaman": 2}, headers=partial_headers))
    assert second.startswith('<section id="diundang"') and second.count('<li id="undangan-') == 5


def test_finished_event_refuses_changes(app, client, operator, make_event, district_kims):
    """Once an event is over, invitations and guests cannot change (422 with the reason)."""
    event = make_event(status=EventStatus.SELESAI)
    url = f"/kegiatan/{event.id}/undangan"
    page = html_of(client.get(url))
    assert "pesertanya tidak dapat diubah lagi" in page
    response = client.submit(url, TWO_DISTRICTS | {"aksi": "undang", "kuota": "2"})
    assert response.status_code == 422 and invitations_of(app, event.id) == {}


# --- guests added by hand -------------------------------------------------------------------------------


GUEST = {
    "aksi": "tambah",
    "name": "Siti Rahma",
    "phone": "0812-3456-7890",
    "institution": "Dinas Kominfo PPU",
    "position": "Pranata Humas",
    "gender": "P",
}


def test_guest_added_by_hand_and_found_again_not_duplicated(
    app, client, operator, make_event, partial_headers
):
    """An outsider is registered by the operator (source operator, number as E.164); the same
    number again shows the existing person instead of a second registration."""
    event = make_event()
    url = f"/kegiatan/{event.id}/undangan"
    response = client.submit(url, GUEST)
    assert response.status_code == 303 and response.headers["Location"].endswith("#tamu")
    assert "Siti Rahma ditambahkan sebagai peserta (terdaftar)." in html_of(client.get(url))
    [registration] = registrations_of(app, event.id)
    assert registration.source is Source.OPERATOR and registration.phone == "+6281234567890"
    assert registration.institution == "Dinas Kominfo PPU" and registration.gender is Gender.P
    again = client.submit(
        url, GUEST | {"name": "Siti R.", "phone": "+62 812 3456 7890"}, headers=partial_headers
    )
    assert again.status_code == 200
    html = html_of(again)
    assert "<html" not in html and html.startswith('<form id="tambah-tamu"')
    assert "sudah terdaftar atas nama Siti Rahma (terdaftar)" in html
    assert f"/kegiatan/{event.id}/peserta?q=81234567890" in html
    assert len(registrations_of(app, event.id)) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": ""}, "Nomor WhatsApp wajib diisi."),
        ({"phone": "12345"}, "Nomor WhatsApp tidak valid. Contoh: 0812-3456-7890."),
        ({"name": " "}, "Wajib diisi."),
        ({"gender": "X"}, "Pilihan tidak valid."),
        ({"institution": "x" * 201}, "Paling banyak 200 karakter."),
    ],
)
def test_bad_guest_is_a_422_beside_the_field(
    app, client, operator, make_event, partial_headers, changes, message
):
    """Bad input comes back with 422 and the message, with htmx (the form) and without (the page)."""
    event = make_event()
    url = f"/kegiatan/{event.id}/undangan"
    for headers in (partial_headers, None):
        response = client.submit(url, GUEST | changes, headers=headers)
        assert response.status_code == 422
        html = html_of(response)
        assert message in html
        assert ("<html" in html) is (headers is None)
    assert registrations_of(app, event.id) == []


# --- delegates -----------------------------------------------------------------------------------------


def _member_ids(app, kim_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Member.id).where(Member.kim_id == kim_id).order_by(Member.id)
            )
        )


@pytest.fixture
def invited(app, client, operator, make_event, make_kim):
    """A published event with a KIM of Sebakung Jaya (4 members) invited with quota 2."""
    event = make_event()
    kim = make_kim(name="KIM Sebakung Maju", members=4)
    _invite(client, event, kecamatan=(BABULU,))
    return event, kim


def test_pengurus_names_two_delegates_third_refused_unnaming_frees_the_slot(
    app, client, make_user, login, invited, partial_headers
):
    """The pengurus ticks two members (registered, source undangan, with the KIM's name and their
    position); a third is refused with 422 and nothing changes; un-ticking cancels one and frees
    the place for another member."""
    event, kim = invited
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id))
    url = f"/kegiatan/{event.id}/delegasi/{kim.id}"
    members = _member_ids(app, kim.id)
    page = html_of(client.get(url))
    assert "paling banyak 2 orang" in page and page.count('name="anggota"') == 4

    response = client.submit(url, {"anggota": members[:2]})
    assert response.status_code == 303
    assert "Delegasi disimpan: 2 ditunjuk." in html_of(client.get(url))
    first, second = registrations_of(app, event.id)
    assert {first.member_id, second.member_id} == set(members[:2])
    assert first.source is Source.UNDANGAN and first.kim_id == kim.id
    assert first.institution == "KIM Sebakung Maju" and first.position == "Ketua"
    assert first.status is RegistrationStatus.TERDAFTAR and first.phone.startswith("+62")

    over = client.submit(url, {"anggota": members[:3]}, headers=partial_headers)
    assert over.status_code == 422
    html = html_of(over)
    assert "<html" not in html and html.startswith('<form id="delegasi"')
    assert "Kuota KIM Sebakung Maju: 2 orang. Pilih paling banyak 2 anggota." in html
    assert f'value="{members[2]}" checked' in html  # the choice is kept for correcting
    assert len(registrations_of(app, event.id)) == 2

    swap = client.submit(url, {"anggota": [members[0], members[2]]}, headers=partial_headers)
    assert swap.status_code == 200
    assert "Delegasi disimpan: 1 ditunjuk, 1 dibatalkan." in html_of(swap)
    by_member = {r.member_id: r.status for r in registrations_of(app, event.id)}
    assert by_member == {
        members[0]: RegistrationStatus.TERDAFTAR,
        members[1]: RegistrationStatus.BATAL,
        members[2]: RegistrationStatus.TERDAFTAR,
    }
    # naming the cancelled member again takes their own registration back
    back = client.submit(url, {"anggota": [members[1], members[2]]})
    assert back.status_code == 303
    rows = registrations_of(app, event.id)
    assert len(rows) == 3
    assert {r.member_id for r in rows if r.status is RegistrationStatus.TERDAFTAR} == {
        members[1],
        members[2],
    }


def test_delegates_beyond_capacity_wait_and_a_member_without_phone_can_go(
    app, client, operator, make_event, make_kim
):
    """When seats run out a delegate lands on the waiting list (said so); a member without a
    number can still be named."""
    event = make_event(capacity=1)
    kim = make_kim(members=3)
    with app.app_context():
        member = db.session.scalars(
            sa.select(Member).where(Member.kim_id == kim.id).order_by(Member.id)
        ).first()
        member.phone = None
        db.session.commit()
    _invite(client, event, kecamatan=(BABULU,))
    url = f"/kegiatan/{event.id}/delegasi/{kim.id}"
    members = _member_ids(app, kim.id)
    response = client.submit(url, {"anggota": members[:2]})
    assert response.status_code == 303
    page = html_of(client.get(url))
    assert "Kursi penuh:" in page and "masuk daftar tunggu" in page
    statuses = sorted(r.status.value for r in registrations_of(app, event.id))
    assert statuses == ["daftar_tunggu", "terdaftar"]
    assert any(r.phone is None for r in registrations_of(app, event.id))


def test_member_already_registered_by_link_is_attached_not_doubled(app, client, operator, invited):
    """A member who registered themselves earlier becomes the KIM's delegate (one registration)."""
    event, kim = invited
    with app.test_request_context():
        member = db.session.scalars(
            sa.select(Member).where(Member.kim_id == kim.id).order_by(Member.id)
        ).first()
        register_person(
            db.session.get(Event, event.id), PersonData(member.name, member.phone), Source.MANDIRI
        )
        db.session.commit()
        member_id = member.id
    response = client.submit(f"/kegiatan/{event.id}/delegasi/{kim.id}", {"anggota": [member_id]})
    assert response.status_code == 303
    [registration] = registrations_of(app, event.id)
    assert registration.kim_id == kim.id and registration.member_id == member_id
    assert registration.source is Source.MANDIRI


def test_delegates_page_both_ways_and_unknown_members(
    app, client, operator, invited, partial_headers
):
    """The operator may name delegates for the KIM too; a member of another KIM is refused."""
    event, kim = invited
    url = f"/kegiatan/{event.id}/delegasi/{kim.id}"
    page = html_of(client.get(url))
    assert "<html" in page and "Semua KIM diundang" in page
    members = _member_ids(app, kim.id)
    saved = client.submit(url, {"anggota": members[:1]}, headers=partial_headers)
    assert saved.status_code == 200 and "<html" not in html_of(saved)
    assert html_of(saved).startswith('<form id="delegasi"')
    assert "Delegasi disimpan: 1 ditunjuk." in html_of(saved)
    assert client.submit(url, {"anggota": ["999999"]}).status_code == 422
    assert client.submit(url, {"anggota": ["abc"]}).status_code == 400


def test_invitations_for_kim_lists_published_events(app, client, operator, make_event, make_kim):
    """``invitations_for_kim`` gives the KIM's invitations to events that are not drafts, with
    the event loaded, in date order."""
    kim = make_kim()
    published = make_event(title="Bimtek Terbit")
    draft = make_event(status=EventStatus.DRAFT, title="Draf")
    for event in (published, draft):
        _invite(client, event, kecamatan=(BABULU,))
    with app.test_request_context():
        found = people.invitations_for_kim(kim.id)
        assert [i.event.title for i in found] == ["Bimtek Terbit"]
        assert found[0].quota == 2


# --- access ------------------------------------------------------------------------------------------


def _setup(client, make_user, login, make_event, make_kim, role, app):
    """An event and invited KIM inside the role's reach and outside it; the actor signed in."""
    if role is Role.OPERATOR_PROVINSI:
        inside_event, inside_kim = make_event(region="35.14"), make_kim(village=JATIM_VILLAGE)
    else:
        inside_event, inside_kim = make_event(), make_kim()
    outside_event, outside_kim = make_event(region="32.10"), make_kim(village=MAJALENGKA_VILLAGE)
    with app.app_context():
        for event, kim in ((inside_event, inside_kim), (outside_event, outside_kim)):
            db.session.add(Invitation(event_id=event.id, kim_id=kim.id, quota=2))
        db.session.commit()
    actor = make_user(
        role, ROLE_SCOPES[role], kim_id=inside_kim.id if role is Role.PENGURUS_KIM else None
    )
    login(actor)
    return (inside_event, inside_kim), (outside_event, outside_kim)


@pytest.mark.parametrize("role", list(ROLE_SCOPES), ids=lambda r: r.value)
def test_invitations_scope_matrix(app, client, make_user, login, make_event, make_kim, role):
    """Managers reach the invitations of events in their scope (404 outside); other roles 403."""
    (inside, _k), (outside, _o) = _setup(client, make_user, login, make_event, make_kim, role, app)
    for event, is_inside in ((inside, True), (outside, False)):
        url = f"/kegiatan/{event.id}/undangan"
        expected = 403 if role not in MANAGERS else 200 if is_inside or role is Role.ADMIN else 404
        assert client.get(url).status_code == expected, (role, is_inside)
        token = client.token("/")
        post = client.post(url, data={"csrf_token": token, "aksi": "hitung"})
        assert post.status_code == expected, (role, is_inside, "post")


@pytest.mark.parametrize("role", list(ROLE_SCOPES), ids=lambda r: r.value)
def test_delegates_scope_matrix(app, client, make_user, login, make_event, make_kim, role):
    """The KIM's pengurus and village head and the operators over it reach the delegates page;
    another KIM, another village or an out-of-scope event is a 404; petugas absensi 403."""
    (event, kim), (outside_event, outside_kim) = _setup(
        client, make_user, login, make_event, make_kim, role, app
    )
    # a second KIM invited to the same event, in another village of the event's area
    neighbour = make_kim(
        village="35.14.02.2001" if role is Role.OPERATOR_PROVINSI else PPU_OTHER_VILLAGE
    )
    with app.app_context():
        db.session.add(Invitation(event_id=event.id, kim_id=neighbour.id, quota=2))
        db.session.commit()
    cases = [
        (event, kim, True),
        (outside_event, outside_kim, role is Role.ADMIN),
        (event, neighbour, role in MANAGERS),
    ]
    for ev, k, allowed in cases:
        url = f"/kegiatan/{ev.id}/delegasi/{k.id}"
        expected = 403 if role is Role.PETUGAS_ABSENSI else 200 if allowed else 404
        assert client.get(url).status_code == expected, (role, k.name)
        token = client.token("/")
        post = client.post(url, data={"csrf_token": token})
        assert post.status_code == (303 if expected == 200 else expected), (role, k.name, "post")


def test_delegates_of_a_kim_not_invited_is_404(client, operator, make_event, make_kim):
    """Naming delegates needs an invitation."""
    event, kim = make_event(), make_kim()
    assert client.get(f"/kegiatan/{event.id}/delegasi/{kim.id}").status_code == 404


def test_pengurus_cannot_see_a_draft_events_delegates(
    app, client, make_user, login, make_event, make_kim
):
    """A draft is not visible outside the operators, so its delegates page is a 404."""
    event, kim = make_event(status=EventStatus.DRAFT), make_kim()
    with app.app_context():
        db.session.add(Invitation(event_id=event.id, kim_id=kim.id, quota=2))
        db.session.commit()
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id))
    assert client.get(f"/kegiatan/{event.id}/delegasi/{kim.id}").status_code == 404


@pytest.mark.parametrize("path", ["/kegiatan/1/undangan", "/kegiatan/1/delegasi/1"])
def test_visitors_are_sent_to_sign_in(client, path):
    """Both pages are behind sign-in."""
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


# --- weight ---------------------------------------------------------------------------------------------


def test_pages_fit_in_14_kb(app, client, operator, make_event, make_kim):
    """The invitations page with a full page of invited KIM, and a delegates page of a KIM with
    30 members, each fit in 14 KB compressed with the stylesheet."""
    event = make_event()
    bulk_kims(app, ppu_villages(app, BABULU), 40)
    kim = make_kim(members=30, name="KIM Dengan Nama Yang Cukup Panjang Sekali")
    _invite(client, event, kecamatan=(BABULU,))
    sizes = {
        "undangan": weigh(client.get(f"/kegiatan/{event.id}/undangan")),
        "delegasi": weigh(client.get(f"/kegiatan/{event.id}/delegasi/{kim.id}")),
    }
    print(f"page weights: {sizes}")
    assert max(sizes.values()) <= BUDGET


def test_pages_query_count_does_not_grow(app, client, operator, make_event):
    """The invitations page runs as many queries with 5 invited KIM as with 25."""
    counts = []
    for n in (5, 25):
        event = make_event()
        bulk_kims(app, ppu_villages(app, BABULU), n)
        _invite(client, event, kecamatan=(BABULU,))
        with counted_queries(app) as seen:
            assert client.get(f"/kegiatan/{event.id}/undangan").status_code == 200
        counts.append(len(seen))
    print(f"invitations page queries: {counts}")
    assert counts[0] == counts[1]
