"""A province's forum with people from two regencies: each regency's operator sees its own people
there (read-only list, person search, dashboard) and nobody else's, may change none of them, and
the province's dashboard counts the forum's people by where they come from."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from kim_app.attendance.models import Presence
from kim_app.attendance.operations import mark_attendance
from kim_app.auth.models import Role
from kim_app.events.invitations.operations import name_delegates
from kim_app.events.models import Event, Invitation, Registration, RegistrationStatus, Source
from kim_app.events.operations import PersonData, register_person
from kim_app.extensions import db
from kim_app.groups.models import Member
from tests.budget import PAGE_BUDGET, counted_queries, page_weight
from tests.conftest import PPU, PPU_VILLAGE, html_of
from tests.helpers import confirm_import, participants_import_token, table_rows, upload_participants

WEIGHED = {"attendance.area_people"}

KALTIM = "64"
PASER = "64.01"
PASER_VILLAGE = "64.01.01.2009"  # Samurangau, Kabupaten Paser (Kalimantan Timur)


def _range() -> str:
    """A date range holding the factory's events (they start tomorrow)."""
    start = date.today()
    return f"dari={start.isoformat()}&sampai={(start + timedelta(days=30)).isoformat()}"


@pytest.fixture
def forum(app, make_kim, make_event):
    """Kalimantan Timur's forum: from PPU Ani (KIM Alfa) and Budi (picked PPU himself), from
    Paser Citra (KIM Paser), and Dedi who said nowhere; Ani present in the first session."""
    alfa = make_kim(village=PPU_VILLAGE, name="KIM Alfa")
    paser = make_kim(village=PASER_VILLAGE, name="KIM Paser")
    event = make_event(region=KALTIM, days=1, title="Forum KIM Kalimantan Timur")
    with app.test_request_context():
        loaded = db.session.get(Event, event.id)
        ids = {}
        for key, person, kim in (
            ("ani", PersonData("Ani Rahma", "081200000001"), alfa),
            ("budi", PersonData("Budi Santoso", "081200000002", origin_code=PPU), None),
            ("citra", PersonData("Citra Lestari", "081200000003"), paser),
            ("dedi", PersonData("Dedi Kurnia", "081200000004"), None),
        ):
            registration, _new = register_person(
                loaded, person, Source.MANDIRI, kim_id=kim.id if kim else None
            )
            ids[key] = registration.id
        mark_attendance(
            db.session.get(Registration, ids["ani"]), loaded.sessions[0], Presence.HADIR, None
        )
        session = loaded.sessions[0].id
        db.session.commit()
    return {"event": event.id, "session": session, **ids}


def _operator(make_user, login, scope):
    role = Role.OPERATOR_PROVINSI if scope == KALTIM else Role.OPERATOR_KABKOTA
    return login(make_user(role, scope))


def test_origin_comes_from_the_kim_or_the_pick(app, forum):
    """A KIM's person comes from its village; an outsider from the region picked, or nowhere."""
    with app.app_context():
        origins = {
            key: db.session.get(Registration, forum[key]).origin_code
            for key in ("ani", "budi", "citra", "dedi")
        }
    assert origins == {"ani": PPU_VILLAGE, "budi": PPU, "citra": PASER_VILLAGE, "dedi": None}


def test_named_delegates_come_from_their_kims_village(app, make_kim, make_event, make_user):
    """A delegate named by the KIM gets the KIM's village as origin, even at a province event."""
    kim = make_kim(village=PASER_VILLAGE, name="KIM Delegasi", members=3)
    event = make_event(region=KALTIM)
    head = make_user(Role.KEPALA_DESA, PASER_VILLAGE)
    with app.test_request_context():
        invitation = Invitation(event_id=event.id, kim_id=kim.id, quota=2)
        db.session.add(invitation)
        db.session.flush()
        member = db.session.scalar(sa.select(Member.id).where(Member.kim_id == kim.id).limit(1))
        name_delegates(db.session.get(Event, event.id), invitation, {member}, head)
        db.session.commit()
        origins = db.session.scalars(
            sa.select(Registration.origin_code).where(Registration.event_id == event.id)
        ).all()
    assert origins == [PASER_VILLAGE]


@pytest.mark.parametrize(
    ("scope", "own", "others"),
    [
        (PPU, {"Ani Rahma", "Budi Santoso"}, {"Citra Lestari", "Dedi Kurnia"}),
        (PASER, {"Citra Lestari"}, {"Ani Rahma", "Budi Santoso", "Dedi Kurnia"}),
    ],
)
def test_each_regency_sees_exactly_its_people(
    client, make_user, login, forum, partial_headers, scope, own, others
):
    """The read-only list and the person search show the regency's people and no one else's."""
    _operator(make_user, login, scope)
    page = html_of(client.get(f"/kegiatan/{forum['event']}/warga"))
    assert all(name in page for name in own)
    assert not any(name in page for name in others)
    fragment = html_of(client.get(f"/kegiatan/{forum['event']}/warga", headers=partial_headers))
    assert "<html" not in fragment and "<form" not in fragment  # read-only: nothing to send
    for name in own | others:
        found = html_of(client.get(f"/laporan/orang?q={name.split()[0]}"))
        assert (name in found) == (name in own), name


def test_read_only_list_shows_kim_origin_attendance(client, make_user, login, forum):
    """Who, from which KIM and region, and how many sessions they attended."""
    _operator(make_user, login, PPU)
    page = html_of(client.get(f"/kegiatan/{forum['event']}/warga"))
    ani = re.search(r'<tr id="warga-\d+"><th scope="row">Ani Rahma.*?</tr>', page).group(0)
    assert "KIM Alfa" in ani and "Sebakung Jaya" in ani and "<td>1/2</td>" in ani
    budi = re.search(r'<tr id="warga-\d+"><th scope="row">Budi Santoso.*?</tr>', page).group(0)
    assert "Penajam Paser Utara" in budi and "<td>0/2</td>" in budi


def test_person_page_opens_for_the_origin_operator_only(client, make_user, login, forum):
    """Ani's history opens for PPU's operator (read-only) and answers 404 to Paser's."""
    _operator(make_user, login, PPU)
    page = html_of(client.get(f"/laporan/orang/{forum['ani']}"))
    assert "Forum KIM Kalimantan Timur" in page
    assert f'href="/kegiatan/{forum["event"]}/warga"' in page  # the read-only view of the event
    assert "Hapus data orang ini" not in page  # erasing stays with the organiser
    assert client.get(f"/laporan/orang/{forum['citra']}").status_code == 404
    _operator(make_user, login, PASER)
    assert client.get(f"/laporan/orang/{forum['ani']}").status_code == 404


def test_event_list_names_the_followed_event(client, make_user, login, forum, make_event):
    """The event list has the province's forum under the events the area's people attend."""
    make_event(region="32.10", title="Pelatihan Majalengka")  # no PPU people: not followed
    _operator(make_user, login, PPU)
    page = html_of(client.get("/kegiatan/"))
    followed = page[page.index('id="diikuti"') :]
    assert "Forum KIM Kalimantan Timur" in followed and "Lihat 2 warga Anda" in followed
    assert "Pelatihan Majalengka" not in page


def test_other_areas_get_404(client, make_user, login, forum, make_event):
    """Majalengka's operator sees nothing of the Kalimantan Timur forum."""
    login(make_user(Role.OPERATOR_KABKOTA, "32.10"))
    assert client.get(f"/kegiatan/{forum['event']}/warga").status_code == 404


def test_regency_operator_cannot_change_the_forums_people(client, make_user, login, forum, app):
    """Editing, cancelling, marking and the full list stay with the province (403/404)."""
    _operator(make_user, login, PPU)
    event, ani, session = forum["event"], forum["ani"], forum["session"]
    token = client.token("/kata-sandi")
    answers = {
        "list": client.get(f"/kegiatan/{event}/peserta").status_code,
        "edit": client.post(
            f"/kegiatan/{event}/peserta/{ani}/ubah",
            data={"csrf_token": token, "name": "Diubah", "phone": "081200000001"},
        ).status_code,
        "cancel": client.post(
            f"/kegiatan/{event}/peserta/{ani}/status",
            data={"csrf_token": token, "status": "batal"},
        ).status_code,
        "mark": client.post(
            f"/absensi/sesi/{session}/tandai",
            data={"csrf_token": token, "registration": str(ani), "status": "alpa"},
        ).status_code,
    }
    assert all(code in (403, 404) for code in answers.values()), answers
    with app.app_context():
        row = db.session.get(Registration, ani)
        assert (row.name, row.status) == ("Ani Rahma", RegistrationStatus.TERDAFTAR)


@pytest.mark.parametrize(("scope", "own"), [(PPU, "2"), (PASER, "1")])
def test_regency_dashboard_keeps_elsewhere_apart(client, make_user, login, forum, scope, own):
    """The regency organised nothing; its people at the province's forum are counted apart
    (once the forum's sessions have ended: a rate counts only those)."""
    with client.application.app_context():
        for session in db.session.get(Event, forum["event"]).sessions:
            session.starts_at -= timedelta(days=2)
            session.ends_at -= timedelta(days=2)
        db.session.commit()
    _operator(make_user, login, scope)
    since = date.today() - timedelta(days=3)
    page = html_of(client.get(f"/laporan/?dari={since.isoformat()}&{_range().split('&')[1]}"))
    assert [r[1] for r in table_rows(page, "Peserta dan kehadiran")[1:3]] == ["0", "0"]
    elsewhere = dict(table_rows(page, "Warga wilayah ini di kegiatan wilayah lain")[1:])
    assert elsewhere["Kegiatan wilayah lain"] == "1"
    assert elsewhere["Pendaftaran (terdaftar)"] == own
    expected = {PPU: "25,0", PASER: "0,0"}[scope]  # Ani: 1 of 2 sessions, Budi: none
    assert elsewhere["Tingkat kehadiran di sesi selesai (%)"] == expected


def test_province_drill_down_counts_by_origin(client, make_user, login, forum):
    """The province's rows by origin add up to the forum's four registrations."""
    _operator(make_user, login, KALTIM)
    page = html_of(client.get(f"/laporan/?{_range()}"))
    rows = {r[0]: r[1] for r in table_rows(page, "Pendaftaran menurut asal daerah")[1:]}
    assert rows == {
        "Kabupaten Paser": "1",
        "Kabupaten Penajam Paser Utara": "2",
        "Dari luar wilayah ini": "0",
        "Tidak diketahui": "1",
        "Total": "4",
    }
    assert table_rows(page, "Peserta dan kehadiran")[2][1] == "4"
    # the drill-down into PPU: its people at the province's forum, apart from its own events
    page = html_of(client.get(f"/laporan/?wilayah={PPU}&{_range()}"))
    elsewhere = dict(table_rows(page, "Warga wilayah ini di kegiatan wilayah lain")[1:])
    assert elsewhere["Pendaftaran (terdaftar)"] == "2"


def test_public_form_offers_the_provinces_regencies(client, app, make_event):
    """A stranger picks a regency of the event's province (optional); the pick is the origin."""
    event = make_event(region=KALTIM, code="forumkt")
    page = html_of(client.get("/e/forumkt"))
    assert f'<option value="{PPU}">Kabupaten Penajam Paser Utara</option>' in page
    assert '<option value="32.10"' not in page  # another province's regency
    for phone, origin in (("081200000011", PPU), ("081200000012", "")):
        response = client.submit(
            "/e/forumkt",
            {"name": f"Warga {phone}", "phone": phone, "institution": "PKK", "gender": "P",
             "origin": origin, "consent": "y"},
        )  # fmt: skip
        assert response.status_code == 303
    response = client.submit(
        "/e/forumkt",
        {"name": "Salah", "phone": "081200000013", "institution": "PKK", "gender": "P",
         "origin": "32.10", "consent": "y"},
    )  # fmt: skip
    assert response.status_code == 422  # not one of the choices
    with app.app_context():
        origins = db.session.scalars(
            sa.select(Registration.origin_code)
            .where(Registration.event_id == event.id)
            .order_by(Registration.phone)
        ).all()
    assert origins == [PPU, None]


def test_operator_sets_a_guests_origin(client, app, make_user, login, make_event):
    """The province's operator adds a guest from PPU and later corrects the origin to Paser."""
    event = make_event(region=KALTIM)
    _operator(make_user, login, KALTIM)
    response = client.submit(
        f"/kegiatan/{event.id}/undangan",
        {"aksi": "tambah", "name": "Tamu PPU", "phone": "081200000021", "institution": "OPD",
         "gender": "L", "origin": PPU},
    )  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        guest = db.session.scalar(sa.select(Registration).where(Registration.event_id == event.id))
        assert guest.origin_code == PPU
    edit = f"/kegiatan/{event.id}/peserta/{guest.id}/ubah"
    response = client.submit(
        edit,
        {"name": "Tamu PPU", "phone": "081200000021", "institution": "OPD", "gender": "L",
         "origin": PASER},
        form_page=f"/kegiatan/{event.id}/peserta",
    )  # fmt: skip
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Registration, guest.id).origin_code == PASER


def _more_people(app, event_id: int, start: int, n: int, kim_id: int) -> None:
    with app.test_request_context():
        event = db.session.get(Event, event_id)
        for i in range(start, start + n):
            person = PersonData(f"Warga Tambahan {i}", f"0812100{i:05d}", institution="KIM")
            register_person(event, person, Source.MANDIRI, kim_id=kim_id)
        db.session.commit()


def test_read_only_list_weight_and_queries(app, client, make_user, login, make_kim, make_event):
    """A full page of 50 people fits the budget; the statements do not grow with the people."""
    kim = make_kim(village=PPU_VILLAGE, name="KIM Ramai")
    event = make_event(region=KALTIM, days=2)
    _operator(make_user, login, PPU)
    _more_people(app, event.id, 0, 2, kim.id)
    with counted_queries(app) as small:
        assert client.get(f"/kegiatan/{event.id}/warga").status_code == 200
    _more_people(app, event.id, 2, 70, kim.id)
    with counted_queries(app) as large:
        response = client.get(f"/kegiatan/{event.id}/warga")
    assert "halaman 1 dari 2" in html_of(response)
    assert len(small) == len(large)
    assert page_weight(response) <= PAGE_BUDGET


def test_import_reads_the_origin_column(app, client, make_user, login, make_event):
    """A participant file's "Asal daerah" names a regency of the province (by name, with or
    without "Kab."); an unknown one makes the row invalid."""
    event = make_event(region=KALTIM)
    _operator(make_user, login, KALTIM)
    data = (
        b"Nama;HP;Asal daerah\n"
        b"Eka;081200000031;Kab. Penajam Paser Utara\n"
        b"Fajar;081200000032;paser\n"
        b"Gita;081200000033;\n"
        b"Hadi;081200000034;Kabupaten Antah Berantah\n"
    )
    token = participants_import_token(
        upload_participants(client, event.id, data, "a.csv"), event.id
    )
    url = f"/kegiatan/{event.id}/peserta/impor/{token}"
    page = html_of(client.get(url))
    assert "Asal daerah tidak dikenal: Kabupaten Antah Berantah" in page
    assert confirm_import(client, url).status_code == 303
    with app.app_context():
        origins = dict(
            db.session.execute(
                sa.select(Registration.name, Registration.origin_code).where(
                    Registration.event_id == event.id
                )
            ).all()
        )
    assert origins == {"Eka": PPU, "Fajar": PASER, "Gita": None}
