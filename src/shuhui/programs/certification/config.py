"""The certification cycle's content: ``content/<city>/programs/certification.yaml``.

Each item (kind ``pension-certification``) is one version of the cycle's parameters, in force
between its dates: the window's anchor and length, the notice, the home visit's lead time, when
a lapsed window suspends payment, the threshold and the evidence sources. A source names the
variable of the evidence rule (``policies/pension-certification.yaml``) that evaluates it, its
weight and recency; :func:`check_against` refuses a cycle whose sources disagree with the rule
(a variable the rule lacks or that is no ``exists`` aggregate, a recency other than its
window's, a weight other than the rule's ``w_<variable>`` parameter on the date, a threshold
other than the rule's ``threshold``). Every problem names the file, the item and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from shuhui.core.content import ContentError, Item, load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.rules.language import Rule

KIND: Final = "pension-certification"
FILE: Final = Path("programs") / "certification.yaml"
ANCHORS: Final = ("birthday_month", "last_certification")
CHANNELS: Final = ("portal", "sms")


@dataclass(frozen=True)
class Source:
    """One source of evidence of life: the rule variable that finds it, what it weighs, and
    how far back it looks (the variable's window)."""

    code: str
    name_zh: str
    name_en: str
    variable: str
    weight: int
    recency_months: int
    reference: str


@dataclass(frozen=True)
class Cycle:
    """The cycle's parameters in force on a date (one item of the content file)."""

    code: str
    valid_from: date
    valid_to: date | None
    reference: str
    rule: str
    anchor: str  # birthday_month | last_certification
    window_months: int
    channels: tuple[str, ...]
    notice_days: int  # at least so many days from the notice to a suspension
    notice_reference: str
    visit_lead_days: int
    visit_reference: str
    suspend_after_days: int
    suspension_reference: str
    threshold: int
    sources: tuple[Source, ...]
    death_variables: tuple[str, ...]  # bool variables: a death or cremation recorded
    death_dates: tuple[str, ...]  # date variables: its date, the first known used
    death_reference: str

    def source(self, code: str) -> Source | None:
        return next((s for s in self.sources if s.code == code), None)


def _int(path: Path, where: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ContentError(path, where, f"a whole number from {low} to {high}")
    return value


def _str(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, where, "missing or empty text")
    return value.strip()


def _map(path: Path, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContentError(path, where, "must be a mapping")
    return value


def _names(path: Path, where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ContentError(path, where, "a non-empty list of names")
    return tuple(value)


def _source(path: Path, where: str, raw: Any) -> Source:
    body = _map(path, where, raw)
    name = _map(path, f"{where}.name", body.get("name"))
    return Source(
        code=_str(path, f"{where}.code", body.get("code")),
        name_zh=_str(path, f"{where}.name.zh", name.get("zh")),
        name_en=_str(path, f"{where}.name.en", name.get("en")),
        variable=_str(path, f"{where}.variable", body.get("variable")),
        weight=_int(path, f"{where}.weight", body.get("weight"), 0, 1000),
        recency_months=_int(path, f"{where}.recency_months", body.get("recency_months"), 1, 60),
        reference=_str(path, f"{where}.reference", body.get("reference")),
    )


def parse_cycle(path: Path, item: Item) -> Cycle:
    where = f"items ({item.code})"
    a = item.attrs
    anchor = a.get("anchor")
    if anchor not in ANCHORS:
        raise ContentError(path, f"{where}.anchor", f"one of {', '.join(ANCHORS)}")
    notice = _map(path, f"{where}.notice", a.get("notice"))
    channels = _names(path, f"{where}.notice.channels", notice.get("channels"))
    if not set(channels) <= set(CHANNELS):
        raise ContentError(path, f"{where}.notice.channels", f"of {', '.join(CHANNELS)}")
    visit = _map(path, f"{where}.visit", a.get("visit"))
    suspension = _map(path, f"{where}.suspension", a.get("suspension"))
    death = _map(path, f"{where}.death", a.get("death"))
    raw_sources = a.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise ContentError(path, f"{where}.sources", "a non-empty list of sources")
    sources = tuple(
        _source(path, f"{where}.sources[{i}]", raw) for i, raw in enumerate(raw_sources)
    )
    codes = [s.code for s in sources]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            raise ContentError(path, f"{where}.sources[{i}].code", "duplicate code")
    return Cycle(
        code=item.code,
        valid_from=item.valid_from,
        valid_to=item.valid_to,
        reference=item.reference,
        rule=_str(path, f"{where}.rule", a.get("rule")),
        anchor=str(anchor),
        window_months=_int(path, f"{where}.window_months", a.get("window_months"), 1, 12),
        channels=channels,
        notice_days=_int(
            path,
            f"{where}.notice.min_days_before_suspension",
            notice.get("min_days_before_suspension"),
            0,
            366,
        ),
        notice_reference=_str(path, f"{where}.notice.reference", notice.get("reference")),
        visit_lead_days=_int(path, f"{where}.visit.lead_days", visit.get("lead_days"), 0, 366),
        visit_reference=_str(path, f"{where}.visit.reference", visit.get("reference")),
        suspend_after_days=_int(
            path, f"{where}.suspension.after_days", suspension.get("after_days"), 0, 366
        ),
        suspension_reference=_str(
            path, f"{where}.suspension.reference", suspension.get("reference")
        ),
        threshold=_int(path, f"{where}.threshold", a.get("threshold"), 1, 10_000),
        sources=sources,
        death_variables=_names(path, f"{where}.death.variables", death.get("variables")),
        death_dates=_names(path, f"{where}.death.dates", death.get("dates")),
        death_reference=_str(path, f"{where}.death.reference", death.get("reference")),
    )


def load_cycles(city_content: Path) -> list[Cycle]:
    """Every version of the cycle in the city's content, checked (``ContentError`` names the
    file, the item and the field)."""
    path = city_content / FILE
    items = load_items(path, KIND)
    return [parse_cycle(path, item) for item in items]


def _refused(path: Path, where: str, reason: str) -> ContentError:
    return ContentError(path, where, reason)


def check_against(cycle: Cycle, rule: Rule, on: date, path: Path = FILE) -> None:
    """Raises ``ContentError`` where the cycle's sources disagree with the rule on ``on``."""
    where = f"items ({cycle.code})"
    if rule.code != cycle.rule:
        raise _refused(path, f"{where}.rule", f"the rule is {rule.code}")
    for i, source in enumerate(cycle.sources):
        here = f"{where}.sources[{i}]"
        var = rule.variables.get(source.variable)
        if var is None or var.kind != "exists":
            raise _refused(path, f"{here}.variable", f"no exists variable {source.variable}")
        start = var.window.start if var.window is not None else None
        months = None if start is None else -(start.years * 12 + start.months)
        if start is None or start.days or months != source.recency_months:
            raise _refused(path, f"{here}.recency_months", f"the rule's window is {months} months")
        weight = rule.parameters.get(f"w_{source.variable}")
        value = None if weight is None else weight.value_on(on)
        if value is None or value.value != source.weight:
            shown = None if value is None else value.value
            raise _refused(path, f"{here}.weight", f"the rule's w_{source.variable} is {shown}")
    threshold = rule.parameters.get("threshold")
    value = None if threshold is None else threshold.value_on(on)
    if value is None or value.value != cycle.threshold:
        shown = None if value is None else value.value
        raise _refused(path, f"{where}.threshold", f"the rule's threshold is {shown}")
    for i, name in enumerate((*cycle.death_variables, *cycle.death_dates)):
        if name not in rule.variables:
            raise _refused(path, f"{where}.death[{i}]", f"the rule has no variable {name}")


def cycle_on(cycles: list[Cycle], on: date) -> Cycle:
    """The cycle in force on ``on``, or a problem naming the date."""
    for cycle in cycles:
        if cycle.valid_from <= on and (cycle.valid_to is None or on <= cycle.valid_to):
            return cycle
    raise Problem(
        "validation",
        detail=Text(
            f"{on.isoformat()} 没有施行中的认证周期规定", f"no certification cycle in force on {on}"
        ),
        errors=[FieldError("date", Text("这一天没有认证周期规定", "no cycle in force"))],
    )
