"""Workflow diagrams: Mermaid text and the standalone SVG drawn for funders."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grants.workflow.definition import definition_from_data
from grants.workflow.diagram import BACK, layers, render, to_mermaid, to_svg

SVG = "http://www.w3.org/2000/svg"
NS = {"svg": SVG}
ROOT = Path(__file__).resolve().parent.parent

TRICKY_STATE = 'Review <&"> مراجعة'
TRICKY_TRANSITION = 'إرجاع & "return" <now>'


def data() -> dict:
    return {
        "id": "application",
        "version": 3,
        "title": "Application",
        "initial": "draft",
        "states": {
            "draft": {"title": "Draft"},
            "submitted": {"title": "Submitted"},
            "review": {"title": TRICKY_STATE},
            "awarded": {"title": "Awarded", "final": True},
            "declined": {"title": "Declined", "final": True},
            "withdrawn": {"title": "Withdrawn", "final": True},
            "legacy": {"title": "Legacy import"},  # reachable from nowhere
        },
        "transitions": [
            {"trigger": "submit", "title": "Submit", "from": "draft", "to": "submitted", "permission": "edit"},
            {"trigger": "assign", "title": "Send to review", "from": "submitted", "to": "review", "permission": "x"},
            {"trigger": "returned", "title": "Return to applicant", "from": "review", "to": "draft", "permission": "x"},
            {"trigger": "award", "title": "Award", "from": "review", "to": "awarded", "permission": "x"},
            {"trigger": "decline", "title": TRICKY_TRANSITION, "from": "review", "to": "declined", "permission": "x"},
            {"trigger": "lapse", "title": "Lapse", "from": "submitted", "to": "declined", "permission": "x",
             "at": "due"},
            {"trigger": "withdraw", "title": "Withdraw", "from": ["draft", "submitted"], "to": "withdrawn",
             "permission": "edit"},
            {"trigger": "comment", "title": "Comment", "from": "review", "to": "review", "permission": "x"},
            {"trigger": "revive", "title": "Revive", "from": "legacy", "to": "draft", "permission": "x"},
        ],
    }


@pytest.fixture
def definition():
    return definition_from_data(data())


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode("utf-8"))


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{{{SVG}}}text")]


def state_rect(root: ET.Element, state_id: str) -> dict[str, float]:
    group = root.find(f".//svg:g[@id='state-{state_id}']", NS)
    assert group is not None, state_id
    rect = group.find("svg:rect[@class='box']", NS)
    return {k: float(rect.get(k)) for k in ("x", "y", "width", "height")}


def path_ends(d: str) -> tuple[tuple[float, float], tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return (numbers[0], numbers[1]), (numbers[-2], numbers[-1])


# -- SVG ---------------------------------------------------------------------------------


def test_svg_is_a_standalone_svg_document(definition):
    svg = to_svg(definition)
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = parse(svg)
    assert root.tag == f"{{{SVG}}}svg"
    assert root.get("version") == "1.1"
    assert root.find("svg:title", NS).text == "Application (version 3)"
    # The canvas is sized to what is drawn: every box lies inside the viewBox.
    vx, vy, vw, vh = (float(n) for n in root.get("viewBox").split())
    assert (float(root.get("width")), float(root.get("height"))) == (vw, vh)
    for state_id in definition.states:
        r = state_rect(root, state_id)
        assert vx <= r["x"] and r["x"] + r["width"] <= vx + vw
        assert vy <= r["y"] and r["y"] + r["height"] <= vy + vh


def test_svg_draws_one_box_per_state_and_names_every_state_and_transition(definition):
    root = parse(to_svg(definition))
    boxes = root.findall(".//svg:rect[@class='box']", NS)
    assert len(boxes) == len(definition.states) == 7
    groups = root.findall(".//svg:g[@class='state']", NS)
    assert [g.get("id") for g in groups] == [f"state-{s}" for s in ("draft", "submitted", "withdrawn", "review",
                                                                     "declined", "awarded", "legacy")]
    found = texts(root)
    for state in definition.states.values():
        assert state.title in found
        assert state.id in found  # the id, small and grey, under the title
    labels = ["".join(t.itertext()) for t in root.findall(".//svg:text[@class='edge-label']", NS)]
    for t in definition.transitions:
        title = f"{t.title} (timed)" if t.at else t.title
        assert any(title in label for label in labels), title
    assert "Lapse (timed)" in labels
    assert "↻ Comment" in labels  # staying in the same state is listed in the box


def test_special_characters_and_arabic_round_trip(definition):
    svg = to_svg(definition)
    assert 'Review &lt;&amp;&quot;&gt; مراجعة' in svg  # escaped, not stripped
    found = texts(parse(svg))
    assert TRICKY_STATE in found
    assert TRICKY_TRANSITION in found
    for text in found:
        assert text.count("<") == text.count(">")  # nothing leaked out as markup


def test_characters_xml_forbids_do_not_break_the_document():
    raw = data()
    raw["title"] = "Bad\x00 title\x1b"
    raw["states"]["draft"]["title"] = "Draft\x07"
    root = parse(to_svg(definition_from_data(raw)))
    assert root.find("svg:title", NS).text == "Bad title (version 3)"
    assert "Draft" in texts(root)


def test_layers_follow_bfs_depth_with_unreachable_states_last(definition):
    assert layers(definition) == [["draft"], ["submitted", "withdrawn"], ["review", "declined"], ["awarded"],
                                  ["legacy"]]
    root = parse(to_svg(definition))
    y = {s: state_rect(root, s)["y"] for s in definition.states}
    assert y["draft"] < y["submitted"] == y["withdrawn"] < y["review"] == y["declined"] < y["awarded"] < y["legacy"]


def test_initial_state_has_a_start_dot_pointing_into_it(definition):
    root = parse(to_svg(definition))
    draft = state_rect(root, "draft")
    dot = root.find(".//svg:circle[@class='start']", NS)
    assert float(dot.get("cy")) < draft["y"]
    arrow = root.find(".//svg:path[@class='start']", NS)
    _, end = path_ends(arrow.get("d"))
    assert end == (float(dot.get("cx")), draft["y"])


def test_final_states_have_a_double_border(definition):
    root = parse(to_svg(definition))
    for state in definition.states.values():
        group = root.find(f".//svg:g[@id='state-{state.id}']", NS)
        assert len(group.findall("svg:rect", NS)) == (2 if state.final else 1), state.id


def test_edges_use_a_defined_arrow_marker(definition):
    root = parse(to_svg(definition))
    markers = {m.get("id") for m in root.findall("svg:defs/svg:marker", NS)}
    edges = root.findall(".//svg:path[@class='edge']", NS)
    # one path per (transition, source) that leaves its state, one loop for review's Comment
    assert len(edges) == sum(len(t.sources) for t in definition.transitions if t.dest not in t.sources) + 1
    for path in edges:
        assert re.fullmatch(r"url\(#(.+)\)", path.get("marker-end")).group(1) in markers
    dashed = [p for p in edges if p.get("stroke-dasharray")]
    assert len(dashed) == 1  # only the timed "Lapse"


def test_back_edge_is_drawn_from_the_later_state_into_the_earlier_one(definition):
    root = parse(to_svg(definition))
    draft, review = state_rect(root, "draft"), state_rect(root, "review")
    back = [p for p in root.findall(".//svg:path[@class='edge']", NS) if p.get("stroke") == BACK]
    assert len(back) == 1, "only 'returned' goes back to an earlier step ('revive' starts nowhere reachable)"
    (sx, sy), (ex, ey) = path_ends(back[0].get("d"))
    assert sy == review["y"] and review["x"] < sx < review["x"] + review["width"]
    assert ey == draft["y"] + draft["height"] and draft["x"] < ex < draft["x"] + draft["width"]
    label = [t for t in root.findall(".//svg:text[@class='edge-label']", NS) if t.text == "Return to applicant"]
    assert [t.get("fill") for t in label] == [BACK]
    assert any("orange: goes back to an earlier step" in t for t in texts(root))


def test_upward_edge_that_closes_no_cycle_is_not_called_going_back():
    raw = data()
    raw["transitions"] = [t for t in raw["transitions"] if t["trigger"] != "returned"]
    root = parse(to_svg(definition_from_data(raw)))
    assert not [p for p in root.findall(".//svg:path", NS) if p.get("stroke") == BACK]
    assert not any("orange" in t for t in texts(root))


def test_extensions_are_listed_in_the_footer(definition):
    assert not any("Plugin extensions" in t for t in texts(parse(to_svg(definition))))
    extended = dataclasses.replace(definition, extensions=("acme: add guard <due_diligence> & more",))
    found = texts(parse(to_svg(extended)))
    assert "Plugin extensions applied:" in found
    assert "acme: add guard <due_diligence> & more" in found


def test_svg_is_deterministic(definition):
    assert to_svg(definition) == to_svg(definition_from_data(data()))
    assert to_mermaid(definition) == to_mermaid(definition_from_data(data()))


def test_svg_does_not_depend_on_string_hashing():
    script = (
        "import json, sys; from grants.workflow.definition import definition_from_data;"
        "from grants.workflow.diagram import to_svg;"
        "sys.stdout.write(to_svg(definition_from_data(json.loads(sys.stdin.read()))))"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
        done = subprocess.run(
            [sys.executable, "-c", script], input=json.dumps(data()), capture_output=True, text=True,
            env=env, cwd=ROOT, check=True, encoding="utf-8",
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert outputs.pop() == to_svg(definition_from_data(data()))


# -- Mermaid -------------------------------------------------------------------------------


def test_mermaid_state_diagram(definition):
    text = to_mermaid(definition)
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "stateDiagram-v2"
    assert "[*] --> draft" in lines
    assert 'state "Draft" as draft' in lines
    assert 'state "Review #lt;#amp;#quot;#gt; مراجعة" as review' in lines
    # one edge per transition source, labelled with its title
    assert "draft --> withdrawn : Withdraw" in lines
    assert "submitted --> withdrawn : Withdraw" in lines
    assert "submitted --> declined : Lapse (timed)" in lines
    assert "review --> draft : Return to applicant" in lines
    edges = [line for line in lines if "-->" in line and "[*]" not in line]
    assert len(edges) == sum(len(t.sources) for t in definition.transitions)
    finals = sorted(line for line in lines if line.endswith("--> [*]"))
    assert finals == ["awarded --> [*]", "declined --> [*]", "withdrawn --> [*]"]


def test_mermaid_escapes_what_would_break_its_syntax():
    raw = data()
    raw["states"]["draft"]["title"] = 'Draft: "first"; #1 {x}'
    raw["transitions"][0]["title"] = "Submit: now"
    lines = to_mermaid(definition_from_data(raw)).splitlines()
    assert '    state "Draft#colon; #quot;first#quot;#59; #35;1 #123;x#125;" as draft' in lines
    assert "    draft --> submitted : Submit#colon; now" in lines


def test_mermaid_notes_extensions_as_comments(definition):
    assert "%%" not in to_mermaid(definition).split("\n", 2)[2]  # only the title comment
    extended = dataclasses.replace(definition, extensions=("acme: insert state due_diligence", "beta: add effect"))
    comments = [line.strip() for line in to_mermaid(extended).splitlines() if line.strip().startswith("%%")]
    assert comments[1:] == ["%% extension: acme: insert state due_diligence", "%% extension: beta: add effect"]


# -- render ----------------------------------------------------------------------------------


def test_render_dispatches_and_rejects_unknown_formats(definition):
    assert render(definition, "svg") == to_svg(definition)
    assert render(definition, "mermaid") == to_mermaid(definition)
    with pytest.raises(ValueError, match=r"'png'.*svg, mermaid"):
        render(definition, "png")
