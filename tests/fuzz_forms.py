"""Helpers for tests/test_fuzz.py: read the forms and links of a page, build hostile values for
them with hypothesis, and recognise a payload that came back unescaped.

Forms are read with the standard library's ``html.parser``: every ``<form>`` with its action,
method and encoding, its fields (type, current value, a select's, radio group's or checkbox
group's options) and its submit buttons.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from hypothesis import strategies as st
from PIL import Image

# --- reading a page --------------------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # an input's type, or "select" / "textarea"
    value: str = ""  # what the page filled in (the checked one for radios)
    options: list[str] = field(default_factory=list)  # select options, radio/checkbox values


@dataclass
class Form:
    action: str  # a path with its query string
    method: str  # "GET" or "POST"
    multipart: bool
    fields: dict[str, Field] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    plain_submit: bool = False  # a submit button without a name: the form's main action
    queued: bool = False  # ``data-queue``: static/attendance.js sends it, adding two fields

    def signature(self, endpoint: str) -> tuple:
        """Forms that differ only in the record they act on (one per row) count once."""
        names = tuple(sorted(self.fields))
        buttons = tuple(sorted({name for name, _value in self.buttons}))
        return endpoint, self.method, names, buttons


class _PageParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: str | None = None
        self._option_text = ""
        self._option_selected = False
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {key: (value if value is not None else "") for key, value in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.base, a["href"]))
        elif tag == "form":
            method = (a.get("method") or "get").upper()
            action = urljoin(self.base, a.get("action") or self.base)
            multipart = a.get("enctype", "") == "multipart/form-data"
            self._form = Form(_local(action), method, multipart, queued="data-queue" in a)
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input":
            self._input(a)
        elif tag == "button" and a.get("type", "submit") == "submit":
            if a.get("name"):
                self._form.buttons.append((a["name"], a.get("value", "")))
            else:
                self._form.plain_submit = True
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select")
            self._form.fields.setdefault(a["name"], self._select)
        elif tag == "option" and self._select is not None:
            self._option = a.get("value")
            self._option_text = ""
            self._option_selected = "selected" in a
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea")
            self._form.fields[a["name"]] = self._textarea

    def _input(self, a: dict) -> None:
        name, kind = a.get("name"), (a.get("type") or "text").lower()
        if not name:
            return
        if kind in ("submit", "image"):
            self._form.buttons.append((name, a.get("value", "")))
            return
        if kind in ("reset", "button"):
            return
        value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
        known = self._form.fields.get(name)
        if kind in ("checkbox", "radio"):
            if known is None:
                known = self._form.fields[name] = Field(name, kind)
            known.options.append(value)
            if "checked" in a:
                known.value = value
            return
        self._form.fields[name] = Field(name, kind, value)

    def handle_data(self, data: str) -> None:
        if self._option is not None or self._select is not None:
            self._option_text += data
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._close_option()
        elif tag == "select":
            self._close_option()
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None

    def _close_option(self) -> None:
        if self._select is None or (self._option is None and not self._option_text):
            return
        value = self._option if self._option is not None else self._option_text.strip()
        self._select.options.append(value)
        if self._option_selected:
            self._select.value = value
        self._option, self._option_text, self._option_selected = None, "", False


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def read_page(html: str, path: str) -> tuple[list[Form], list[str]]:
    """The forms of a page and the local links it holds (path with query string)."""
    parser = _PageParser("http://localhost" + path)
    parser.feed(html)
    parser.close()
    links = [
        _local(link)
        for link in parser.links
        if urlsplit(link).netloc == "localhost" and urlsplit(link).scheme == "http"
    ]
    return parser.forms, links


def add_script_fields(form: Form, now_ms: int) -> None:
    """The fields static/attendance.js adds to a ``data-queue`` form: the mark's client id and
    the device's clock (milliseconds since the epoch)."""
    if form.queued:
        form.fields.setdefault("client_id", Field("client_id", "hidden", "fuzz-0001"))
        form.fields.setdefault("marked_at", Field("marked_at", "hidden", str(now_ms)))


def complete_pickers(form: Form, chain: list[str]) -> None:
    """Give a region picker (``_picker`` = ``prefix:deepest``) the levels the page had not opened
    yet, so a plausible submission can name a region: ``chain`` is a village's codes from the
    province down. A browser gets these selects one at a time, as each choice re-renders."""
    spec = form.fields.get("_picker")
    if spec is None or ":" not in spec.value:
        return
    prefix, deepest = spec.value.split(":", 1)
    levels = ["provinsi", "kabupaten", "kecamatan", "desa"]
    if deepest not in levels:
        return
    for level, code in zip(levels[: levels.index(deepest) + 1], chain, strict=False):
        name = f"{prefix}_{level}"
        known = form.fields.get(name)
        if known is None or known.kind == "select":
            form.fields[name] = Field(name, "select", code, options=[code])


# --- hostile values --------------------------------------------------------------------------------

# what an escaped page never holds: a tag, event handler or script URL built from a payload
REFLECTED = re.compile(
    r"<kimfuzz-\d+|<script>alert\(|<img src=x onerror|<svg onload=kimfuzz"
    r"|\" autofocus onfocus=kimfuzz|' onmouseover=kimfuzz"
    r"|(?:href|src|action)\s*=\s*[\"']?\s*javascript:",
    re.IGNORECASE,
)


def html_payloads(n: int) -> list[str]:
    return [
        f"<kimfuzz-{n}>",
        "<script>alert(1)</script>",
        f'"><img src=x onerror=kimfuzz({n})>',
        f"<svg onload=kimfuzz({n})>",
        f'" autofocus onfocus=kimfuzz({n}) x="',
        f"' onmouseover=kimfuzz({n}) '",
        f"javascript:kimfuzz({n})",
        f"</textarea></title><kimfuzz-{n}>",
        "{{ 7*7 }}{% raw %}${7*7}",
    ]


SQL = [
    "' OR 1=1 --",
    "1; DROP TABLE kims; --",
    "'; DROP TABLE users; --",
    '" OR ""="',
    "1' UNION SELECT NULL, NULL --",
    "%",
    "_",
    "\\",
    "%' AND '%'='",
]
UNICODE = [
    "مجتمع المعلومات\u202e",  # Arabic with a right-to-left override
    "\u202eKIM\u202c",
    "🎉👩‍👩‍👧🇮🇩",
    "ꦏꦶꦩ꧀ (aksara Jawa)",
    "Ｆｕｌｌ ｗｉｄｔｈ １２３",
    "१२३ ١٢٣ ²",  # digits that are not ASCII
    "e\u0301\u0301\u0301",
    "\u200b\u200d\ufeff",
    "İstanbul ǅ ß ﬁ",
]
CONTROL = ["\x00", "a\x00b", "\x01\x02\x1b[31m\x7f", "\r\n\r\n", "\t", "\u2028\u2029", "\x0b\x0c"]
WRONG_TYPES = [
    "abc",
    "-1",
    "0",
    "1.5",
    "1e308",
    "NaN",
    "inf",
    "0x10",
    "99999999999999999999999999",
    str(2**63),
    str(-(2**63) - 1),
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "31/12/2026",
    "25:61",
    "true",
    "[]",
    "{}",
    "None",
    "null",
]
LONG = ["a" * 10_000, "ك" * 10_000, "🎉" * 5_000, "<kimfuzz-0>" * 1_000, "9" * 10_000]


def payload(n: int) -> st.SearchStrategy[str]:
    """A hostile string: empty, huge, unicode, control characters, SQL, HTML, wrong types."""
    return st.one_of(
        st.sampled_from(["", " ", *SQL, *UNICODE, *CONTROL, *WRONG_TYPES, *LONG]),
        st.sampled_from(html_payloads(n)),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
        st.integers(-(2**70), 2**70).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
    )


def _days(first: int, last: int, suffix: str = "") -> st.SearchStrategy[str]:
    today = date.today()
    return st.integers(first, last).map(lambda d: (today + timedelta(days=d)).isoformat() + suffix)


def _digits(size: int) -> st.SearchStrategy[str]:
    return st.integers(10 ** (size - 1), 10**size - 1).map(str)


# fields whose name says what they hold, whatever their input type
BY_NAME = (
    (re.compile(r"(phone|whatsapp|telepon|no_wa)$"), _digits(8).map(lambda d: "0812" + d)),
    (re.compile(r"email$"), st.integers(0, 10**6).map(lambda d: f"fuzz{d}@uji.example")),
    (re.compile(r"(website|link)$"), st.just("https://kim.example/uji")),
    (re.compile(r"pin$"), _digits(6)),
    (re.compile(r"nip$"), _digits(18)),
    (re.compile(r"day$"), _days(10, 60)),  # an event's days lie ahead
    (re.compile(r"start$"), st.sampled_from(["08:00", "09:30"])),
    (re.compile(r"end$"), st.sampled_from(["12:00", "16:00"])),
)


FREE_TEXT = ("text", "textarea", "search")


def plausible(item: Field, n: int, *, marked: bool = False) -> st.SearchStrategy[str]:
    """A value the form may well accept. Free text often carries a marker so a stored one can be
    traced; with ``marked`` it does half the time even where the page filled something in."""
    by_kind = {
        "email": st.just(f"fuzz{n}@uji.example"),
        "tel": st.sampled_from(["0812-5555-0101", "+6281255550102", "081255550103"]),
        "date": _days(-400, -1),  # founding, decree and report dates lie behind
        "time": st.sampled_from(["08:00", "09:30", "13:00", "23:59"]),
        "datetime-local": _days(1, 5, "T09:00"),  # a registration deadline, before the event
        "number": st.integers(1, 100).map(str),
        "url": st.just(f"https://kim.example/<kimfuzz-{n}>"),
        "password": st.just("rahasia-fuzz-123"),
    }
    options = [option for option in item.options if option]
    if item.kind in ("select", "radio", "checkbox") and options:
        return st.sampled_from(options)
    for pattern, strategy in BY_NAME:
        if pattern.search(item.name) and item.kind not in ("hidden", "password"):
            return st.one_of(st.just(item.value), strategy) if item.value else strategy
    if marked and item.kind in FREE_TEXT:
        return st.one_of(st.just(f"Uji <kimfuzz-{n}> \"kutip\" 'satu'"), plausible(item, n))
    if item.value:
        return st.one_of(st.just(item.value), by_kind.get(item.kind, st.just(item.value)))
    if item.kind in by_kind:
        return by_kind[item.kind]
    return st.sampled_from(
        [f"Uji <kimfuzz-{n}> fuzz", f'Nama "kutip" <kimfuzz-{n}>', "Uji Fuzz", "1"]
    )


def upload(n: int) -> st.SearchStrategy[tuple[bytes, str]]:
    """A file for a file input: empty, random bytes, a lying name, a hostile name."""
    names = st.sampled_from(
        [
            "berkas.csv",
            "foto.jpg",
            "sk.pdf",
            "data.xlsx",
            "../../etc/passwd",
            f"<kimfuzz-{n}>.png",
            "a\x00b.png",
            "🎉.jpg",
            "x" * 300 + ".pdf",
            "",
        ]
    )
    contents = st.one_of(
        st.sampled_from(
            [
                b"",
                b"%PDF-1.4\n%garbage",
                b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
                b"\xff\xd8\xff\xe0garbage",
                b"PK\x03\x04not really a zip",
                b"nama,telepon\n<kimfuzz-1>,0812\n",
                b"nama;no_wa\n\x00;' OR 1=1 --\n",
                b"\xef\xbb\xbfnama,posisi\n" + "é".encode("latin-1") * 10,
            ]
        ),
        st.binary(max_size=200),
    )
    return st.tuples(contents, names)


def image_bytes(kind: str) -> bytes:
    """A small picture encoded as ``kind`` (JPEG, PNG)."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 60)).save(out, kind)
    return out.getvalue()


def good_file() -> st.SearchStrategy[tuple[bytes, str]]:
    """A file a form may accept: a photo, a list of people, a small PDF."""
    return st.sampled_from(
        [
            (image_bytes("JPEG"), "foto.jpg"),
            (image_bytes("PNG"), "sk.png"),
            (b"nama,nomor whatsapp,instansi\nAni <kimfuzz-1>,081234567890,Dinas\n", "daftar.csv"),
            (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "sk.pdf"),
        ]
    )


def killers(n: int) -> list[str]:
    """Values sent in every field at once, for each form: the inputs most likely to break a
    parser (a 10,000-digit number, a digit ``int()`` refuses, a number too big for a date, NUL,
    SQL, markup, long RTL text)."""
    return [
        "",
        "9" * 10_000,
        "²",
        "9" * 15,  # a millisecond time from the year 33658
        "-1",
        "a\x00b",
        "' OR 1=1 --",
        f"<kimfuzz-{n}>\"'",
        "ك" * 10_000,
    ]


def killer_values(form: Form, value: str, keep: frozenset[str]) -> dict:
    """``value`` in every field of ``form`` (and as the first named button's value)."""
    data: dict[str, list] = {}
    for name, item in form.fields.items():
        if name in keep:
            data[name] = [item.value]
        elif item.kind == "file":
            data[name] = [(value.encode(), f"{value[:40]}.csv")]
        else:
            data[name] = [value]
    if form.buttons:
        data.setdefault(form.buttons[0][0], []).append(value)
    return data


@st.composite
def form_values(
    draw, form: Form, n: int, *, keep: frozenset[str] = frozenset(), only_plausible: bool = False
) -> dict:
    """Values for every field of ``form``: all plausible, all plausible but one, or any mix;
    sometimes a key twice or a field left out. ``keep`` names fields sent as the page gave them;
    ``only_plausible`` sends what a person might type, with markers, and no side-step button."""
    names = [name for name in form.fields if name not in keep]
    modes = ["plausible"] if only_plausible else ["plausible", "one", "one", "chaos"]
    mode = draw(st.sampled_from(modes))
    odd = draw(st.sampled_from(names)) if names and mode == "one" else None
    data: dict[str, list] = {}
    for name, item in form.fields.items():
        if name in keep:
            data[name] = [item.value]
            continue
        hostile = (mode == "chaos" and draw(st.booleans())) or name == odd
        if item.kind == "file":
            data[name] = [draw(upload(n) if hostile else good_file())]
            continue
        if item.kind == "checkbox" and not hostile:
            ticked = draw(st.lists(st.sampled_from(item.options), unique=True))
            if ticked:  # none ticked: the browser sends nothing
                data[name] = ticked
            continue
        if item.kind == "radio" and not hostile and not draw(st.booleans()):
            continue
        value = draw(payload(n) if hostile else plausible(item, n, marked=only_plausible))
        data[name] = [value]
        if hostile and draw(st.integers(0, 4)) == 0:
            data[name].append(draw(payload(n)))  # the same key twice
    # a named button is the action when the form has no plain one; else a side step (a new row)
    side_step = not only_plausible and draw(st.integers(0, 3)) == 0
    if form.buttons and (not form.plain_submit or side_step):
        name, value = draw(st.sampled_from(form.buttons))
        data.setdefault(name, []).append(draw(payload(n)) if mode == "chaos" else value)
    return data


@st.composite
def query_values(draw, names: list[str], n: int) -> dict:
    """A query string over some of ``names``: hostile values, sometimes a key twice."""
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    data: dict[str, list[str]] = {}
    for name in chosen:
        data[name] = [draw(payload(n))]
        if draw(st.integers(0, 5)) == 0:
            data[name].append(draw(payload(n)))
    return data
