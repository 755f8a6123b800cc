"""A case's process as officers see it: an SVG drawn from a BPMN 2.0 file's own layout (BPMN DI).

The diagram is drawn where the modeller placed it (``bpmndi:BPMNShape`` bounds,
``bpmndi:BPMNEdge`` waypoints): tasks as rounded rectangles with their Chinese names wrapped
inside, events as circles (an end event's ring thicker), gateways as diamonds with their marker
(× exclusive, + parallel, ○ inclusive), sequence flows as arrows labelled with their name (or
their condition), pools and lanes as bands with their names. The current steps are outlined in
orange and named in text for screen readers (``aria-label="当前环节：…"``); done steps are
green with a tick.

The file is content, but read as untrusted text all the same: a document type declaration (the
door to entity expansion and external entities) is refused before parsing, and every name is
XML-escaped into the SVG.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

NS: Final = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
BPMN: Final = "{" + NS["bpmn"] + "}"
MAX_BYTES: Final = 2 * 1024 * 1024

TASKS: Final = frozenset(
    {
        "task",
        "userTask",
        "serviceTask",
        "scriptTask",
        "manualTask",
        "businessRuleTask",
        "sendTask",
        "receiveTask",
        "callActivity",
        "subProcess",
    }
)
EVENTS: Final = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
    }
)
GATEWAYS: Final = {
    "exclusiveGateway": "×",
    "parallelGateway": "+",
    "inclusiveGateway": "○",
    "eventBasedGateway": "◇",
    "complexGateway": "*",
}
FLOW_NODES: Final = TASKS | EVENTS | frozenset(GATEWAYS)

COLOURS: Final = {
    "stroke": "#3c4a5c",
    "fill": "#ffffff",
    "text": "#1f2933",
    "muted": "#5c6b7a",
    "lane": "#f5f7fa",
    "done_fill": "#e3f4e8",
    "done_stroke": "#1e7b3a",
    "current_fill": "#fff4e0",
    "current_stroke": "#d9480f",
}
FONT: Final = "'WenQuanYi Zen Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"


class DiagramError(ValueError):
    """The BPMN file cannot be drawn: unreadable, unsafe, or without its layout (BPMN DI)."""


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;", "'": "&apos;"})


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _parse(path: Path) -> ET.Element:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DiagramError(f"{path}: cannot read the process file ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise DiagramError(f"{path}: larger than {MAX_BYTES} bytes")
    # Read as UTF-8 text first, so that no other encoding can hide what is looked for next.
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DiagramError(f"{path}: not UTF-8 text") from None
    # No DTD, no entities: BPMN needs neither, and entity expansion (internal or external) is
    # where XML parsers are attacked. Without a DTD, expat has nothing to expand or fetch.
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise DiagramError(f"{path}: a document type declaration is not allowed")
    try:
        return ET.fromstring(text)  # noqa: S314 - no DTD can reach it (refused above)
    except ET.ParseError as exc:
        raise DiagramError(f"{path}: not well-formed XML ({exc})") from None


def _bounds(shape: ET.Element, path: Path, ref: str) -> Box:
    found = shape.find("dc:Bounds", NS)
    if found is None:
        raise DiagramError(f"{path}: the shape of {ref!r} has no dc:Bounds")
    try:
        return Box(*(float(found.attrib[k]) for k in ("x", "y", "width", "height")))
    except (KeyError, ValueError):
        raise DiagramError(f"{path}: the bounds of {ref!r} are not numbers") from None


def _name(el: ET.Element) -> str:
    """An element's name on one line: modellers break long names by hand, the SVG wraps them."""
    return " ".join((el.get("name") or "").split())


def _local(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Lines that fit ``width``: a CJK character is about one em wide, a Latin one half."""
    lines: list[str] = []
    line, used = "", 0.0
    for char in text.strip():
        w = size * (1.0 if ord(char) > 0x2E7F else 0.55)
        if line and used + w > width:
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += w
    if line:
        lines.append(line)
    return lines


def _text_block(
    lines: list[str], cx: float, cy: float, size: float, colour: str, *, halo: bool = False
) -> str:
    if not lines:
        return ""
    top = cy - (len(lines) - 1) * size * 1.2 / 2
    spans = "".join(
        f'<tspan x="{_num(cx)}" y="{_num(top + i * size * 1.2)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text font-size="{_num(size)}" fill="{colour}" text-anchor="middle"'
        # A halo keeps a label drawn over a line readable.
        + (' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else "")
        + f' dominant-baseline="central">{spans}</text>'
    )


def _state_style(element_id: str, current: set[str], done: set[str]) -> tuple[str, str, str]:
    """(fill, stroke, stroke width) of a step."""
    if element_id in current:
        return COLOURS["current_fill"], COLOURS["current_stroke"], "3"
    if element_id in done:
        return COLOURS["done_fill"], COLOURS["done_stroke"], "2"
    return COLOURS["fill"], COLOURS["stroke"], "1.5"


def _tick(x: float, y: float) -> str:
    return (
        f'<path d="M{_num(x)},{_num(y)} l4,4 l8,-9" fill="none"'
        f' stroke="{COLOURS["done_stroke"]}" stroke-width="2.5" stroke-linecap="round"/>'
    )


def _node(
    kind: str,
    element_id: str,
    name: str,
    box: Box,
    current: set[str],
    done: set[str],
    label: Box | None = None,
) -> str:
    fill, stroke, width = _state_style(element_id, current, done)
    state = " 当前环节" if element_id in current else " 已完成" if element_id in done else ""
    title = f"<title>{escape(name or element_id)}{state}</title>"
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    classes = (
        "step"
        + (" current" if element_id in current else "")
        + (" done" if element_id in done else "")
    )
    head = f'<g class="{classes} {kind}" data-id="{_attr(element_id)}">{title}'
    if kind in TASKS:
        body = (
            f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}"'
            f' height="{_num(box.h)}" rx="10" ry="10" fill="{fill}" stroke="{stroke}"'
            f' stroke-width="{width}"/>'
        )
        size = 13.0
        ticked = element_id in done and element_id not in current
        lines = _wrap(name, box.w - (36 if ticked else 12), size)
        max_lines = max(1, int((box.h - 6) // (size * 1.2)))
        if len(lines) > max_lines:
            lines = [*lines[: max_lines - 1], lines[max_lines - 1][:-1] + "…"]
        body += _text_block(lines, cx, cy, size, COLOURS["text"])
        if ticked:
            body += _tick(box.x + box.w - 20, box.y + 10)
        return head + body + "</g>"
    if kind in EVENTS:
        r = min(box.w, box.h) / 2
        ring = "4" if kind == "endEvent" else width
        body = (
            f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}" fill="{fill}"'
            f' stroke="{stroke}" stroke-width="{ring}"/>'
        )
        if kind.startswith("intermediate") or kind == "boundaryEvent":
            body += (
                f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(max(1.0, r - 3))}"'
                f' fill="none" stroke="{stroke}" stroke-width="1"/>'
            )
    else:
        body = (
            f'<polygon points="{_num(cx)},{_num(box.y)} {_num(box.x + box.w)},{_num(cy)}'
            f' {_num(cx)},{_num(box.y + box.h)} {_num(box.x)},{_num(cy)}" fill="{fill}"'
            f' stroke="{stroke}" stroke-width="{width}"/>'
            f'<text x="{_num(cx)}" y="{_num(cy)}" font-size="{_num(box.h * 0.45)}"'
            f' fill="{stroke}" text-anchor="middle" dominant-baseline="central">'
            f"{escape(GATEWAYS.get(kind, ''))}</text>"
        )
    # Events' and gateways' names stand where the modeller placed them (the shape's
    # BPMNLabel, kept clear of the flows' labels), else below them.
    if name and label is not None:
        lines = _wrap(name, max(label.w, 80), 12)
        body += _text_block(
            lines, label.x + label.w / 2, label.y + label.h / 2, 12, COLOURS["muted"]
        )
    elif name:
        lines = _wrap(name, max(box.w * 2.2, 80), 12)
        body += _text_block(lines, cx, box.y + box.h + 8 + len(lines) * 7, 12, COLOURS["muted"])
    return head + body + "</g>"


def _band(element_id: str, name: str, box: Box, pool: bool) -> str:
    size = 13.0
    label = 30.0
    lines = _wrap(name, box.h - 12, size)
    cx, cy = box.x + label / 2, box.y + box.h / 2
    text = ""
    if lines:
        text = (
            f'<g transform="rotate(-90 {_num(cx)} {_num(cy)})">'
            + _text_block(lines, cx, cy, size, COLOURS["text"])
            + "</g>"
        )
    return (
        f'<g class="{"pool" if pool else "lane"}" data-id="{_attr(element_id)}">'
        f"<title>{escape(name or element_id)}</title>"
        f'<rect x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}"'
        f' height="{_num(box.h)}" fill="{COLOURS["lane"] if pool else "none"}"'
        f' stroke="{COLOURS["muted"]}" stroke-width="1"/>'
        f'<line x1="{_num(box.x + label)}" y1="{_num(box.y)}" x2="{_num(box.x + label)}"'
        f' y2="{_num(box.y + box.h)}" stroke="{COLOURS["muted"]}" stroke-width="1"/>'
        f"{text}</g>"
    )


def _flow_label(flow: ET.Element) -> str:
    name = _name(flow)
    if name:
        return name
    condition = flow.find("bpmn:conditionExpression", NS)
    return "" if condition is None or condition.text is None else " ".join(condition.text.split())


def _edge(
    edge: ET.Element, flow: ET.Element, path: Path, ref: str, points: list[tuple[float, float]]
) -> str:
    label = _flow_label(flow)
    d = " ".join(f"{'M' if i == 0 else 'L'}{_num(x)},{_num(y)}" for i, (x, y) in enumerate(points))
    out = (
        f'<g class="flow" data-id="{_attr(ref)}">'
        + (f"<title>{escape(label)}</title>" if label else "")
        + f'<path d="{d}" fill="none" stroke="{COLOURS["stroke"]}" stroke-width="1.5"'
        ' marker-end="url(#arrow)"/>'
    )
    if label:
        placed = edge.find("bpmndi:BPMNLabel", NS)
        if placed is not None and placed.find("dc:Bounds", NS) is not None:
            box = _bounds(placed, path, ref)
            lx, ly = box.x + box.w / 2, box.y + box.h / 2
        else:
            middle = len(points) // 2
            (x1, y1), (x2, y2) = points[middle - 1], points[middle]
            lx, ly = (x1 + x2) / 2, (y1 + y2) / 2 - 10
        lines = _wrap(label, 110, 11)
        out += (
            '<g class="flow-label">'
            + _text_block(lines, lx, ly, 11, COLOURS["muted"], halo=True)
            + "</g>"
        )
    return out + "</g>"


def _names(elements: dict[str, ET.Element], ids: Iterable[str]) -> list[str]:
    return [(_name(elements[i]) or i) if i in elements else i for i in sorted(ids)]


def render_svg(bpmn_path: Path, *, current: set[str], done: set[str]) -> str:
    """The process of ``bpmn_path`` as an SVG document (text), with the steps in ``current``
    (BPMN element ids: a case's open tasks) highlighted and those in ``done`` marked. Raises
    :class:`DiagramError` for a file that cannot be drawn, naming what is missing."""
    root = _parse(bpmn_path)
    if root.tag != BPMN + "definitions":
        raise DiagramError(f"{bpmn_path}: not a BPMN 2.0 document (bpmn:definitions)")
    elements = {
        el.attrib["id"]: el for el in root.iter() if "id" in el.attrib and el.tag.startswith(BPMN)
    }
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    if plane is None:
        raise DiagramError(
            f"{bpmn_path}: no diagram layout (bpmndi:BPMNDiagram with a BPMNPlane); "
            "save the process from a BPMN modeller so its shapes and edges are kept"
        )
    shapes: dict[str, Box] = {}
    labels: dict[str, Box] = {}
    for shape in plane.findall("bpmndi:BPMNShape", NS):
        ref = shape.get("bpmnElement", "")
        shapes[ref] = _bounds(shape, bpmn_path, ref)
        placed = shape.find("bpmndi:BPMNLabel", NS)
        if placed is not None and placed.find("dc:Bounds", NS) is not None:
            labels[ref] = _bounds(placed, bpmn_path, ref)
    nodes = [el for el in elements.values() if _local(el.tag) in FLOW_NODES]
    unplaced = sorted(el.attrib["id"] for el in nodes if el.attrib["id"] not in shapes)
    if unplaced:
        raise DiagramError(
            f"{bpmn_path}: steps without a shape in the diagram layout: {', '.join(unplaced)}"
        )
    if not nodes:
        raise DiagramError(f"{bpmn_path}: the process has no steps to draw")
    unknown = sorted((current | done) - set(elements))
    if unknown:
        raise DiagramError(f"{bpmn_path}: no such steps in the process: {', '.join(unknown)}")

    xs: list[float] = []
    ys: list[float] = []
    bands: list[str] = []
    for box in labels.values():
        xs += [box.x, box.x + box.w]
        ys += [box.y, box.y + box.h]
    for ref, box in shapes.items():
        xs += [box.x, box.x + box.w]
        ys += [box.y, box.y + box.h]
        el = elements.get(ref)
        if el is not None and _local(el.tag) in ("participant", "lane"):
            bands.append(_band(ref, _name(el), box, _local(el.tag) == "participant"))
    flows: list[str] = []
    for edge in plane.findall("bpmndi:BPMNEdge", NS):
        ref = edge.get("bpmnElement", "")
        flow = elements.get(ref)
        if flow is None or _local(flow.tag) not in ("sequenceFlow", "messageFlow"):
            continue
        points: list[tuple[float, float]] = []
        for point in edge.findall("di:waypoint", NS):
            try:
                points.append((float(point.attrib["x"]), float(point.attrib["y"])))
            except (KeyError, ValueError):
                raise DiagramError(f"{bpmn_path}: a waypoint of {ref!r} is not a point") from None
        if len(points) < 2:
            raise DiagramError(f"{bpmn_path}: the flow {ref!r} has fewer than two waypoints")
        xs += [x for x, _ in points]
        ys += [y for _, y in points]
        flows.append(_edge(edge, flow, bpmn_path, ref, points))
    drawn = [
        _node(
            _local(el.tag),
            el.attrib["id"],
            _name(el),
            shapes[el.attrib["id"]],
            current,
            done,
            labels.get(el.attrib["id"]),
        )
        for el in nodes
    ]

    pad = 30.0
    left, top = min(xs) - pad, min(ys) - pad
    width, height = max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad + 20
    process = root.find("bpmn:process", NS)
    process_name = "" if process is None else (_name(process) or process.get("id") or "")
    now = "、".join(_names(elements, current))
    finished = "、".join(_names(elements, done))
    label = f"当前环节：{now}" if now else "当前环节：无（未开始或已办结）"
    desc_id = "process-desc-" + re.sub(r"[^A-Za-z0-9_-]", "-", bpmn_path.stem)
    desc = f"{process_name}流程图。{label}。" + (f"已完成：{finished}。" if finished else "")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg"'
        f' viewBox="{_num(left)} {_num(top)} {_num(width)} {_num(height)}"'
        f' width="{_num(width)}" height="{_num(height)}" role="img"'
        f' aria-label="{_attr(label)}" aria-describedby="{desc_id}"'
        f' font-family="{_attr(FONT)}" class="process-diagram">'
        f"<title>{escape(process_name)}流程图</title>"
        f'<desc id="{desc_id}">{escape(desc)}</desc>'
        "<defs>"
        '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8"'
        ' markerHeight="8" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{COLOURS["stroke"]}"/></marker>'
        "</defs>" + "".join(bands) + "".join(flows) + "".join(drawn) + "</svg>"
    )
