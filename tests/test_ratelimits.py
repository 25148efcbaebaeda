"""The rate limiter's store in the app's database (issue 21, item 7) and the venue PIN's limit.

The store is used here on the run's database (SQLite: the file beside it; PostgreSQL: the
``rate_limits`` table of migration 0014). Through real gunicorn workers: test_throttles_gunicorn.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from kim_app import create_app
from kim_app.auth.models import Role
from kim_app.events.models import Event
from kim_app.extensions import db, limiter
from kim_app.ratelimits import DatabaseStorage, configure, counts_database_url, rate_limits
from tests.conftest import PPU, html_of
from tests.helpers import attendance_rows
from tests.scenes import PHONE, add_registration, open_now

PIN = "482193"


@pytest.fixture
def store(app) -> Iterator[DatabaseStorage]:
    """The store on the run's database, emptied before and after."""
    storage = DatabaseStorage(url=counts_database_url(app.config["SQLALCHEMY_DATABASE_URI"]))
    storage.reset()
    yield storage
    storage.reset()
    storage.engine.dispose()


def _rows(store: DatabaseStorage) -> dict[str, int]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(rate_limits.c.key, rate_limits.c.count)).all())


def test_counts_go_up_by_key_and_are_cleared(store):
    """Each key counts on its own; ``get`` reads it, ``clear`` and ``reset`` remove counts."""
    assert [store.incr("a", 60) for _ in range(3)] == [1, 2, 3]
    assert store.incr("b", 60, amount=2) == 2
    assert (store.get("a"), store.get("b"), store.get("c")) == (3, 2, 0)
    assert time.time() < store.get_expiry("a") <= time.time() + 60
    store.clear("a")
    assert store.get("a") == 0 and _rows(store) == {"b": 2}
    assert store.reset() == 1 and _rows(store) == {}


def test_an_ended_window_starts_again_and_is_pruned(store):
    """A count whose window has ended reads 0 and the next hit starts a new window at 1;
    ended counts are deleted when the store next prunes."""
    with store.engine.begin() as conn:
        conn.execute(
            rate_limits.insert(),
            [
                {"key": "old", "count": 9, "expires_at": time.time() - 1},
                {"key": "gone", "count": 4, "expires_at": time.time() - 1},
            ],
        )
    assert store.get("old") == 0
    store._next_prune = 0.0  # prune on the next hit
    assert store.incr("old", 60) == 1
    assert _rows(store) == {"old": 1}


def test_giving_back_never_goes_below_zero_nor_opens_a_window(store):
    """A negative amount returns attempts to a live count, stopping at 0; with no live count
    it writes nothing."""
    store.incr("k", 60, amount=2)
    assert store.incr("k", 60, amount=-1) == 1
    assert store.incr("k", 60, amount=-5) == 0
    assert store.incr("none", 60, amount=-1) == 0
    assert _rows(store) == {"k": 0}


def test_parallel_hits_each_get_their_own_count(store):
    """200 hits on one key from 8 threads (each its own connection): the counts handed out are
    exactly 1…200, so a limit of n lets exactly n through."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(lambda _i: store.incr("crowd", 600), range(200)))
    assert sorted(counts) == list(range(1, 201))
    assert store.get("crowd") == 200


def test_unset_storage_means_the_database(tmp_path):
    """Without ``RATELIMIT_STORAGE_URI`` the counts go to the database (SQLite: the file beside
    it); a configured store (Redis) is kept; an in-memory SQLite database counts in memory."""

    def configured(**config) -> dict:
        class App:
            pass

        app = App()
        app.config = {"RATELIMIT_STORAGE_URI": ""} | config
        configure(app)
        return app.config

    on_file = configured(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/kim.sqlite3")
    assert on_file["RATELIMIT_STORAGE_URI"] == "database://"
    assert on_file["RATELIMIT_STORAGE_OPTIONS"] == {
        "url": f"sqlite:///{tmp_path}/kim-limits.sqlite3"
    }
    postgres = "postgresql+psycopg://kim:rahasia@db.internal:5432/kim"
    assert configured(SQLALCHEMY_DATABASE_URI=postgres)["RATELIMIT_STORAGE_OPTIONS"] == {
        "url": postgres
    }
    redis = configured(SQLALCHEMY_DATABASE_URI=postgres, RATELIMIT_STORAGE_URI="redis://r:6379/1")
    assert redis["RATELIMIT_STORAGE_URI"] == "redis://r:6379/1"
    assert "RATELIMIT_STORAGE_OPTIONS" not in redis
    assert configured(SQLALCHEMY_DATABASE_URI="sqlite://")["RATELIMIT_STORAGE_URI"] == "memory://"


def test_an_unreachable_store_counts_in_memory_instead_of_failing(app, tmp_path):
    """A store that cannot be reached (here a PostgreSQL port nobody listens on) reports itself
    unhealthy, and an app using it still answers and still limits: each worker counts in memory
    until the store answers again. Never a 500."""
    dead = DatabaseStorage(url="postgresql+psycopg://postgres@127.0.0.1:9/none")
    assert dead.check() is False
    with pytest.raises(sa.exc.OperationalError):
        dead.incr("k", 60)

    outage = create_app(
        {
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "RATELIMIT_STORAGE_URI": "database://",
            "RATELIMIT_STORAGE_OPTIONS": {"url": "postgresql+psycopg://postgres@127.0.0.1:9/none"},
            "KIM_RATELIMIT_VERIFY": "2 per hour",
            "KIM_UPLOAD_FOLDER": app.config["KIM_UPLOAD_FOLDER"],
        }
    )
    try:
        client = outage.test_client()
        statuses = [client.get(f"/v/KODE{n}").status_code for n in range(3)]
        assert statuses == [404, 404, 429]
    finally:
        # the limiter is one object for every app of the run: give it back to the suite's app
        limiter.init_app(app)
        limiter._storage_dead = False
        limiter.reset()
        with outage.app_context():
            db.engine.dispose()


# --- the venue PIN -----------------------------------------------------------------------------------


@pytest.fixture
def pin_event(app, make_event, monkeypatch):
    """An event taking self check-ins now with a six-digit PIN and one registration; at most 3
    wrong PINs an hour for it."""
    monkeypatch.setitem(app.config, "KIM_RATELIMIT_PIN", "3 per hour")

    def make(pin: str = PIN) -> Event:
        event = make_event()
        open_now(app, event.id, checkin_opens_minutes=60, venue_pin=pin)
        add_registration(app, event.id)
        return event

    return make


def _check_in(client, event: Event, pin: str, address: str):
    return client.submit(
        f"/e/{event.code}/hadir",
        {"who": PHONE, "pin": pin},
        environ_base={"REMOTE_ADDR": address},
        follow_redirects=True,
    )


def test_wrong_pins_are_limited_per_event_from_any_address(app, client, pin_event):
    """Three wrong PINs from three addresses use up the event's allowance: the fourth attempt,
    even with the right PIN and from a new address, is a 429 that says what to do, and nothing
    is marked. Another event's PIN is unaffected."""
    event, other = pin_event(), pin_event()
    for n in range(3):
        assert _check_in(client, event, "000000", f"10.0.0.{n}").status_code == 422
    refused = _check_in(client, event, PIN, "10.0.1.1")
    assert refused.status_code == 429
    assert "Terlalu banyak PIN salah di kegiatan ini" in html_of(refused)
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert attendance_rows(app) == []
    assert "Hadir tercatat" in html_of(_check_in(client, other, PIN, "10.0.0.1"))


def test_right_pins_do_not_use_up_the_allowance(app, client, pin_event):
    """Five right PINs (the hall checking in) leave all three wrong ones for typing mistakes."""
    event = pin_event()
    for n in range(5):
        assert _check_in(client, event, PIN, f"10.0.2.{n}").status_code == 200
    for n in range(3):
        assert _check_in(client, event, "111111", f"10.0.3.{n}").status_code == 422
    assert _check_in(client, event, "111111", "10.0.4.1").status_code == 429


def test_a_new_pin_ends_a_lock_out(app, client, pin_event):
    """Once the wrong PINs are used up, the operator sets a new PIN: it is accepted at once
    (the guesses were at the old one)."""
    event = pin_event()
    for n in range(3):
        _check_in(client, event, "000000", f"10.0.5.{n}")
    assert _check_in(client, event, PIN, "10.0.5.9").status_code == 429
    with app.app_context():
        db.session.get(Event, event.id).venue_pin = "730155"
        db.session.commit()
    response = _check_in(client, event, "730155", "10.0.5.9")
    assert "Hadir tercatat" in html_of(response)


def test_the_operator_sees_a_lock_out_and_how_to_end_it(app, client, pin_event, make_user, login):
    """From the trial: once the wrong PINs are used up, the event's attendance settings tell the
    operator that self check-in is locked, for how long, and that a new PIN ends it; with no
    lock-out they say nothing of it."""
    event = pin_event()
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    settings = f"/absensi/kegiatan/{event.id}/pengaturan"
    assert "Presensi mandiri terkunci" not in html_of(client.get(settings))
    for n in range(3):
        _check_in(client, event, "000000", f"10.0.6.{n}")
    page = html_of(client.get(settings))
    assert "Presensi mandiri terkunci" in page and "Buat PIN baru lalu simpan" in page
    assert re.search(r"terkunci (\d+) menit lagi", page).group(1) in {str(n) for n in range(1, 61)}


def test_a_stored_four_digit_pin_still_works_and_the_settings_ask_for_a_new_one(
    app, client, make_user, login, pin_event
):
    """An event saved with a 4-digit PIN (allowed before) still checks people in; its settings
    page says the PIN is easy to guess and saving it again asks for 6–8 digits."""
    from kim_app.auth.models import Role
    from tests.conftest import PPU

    event = pin_event("4821")
    assert "Hadir tercatat" in html_of(_check_in(client, event, "4821", "10.0.6.1"))
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    page = f"/absensi/kegiatan/{event.id}/pengaturan"
    assert "hanya 4 angka dan mudah ditebak" in html_of(client.get(page))
    saved = client.submit(
        page, {"checkin_on": "y", "checkin_opens_minutes": "60", "venue_pin": "4821"}
    )
    assert saved.status_code == 422
    assert "PIN terdiri dari 6–8 angka" in html_of(saved)
