"""Query strings (issue 21, item 3): hostile values in every query parameter of every GET route,
for every role that may open it, and the issue's listed cases; no answer may be a 5xx.

The names are discovered, not listed: each GET probe of tests/access_cases.py is sent once as
each role the table lets in, while a receiver of ``kim_app.queryargs.query_read`` notes which names
the endpoint reads and as what (page, id, date, choice, text, flag, list). Then, for each kind
it reads, every name of that kind gets each hostile value of the kind and the values every name
gets (together, so a date range gets both ends at once; the probe's own query string stays),
and each name is sent twice. Names first read while fuzzing (a branch a value opened) are fuzzed
in turn, until no new one appears.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from kim_app import ROOT
from kim_app.auth.models import Role
from kim_app.queryargs import query_read
from tests.access_cases import ACTORS, CASES, Accounts, World
from tests.conftest import PPU, PPU_VILLAGE, html_of

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
# what every name gets: control characters and bidi, 10 KB, other scripts and widths, SQL,
# and the numbers and dates that broke parsers before
EVERY = [
    "",
    "\x00\x01\x1b[31m\x7f\u202e",
    "a" * 10_240,
    "🎉ك\u0301 ＫＩＭ १२ ' OR 1=1 --",
    "9223372036854775807",
    "9999-12-31",
]
# numbers: zero, negative, past 64 bits, past what int() reads from text, not ASCII
NUMBERS = ["0", "-1", "99999999999999999999", "9" * 5_000, "１"]
BY_KIND = {
    "page": NUMBERS,
    "id": NUMBERS,
    "date": ["0001-01-01", "2026-02-30", "99999-01-01", "2026-1-1"],
}
REPEATED = ["1", "9999-12-31"]  # a name given twice

STATS: Counter = Counter()


def _role_id(role: Role | None) -> str:
    return role.value if role is not None else "visitor"


def _reaches(case, role: Role | None) -> bool:
    """The table lets ``role`` open the endpoint inside its wilayah (a page or a redirect)."""
    return case.expect(role, True) in (200, 303)


class QueryFuzzer:
    """Sends one role's requests, notes the names each endpoint reads and every 5xx."""

    def __init__(self, app, client, world: World) -> None:
        self.app = app
        self.client = client
        self.world = world
        self.read: dict[str, str] = {}  # names read by the request being sent → kind
        self.problems: list[str] = []
        self.names: dict[str, dict[str, str]] = {}  # endpoint → every name it was seen reading
        self.fuzzed: dict[tuple[str, bool], set[str]] = {}  # (endpoint, htmx) → names fuzzed

    def note(self, _sender, name: str, kind: str) -> None:
        self.read.setdefault(name, kind)

    def get(self, endpoint: str, path: str, query: MultiDict, headers: dict) -> dict[str, str]:
        """One GET; returns the names it read. A 5xx or an exception is a problem."""
        STATS["requests"] += 1
        self.read = {}
        try:
            response = self.client.get(path, query_string=query, headers=headers)
        except Exception as error:
            self.problems.append(f"{endpoint} {path}?{_show(query)}: {error!r}")
            return self.read
        if response.status_code >= 500:
            STATS["5xx"] += 1
            self.problems.append(f"{endpoint} {path}?{_show(query)}: {response.status_code}")
        self.names.setdefault(endpoint, {}).update(self.read)
        return dict(self.read)

    def fuzz(self, endpoint: str, url: str, partial: bool) -> None:
        """Drive ``url`` once, then fuzz every name it reads that another probe of the endpoint
        (page or fragment alike) has not, and names found on the way."""
        parts = urlsplit(url)
        base = MultiDict(parse_qsl(parts.query, keep_blank_values=True))
        headers = PARTIAL if partial else {}
        found = self.get(endpoint, parts.path, base, headers)
        done = self.fuzzed.setdefault((endpoint, partial), set())
        while set(found) - done:
            todo = {name: kind for name, kind in found.items() if name not in done}
            done |= set(todo)
            for names, values in self._rounds(todo):
                query = MultiDict(base)
                for name in names:
                    query.setlist(name, values)
                found.update(self.get(endpoint, parts.path, query, headers))

    @staticmethod
    def _rounds(names: dict[str, str]):
        """(names, values) per request: each kind's names at once with each hostile value,
        then each kind's names given twice."""
        by_kind: dict[str, list[str]] = {}
        for name, kind in names.items():
            by_kind.setdefault(kind, []).append(name)
        for kind, group in sorted(by_kind.items()):
            for value in BY_KIND.get(kind, []) + EVERY:
                yield group, [value]
            yield group, REPEATED


def _show(query: MultiDict) -> str:
    return "&".join(f"{k}={v[:40]!r}" for k, v in query.items(multi=True))


@pytest.mark.parametrize("role", ACTORS, ids=_role_id)
def test_hostile_query_values_never_give_a_5xx(app, client, login, make_kim, make_event, role):
    """Every name each GET endpoint reads (found by sending its probes as this role) gets huge,
    negative and zero numbers, year 1 and 9999 dates, malformed dates, control characters,
    10 KB, other scripts and the same name twice: never a 5xx."""
    world = World(app, role, make_kim, make_event)
    fz = QueryFuzzer(app, client, world)
    with query_read.connected_to(fz.note, sender=app):
        for endpoint, case in sorted(CASES.items()):
            if not _reaches(case, role):
                continue
            for probe in case.probes:
                if probe.method != "GET":
                    continue
                if world.actor is not None:
                    login(world.actor)  # afresh: nothing a GET does may sign the actor out
                fz.fuzz(endpoint, probe.url(world, world.inside), probe.partial)
    assert not fz.problems, "\n".join(fz.problems[:40])
    # not vacuous: names were found by sending the probes, and fuzzed
    read = {name for names in fz.names.values() for name in names}
    if role is Role.OPERATOR_KABKOTA:
        assert {"halaman", "q", "dari", "sampai", "wilayah", "baris", "ubah"} <= read
        assert len(fz.names) >= 25, sorted(fz.names)
    if role is None:
        assert {"q", "halaman", "kode", "tiket"} <= read


def test_every_read_of_the_query_string_goes_through_queryargs():
    """No module but kim_app/queryargs.py reads ``request.args`` or ``request.values``, or lets
    ``db.paginate`` read the page itself: one bounded mechanism parses every query value."""
    direct = re.compile(r"request\.(args|values)\b|db\.paginate\(|type=int")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in sorted((ROOT / "kim_app").rglob("*.py"))
        if path.name != "queryargs.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if direct.search(line)
    ]
    assert offenders == []


def test_summary(capsys):
    """Requests sent and 5xx seen over the module (printed)."""
    with capsys.disabled():
        print(f"\nquery fuzz: {STATS['requests']} requests, {STATS['5xx']} 5xx")
    assert STATS["5xx"] == 0


# --- the cases the issue lists ----------------------------------------------------------------------

LISTED = [
    "/log-audit?dari=0001-01-01",
    "/log-audit?sampai=9999-12-31",
    "/laporan/?dari=9999-01-01&sampai=9999-12-31",
    "/laporan/ekspor/status.csv?dari=9999-01-01&sampai=9999-12-31",
    "/pengguna?halaman=99999999999999999999",
    "/pengguna?halaman=9223372036854775807",
    "/kim/verifikasi?halaman=99999999999999999999",
    "/kim/verifikasi?halaman=9223372036854775807",
    "/pesan?halaman=9223372036854775807",
    "/pesan/kirim?halaman=99999999999999999999",
    "/pengguna/undangan?halaman=9223372036854775807",
]


@pytest.mark.parametrize("url", LISTED)
def test_listed_query_strings_answer_without_a_5xx(client, make_user, login, url):
    """Each query string the issue found answering 500 now answers a page (or the export)."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get(url)
    assert response.status_code in (200, 422), response.status_code


def test_a_page_beyond_the_last_shows_the_last(app, client, login):
    """A page number past the end (or past any integer) shows the last page of the list."""
    accounts = Accounts(app)
    login(accounts.add(Role.OPERATOR_KABKOTA, PPU))
    for _n in range(25):  # 26 accounts: two pages of 25
        accounts.add(Role.KEPALA_DESA, PPU_VILLAGE)

    def shown(query: str) -> list[str]:
        return re.findall(r"Uji \d+", html_of(client.get(f"/pengguna?{query}")))

    assert len(shown("halaman=2")) == 1
    assert shown("halaman=99999999999999999999") == shown("halaman=3") == shown("halaman=2")
    assert shown("halaman=abc") == shown("halaman=-1") == shown("") != shown("halaman=2")


def test_dates_out_of_range_are_ignored_visibly_on_the_audit_log(client, make_user, login):
    """The audit log ignores a date it cannot use, and says so."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    for query in ("dari=0001-01-01", "sampai=9999-12-31", "dari=2026-02-30"):
        response = client.get(f"/log-audit?{query}")
        assert response.status_code == 200
        assert "di luar tahun 1900–2100 diabaikan" in html_of(response)
    assert "diabaikan" not in html_of(client.get("/log-audit?dari=2026-01-01"))


def test_a_dashboard_range_out_of_range_says_so(client, make_user, login):
    """The dashboard shows this year with a message for a range in the year 9999, also when
    its export is asked for (the export gives this year's table)."""
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    response = client.get("/laporan/?dari=9999-01-01&sampai=9999-12-31")
    assert response.status_code == 422
    assert "tahun 1900–2100" in html_of(response) and "Ditampilkan tahun ini" in html_of(response)
    export = client.get("/laporan/ekspor/status.csv?dari=9999-01-01&sampai=9999-12-31")
    assert export.status_code == 200 and export.mimetype == "text/csv"
