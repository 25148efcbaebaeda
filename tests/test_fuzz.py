"""Fuzzing (issue 8, item 5): hostile values in every form and query parameter.

For each GET endpoint the page is opened by an operator (and by a visitor when it is public;
by the village head, the pengurus or the petugas when only they may open it). Its forms are read
with ``html.parser`` and submitted with hypothesis-generated values: empty, 10,000 characters,
right-to-left text and emoji, control characters and NUL, SQL and HTML/JS payloads, text in
number and date fields, huge and negative numbers, the same key twice, hostile uploads. Each
form is also sent with each of a few parser-breaking values in every field at once. The
endpoint's query parameters (those its forms and links use plus every name the routes read) and
its string path parts are fuzzed the same way.

CSRF stays on: each form is sent with the token of the page it came from, kept valid across
examples (the session's raw token is put back after anything that clears the session).

Every answer must be below 500 and hold no payload unescaped. A refused submission (4xx, the
form shown again with a field marked invalid, or a side step such as "add a row") changes no
row; an accepted one leaves the data consistent (enum values known, strings within their
column's length, seat counters true); a GET writes nothing but an export's audit entry. Then
plausible values with markup in every free-text field are saved through every form and no page
may show them raw to anyone. The module ends with the number of inputs tried and of 5xx seen.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter

import pytest
import sqlalchemy as sa
from markupsafe import escape

from kim_app import ROOT
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.files.models import FileStatus, PreparedFile
from tests.conftest import PPU, html_of
from tests.fuzz_forms import (
    REFLECTED,
    add_script_fields,
    complete_pickers,
    form_values,
    html_payloads,
    read_page,
)
from tests.fuzzing import (
    ACTORS,
    ARG_NAMES,
    CSRF,
    ENDPOINTS_DONE,
    FILE_EXAMPLES,
    FUZZED,
    GET_ENDPOINTS,
    HTML_TYPES,
    PATH_EXAMPLES,
    POST_ENDPOINTS,
    QUERY_EXAMPLES,
    STATS,
    STORED_EXAMPLES,
    SUBMITTED,
    VILLAGE_CHAIN,
    Fuzzer,
    _discover,
    _endpoint_of,
    _who_opens,
    collect_examples,
    form_pairs,
    fuzz_form,
    fuzz_path,
    fuzz_query,
    html_pages,
    post_forms,
    url_for_endpoint,
)
from tests.helpers import run_jobs

# --- the world every endpoint is tried in ---------------------------------------------------------


# --- the fuzzer ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def documents_through_the_worker(app, monkeypatch):
    """Every document shows its "Siapkan berkas" form (so that form is fuzzed too), and the
    files asked for are then made as the worker makes them: none may fail."""
    monkeypatch.setitem(app.config, "KIM_FILES_AT_ONCE_MAX", 0)
    yield
    run_jobs(app)
    with app.app_context():
        failed = db.session.scalars(
            sa.select(PreparedFile.kind).where(PreparedFile.status == FileStatus.GAGAL)
        ).all()
    assert failed == [], f"prepared files that failed: {failed}"


@pytest.mark.parametrize("endpoint", GET_ENDPOINTS)
def test_fuzz_endpoint(app, world, endpoint):
    """Hostile query strings, path parts and form values never give a 5xx, never come back
    unescaped, and a refused submission writes nothing."""
    fz = Fuzzer(app, world)
    url = url_for_endpoint(app, endpoint, world)
    opened = _who_opens(fz, url)
    assert opened, f"nobody could open {url}"
    for actor, response in opened.items():
        is_page = response.status_code == 200 and response.mimetype in HTML_TYPES
        forms, names = _discover(fz, actor, url, endpoint, response) if is_page else ([], set())
        for form in forms:
            target = _endpoint_of(app, form.action, form.method)
            if target is None:
                fz.problems.append(f"FORM to unknown {form.method} {form.action} on {url}")
                continue
            signature = (actor, *form.signature(target))
            if signature in FUZZED:
                continue
            FUZZED.add(signature)
            complete_pickers(form, VILLAGE_CHAIN)
            add_script_fields(form, int(time.time() * 1000))
            fuzz_form(fz, actor, form, target)
        count = QUERY_EXAMPLES if is_page else FILE_EXAMPLES
        fuzz_query(fz, actor, url, endpoint, sorted(names | set(ARG_NAMES)), count)
        fuzz_path(fz, actor, endpoint, PATH_EXAMPLES if is_page else 1)
    ENDPOINTS_DONE.add(endpoint)
    assert not fz.problems, "\n\n".join(fz.problems)


def test_stored_values_come_back_escaped_on_every_page(app, world):
    """What people may type, with markup in every free-text field, is saved wherever a form
    accepts it; afterwards no page shows it unescaped to anyone (operator, visitor, village
    head, pengurus, petugas)."""
    fz = Fuzzer(app, world)
    pages = html_pages(app, world)
    accepted = Counter()
    for n, (actor, form, target) in enumerate(post_forms(fz, pages.values()), start=1):
        complete_pickers(form, VILLAGE_CHAIN)
        add_script_fields(form, int(time.time() * 1000))

        def body(values: dict, actor=actor, form=form, target=target) -> None:
            response = fz.send(
                fz.client(actor),
                "POST",
                form.action,
                what=f"{actor} stores",
                data=form_pairs(values),
            )
            if response is not None and 300 <= response.status_code < 400:
                accepted[target] += 1

        strategy = form_values(form, 5000 + n, keep=CSRF, only_plausible=True)
        collect_examples(strategy, body, STORED_EXAMPLES)
    escaped = 0
    for endpoint, url in pages.items():
        for actor in ACTORS:
            response = fz.send(fz.client(actor), "GET", url, what=f"{actor} reads {endpoint}")
            if response is not None and response.mimetype in HTML_TYPES:
                escaped += "&lt;kimfuzz-" in response.get_data(as_text=True)
    assert not fz.problems, "\n\n".join(fz.problems)
    # not a vacuous pass: text with markup was saved by many forms and shown (escaped) again
    assert len(accepted) >= 10, accepted
    assert escaped >= 10


# --- the fuzzer's own checks ------------------------------------------------------------------------


def test_read_page_finds_fields_options_and_buttons():
    """The form reader sees what a browser would send: inputs, checked boxes, selected options,
    textareas, named and plain submit buttons, and the form's action resolved against the page."""
    html = """
    <form method="post" action="simpan?x=1" enctype="multipart/form-data">
      <input type="hidden" name="csrf_token" value="t">
      <input name="nama" value="Ani &amp; Budi"><input type="file" name="foto">
      <input type="checkbox" name="bidang" value="a" checked><input type="checkbox" name="bidang" value="b">
      <select name="jk"><option value="">-</option><option value="P" selected>P</option></select>
      <textarea name="catatan">baris</textarea>
      <button name="_pick" value="1">Perbarui</button><button type="submit">Simpan</button>
    </form>
    <form><input type="search" name="q"></form><a href="/kim/?page=2">2</a>
    """
    forms, links = read_page(html, "/kim/1/ubah")
    post, search = forms
    assert (post.method, post.action, post.multipart) == ("POST", "/kim/1/simpan?x=1", True)
    assert post.fields["nama"].value == "Ani & Budi"
    assert post.fields["bidang"].options == ["a", "b"] and post.fields["bidang"].value == "a"
    assert post.fields["jk"].options == ["", "P"] and post.fields["jk"].value == "P"
    assert post.fields["catatan"].value == "baris"
    assert post.fields["foto"].kind == "file"
    assert post.buttons == [("_pick", "1")] and post.plain_submit
    assert (search.method, search.action, list(search.fields)) == ("GET", "/kim/1/ubah", ["q"])
    assert links == ["/kim/?page=2"]


def test_reflection_check_tells_raw_markup_from_escaped():
    """Every markup payload is caught when a page holds it raw and passes once escaped; a script
    URL in a link is caught even though escaping leaves it intact."""
    for text in html_payloads(7):
        if "kimfuzz" in text or "alert" in text:
            if "javascript:" not in text:
                assert REFLECTED.search(f"<p>{text}</p>"), text
            assert not REFLECTED.search(f"<p>{escape(text)}</p>"), text
    assert REFLECTED.search('<a href="javascript:kimfuzz(7)">')
    assert not REFLECTED.search("<p>javascript:kimfuzz(7)</p>")


def test_nul_is_dropped_before_any_view(client, make_user, login):
    """A NUL in a query string, form field or file name is dropped before a view reads it (no
    browser sends one; PostgreSQL cannot store one); a path part holding one names nothing."""
    assert 'value="ab"' in html_of(client.get("/direktori?q=a%00b"))
    response = client.submit("/login", {"email": "a\x00b@uji.example", "password": "x"})
    assert response.status_code == 422 and 'value="ab@uji.example"' in html_of(response)
    assert client.get("/e/kode%00").status_code == 404
    login(make_user(Role.OPERATOR_KABKOTA, PPU))
    upload = {"jenis": "kim", "berkas": (io.BytesIO(b"nama kim\nKIM A\n"), "da\x00ftar.csv")}
    response = client.submit("/kim/impor", upload, content_type="multipart/form-data")
    assert response.status_code == 303
    assert "daftar.csv" in html_of(client.get(response.headers["Location"]))


def test_every_query_name_the_routes_read_is_fuzzed():
    """A name read with a ``queryargs`` reader anywhere in the app is among the fuzzed names."""
    read = set()
    for source in (ROOT / "kim_app").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        read |= set(re.findall(r"queryargs\.\w+\(\s*\"([^\"]+)\"", text))
    assert read
    assert read - set(ARG_NAMES) == set()


def test_summary(request, capsys, tmp_path_factory):
    """Inputs tried and 5xx seen over the module (printed, and kept in the run's tmp dir); when
    the whole module ran, every GET endpoint was fuzzed and every POST endpoint got a form."""
    ran = {item.name for item in request.session.items if item.module is request.module}
    everything = all(f"test_fuzz_endpoint[{e}]" in ran for e in GET_ENDPOINTS)
    summary = {
        "inputs tried": STATS["inputs"],
        "endpoints": len(ENDPOINTS_DONE),
        "forms fuzzed": STATS["forms"],
        "submissions accepted": STATS["accepted"],
        "refused": STATS["refused"],
        "re-shown without saving": STATS["side steps"],
        "refused by the CSRF check": STATS["csrf"],
        "5xx seen": STATS["5xx"],
    }
    line = ", ".join(f"{key} {value}" for key, value in summary.items())
    (tmp_path_factory.getbasetemp() / "fuzz-summary.json").write_text(json.dumps(summary))
    with capsys.disabled():
        print(f"\nfuzz summary: {line}")
    assert STATS["5xx"] == 0
    if everything:
        assert set(GET_ENDPOINTS) == ENDPOINTS_DONE
        assert set(POST_ENDPOINTS) - SUBMITTED == set()
        assert STATS["inputs"] > 1000
