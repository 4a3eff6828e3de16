"""Bar charts drawn on the server as SVG: no JavaScript, readable when printed.

Each chart is an image with a role, a title and a description (``role="img"``,
``aria-labelledby`` pointing at ``<title>`` and ``<desc>``); the page shows the same
figures in a table beside it, so nothing is only in the picture.  Numbers are written the
way the page's language writes them (babel), and on a right-to-left page the labels sit
on the right and the bars grow leftwards.

Labels arrive translated: this module knows no words, only geometry.

    svg = bar_chart("funnel", title, description, [Bar("Applied", 264), Bar("Funded", 11)], locale="ar")
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape


#: Colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by their labels too.
PALETTE = ("#1f5fa8", "#b35900", "#2e7d32", "#6a3d9a")
WIDTH = 640
LABEL_WIDTH = 190
VALUE_WIDTH = 90
BAR_HEIGHT = 18
GAP = 8
GROUP_GAP = 14
FONT = 13


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | Decimal
    series: int = 0  # which colour (and legend entry) it takes


@dataclass(frozen=True)
class Group:
    """Bars that belong together under a heading (a region's four stages)."""

    label: str | None
    bars: tuple[Bar, ...]


def format_number(value, locale: str) -> str:
    """``value`` as ``locale`` writes numbers, every decimal kept (grants.i18n.format_number)."""
    from grants.i18n import format_number as format_for_locale

    return format_for_locale(value, locale)


def _clip(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, description: str, bars_or_groups, *, locale: str = "en",
              rtl: bool = False, legend: list[str] | None = None, unit: str = "") -> str:
    """A horizontal bar chart as an SVG string.  ``bars_or_groups`` is a list of
    :class:`Bar` or of :class:`Group`; bars are scaled to the largest value in the chart
    (negative values are drawn as empty bars, their figure still written)."""
    items = list(bars_or_groups)
    groups = [g if isinstance(g, Group) else Group(None, (g,)) for g in items]
    if not any(isinstance(g, Group) for g in items):
        groups = [Group(None, tuple(items))]
    values = [max(Decimal(b.value), Decimal(0)) for g in groups for b in g.bars]
    largest = max(values, default=Decimal(0)) or Decimal(1)
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 16
    parts: list[str] = []
    y = 4
    legend = list(legend or ())
    if legend:
        x = WIDTH - 4 if rtl else 4
        for i, name in enumerate(legend):
            colour = PALETTE[i % len(PALETTE)]
            box_x = x - 12 if rtl else x
            parts.append(f'<rect x="{box_x}" y="{y}" width="12" height="12" fill="{colour}"/>')
            text_x = box_x - 4 if rtl else box_x + 16
            label = escape(name)
            parts.append(f'<text x="{text_x}" y="{y + 10}" font-size="{FONT - 1}" text-anchor="start" '
                         f'direction="{"rtl" if rtl else "ltr"}">{label}</text>')
            step = 24 + 7 * len(name)
            x = x - step if rtl else x + step
        y += 24
    for g in groups:
        if g.label is not None:
            text_x = WIDTH - 4 if rtl else 4
            parts.append(f'<text x="{text_x}" y="{y + FONT}" font-size="{FONT}" font-weight="bold" '
                         f'text-anchor="start" direction="{"rtl" if rtl else "ltr"}">{escape(_clip(g.label, 60))}</text>')
            y += FONT + 6
        for bar in g.bars:
            value = max(Decimal(bar.value), Decimal(0))
            length = float(value / largest * track) if largest else 0.0
            length = max(length, 1.0) if value > 0 else 0.0
            colour = PALETTE[bar.series % len(PALETTE)]
            figure = escape(format_number(bar.value, locale) + (f" {unit}" if unit else ""))
            label = escape(_clip(bar.label))
            text_y = y + BAR_HEIGHT - 5
            if rtl:
                start = WIDTH - LABEL_WIDTH - 8
                parts.append(f'<text x="{WIDTH - 4}" y="{text_y}" font-size="{FONT}" text-anchor="start" '
                             f'direction="rtl">{label}</text>')
                parts.append(f'<rect x="{start - length:.1f}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                             f'fill="{colour}"/>')
                parts.append(f'<text x="{start - length - 4:.1f}" y="{text_y}" font-size="{FONT}" '
                             f'text-anchor="end" direction="ltr">{figure}</text>')
            else:
                start = LABEL_WIDTH + 8
                parts.append(f'<text x="4" y="{text_y}" font-size="{FONT}" text-anchor="start">{label}</text>')
                parts.append(f'<rect x="{start}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" fill="{colour}"/>')
                parts.append(f'<text x="{start + length + 4:.1f}" y="{text_y}" font-size="{FONT}" '
                             f'text-anchor="start" direction="ltr">{figure}</text>')
            y += BAR_HEIGHT + GAP
        if g.label is not None:
            y += GROUP_GAP - GAP
    height = max(y + 4, 24)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    # The geometry is mirrored by hand; the root's direction stays ltr so that an Arabic
    # page's inherited direction does not flip the anchors a second time.
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="report-chart" role="img" '
            f'aria-labelledby="{title_id} {desc_id}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" direction="ltr" font-family="system-ui, sans-serif">'
            f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(description)}</desc>'
            + "".join(parts) + "</svg>")
