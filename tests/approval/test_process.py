"""The approval processes as data: each BPMN file parses (checked against the BPMN 2.0 and
SpiffWorkflow schemas), can be drawn (every element has its shape, every flow its edge), says
who does each step, and runs every path to its end in SpiffWorkflow, through a JSON round trip
at every step as a case keeps it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from shuhui.approval import process
from shuhui.core.content import ContentError

PROCESSES = ("approval-standard", "approval-countersign", "approval-instant")
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODES = ("startEvent", "endEvent", "userTask", "exclusiveGateway")


def run(process_id: str, outcomes: list[str]) -> tuple[list[str], set[str]]:
    """Runs the process choosing ``outcomes`` in turn at each ready step; returns the steps
    taken and the elements completed (the last end event among them)."""
    spec = process.load_process(process_id)
    workflow = process.start(spec, {"terms": {"department": "审批局"}})
    taken: list[str] = []
    for outcome in outcomes:
        # As a case keeps it: serialised to JSON text and read back between steps.
        workflow = process.loads(json.loads(json.dumps(process.dumps(workflow))))
        ready = process.ready_tasks(workflow)
        assert len(ready) == 1, ready
        process.complete(workflow, ready[0].id, outcome)
        taken.append(ready[0].step.id)
    assert process.is_finished(workflow)
    assert process.ready_tasks(workflow) == []
    assert workflow.data["terms"] == {"department": "审批局"}
    return taken, process.progress(workflow)[1]


@pytest.mark.parametrize(
    ("process_id", "outcomes", "steps", "end"),
    [
        (
            "approval-standard",
            ["accept", "pass", "approve", "issue"],
            ["accept", "review", "decide", "issue"],
            "end_issued",
        ),
        (
            "approval-standard",
            ["correct", "resubmit", "correct", "resubmit", "accept", "pass", "approve", "issue"],
            ["accept", "correct", "accept", "correct", "accept", "review", "decide", "issue"],
            "end_issued",
        ),
        (
            "approval-standard",
            ["accept", "pass", "reject"],
            ["accept", "review", "decide"],
            "end_rejected",
        ),
        (
            "approval-countersign",
            ["accept", "pass", "agree", "approve", "issue"],
            ["accept", "review", "countersign", "decide", "issue"],
            "end_issued",
        ),
        (
            "approval-countersign",
            ["correct", "resubmit", "accept", "pass", "disagree", "reject"],
            ["accept", "correct", "accept", "review", "countersign", "decide"],
            "end_rejected",
        ),
        (
            "approval-instant",
            ["approve", "issue"],
            ["accept_decide", "issue"],
            "end_issued",
        ),
        (
            "approval-instant",
            ["correct", "resubmit", "reject"],
            ["accept_decide", "correct", "accept_decide"],
            "end_rejected",
        ),
    ],
)
def test_every_path_runs_to_its_end(
    process_id: str, outcomes: list[str], steps: list[str], end: str
) -> None:
    taken, done = run(process_id, outcomes)
    assert taken == steps
    assert end in done
    other = {"end_issued", "end_rejected"} - {end}
    assert not done & other


def test_who_does_each_step() -> None:
    standard = process.load_process("approval-standard")
    assert {s.id: (s.name, s.role, s.department) for s in standard.steps.values()} == {
        "accept": ("受理", "accept", "item"),
        "correct": ("申请人补正", "resubmit", "applicant"),
        "review": ("审查", "review", "item"),
        "decide": ("决定", "decide", "item"),
        "issue": ("办结出证", "issue", "item"),
    }
    assert standard.steps["accept"].outcomes == ("accept", "correct")
    assert standard.steps["decide"].outcomes == ("approve", "reject")
    countersign = process.load_process("approval-countersign")
    assert countersign.steps["countersign"].department == "countersign"
    assert countersign.steps["countersign"].outcomes == ("agree", "disagree")
    instant = process.load_process("approval-instant")
    assert set(instant.steps) == {"accept_decide", "correct", "issue"}
    assert instant.steps["accept_decide"].outcomes == ("approve", "reject", "correct")
    for spec in (standard, countersign, instant):
        assert spec.reference.startswith("《中华人民共和国行政许可法》")
        assert spec.valid_from.isoformat() == "2019-04-23"
        assert any("\u4e00" <= c <= "\u9fff" for c in spec.name)


def test_loading_is_cached_and_paths_are_checked() -> None:
    assert process.load_process("approval-standard") is process.load_process("approval-standard")
    assert process.process_path("approval-instant").name == "approval-instant.bpmn"
    for bad in ("../secrets", "Approval", "", "a/b"):
        with pytest.raises(ValueError):
            process.process_path(bad)


@pytest.mark.parametrize("process_id", PROCESSES)
def test_the_diagram_can_be_drawn(process_id: str) -> None:
    """Every flow node has a shape with bounds, every sequence flow an edge of at least two
    waypoints that starts on its source's shape and ends on its target's."""
    tree = etree.parse(str(process.process_path(process_id)))
    shapes: dict[str, tuple[float, float, float, float]] = {}
    for shape in tree.iterfind(".//bpmndi:BPMNShape", NS):
        bounds = shape.find("dc:Bounds", NS)
        assert bounds is not None
        shapes[shape.get("bpmnElement")] = tuple(  # type: ignore[index, assignment]
            float(bounds.get(k)) for k in ("x", "y", "width", "height")
        )
    nodes = [n for kind in FLOW_NODES for n in tree.iterfind(f".//bpmn:{kind}", NS)]
    assert nodes
    for node in nodes:
        assert node.get("id") in shapes, node.get("id")

    def on(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
        x, y, w, h = box
        return x - 1 <= point[0] <= x + w + 1 and y - 1 <= point[1] <= y + h + 1

    edges = {e.get("bpmnElement"): e for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    flows = list(tree.iterfind(".//bpmn:sequenceFlow", NS))
    assert flows
    for flow in flows:
        edge = edges[flow.get("id")]
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        assert len(points) >= 2
        assert on(points[0], shapes[flow.get("sourceRef")]), flow.get("id")
        assert on(points[-1], shapes[flow.get("targetRef")]), flow.get("id")


@pytest.mark.parametrize("process_id", PROCESSES)
def test_gateways_read_the_outcome(process_id: str) -> None:
    """Each way out of a gateway is a condition on the outcome, and the outcomes a step offers
    are exactly the conditions of the gateway after it. A step with one way on offers one, but
    the countersign: its agreement or dissent is an opinion the decision reads, not a branch."""
    tree = etree.parse(str(process.process_path(process_id)))
    spec = process.load_process(process_id)
    flows = list(tree.iterfind(".//bpmn:sequenceFlow", NS))
    for step in spec.steps.values():
        (out,) = [f for f in flows if f.get("sourceRef") == step.id]
        target = out.get("targetRef")
        gateway = tree.find(f".//bpmn:exclusiveGateway[@id='{target}']", NS)
        if gateway is None:
            assert len(step.outcomes) == 1 or step.role == "countersign", step
            continue
        conditions = [
            f.findtext("bpmn:conditionExpression", namespaces=NS)
            for f in flows
            if f.get("sourceRef") == target
        ]
        assert sorted(conditions) == sorted(f'outcome == "{o}"' for o in step.outcomes)


def test_an_outcome_the_step_does_not_offer_is_refused() -> None:
    spec = process.load_process("approval-standard")
    workflow = process.start(spec)
    (ready,) = process.ready_tasks(workflow)
    with pytest.raises(ValueError):
        process.complete(workflow, ready.id, "approve")
    with pytest.raises(LookupError):
        process.complete(workflow, "00000000-0000-0000-0000-000000000000", "accept")
    # Nothing moved.
    assert [t.id for t in process.ready_tasks(workflow)] == [ready.id]
    assert process.progress(workflow) == ({"accept"}, {"start"})


def test_cancelled_workflow_waits_for_nothing() -> None:
    workflow = process.start(process.load_process("approval-instant"))
    process.cancel(workflow)
    restored = process.loads(process.dumps(workflow))
    assert process.ready_tasks(restored) == []


def _city_with(tmp_path: Path, text: str) -> Path:
    city = tmp_path / "city"
    (city / "approval" / "processes").mkdir(parents=True)
    (city / "approval" / "processes" / "approval-broken.bpmn").write_text(text, encoding="utf-8")
    return city


def test_a_broken_process_file_is_refused_with_its_element(tmp_path: Path) -> None:
    good = process.process_path("approval-standard").read_text(encoding="utf-8")
    renamed = good.replace('id="approval-standard"', 'id="approval-broken"').replace(
        'bpmnElement="approval-standard"', 'bpmnElement="approval-broken"'
    )
    # A task without its role.
    city = _city_with(tmp_path, renamed.replace('name="role" value="review"', 'name="x" value="y"'))
    with pytest.raises(ContentError) as found:
        process.load_process("approval-broken", city)
    assert found.value.where == "review"
    # Not BPMN at all.
    city = _city_with(tmp_path / "b", renamed.replace("<bpmn:userTask", "<bpmn:userTusk"))
    with pytest.raises(ContentError):
        process.load_process("approval-broken", city)
    # Without its legal reference.
    city = _city_with(tmp_path / "c", renamed.replace('name="reference"', 'name="nothing"'))
    with pytest.raises(ContentError) as found:
        process.load_process("approval-broken", city)
    assert "reference" in found.value.reason
    with pytest.raises(ContentError):
        process.load_process("approval-missing", city)


def test_a_city_may_bring_its_own_processes(tmp_path: Path) -> None:
    city = tmp_path / "city"
    shutil.copytree(process.process_path("approval-instant").parent, city / "approval/processes")
    spec = process.load_process("approval-instant", city)
    assert spec.path == city / "approval" / "processes" / "approval-instant.bpmn"
    assert spec is not process.load_process("approval-instant")
