"""Processes as data: the BPMN 2.0 files under ``content/<city>/approval/processes/``, run by
SpiffWorkflow.

A process file is plain BPMN (drawn with its diagram, BPMN DI, so a page can show where a case
stands). Each user task names, in SpiffWorkflow's extension properties
(``<spiffworkflow:properties>``):

- ``role``: who at the department does it (``accept`` 受理, ``review`` 审查, ``countersign``
  会签, ``decide`` 决定, ``issue`` 办结出证), or ``resubmit`` for the applicant's own step;
- ``department``: ``item`` (the department the item names), ``countersign`` (the item's second
  department) or ``applicant`` (the applicant, not an officer);
- ``outcomes``: the outcomes an actor may choose, comma-separated. Completing the task puts
  ``outcome`` in the task's data, and the exclusive gateway after it reads it
  (``outcome == "approve"``).

The process itself carries ``valid_from`` and ``reference`` the same way, like every item of
content. A case keeps its running workflow serialised as JSON (:func:`dumps`, :func:`loads`,
SpiffWorkflow's own serializer); the serialisation holds the process's spec, so a case runs to
its end on the process it started with even after the file changes.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from SpiffWorkflow.bpmn.serializer import (
    BpmnWorkflowSerializer,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser import (
    VALIDATOR,
    SpiffBpmnParser,
)
from SpiffWorkflow.spiff.serializer import DEFAULT_CONFIG
from SpiffWorkflow.util.task import TaskState

from shuhui.core.content import DEFAULT_DIR, ContentError

PROCESS_ID: Final = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
ROLES: Final[dict[str, tuple[str, str]]] = {
    "accept": ("受理", "Acceptance"),
    "review": ("审查", "Review"),
    "countersign": ("会签", "Countersignature"),
    "decide": ("决定", "Decision"),
    "issue": ("办结出证", "Issue the result"),
    "resubmit": ("申请人补正", "Applicant's correction"),
}
# Whose task it is: the department the item names, its second (countersign) department, or
# the applicant.
DEPARTMENTS: Final = ("item", "countersign", "applicant")
BPMN_NS: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS: Final = "http://spiffworkflow.org/bpmn/schema/1.0/core"

Department = Literal["item", "countersign", "applicant"]


@dataclass(frozen=True)
class Step:
    """A user task of a process, as the platform reads it."""

    id: str  # the BPMN element id
    name: str  # its Chinese name
    role: str
    department: Department
    outcomes: tuple[str, ...]


@dataclass(frozen=True)
class ProcessSpec:
    id: str
    name: str  # the process's Chinese name
    path: Path
    valid_from: date
    reference: str
    steps: dict[str, Step]  # by BPMN element id, in the file's order
    spec: Any  # SpiffWorkflow's BpmnProcessSpec


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for its actor."""

    id: str  # SpiffWorkflow's task UUID
    step: Step


def default_content_dir() -> Path:
    return DEFAULT_DIR / "qingdao"


def process_path(process_id: str, content_dir: Path | None = None) -> Path:
    """The ``.bpmn`` file of a process: ``<city content>/approval/processes/<id>.bpmn``."""
    if not PROCESS_ID.fullmatch(process_id):
        raise ValueError(f"not a process id: {process_id!r}")
    return (content_dir or default_content_dir()) / "approval" / "processes" / f"{process_id}.bpmn"


def load_process(process_id: str, content_dir: Path | None = None) -> ProcessSpec:
    """The process, parsed (and checked against the BPMN and SpiffWorkflow schemas) once per
    file; a file that is missing, invalid or whose tasks lack their properties raises
    ``ContentError`` naming the element."""
    return _load(process_path(process_id, content_dir))


@lru_cache(maxsize=32)
def _load(path: Path) -> ProcessSpec:
    process_id = path.stem
    if not path.is_file():
        raise ContentError(path, process_id, "no such process file")
    parser = SpiffBpmnParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_file(str(path))
        spec = parser.get_spec(process_id)
    except Exception as exc:  # SpiffWorkflow's ValidationException and lxml's errors alike
        raise ContentError(path, process_id, str(exc)) from exc
    steps: dict[str, Step] = {}
    for task_spec in spec.task_specs.values():
        if not getattr(task_spec, "manual", False):
            continue
        steps[task_spec.bpmn_id] = _step(path, task_spec)
    if not steps:
        raise ContentError(path, process_id, "the process has no user task")
    valid_from, reference = _process_terms(
        path, process_id, parser.get_process_parser(process_id).node
    )
    return ProcessSpec(
        id=process_id,
        name=str(spec.description or process_id),
        path=path,
        valid_from=valid_from,
        reference=reference,
        steps=steps,
        spec=spec,
    )


def _step(path: Path, task_spec: Any) -> Step:
    where = str(task_spec.bpmn_id)
    props: dict[str, str] = dict(getattr(task_spec, "extensions", {}).get("properties", {}))
    role = props.get("role", "")
    department = props.get("department", "")
    outcomes = tuple(o.strip() for o in props.get("outcomes", "").split(",") if o.strip())
    if role not in ROLES:
        raise ContentError(path, where, f"role must be one of {sorted(ROLES)}, not {role!r}")
    if department not in DEPARTMENTS:
        raise ContentError(path, where, f"department must be one of {DEPARTMENTS}")
    if (department == "applicant") != (role == "resubmit"):
        raise ContentError(path, where, "the applicant's step (resubmit) is the applicant's only")
    if not outcomes:
        raise ContentError(path, where, "a user task names its outcomes")
    if not task_spec.bpmn_name:
        raise ContentError(path, where, "a user task has a Chinese name")
    return Step(where, str(task_spec.bpmn_name), role, department, outcomes)  # type: ignore[arg-type]


def _process_terms(path: Path, process_id: str, node: Any) -> tuple[date, str]:
    """The process's ``valid_from`` and ``reference`` extension properties (``node``: the
    process element as the parser read it)."""
    found: dict[str, str] = {
        str(prop.get("name")): str(prop.get("value", ""))
        for prop in node.xpath(
            "./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
            namespaces={"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS},
        )
    }
    try:
        valid_from = date.fromisoformat(found.get("valid_from", ""))
    except ValueError as exc:
        raise ContentError(path, process_id, "valid_from must be a date (YYYY-MM-DD)") from exc
    if not found.get("reference"):
        raise ContentError(path, process_id, "the process names its legal reference")
    return valid_from, found["reference"]


# --- running ------------------------------------------------------------------------------------


def start(process: ProcessSpec, data: dict[str, Any] | None = None) -> Any:
    """A new workflow of the process, run up to its first user task(s); ``data`` is the
    workflow's own data (what every step may read)."""
    workflow = BpmnWorkflow(process.spec)
    workflow.data.update(data or {})
    workflow.do_engine_steps()
    return workflow


def steps_of(workflow: Any) -> dict[str, Step]:
    """The steps of a running workflow's own spec (the one it started with)."""
    found: dict[str, Step] = {}
    for task_spec in workflow.spec.task_specs.values():
        if getattr(task_spec, "manual", False):
            found[task_spec.bpmn_id] = _step(Path(workflow.spec.file or "?"), task_spec)
    return found


def ready_tasks(workflow: Any) -> list[ReadyTask]:
    """The user tasks waiting for an actor, in the workflow's order."""
    steps = steps_of(workflow)
    return [
        ReadyTask(str(task.id), steps[task.task_spec.bpmn_id])
        for task in workflow.get_tasks(state=TaskState.READY, manual=True)
    ]


def complete(workflow: Any, task_id: str, outcome: str, data: dict[str, Any] | None = None) -> Step:
    """Completes a ready user task with its outcome (and any other data the next steps read),
    then runs the engine to the next user task(s) or the end. Returns the step completed.

    Raises ``LookupError`` when no such task is ready, ``ValueError`` for an outcome the step
    does not offer (the caller says which, in Chinese)."""
    ready = {t.id: t for t in ready_tasks(workflow)}
    if task_id not in ready:
        raise LookupError(task_id)
    step = ready[task_id].step
    if outcome not in step.outcomes:
        raise ValueError(outcome)
    task = next(
        t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == task_id
    )
    task.data.update(data or {})
    task.data["outcome"] = outcome
    task.run()
    workflow.do_engine_steps()
    return step


def is_finished(workflow: Any) -> bool:
    return bool(workflow.is_completed())


def progress(workflow: Any) -> tuple[set[str], set[str]]:
    """The BPMN element ids a diagram marks: where the case is now (ready user tasks) and what
    it went through (completed elements), for ``diagram.render_svg(current=…, done=…)``."""
    current = {t.step.id for t in ready_tasks(workflow)}
    done = {
        str(t.task_spec.bpmn_id)
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.bpmn_id is not None
    }
    return current, done


def cancel(workflow: Any) -> None:
    """Ends the workflow where it stands (the applicant withdrew the case)."""
    workflow.cancel()


# --- serialising ----------------------------------------------------------------------------------

_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
# The serializer's registry switches a mode flag while it converts a workflow: one at a time.
_SERIALIZER_LOCK = threading.Lock()


def dumps(workflow: Any) -> dict[str, Any]:
    """The workflow as JSON data (for ``Case.process_state``)."""
    with _SERIALIZER_LOCK:
        text = _SERIALIZER.serialize_json(workflow)
    state: dict[str, Any] = json.loads(text)
    return state


def loads(state: dict[str, Any]) -> Any:
    """The workflow that :func:`dumps` gave."""
    with _SERIALIZER_LOCK:
        return _SERIALIZER.deserialize_json(json.dumps(state))


__all__ = [
    "DEPARTMENTS",
    "ROLES",
    "ProcessSpec",
    "ReadyTask",
    "Step",
    "cancel",
    "complete",
    "dumps",
    "is_finished",
    "load_process",
    "loads",
    "process_path",
    "progress",
    "ready_tasks",
    "start",
    "steps_of",
]
