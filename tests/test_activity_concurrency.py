"""Activity under a crowd, over HTTP: pengurus tapping "Sudah disebarkan" on the same item at the
same moment, operators accepting a KIM's reports at once, and the worker's full monev recount
running beside them. Every answer is a redirect, never a 500; one relay per KIM and item; and
the monev rows and areas' sums that each change moved equal a full recount afterwards.

On PostgreSQL the first relays race for the unique key and the recounts for one year's turn;
SQLite serialises the write requests (tests/test_attendance_concurrency.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kim_app.activity.dissemination.operations import ItemData, send_item
from kim_app.activity.models import ActivityKind, ActivityReport, MonevArea, MonevTally, Relay
from kim_app.activity.monev.operations import refresh_area
from kim_app.activity.operations import ReportData, send_report
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Kim
from kim_app.timezones import local_today
from tests.conftest import PPU, PPU_OTHER_VILLAGE, PPU_VILLAGE
from tests.helpers import in_parallel, run_jobs

TAPS = 8  # pengurus tapping the same relay
REPORTS = 6  # reports of each KIM, each accepted by its own operator at the same moment


def _rows(app, model) -> dict:
    """Every row of ``model`` by key, without the time it was written."""
    key = ("kim_id", "year") if model is MonevTally else ("area_code", "year")
    with app.app_context():
        return {
            tuple(getattr(row, k) for k in key): {
                c.key: round(getattr(row, c.key), 6)
                if isinstance(getattr(row, c.key), float)
                else getattr(row, c.key)
                for c in model.__table__.columns
                if c.key != "refreshed_at"
            }
            for row in db.session.scalars(sa.select(model))
        }


@pytest.mark.usefixtures("wide_pool")
def test_taps_reviews_and_the_recount_at_once_give_one_relay_and_true_sums(
    app, client, make_kim, make_user, login
):
    kims = [make_kim(name="KIM Satu"), make_kim(village=PPU_OTHER_VILLAGE, name="KIM Dua")]
    head = make_user(Role.KEPALA_DESA, PPU_VILLAGE)
    admin = make_user(Role.ADMIN, None)
    year = local_today(PPU).year
    with app.test_request_context():
        item = send_item(ItemData(PPU, "", "Klarifikasi", "Isi.", "", "", True), None, admin)
        item_id = item.id
        for kim_id in (k.id for k in kims):
            kim = db.session.get(Kim, kim_id)
            for n in range(REPORTS):
                data = ReportData(ActivityKind.INFORMASI, local_today(PPU), f"L{n}", (), "", 7)
                send_report(kim, data, [], f"c-{kim_id}-{n}", head)
        db.session.commit()
        reports = db.session.execute(sa.select(ActivityReport.kim_id, ActivityReport.id)).all()
    relay_page = f"/kim/{kims[0].id}/informasi/{item_id}"
    tappers = []
    for n in range(TAPS):
        pengurus = make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kims[0].id)
        tapper = login(pengurus, on=app.test_client())
        tappers.append((tapper, tapper.token(relay_page), 10 * (n + 1)))
    reviewers = []
    for kim_id, report_id in reports:
        operator = make_user(Role.OPERATOR_KABKOTA, PPU)
        reviewer = login(operator, on=app.test_client())
        page = f"/kim/{kim_id}/aktivitas/{report_id}"
        reviewers.append((reviewer, reviewer.token(page), f"{page}/tinjau"))

    def tap(tapper, token, reach):
        return lambda: (
            tapper.post(
                relay_page, data={"csrf_token": token, "channels": "whatsapp", "reach": reach}
            ).status_code
        )

    def accept(reviewer, token, path):
        return lambda: (
            reviewer.post(path, data={"csrf_token": token, "status": "diterima"}).status_code
        )

    def recount():
        return refresh_area("", year)

    answers = in_parallel(
        app, [tap(*t) for t in tappers] + [accept(*r) for r in reviewers] + [recount]
    )
    assert answers[:-1] == [303] * (TAPS + len(reviewers)), answers
    run_jobs(app)  # the recounts a request left to the worker while the country's ran
    with app.app_context():
        relays = db.session.execute(sa.select(Relay.kim_id, Relay.reach)).all()
    assert len(relays) == 1 and relays[0].kim_id == kims[0].id
    assert relays[0].reach in {reach for _c, _t, reach in tappers}
    kept = _rows(app, MonevTally), _rows(app, MonevArea)
    assert kept[0][(kims[0].id, year)]["reports"] == REPORTS
    assert kept[0][(kims[0].id, year)]["relays"] == 1
    assert kept[0][(kims[1].id, year)]["reports"] == REPORTS
    assert kept[1][("", year)]["reports"] == 2 * REPORTS
    with app.test_request_context():
        refresh_area("", year)
        db.session.commit()
    assert (_rows(app, MonevTally), _rows(app, MonevArea)) == kept


def test_a_relay_during_the_countrys_recount_is_counted_by_the_worker(
    app, client, make_kim, make_user, login
):
    """PostgreSQL only (SQLite's write request waits for the one write lock instead): while
    another transaction holds the year's recount turn, a relay is recorded at once without
    waiting, and its recount goes to the worker, which counts it once the turn is free."""
    from kim_app.activity.monev.operations import TURN_KEY

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's advisory lock; SQLite write requests hold the write lock")
    kim = make_kim(name="KIM Satu")
    admin = make_user(Role.ADMIN, None)
    year = local_today(PPU).year
    with app.test_request_context():
        item_id = send_item(ItemData(PPU, "", "Info", "Isi.", "", "", False), None, admin).id
        db.session.commit()
    login(make_user(Role.PENGURUS_KIM, PPU_VILLAGE, kim_id=kim.id))
    with engine.connect() as other:
        other.execute(sa.select(sa.func.pg_advisory_lock(TURN_KEY, year)))
        page = f"/kim/{kim.id}/informasi/{item_id}"
        assert client.submit(page, {"channels": "whatsapp", "reach": "40"}).status_code == 303
        assert _rows(app, MonevTally) == {}
        other.execute(sa.select(sa.func.pg_advisory_unlock(TURN_KEY, year)))
    assert run_jobs(app) == 1
    tally = _rows(app, MonevTally)[(kim.id, year)]
    assert (tally["relays"], tally["reach"]) == (1, 40)
