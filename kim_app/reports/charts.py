"""Charts drawn on the server as inline SVG: no chart library, no JavaScript.

Each chart is an ``<svg role="img">`` sized by its viewBox (CSS makes it 100 % wide), labelled by
its ``<title>`` and ``<desc>`` (the numbers in words), with a text label on every bar so colour
never carries meaning alone. Only presentation attributes — no ``style`` (the CSP forbids it).
The page puts each chart in a ``<figure>`` with a caption and a table of the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320  # viewBox units; about one CSS pixel each on a 360 px phone
FONT = 13
BAR = "#0b5cad"
TRACK = "#e6e9ee"
INK = "#1b1f24"
# dark enough for white text (≥ 4.5:1) and against the white page (≥ 3:1)
SERIES = ("#0b5cad", "#1d6b35", "#a11d1d", "#6b3fa0", "#7a4f00", "#00695c", "#ad1457", "#37474f")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as printed on the bar


@dataclass(frozen=True)
class Stack:
    """One column of a stacked chart: its label, and (series index, value, text) segments."""

    label: str
    segments: tuple[tuple[int, float, str], ...]
    total_text: str


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str]) -> Markup:
    head = (
        f'<svg id="{escape(chart_id)}" class="chart" width="100%" viewBox="0 0 {WIDTH} {height:g}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        f'font-size="{FONT}" fill="{INK}">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def bars(
    chart_id: str, title: str, desc: str, rows: list[Bar], maximum: float | None = None
) -> Markup:
    """Horizontal bars, one per row: the label and the value on a line, the bar under them.

    ``maximum`` fixes the scale (100 for percentages); otherwise the largest value fills it.
    """
    top = maximum or max((r.value for r in rows), default=0) or 1
    step = 36
    body = []
    for i, row in enumerate(rows):
        y = i * step
        width = max(0.0, min(1.0, row.value / top)) * WIDTH
        body.append(
            f'<text x="0" y="{y + 13}">{escape(row.label)}</text>'
            f'<text x="{WIDTH}" y="{y + 13}" text-anchor="end" font-weight="700">'
            f"{escape(row.text)}</text>"
            f'<rect x="0" y="{y + 18}" width="{WIDTH}" height="12" fill="{TRACK}"/>'
            f'<rect x="0" y="{y + 18}" width="{width:.1f}" height="12" fill="{BAR}"/>'
        )
    return _svg(chart_id, title, desc, max(step * len(rows), step), body)


def share_bar(chart_id: str, title: str, desc: str, parts: list[Bar]) -> Markup:
    """One bar split into parts (e.g. women, men, not given), with a labelled key under it."""
    total = sum(p.value for p in parts)
    body, x = [], 0.0
    for i, part in enumerate(parts):
        width = part.value / total * WIDTH if total else 0
        if width:
            body.append(
                f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="28" fill="{SERIES[i]}"/>'
            )
            if width > 40:
                body.append(
                    f'<text x="{x + 4:.1f}" y="19" fill="#fff" font-weight="700">'
                    f"{escape(part.text)}</text>"
                )
        x += width
    if not total:
        body.append(f'<rect x="0" y="0" width="{WIDTH}" height="28" fill="{TRACK}"/>')
    for i, part in enumerate(parts):
        y = 44 + i * 20
        body.append(
            f'<rect x="0" y="{y - 11}" width="12" height="12" fill="{SERIES[i]}"/>'
            f'<text x="18" y="{y}">{escape(part.label)}: {escape(part.text)}</text>'
        )
    return _svg(chart_id, title, desc, 44 + 20 * len(parts), body)


def stacked_columns(
    chart_id: str, title: str, desc: str, columns: list[Stack], key: list[str]
) -> Markup:
    """Columns (months) stacked by series (kinds), each column's total on top, a key below.

    A segment tall enough carries its own number; the table under the chart has them all.
    """
    plot_top, plot_height = 16, 140
    top = max((sum(v for _i, v, _t in c.segments) for c in columns), default=0) or 1
    slot = WIDTH / max(len(columns), 1)
    width = max(4.0, slot * 0.7)
    small = len(columns) > 12  # long ranges: smaller month labels
    body = [
        f'<line x1="0" y1="{plot_top + plot_height}" x2="{WIDTH}" '
        f'y2="{plot_top + plot_height}" stroke="#8a929c"/>'
    ]
    for c_index, column in enumerate(columns):
        x = c_index * slot + (slot - width) / 2
        y = plot_top + plot_height
        for series, value, text in column.segments:
            if not value:
                continue
            height = value / top * plot_height
            y -= height
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{SERIES[series % len(SERIES)]}"/>'
            )
            if height >= 14 and width >= 14:
                body.append(
                    f'<text x="{x + width / 2:.1f}" y="{y + height / 2 + 4:.1f}" fill="#fff" '
                    f'text-anchor="middle" font-size="10">{escape(text)}</text>'
                )
        centre = x + width / 2
        if any(v for _s, v, _t in column.segments):
            body.append(
                f'<text x="{centre:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-weight="700">{escape(column.total_text)}</text>'
            )
        body.append(
            f'<text x="{centre:.1f}" y="{plot_top + plot_height + 14}" text-anchor="middle" '
            f'font-size="{9 if small else 10}">{escape(column.label)}</text>'
        )
    key_top = plot_top + plot_height + 34
    for i, label in enumerate(key):
        y = key_top + i * 18
        body.append(
            f'<rect x="0" y="{y - 10}" width="12" height="12" fill="{SERIES[i % len(SERIES)]}"/>'
            f'<text x="18" y="{y}">{escape(label)}</text>'
        )
    return _svg(chart_id, title, desc, key_top + 18 * len(key), body)
