"""Bar charts as server-rendered SVG: no script, no CDN, readable without JavaScript.

:func:`bar_chart` draws stacked bars (one colour per series) with labelled axes in a
``viewBox``, so the picture scales to any width (a phone's 390 px as a desktop's). The
chart is ``role="img"`` with a title and description; the page puts the same numbers in a
table next to it for screen readers and for people who prefer numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 480
HEIGHT = 260
LEFT = 58
RIGHT = 8
TOP = 14
BOTTOM = 54
# Colours that keep 3:1 contrast against white and differ for common colour blindness.
PALETTE = ("#1f5fa8", "#c2571a", "#2b7a3d", "#7b3fa0", "#a3262f", "#00707a", "#6b5a00", "#4a4a4a")
FAILURE = "#b00020"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    colour: str = ""


def nice_step(top: int, ticks: int = 4) -> int:
    """A round step (1, 2, 5 x 10^n) so that ``ticks`` steps reach ``top``."""
    if top <= ticks:
        return 1
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return int(m * power)
    return int(10 * power)  # pragma: no cover


def colours(n: int) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    categories: Sequence[str],
    series: Sequence[Series],
    marked: Sequence[int] = (),
    mark_label: str = "",
    label_every: int = 1,
) -> Markup:
    """An SVG of stacked bars: one bar per category, one segment per series.

    ``marked`` are category indexes drawn with a red triangle above the bar (failed runs),
    explained by ``mark_label`` in the bar's tooltip. Every ``label_every``-th category is
    written under the axis.
    """
    n = max(len(categories), 1)
    totals = [sum(int(s.values[i]) for s in series) for i in range(len(categories))]
    step = nice_step(max(totals, default=0))
    ticks = max(1, math.ceil(max(totals, default=0) / step))
    top = step * ticks
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    bar_w = max(2.0, slot * 0.7)
    base = TOP + plot_h
    parts: list[str] = [
        f'<svg id="{escape(chart_id)}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>',
    ]
    # grid and the y axis
    for k in range(ticks + 1):
        y = base - plot_h * k / ticks
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" class="tick">{step * k}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" class="axis"/>')
    parts.append(f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" class="axis"/>')
    # bars
    for i, name in enumerate(categories):
        x = LEFT + slot * i + (slot - bar_w) / 2
        y = float(base)
        for s in series:
            v = int(s.values[i])
            if not v:
                continue
            h = plot_h * v / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{escape(s.colour)}">'
                f"<title>{escape(name)}: {escape(s.name)} {v}</title></rect>"
            )
        if i in marked:
            cx = x + bar_w / 2
            ty = min(y, base) - 3
            parts.append(
                f'<path d="M{cx - 5:.1f} {ty - 8:.1f} L{cx + 5:.1f} {ty - 8:.1f} L{cx:.1f} {ty:.1f} Z" '
                f'fill="{FAILURE}" class="mark"><title>{escape(name)}: {escape(mark_label)}</title></path>'
            )
        if i % label_every == 0 or (i == len(categories) - 1 and len(categories) <= 12):
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{base + 17}" text-anchor="middle" class="tick">{escape(name)}</text>'
            )
    # axis labels
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="axis-label">'
        f"{escape(x_label)}</text>"
    )
    parts.append(
        f'<text transform="translate(14 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
        f'class="axis-label">{escape(y_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))
