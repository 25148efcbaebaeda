"""Valid HTML (issue 9): the Nu Html Checker (the ``vnu-jar`` npm package) finds no error in any
page or htmx fragment the app serves.

The documents come from the access table (``tests/access_cases.py``), not from a second list of
URLs: every GET probe of every endpoint, asked by the first role the table lets in (200) for the
object inside its wilayah — the full page, and the fragment where the probe is an htmx partial
request — and again by one role of each other kind of account the table lets in (village head
or pengurus, petugas absensi, visitor: their menus differ); what those pages link to — other
states of a probed page (a page of results, a filter, the no-script inline edit form) and the
fragment behind each ``hx-get`` — once per shape of URL; the error pages (404, 403, 405, 413,
the expired form), as pages and as the fragment htmx swaps into the message area; every form
sent back empty (the 422 re-render with its errors, as a page and as a fragment); then every
action of the table done through htmx (the fragment it answers, ``<hx-partial>`` parts included);
last, every probed page again, showing what the actions left.

Fragments are checked inside a minimal document whose body holds them the way the page does (a
table row in a table, a list item in a list), so vnu judges the fragment's own markup; the
content of each ``<hx-partial>`` (which htmx unwraps and swaps into its target) and each
out-of-band element (``hx-swap-oob``) is a document of its own. All documents go to one java
run (the JVM starts slowly). vnu does not know htmx: it reports every ``hx-*`` attribute as "not
allowed". Exactly that message, for attribute names starting with ``hx-``, is set aside (and
counted); any other message fails the test, and so does a missing java or jar (never a skip).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from kim_app import ROOT
from kim_app.auth.models import Role
from tests.access_cases import ACTORS, CASES, Case, Probe, World
from tests.conftest import Client, html_of
from tests.helpers import FILE_TYPES, multipart

VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# vnu's message for an attribute HTML does not define, narrowed to htmx's own (hx-get, hx-post,
# hx-target:inherited …). Nothing else is ever set aside.
HTMX_ATTRIBUTE = re.compile(r"^Attribute “hx-[a-z0-9:._-]+” not allowed on element “[a-z0-9-]+”")

# the element a fragment's first tag must sit in to be valid where htmx puts it
CONTEXT = {
    "tr": ("<table>", "</table>"),
    "tbody": ("<table>", "</table>"),
    "td": ("<table><tr>", "</tr></table>"),
    "th": ("<table><tr>", "</tr></table>"),
    "li": ("<ul>", "</ul>"),
    "option": ("<select>", "</select>"),
    "optgroup": ("<select>", "</select>"),
    "dt": ("<dl>", "</dl>"),
    "dd": ("<dl>", "</dl>"),
}
SHELL = (
    "<!DOCTYPE html><html lang=id><head><meta charset=utf-8><title>f</title></head>"
    "<body>{start}{body}{end}</body></html>"
)
FIRST_TAG = re.compile(r"^\s*(?:<!--.*?-->\s*)*<([a-zA-Z][a-zA-Z0-9-]*)", re.S)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# the GET probes that answer with something other than HTML: files (the access matrix's list),
# a person's data (JSON) and the health check (JSON); every other probe must give a page
NOT_HTML = {*FILE_TYPES, "json"}
NOT_HTML_ENDPOINTS = {"main.healthz"}


@dataclass
class Document:
    """One answer to check: where it came from and its HTML."""

    what: str
    html: str
    fragment: bool


class TopLevel(HTMLParser):
    """The spans of a fragment's top-level elements: (start, end of the start tag, start of the
    end tag, end, tag name, attributes). The app's templates close every element they open."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=False)
        self.starts = [0]
        self.starts += [i + 1 for i, c in enumerate(html) if c == "\n"]
        self.depth = 0
        self.open: tuple[int, int, str, dict] | None = None
        self.spans: list[tuple[int, int, int, int, str, dict]] = []
        self.feed(html)
        self.close()

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.starts[line - 1] + column

    def handle_starttag(self, tag, attrs):
        start = self._offset()
        end = start + len(self.get_starttag_text() or "")
        if self.depth == 0:
            if tag in VOID:
                self.spans.append((start, end, end, end, tag, dict(attrs)))
                return
            self.open = (start, end, tag, dict(attrs))
        if tag not in VOID:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        self.depth -= 1
        if self.depth == 0 and self.open is not None:
            start, inner, name, attrs = self.open
            close = self._offset()
            self.spans.append(
                (start, inner, close, self.rawdata.index(">", close) + 1, name, attrs)
            )
            self.open = None


def in_context(what: str, body: str) -> Document:
    """``body`` in a minimal document, inside the element its first tag needs."""
    match = FIRST_TAG.match(body)
    start, end = CONTEXT.get(match.group(1).lower() if match else "", ("", ""))
    return Document(what, SHELL.format(start=start, body=body, end=end), True)


def fragment_documents(what: str, html: str) -> list[Document]:
    """A fragment as the browser ends up holding it: its main part; the content of each
    ``<hx-partial>`` (htmx unwraps it and swaps it into its target); each out-of-band element
    (``hx-swap-oob``, swapped in for the element with its id). Each in the context it needs."""
    main, aside, last = [], [], 0
    for start, inner, close, end, tag, attrs in TopLevel(html).spans:
        if tag == "hx-partial":
            aside.append(in_context(f"{what} <hx-partial> {len(aside)}", html[inner:close]))
        elif "hx-swap-oob" in attrs:
            aside.append(in_context(f"{what} out-of-band #{attrs.get('id')}", html[start:end]))
        else:
            continue
        main.append(html[last:start])
        last = end
    main.append(html[last:])
    body = "".join(main)
    return ([in_context(what, body)] if body.strip() else []) + aside


# links and htmx requests on a page: followed once per shape of URL (path and query names)
LINK = re.compile(r'<a\b[^>]*?\shref="(/[^"/][^"]*)"')
HX_GET = re.compile(r'\shx-get="(/[^"/][^"]*)"')
NOT_A_PAGE = re.compile(r"^/static/|\.(pdf|xlsx|csv|docx|ics|json|js|jpg|png|zip)$")


def shape(url: str) -> tuple[str, frozenset[str]]:
    """The path with record ids left out, and the names of the query's parameters."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/<id>", parts.path)
    return path, frozenset(name for name, _ in parse_qsl(parts.query, True))


# the kinds of account whose pages differ: staff, the village's own, the scan-only petugas, visitor
KINDS: tuple[tuple[Role | None, ...], ...] = (
    (Role.ADMIN, Role.OPERATOR_PROVINSI, Role.OPERATOR_KABKOTA),
    (Role.KEPALA_DESA, Role.PENGURUS_KIM),
    (Role.PETUGAS_ABSENSI,),
    (None,),
)


def first_role(case: Case, statuses: tuple[int, ...] = (200,)) -> Role | None:
    """The first role (the visitor last) the table lets in, for the object inside its wilayah."""
    return next((role for role in ACTORS if case.expect(role, True) in statuses), None)


def other_roles(case: Case) -> list[Role | None]:
    """One role of each other kind of account that gets the page (it shows them other menus)."""
    first = first_role(case)
    roles = []
    for kind in KINDS:
        role = next((r for r in kind if case.expect(r, True) == 200), first)
        if role is not first and first not in kind:
            roles.append(role)
    return roles


def is_html(response) -> bool:
    return response.mimetype == "text/html" and response.status_code not in (204, 301, 302, 303)


def page_probes():
    """The table's GET probes that answer with HTML (endpoint, case, probe), for the first role
    the table lets in; endpoints only signed-in roles reach are left out when none gets 200."""
    for endpoint, case in sorted(CASES.items()):
        role = first_role(case)
        if endpoint in NOT_HTML_ENDPOINTS or (role is None and not case.public):
            continue
        for probe in case.probes:
            if probe.method == "GET" and probe.name not in NOT_HTML:
                yield endpoint, case, probe


class Collector:
    """Asks the app as each role (one world and one browser per role) and keeps HTML answers."""

    def __init__(self, app, login, make_kim, make_event, partial_headers, lang: str = "id"):
        self.app, self.login, self.lang = app, login, lang
        self.make_kim, self.make_event = make_kim, make_event
        self.partial = partial_headers
        self.worlds: dict[Role | None, tuple[World, Client]] = {}
        self.documents: list[Document] = []
        self.asked: set[tuple] = set()  # (shape, htmx?) of every URL asked for
        self.found: list[tuple[Role | None, str, bool]] = []  # links and hx-get on the pages
        self.following = True

    def follow(self, role: Role | None, html: str) -> None:
        """Note the page's links and htmx requests (entities decoded)."""
        for pattern, partial in ((LINK, False), (HX_GET, True)):
            for url in pattern.findall(html):
                url = url.split("#")[0].replace("&amp;", "&")
                if not NOT_A_PAGE.search(urlsplit(url).path):
                    self.found.append((role, url, partial))

    def ask(self, role: Role | None, url: str, partial: bool, note: str = "") -> bool:
        """GET ``url`` as ``role`` (a page, or the fragment htmx asks for) and keep it if HTML."""
        _world, client = self.world(role)
        self.asked.add((shape(url), partial))
        response = client.get(url, headers=self.partial if partial else {})
        if self.following and response.status_code == 200 and is_html(response):
            self.follow(role, html_of(response))
        who = role.value if role else "visitor"
        return self.keep(
            f"GET {url} as {who}{' (htmx)' if partial else ''}{note}", response, partial
        )

    def world(self, role: Role | None) -> tuple[World, Client]:
        """The role's world and browser, signed in afresh (an action may have signed it out)."""
        if role not in self.worlds:
            client = Client(self.app, self.app.response_class)
            self.worlds[role] = (World(self.app, role, self.make_kim, self.make_event), client)
        world, client = self.worlds[role]
        if world.actor is not None:
            self.login(world.actor, on=client)
        with client.session_transaction() as session:
            session["lang"] = self.lang  # as the language switch at the foot of every page
        return world, client

    def keep(self, what: str, response, partial: bool) -> bool:
        if not is_html(response):
            return False
        html = html_of(response)
        what = f"{what} → {response.status_code}"
        if partial and "<html" not in html:  # (a form htmx never drives may answer a page)
            self.documents += fragment_documents(what, html)
        else:
            self.documents.append(Document(what, html, False))
        return True

    def get(self, role: Role | None, probe: Probe, note: str = "") -> bool:
        """A GET probe of the table, for the object inside the wilayah."""
        world, _client = self.world(role)
        if probe.marker:  # the objects a list shows exist before it is asked for
            probe.marker(world, world.inside)
        return self.ask(role, probe.url(world, world.inside), probe.partial, note)

    def post(self, role: Role | None, url: str, data: dict, partial: bool, **kw) -> int:
        """POST ``data`` (and ``files``) with the browser's CSRF token, unless ``token=False``;
        the answer's status."""
        world, client = self.world(role)
        files = kw.get("files") or {}
        if kw.get("token", True):
            data = {**data, "csrf_token": client.token("/kata-sandi" if world.actor else "/login")}
        headers = self.partial if partial else {}
        body = multipart(data | files) if files else {"data": data}
        response = client.post(url, headers=headers, **body)
        who = role.value if role else "visitor"
        self.keep(f"POST {url} as {who}{' (htmx)' if partial else ''}", response, partial)
        return response.status_code

    def send(self, role: Role | None, probe: Probe, partial: bool) -> int:
        """A POST probe of the table, with its own data, for the object inside the wilayah."""
        world, _client = self.world(role)
        place = world.inside
        data = probe.data(world, place) if probe.data else {}
        files = probe.files(world, place) if probe.files else {}
        return self.post(role, probe.url(world, place), data, partial, files=files)


def run_vnu(folder: Path) -> list[dict]:
    """vnu's messages for every file in ``folder``, from one java run."""
    java = shutil.which("java")
    assert java, "java is not installed: the HTML check needs it (Debian: openjdk-17-jre-headless)"
    assert VNU_JAR.is_file(), f"{VNU_JAR} is missing: run `npm ci` (package.json lists vnu-jar)"
    files = sorted(str(p) for p in folder.glob("*.html"))
    result = subprocess.run(
        [
            java,
            "-Xss4m",
            "-jar",
            str(VNU_JAR),
            "--format",
            "json",
            "--errors-only",
            "--stdout",
            *files,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.stdout.strip(), f"vnu said nothing (exit {result.returncode}): {result.stderr}"
    return json.loads(result.stdout)["messages"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_and_fragment_is_valid_html(
    app, login, make_kim, make_event, partial_headers, tmp_path, capsys, lang
):
    """The Nu Html Checker reports no error in any page, fragment, form error or error page, in
    Indonesian and in English."""
    started = time.monotonic()
    collect = Collector(app, login, make_kim, make_event, partial_headers, lang)
    missing = []
    pages = list(page_probes())
    for endpoint, case, probe in pages:
        if not collect.get(first_role(case), probe):
            missing.append(f"{endpoint} {probe.name}")
        for other in other_roles(case):
            collect.get(other, probe)
    assert not missing, f"GET probes that gave no HTML page: {missing}"

    # the pages' own links to other states of a probed page (a page of results, the no-script
    # inline edit form, a drill-down) and the fragments their htmx attributes ask for, each
    # shape of URL once
    collect.following = False
    probed = {path for (path, _names), _partial in collect.asked}
    for role, url, partial in collect.found:
        new = (shape(url), partial) not in collect.asked
        if new and (partial or shape(url)[0] in probed):
            collect.ask(role, url, partial, " (linked)")

    # error pages, as a page and as the fragment htmx swaps into the message area
    limit = app.config["MAX_CONTENT_LENGTH"]
    for partial in (False, True):
        headers = partial_headers if partial else {}
        _world, visitor = collect.world(None)
        _world, village_head = collect.world(Role.KEPALA_DESA)
        for status, response in (
            (404, visitor.get("/tidak-ada", headers=headers)),
            (405, visitor.get("/logout", headers=headers)),
            (403, village_head.get("/pengguna", headers=headers)),
        ):
            assert response.status_code == status and collect.keep(str(status), response, partial)
        expired = collect.post(None, "/login", {"email": "x@uji.example"}, partial, token=False)
        too_big = collect.post(None, "/login", {"email": "x" * (limit + 10)}, partial, token=False)
        assert (expired, too_big) == (400, 413)

    # every form sent back empty: the 422 page and fragment with the errors shown. An empty
    # form may still do something (no delegates chosen cancels the KIM's registrations), so the
    # admin sends them for the other place's objects (unless not found there: another operator's
    # upload), and the actions below start from the table's own state
    for case in CASES.values():
        if case.post is not None:
            role = first_role(case)
            world, _client = collect.world(role)
            places = (world.outside, world.inside) if role is Role.ADMIN else (world.inside,)
            for partial in (False, True):
                for place in places:
                    if collect.post(role, case.post.url(world, place), {}, partial) != 404:
                        break

    # last, as they change things: every action of the table done through htmx (the fragment
    # with its out-of-band parts that htmx swaps in, where it answers with one), the event's
    # start first so that attendance can be taken; then every page again, now showing what the
    # actions left (marks, a walk-in, a cancelled registration, an inactive member …)
    started_first = sorted(
        CASES.items(), key=lambda item: (item[0] != "events.set_status", item[0])
    )
    for _endpoint, case in started_first:
        if case.posts is not None:
            collect.send(first_role(case, (200, 303)), case.posts, partial=True)
    for _endpoint, case, probe in pages:
        collect.get(first_role(case), probe, " after the actions")
    elapsed_collect = time.monotonic() - started

    for i, document in enumerate(collect.documents):
        (tmp_path / f"{i:04d}.html").write_text(document.html, encoding="utf-8")
    messages = run_vnu(tmp_path)
    by_file = {f"{i:04d}.html": d for i, d in enumerate(collect.documents)}
    filtered = 0
    errors = []
    for message in messages:
        text = message.get("message", "")
        if message.get("type") == "error" and HTMX_ATTRIBUTE.match(text):
            filtered += 1
            continue
        name = message.get("url", "").rsplit("/", 1)[-1]
        document = by_file.get(name)
        where = document.what if document else name
        errors.append(
            f"{where} [{name}] line {message.get('lastLine')}: {text} — {message.get('extract', '')!r}"
        )
    full = sum(not d.fragment for d in collect.documents)
    partials = sum(
        " <hx-partial> " in d.what or " out-of-band " in d.what for d in collect.documents
    )
    with capsys.disabled():  # shown in every run's output, not only when the test fails
        print(
            f"\nvnu ({lang}) checked {len(collect.documents)} documents ({full} pages, "
            f"{len(collect.documents) - full} fragments, {partials} of them <hx-partial> or out-of-band parts) "
            f"from {len(pages)} HTML probes; "
            f"{filtered} htmx attribute messages set aside; {len(errors)} errors; "
            f"collecting {elapsed_collect:.1f} s, total {time.monotonic() - started:.1f} s"
        )
    assert len(collect.documents) >= 2 * len(pages) + 10, "too few documents were checked"
    pages_in = Counter(
        re.search(r'<html lang="(\w+)"', d.html).group(1)
        for d in collect.documents
        if not d.fragment
    )
    assert set(pages_in) == {lang}, pages_in  # every page was read in the language asked for
    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors)


def test_only_htmx_attributes_are_set_aside():
    """The filter takes vnu's "not allowed" message for hx-* attributes and nothing else."""
    assert HTMX_ATTRIBUTE.match("Attribute “hx-get” not allowed on element “a” at this point.")
    assert HTMX_ATTRIBUTE.match(
        "Attribute “hx-status:422” not allowed on element “form” at this point."
    )
    assert HTMX_ATTRIBUTE.match(
        "Attribute “hx-target:inherited” not allowed on element “main” at this point."
    )
    for other in (
        "Attribute “onclick” not allowed on element “a” at this point.",
        "Attribute “data-hx-get” not allowed on element “a” at this point.",
        "Element “hx-partial” not allowed as child of element “body” in this context.",
        "Duplicate ID “hx-get”.",
        "Bad value “hx-get” for attribute “id” on element “a”.",
    ):
        assert not HTMX_ATTRIBUTE.match(other), other


def test_fragments_are_checked_where_htmx_puts_them():
    """A row goes in a table, a list item in a list; each <hx-partial>'s content and each
    out-of-band element are checked on their own, where htmx swaps them."""
    documents = fragment_documents(
        "x",
        '<tr><td>1</td></tr>\n<hx-partial hx-target="#pesan"><p>ok</p></hx-partial>'
        '<div id="a" hx-swap-oob="true"><div><br></div></div>'
        '<hx-partial hx-target="#daftar"><li>2</li></hx-partial>',
    )
    bodies = [re.search(r"<body>(.*)</body>", d.html, re.S).group(1) for d in documents]
    assert bodies == [
        "<table><tr><td>1</td></tr>\n</table>",
        "<p>ok</p>",
        '<div id="a" hx-swap-oob="true"><div><br></div></div>',
        "<ul><li>2</li></ul>",
    ]
    assert all(d.fragment and d.html.startswith("<!DOCTYPE html>") for d in documents)
