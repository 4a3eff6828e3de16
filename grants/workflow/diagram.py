"""Draw a workflow definition: Mermaid text for developers, a standalone SVG for funders.

Pure standard library on purpose: the SVG layout is computed here rather than by
Graphviz, so drawing a workflow needs no binary on the server and no new dependency.
Both outputs are deterministic (same definition -> byte-identical text), which lets
them be committed to docs and compared in review.
"""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from .definition import Definition, Transition

__all__ = ["FORMATS", "Words", "layers", "render", "to_mermaid", "to_svg"]

FORMATS = ("svg", "mermaid")


def render(d: Definition, fmt: str) -> str:
    if fmt == "svg":
        return to_svg(d)
    if fmt == "mermaid":
        return to_mermaid(d)
    raise ValueError(f"unknown diagram format {fmt!r} (expected one of: {', '.join(FORMATS)})")


@dataclass(frozen=True)
class Words:
    """What a drawing writes besides its lines: by default English with each state's id
    under its title, for developers and the workflow editor.  A public page passes the
    reader's words — ``title`` translates a workflow's, state's or step's title, the
    other texts are already translated — and no ids (this module imports no Pyramid)."""

    title: Callable[[str], str] = lambda text: text
    timed: Callable[[str], str] = lambda title: f"{title} (timed)"
    heading: Callable[[str, int], str] = lambda title, version: f"{title} — version {version}"
    name: Callable[[str, int], str] = lambda title, version: f"{title} (version {version})"
    legend: dict[str, str] = field(default_factory=lambda: {
        "start": "● start", "final": "double border: end of the process",
        "timed": "dashed: happens automatically at a set date", "back": "orange: goes back to an earlier step"})
    ids: bool = True  # each state's id under its title, and the plugins' changes described
    extensions: str = "Plugin extensions applied:"


ENGLISH = Words()


def _label(t: Transition, words: Words = ENGLISH) -> str:
    # Timed transitions are fired by `grants tick`, not by a person; readers need to know.
    title = words.title(t.title)
    return words.timed(title) if t.at else title


# -- Mermaid -------------------------------------------------------------------------

# Mermaid decodes `#name;` / `#123;` entity codes in labels; these characters would
# otherwise end a string, start an edge label, a statement or a composite state.
_MERMAID_ESCAPES = str.maketrans(
    {"#": "#35;", '"': "#quot;", ":": "#colon;", ";": "#59;", "&": "#amp;", "<": "#lt;", ">": "#gt;",
     "{": "#123;", "}": "#125;", "\n": " ", "\r": " "}
)


def _mermaid_text(text: str) -> str:
    return text.translate(_MERMAID_ESCAPES)


def to_mermaid(d: Definition) -> str:
    # Comments go after the header: not every Mermaid version skips them before it.
    lines = ["stateDiagram-v2", f"    %% {_one_line(d.title)} ({d.id} v{d.version})"]
    lines += [f"    %% extension: {_one_line(ext)}" for ext in d.extensions]
    for state in d.states.values():
        lines.append(f'    state "{_mermaid_text(state.title)}" as {state.id}')
    lines.append(f"    [*] --> {d.initial}")
    for t in d.transitions:
        for source in t.sources:
            lines.append(f"    {source} --> {t.dest} : {_mermaid_text(_label(t))}")
    for state in d.states.values():
        if state.final:
            lines.append(f"    {state.id} --> [*]")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- SVG -------------------------------------------------------------------------------

BOX_H = 52
LOOP_LINE = 15  # each transition that stays in its state adds a line to its box
ROW_GAP = 96  # vertical room between layers, where the labels of downward edges sit
COL_GAP = 70
LANE_GAP = 26  # from the outermost boxes to the first detour lane, and between lanes
TITLE_SIZE, STATE_SIZE, ID_SIZE, EDGE_SIZE, NOTE_SIZE = 16, 14, 10, 11, 11
INK, GREY, BACK = "#37474f", "#757575", "#b45f06"

# Characters XML 1.0 forbids outright; one in a label would make the document unparseable.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text_width(text: str, size: float) -> float:
    # No font metrics without a renderer: an average glyph is a little over 0.6 em in
    # common sans-serif fonts, and overestimating only costs some white space.
    return len(text) * size * 0.62


def _num(x: float) -> str:
    text = f"{x:.1f}".removesuffix(".0")
    return "0" if text == "-0" else text


def _xml(text: str) -> str:
    return escape(_XML_ILLEGAL.sub("", _one_line(text)), {'"': "&quot;"})


def layers(d: Definition) -> list[list[str]]:
    """State ids by BFS depth from the initial state; unreachable states form a last layer."""
    depth = {d.initial: 0}
    queue = deque([d.initial])
    while queue:
        state = queue.popleft()
        for t in d.transitions_from(state):
            if t.dest not in depth:
                depth[t.dest] = depth[state] + 1
                queue.append(t.dest)
    rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for state_id in depth:  # BFS discovery order keeps the layout stable
        rows[depth[state_id]].append(state_id)
    unreachable = [s for s in d.states if s not in depth]
    if unreachable:
        rows.append(unreachable)
    # One barycentre pass: put each state under the states that lead to it, which
    # removes most crossings in the mostly-linear shapes grant workflows have.
    for i in range(1, len(rows)):
        above = {s: n for n, s in enumerate(rows[i - 1])}
        order = {s: n for n, s in enumerate(rows[i])}

        def key(s: str) -> tuple[float, int]:
            parents = [above[src] for t in d.transitions if t.dest == s for src in t.sources if src in above]
            return (sum(parents) / len(parents) if parents else float(len(above)), order[s])

        rows[i].sort(key=key)
    return rows


def _reaches(d: Definition) -> dict[str, set[str]]:
    # An edge drawn upwards only "goes back" if it closes a cycle: a Withdraw from a late
    # step into a final state that BFS happened to place high up is not going back.
    out = {s: {t.dest for t in d.transitions_from(s)} for s in d.states}
    reach: dict[str, set[str]] = {}
    for s in d.states:
        seen: set[str] = set()
        stack = [s]
        while stack:
            for n in out[stack.pop()] - seen:
                seen.add(n)
                stack.append(n)
        reach[s] = seen
    return reach


@dataclass
class _Box:
    cx: float
    top: float
    row: int
    h: float

    @property
    def bottom(self) -> float:
        return self.top + self.h


class _Canvas:
    """SVG fragments plus the bounding box they cover, so the canvas can be sized to fit."""

    def __init__(self, marker: str, words: Words = ENGLISH) -> None:
        self.marker = marker
        self.words = words
        self.edges: list[str] = []
        self.boxes: list[str] = []
        self.labels: list[str] = []
        self.x0 = self.y0 = float("inf")
        self.x1 = self.y1 = float("-inf")

    def cover(self, *points: tuple[float, float]) -> None:
        for x, y in points:
            self.x0, self.y0, self.x1, self.y1 = min(self.x0, x), min(self.y0, y), max(self.x1, x), max(self.y1, y)

    def text(self, x: float, y: float, text: str, size: float, attrs: str, backdrop: bool = False) -> None:
        w = _text_width(text, size)
        if backdrop:  # keeps a label legible where it sits on top of a line
            self.labels.append(
                f'<rect class="label-bg" x="{_num(x - w / 2 - 3)}" y="{_num(y - size)}" width="{_num(w + 6)}" '
                f'height="{_num(size * 1.35)}" rx="3" fill="#ffffff" fill-opacity="0.9"/>'
            )
        self.labels.append(
            f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="middle" {attrs}>{_xml(text)}</text>'
        )
        self.cover((x - w / 2 - 4, y - size - 2), (x + w / 2 + 4, y + size * 0.4))

    def edge_label(self, x: float, y: float, t: Transition, colour: str) -> None:
        self.text(x, y, _label(t, self.words), EDGE_SIZE, f'class="edge-label" fill="{colour}"', backdrop=True)

    def path(self, d: str, colour: str, dashed: bool = False, cls: str = "edge") -> str:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        arrow = f"{self.marker}-{'back' if colour == BACK else 'ink'}"
        return (
            f'<path class="{cls}" d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"{dash} '
            f'marker-end="url(#{arrow})"/>'
        )


def to_svg(d: Definition, *, standalone: bool = True, words: Words = ENGLISH) -> str:
    """An SVG document; ``standalone=False`` leaves out the XML declaration, for inlining in HTML;
    ``words`` the language it is written in (English with ids by default)."""
    rows = layers(d)
    # Transitions that stay in their state are listed inside its box rather than drawn
    # as loops with labels, which would collide with the edges arriving at the box.
    loops = {s: [t for t in d.transitions_from(s) if t.dest == s] for s in d.states}
    box_w = max(
        [150.0]
        + [_text_width(words.title(s.title), STATE_SIZE) + 32 for s in d.states.values()]
        + [_text_width(s.id, ID_SIZE) + 32 for s in d.states.values() if words.ids]
        + [_text_width("↻ " + _label(t, words), EDGE_SIZE) + 32 for ts in loops.values() for t in ts]
    )
    half = box_w / 2
    boxes: dict[str, _Box] = {}
    top = 100.0  # room for the heading and the start dot
    for r, row in enumerate(rows):
        for n, state_id in enumerate(row):
            cx = (n - (len(row) - 1) / 2) * (box_w + COL_GAP)
            boxes[state_id] = _Box(cx, top, r, BOX_H + LOOP_LINE * len(loops[state_id]))
        top += max(boxes[s].h for s in row) + ROW_GAP

    c = _Canvas(_xml(f"arrow-{d.id}-{d.version}"), words)
    c.text(0, 28, words.heading(words.title(d.title), d.version), TITLE_SIZE, f'font-weight="bold" fill="{INK}"')
    start = boxes[d.initial]
    c.boxes.append(f'<circle class="start" cx="{_num(start.cx)}" cy="{_num(start.top - 34)}" r="8" fill="{INK}"/>')
    arrow = f"M{_num(start.cx)},{_num(start.top - 26)} L{_num(start.cx)},{_num(start.top)}"
    c.edges.append(c.path(arrow, INK, cls="start"))
    c.cover((start.cx, start.top - 44))
    for state_id, b in boxes.items():
        _draw_state(c, d, state_id, b, box_w, loops[state_id])

    reach = _reaches(d)
    fanned: dict[tuple[str, str], int] = {}
    upward: list[tuple[int, int, Transition, list[_Box]]] = []
    for i, t in enumerate(d.transitions):
        dest = boxes[t.dest]
        ups = [boxes[s] for s in t.sources if boxes[s].row > dest.row]
        if ups:
            span = max(a.row for a in ups) - dest.row
            upward.append((span, i, t, ups))
        for source in t.sources:
            a = boxes[source]
            if a.row <= dest.row and a is not dest:
                # Edges between the same two states are fanned out so neither hides the other.
                k = fanned[(source, t.dest)] = fanned.get((source, t.dest), -1) + 1
                _edge(c, a, dest, half, k, t)

    # Upward edges leave the grid and climb a lane of their own outside it, so they never
    # pass behind a box; shorter detours take the inner lanes, to cross less.
    lanes = {1: max(b.cx for b in boxes.values()) + half + LANE_GAP}
    lanes[-1] = -lanes[1]
    used = {1: 0, -1: 0}
    for _, _, t, ups in sorted(upward, key=lambda u: u[:2]):
        dest = boxes[t.dest]
        lean = dest.cx + sum(a.cx for a in ups) / len(ups)
        side = 1 if lean > 0 else -1 if lean < 0 else (1 if used[1] <= used[-1] else -1)
        colour = BACK if any(s in reach[t.dest] for s in t.sources if boxes[s].row > dest.row) else INK
        lanes[side] += side * _detour(c, t, ups, dest, half, side, lanes[side], used[side], colour)
        used[side] += 1

    # The legend explains only the notation this drawing actually uses.
    legend = [words.legend["start"]]
    if any(s.final for s in d.states.values()):
        legend.append(words.legend["final"])
    if any(t.at for t in d.transitions):
        legend.append(words.legend["timed"])
    if any(f'stroke="{BACK}"' in e for e in c.edges):
        legend.append(words.legend["back"])
    notes = ["   ·   ".join(legend)]
    if d.extensions and words.ids:  # developers' descriptions, naming ids
        notes += [words.extensions, *d.extensions]
    y = c.y1 + 30
    for i, note in enumerate(notes):
        c.text(0, y + i * 16, note, NOTE_SIZE, f'class="note" fill="{GREY}"')

    pad = 16
    x0, y0 = c.x0 - pad, min(c.y0, 0) - pad
    width, height = c.x1 + pad - x0, c.y1 + pad - y0
    markers = "".join(
        f'<marker id="{c.marker}-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        # One marker per colour: SVG 1.1 has no context-stroke for an arrowhead to follow its line.
        for name, colour in (("ink", INK), ("back", BACK))
    )
    return "\n".join(
        [
            *(['<?xml version="1.0" encoding="UTF-8"?>'] if standalone else []),
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_num(width)}" height="{_num(height)}" '
            f'viewBox="{_num(x0)} {_num(y0)} {_num(width)} {_num(height)}" font-family="sans-serif">',
            f"<title>{_xml(words.name(words.title(d.title), d.version))}</title>",
            f"<defs>{markers}</defs>",
            f'<rect class="background" x="{_num(x0)}" y="{_num(y0)}" width="{_num(width)}" '
            f'height="{_num(height)}" fill="#ffffff"/>',
            # Edges first so that the opaque boxes hide any line passing behind them; labels last.
            *c.edges,
            *c.boxes,
            *c.labels,
            "</svg>",
        ]
    ) + "\n"


def _draw_state(c: _Canvas, d: Definition, state_id: str, b: _Box, box_w: float, loops: list[Transition]) -> None:
    state = d.states[state_id]
    x = b.cx - box_w / 2
    fill = "#eef6ee" if state.final else "#e8f0fe" if state_id == d.initial else "#ffffff"
    parts = [
        f'<rect class="box" x="{_num(x)}" y="{_num(b.top)}" width="{_num(box_w)}" height="{_num(b.h)}" rx="10" '
        f'fill="{fill}" stroke="{INK}" stroke-width="1.5"/>'
    ]
    if state.final:  # a double border marks an end of the process, as in UML
        parts.append(
            f'<rect class="box-inner" x="{_num(x + 4)}" y="{_num(b.top + 4)}" width="{_num(box_w - 8)}" '
            f'height="{_num(b.h - 8)}" rx="7" fill="none" stroke="{INK}" stroke-width="1"/>'
        )
    words = c.words
    lines = [
        (words.title(state.title), STATE_SIZE, f'fill="{INK}"', 23 if words.ids else 31),
        *([(state_id, ID_SIZE, f'fill="{GREY}" font-family="monospace"', 40)] if words.ids else []),
        *(
            (f"↻ {_label(t, words)}", EDGE_SIZE, f'class="edge-label" fill="{INK}"', BOX_H + 2 + n * LOOP_LINE)
            for n, t in enumerate(loops)
        ),
    ]
    for text, size, attrs, dy in lines:
        parts.append(
            f'<text x="{_num(b.cx)}" y="{_num(b.top + dy)}" font-size="{size}" text-anchor="middle" {attrs}>'
            f"{_xml(text)}</text>"
        )
    if loops:  # one small loop on the box's edge says "stays here"; the lines inside say how
        r, y = x + box_w, b.top + BOX_H / 2
        parts.append(c.path(f"M{_num(r)},{_num(y - 8)} c26,-14 26,30 0,16", INK))
    c.boxes.append(f'<g class="state" id="{_xml("state-" + state_id)}">{"".join(parts)}</g>')
    c.cover((x, b.top), (x + box_w + (24 if loops else 0), b.bottom))


def _edge(c: _Canvas, a: _Box, b: _Box, half: float, k: int, t: Transition) -> None:
    """A downward or sideways edge: one quadratic curve, straight when nothing is in its way."""
    spread = (k + 1) // 2 * (1 if k % 2 else -1)  # 0, +1, -1, +2, ... for parallel edges
    if b.row > a.row:  # bottom of one box to the top of the other
        p0 = (a.cx + max(-half / 2, min(half / 2, (b.cx - a.cx) / 4)), a.bottom)
        p1 = (b.cx + max(-half / 2, min(half / 2, (a.cx - b.cx) / 4)), b.top)
        # Skipping layers would run through the boxes in between: bow out to the side.
        bow = 80 * (b.row - a.row - 1) + 40 * abs(spread)
        stack = 1
        ctrl = ((p0[0] + p1[0]) / 2 + (1 if spread >= 0 else -1) * bow, (p0[1] + p1[1]) / 2)
    else:  # same layer: arc above when going right, below when going left, so a pair separates
        up = b.cx > a.cx
        stack = -1 if up else 1  # away from the boxes
        p0, p1 = (a.cx, a.top if up else a.bottom), (b.cx, b.top if up else b.bottom)
        y = min(p0[1], p1[1]) if up else max(p0[1], p1[1])
        ctrl = ((a.cx + b.cx) / 2, y + (-1 if up else 1) * (36 + 30 * abs(spread)))
    d = f"M{_num(p0[0])},{_num(p0[1])} Q{_num(ctrl[0])},{_num(ctrl[1])} {_num(p1[0])},{_num(p1[1])}"
    c.edges.append(c.path(d, INK, bool(t.at)))
    # The curve's midpoint (t=0.5) carries the label and bounds the bulge; parallel edges'
    # labels are also stacked, as bowing alone leaves them overlapping.
    mid = ((p0[0] + 2 * ctrl[0] + p1[0]) / 4, (p0[1] + 2 * ctrl[1] + p1[1]) / 4)
    c.cover(p0, p1, mid)
    c.edge_label(mid[0], mid[1] + 4 + stack * 15 * k, t, INK)


def _detour(
    c: _Canvas, t: Transition, ups: list[_Box], dest: _Box, half: float, side: int, lane: float, slot: int, colour: str
) -> float:
    """Draw a transition's upward edges through the lane at x=``lane``; return the width it took."""
    off = 14 + 8 * (slot % 3)  # neighbouring lanes run their horizontal legs at different heights
    inset = side * (half - 16 - 10 * (slot % 3))
    y_end = dest.bottom + off
    for a in ups:
        points = [
            (a.cx + inset, a.top), (a.cx + inset, a.top - off), (lane, a.top - off),
            (lane, y_end), (dest.cx + inset, y_end), (dest.cx + inset, dest.bottom),
        ]
        c.edges.append(c.path(_rounded(points), colour, bool(t.at)))
        c.cover((lane, a.top - off), (lane, y_end))
    # The label sits just outside its lane; the next lane starts beyond it.
    w = _text_width(_label(t, c.words), EDGE_SIZE)
    c.edge_label(lane + side * (w / 2 + 6), (y_end + max(a.top for a in ups) - off) / 2 + 4, t, colour)
    return w + 12 + LANE_GAP


def _rounded(points: list[tuple[float, float]], r: float = 8.0) -> str:
    """Path data for an orthogonal polyline with rounded corners."""
    out = [f"M{_num(points[0][0])},{_num(points[0][1])}"]
    for (x0, y0), (x1, y1), (x2, y2) in zip(points, points[1:], points[2:]):
        d1, d2 = abs(x1 - x0) + abs(y1 - y0), abs(x2 - x1) + abs(y2 - y1)  # legs are axis-parallel
        r1, r2 = min(r, d1 / 2), min(r, d2 / 2)
        ax, ay = (x1 - (x1 - x0) / d1 * r1, y1 - (y1 - y0) / d1 * r1) if d1 else (x1, y1)
        bx, by = (x1 + (x2 - x1) / d2 * r2, y1 + (y2 - y1) / d2 * r2) if d2 else (x1, y1)
        out.append(f"L{_num(ax)},{_num(ay)} Q{_num(x1)},{_num(y1)} {_num(bx)},{_num(by)}")
    out.append(f"L{_num(points[-1][0])},{_num(points[-1][1])}")
    return " ".join(out)
