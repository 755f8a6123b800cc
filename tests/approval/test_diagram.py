"""The process diagram: an SVG drawn from the BPMN file's own layout, the current step outlined and
named for screen readers, done steps marked, every name escaped, unsafe or layout-less files
refused with a clear error."""

from __future__ import annotations

import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.approval.diagram import DiagramError, render_svg

DATA = Path(__file__).parent / "data"
BPMN = DATA / "approval-test.bpmn"
SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed, or this raises


def step(root: ET.Element, element_id: str) -> ET.Element:
    found = [g for g in root.iter(SVG + "g") if g.get("data-id") == element_id]
    assert len(found) == 1, element_id
    return found[0]


def test_shapes_follow_the_layout() -> None:
    root = parsed(render_svg(BPMN, current=set(), done=set()))
    assert root.get("role") == "img"
    # Tasks: rounded rectangles at their bounds; events: circles; the gateway: a diamond.
    review = step(root, "review").find(SVG + "rect")
    assert review is not None
    assert (review.get("x"), review.get("y"), review.get("width"), review.get("height")) == (
        "430",
        "290",
        "100",
        "80",
    )
    assert review.get("rx") == "10"
    start = step(root, "start").find(SVG + "circle")
    assert start is not None and (start.get("cx"), start.get("cy"), start.get("r")) == (
        "210",
        "150",
        "18",
    )
    end = step(root, "end").find(SVG + "circle")
    assert end is not None and end.get("stroke-width") == "4"  # an end event's thick ring
    gateway = step(root, "accepted").find(SVG + "polygon")
    assert gateway is not None and gateway.get("points") == "480,125 505,150 480,175 455,150"
    assert "×" in "".join(step(root, "accepted").itertext())
    # Flows: arrows along their waypoints.
    f3 = step(root, "f3").find(SVG + "path")
    assert f3 is not None and f3.get("d") == "M480,175 L480,290"
    assert f3.get("marker-end") == "url(#arrow)"
    assert len([g for g in root.iter(SVG + "g") if g.get("class") == "flow"]) == 7
    # The pool and its lanes, named.
    assert "受理窗口" in "".join(step(root, "lane-window").itertext())
    assert "审查科室" in "".join(step(root, "lane-review").itertext())
    assert "青岛市行政审批服务局" in "".join(step(root, "pool").itertext())
    # The viewBox holds every shape, with a margin.
    assert root.get("viewBox") == "70 30 960 440"


def test_names_are_wrapped_and_flows_labelled() -> None:
    root = parsed(render_svg(BPMN, current=set(), done=set()))
    lines = [t.text for t in step(root, "accept").iter(SVG + "tspan")]
    assert len(lines) > 1  # the long name is wrapped inside its box
    assert "".join(line or "" for line in lines).startswith("受理（窗口收件 & 审核材料")
    # A flow's name is its label; one without a name shows its condition.
    assert "予以受理" in "".join(step(root, "f3").itertext())
    assert 'outcome == "refuse" <>' in "".join(step(root, "f4").itertext())
    f3_label = [t for t in step(root, "f3").iter(SVG + "tspan")]
    assert f3_label[0].get("x") == "518" and f3_label[0].get("y") == "227"  # its DI label bounds


def test_a_gateway_or_event_name_stands_where_the_layout_places_it() -> None:
    root = parsed(render_svg(BPMN, current=set(), done=set()))
    # The gateway's BPMNLabel (x 440, y 95, 80 × 14): its name is centred there, clear of the
    # flows leaving it, not below the diamond where they run.
    named = [t for t in step(root, "accepted").iter(SVG + "tspan")]
    assert [(t.text, t.get("x"), t.get("y")) for t in named] == [("是否受理", "480", "102")]
    # The start event has no label bounds: its name goes below the circle (bottom at y 168).
    below = [t for t in step(root, "start").iter(SVG + "tspan")]
    assert below[0].text == "申请提交" and float(below[0].get("y") or 0) > 168


def test_the_current_step_is_outlined_and_named_for_screen_readers() -> None:
    svg = render_svg(BPMN, current={"review"}, done={"start", "accept", "accepted"})
    root = parsed(svg)
    assert root.get("aria-label") == "当前环节：审查"
    title = root.find(SVG + "title")
    assert title is not None and title.text == "测试审批流程流程图"
    desc = root.find(SVG + "desc")
    assert desc is not None and desc.get("id") == root.get("aria-describedby")
    assert "当前环节：审查" in (desc.text or "") and "已完成：" in (desc.text or "")
    review = step(root, "review")
    assert "current" in (review.get("class") or "").split()
    rect = review.find(SVG + "rect")
    assert rect is not None and rect.get("stroke") == "#d9480f" and rect.get("stroke-width") == "3"
    accept = step(root, "accept")
    assert "done" in (accept.get("class") or "").split()
    assert accept.find(SVG + "path") is not None  # the tick
    done_rect = accept.find(SVG + "rect")
    assert done_rect is not None and done_rect.get("fill") == "#e3f4e8"
    decide = step(root, "decide")
    assert (decide.get("class") or "").split() == ["step", "userTask"]
    assert step(root, "decide").find(SVG + "path") is None
    none = parsed(render_svg(BPMN, current=set(), done={"start"}))
    assert none.get("aria-label") == "当前环节：无（未开始或已办结）"


def test_unknown_steps_are_refused() -> None:
    with pytest.raises(DiagramError, match="no such steps in the process: nope"):
        render_svg(BPMN, current={"nope"}, done=set())


def without(tmp_path: Path, pattern: str, replacement: str = "") -> Path:
    text = BPMN.read_text(encoding="utf-8")
    changed = re.sub(pattern, replacement, text, flags=re.DOTALL)
    assert changed != text
    path = tmp_path / "changed.bpmn"
    path.write_text(changed, encoding="utf-8")
    return path


def test_a_file_without_its_layout_is_a_clear_error(tmp_path: Path) -> None:
    no_di = without(tmp_path, r"<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>")
    with pytest.raises(DiagramError, match="no diagram layout"):
        render_svg(no_di, current=set(), done=set())
    no_shape = without(tmp_path, r'<bpmndi:BPMNShape id="decide_di".*?</bpmndi:BPMNShape>')
    with pytest.raises(DiagramError, match="steps without a shape in the diagram layout: decide"):
        render_svg(no_shape, current=set(), done=set())
    one_point = without(
        tmp_path,
        r'(<bpmndi:BPMNEdge id="f5_di"[^>]*>\s*<di:waypoint[^>]*/>)\s*<di:waypoint[^>]*/>',
        r"\1",
    )
    with pytest.raises(DiagramError, match="'f5' has fewer than two waypoints"):
        render_svg(one_point, current=set(), done=set())
    no_bounds = without(
        tmp_path, r'(<bpmndi:BPMNShape id="issue_di"[^>]*>)\s*<dc:Bounds[^>]*/>', r"\1"
    )
    with pytest.raises(DiagramError, match="'issue' has no dc:Bounds"):
        render_svg(no_bounds, current=set(), done=set())
    with pytest.raises(DiagramError, match="cannot read"):
        render_svg(tmp_path / "missing.bpmn", current=set(), done=set())
    broken = tmp_path / "broken.bpmn"
    broken.write_text("<bpmn:definitions", encoding="utf-8")
    with pytest.raises(DiagramError, match="not well-formed"):
        render_svg(broken, current=set(), done=set())
    other = tmp_path / "other.bpmn"
    other.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    with pytest.raises(DiagramError, match=r"not a BPMN 2\.0 document"):
        render_svg(other, current=set(), done=set())


def test_entities_and_doctypes_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    text = BPMN.read_text(encoding="utf-8")
    external = text.replace(
        "<bpmn:definitions",
        f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>\n<bpmn:definitions',
        1,
    ).replace('name="审查"', 'name="&x;"')
    path = tmp_path / "xxe.bpmn"
    path.write_text(external, encoding="utf-8")
    with pytest.raises(DiagramError, match="document type declaration is not allowed"):
        render_svg(path, current=set(), done=set())
    laughs = text.replace(
        "<bpmn:definitions",
        '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        "<bpmn:definitions",
        1,
    )
    path.write_text(laughs, encoding="utf-8")
    with pytest.raises(DiagramError):
        render_svg(path, current=set(), done=set())


@given(st.text(min_size=1, max_size=40))
def test_any_name_is_escaped(name: str) -> None:
    # XML 1.0 cannot carry most control characters at all: such a name never reaches us.
    name = "".join(
        c
        for c in name
        if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"
    )
    if not name.strip():
        return
    attr = (
        name.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )
    text = BPMN.read_text(encoding="utf-8").replace('name="决定"', f'name="{attr}"')
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "named.bpmn"
        path.write_text(text, encoding="utf-8")
        svg = render_svg(path, current={"decide"}, done=set())
    root = parsed(svg)  # still well-formed, whatever the name
    assert root.get("aria-label") == f"当前环节：{' '.join(name.split())}"
    assert not any(el.tag in (SVG + "script", SVG + "foreignObject") for el in root.iter())
