"""The digital-level questionnaire as content (``enterprise/digital-level.yaml``), and its scoring.

The file holds one item per edition of 《中小企业数字化水平评测指标》: the issuing document, what
of it is still to be checked against the annex (待核实), the levels and their thresholds, and the
dimensions with their questions, options, points and pre-fill rules. It is read strictly: one bad
question, option or rule and the whole file is refused (``ContentError`` naming the edition, the
question and the field), so a half-valid questionnaire never reaches an enterprise.

Scoring is pure and exact (fractions, rounded once at the end to tenths of a point): a
dimension's rate is the points earned over the points its applicable questions can earn, the
score the weighted sum of the rates over the weights of the dimensions that apply (0-100), the
level the highest whose threshold the score reaches (0 below 一级). What would lift the score is
computed here too: each applicable question one option up and what that gains, and a short plan
of such steps that reaches the next level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Final

from shuhui.core.content import ContentError, Item, load_items
from shuhui.enterprise.platforms import CAPABILITY_CODES

FILE: Final = Path("enterprise") / "digital-level.yaml"
KIND: Final = "enterprise-digital-level"
# How a dimension is judged: not at all (基本信息), by points, by the level of each scenario.
JUDGED_BY: Final = ("none", "score", "scenario")
# Where a pre-filled answer can come from (see the content file's header).
SOURCES: Final = ("capability", "enabled", "register", "history")
# The registers' measures a rule may name: each maps a value or falls into bands.
MAPPED_MEASURES: Final = ("industry", "size")
BANDED_MEASURES: Final = (
    "years",
    "staff",
    "revenue_change",
    "tax_change",
    "productivity_change",
    "energy_change",
)
# The capability vocabulary the platforms' solutions carry (capabilities.yaml).
CAPABILITIES: Final = CAPABILITY_CODES
SCENARIO_LEVELS: Final = (0, 1, 2, 3, 4)
FULL: Final = 1000  # a score or a rate at its top, in tenths (100 points, 100 %)
MOST_STEPS: Final = 6  # the questions a gap lists at most


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    points: int  # tenths of a point
    level: int | None = None  # a scenario's level, 0-4


@dataclass(frozen=True)
class Band:
    below: float | None  # None: the last band, catching the rest
    option: str


@dataclass(frozen=True)
class Rule:
    """One way a question's answer may be pre-filled."""

    source: str  # capability | enabled | register | history
    option: str | None = None
    capability: str | None = None
    measure: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None
    bands: tuple[Band, ...] = ()

    def option_for(self, value: object) -> str | None:
        """The option a register's value falls on, or None when it falls on none."""
        if self.bands:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
            if not math.isfinite(value):
                return None
            for band in self.bands:
                if band.below is None or value < band.below:
                    return band.option
            return None
        if value is None:
            return None
        return self.mapping.get(str(value), self.default)


@dataclass(frozen=True)
class Applies:
    """A question asked only when ``question`` is answered with one of ``options``."""

    question: str
    options: frozenset[str]


@dataclass(frozen=True)
class Question:
    code: str
    dimension: str
    title: str
    help: str
    options: tuple[Option, ...]
    prefill: tuple[Rule, ...]
    capability: str | None = None  # what a platform solution would bring to it
    applies: Applies | None = None

    def option(self, code: str | None) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    @property
    def top(self) -> int:
        return max(o.points for o in self.options)

    def next_up(self, code: str | None) -> Option | None:
        """The option one step above ``code`` (the lowest for no answer); None at the top."""
        current = self.option(code)
        above = [o for o in self.options if current is None or o.points > current.points]
        return min(above, key=lambda o: o.points) if above else None


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str
    weight: int  # percent of the score
    judged_by: str  # none | score | scenario
    questions: tuple[Question, ...]

    @property
    def scored(self) -> bool:
        return self.judged_by != "none"


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    min: int  # tenths of a point
    description: str


@dataclass(frozen=True)
class Questionnaire:
    code: str
    name: str
    edition: str
    document: str
    number: str
    issuer: str
    issued: date
    valid_from: date
    valid_to: date | None
    reference: str
    unverified: tuple[str, ...]
    levels: tuple[Level, ...]
    dimensions: tuple[Dimension, ...]

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for d in self.dimensions for q in d.questions)

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)

    def dimension(self, code: str) -> Dimension:
        return next(d for d in self.dimensions if d.code == code)

    def applies(self, question: Question, answers: Mapping[str, str]) -> bool:
        """Whether ``question`` is asked, given the answers so far (an unanswered condition
        asks it: the enterprise sees every question until it says otherwise)."""
        rule = question.applies
        if rule is None:
            return True
        given = answers.get(rule.question)
        return given is None or given in rule.options

    def applicable(self, answers: Mapping[str, str]) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if self.applies(q, answers))

    def level_of(self, score: int) -> int:
        reached = [lv.level for lv in self.levels if score >= lv.min]
        return max(reached, default=0)

    def level(self, number: int) -> Level | None:
        return next((lv for lv in self.levels if lv.level == number), None)

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


# --- reading the file ---------------------------------------------------------------------------


class _Reader:
    """Reads one edition's fields, each refusal naming the edition and where in it."""

    def __init__(self, path: Path, item: Item) -> None:
        self.path = path
        self.item = item

    def fail(self, where: str, reason: str) -> ContentError:
        return ContentError(self.path, f"{self.item.code}.{where}", reason)

    def text(self, raw: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str:
        value = raw.get(key)
        if value is None and optional:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "须为非空文字")
        return value.strip()

    def code(self, raw: Mapping[str, Any], where: str) -> str:
        value = raw.get("code")
        if not isinstance(value, str) or not value or len(value) > 16 or not value.isascii():
            raise self.fail(f"{where}.code", "须为1-16个字母或数字")
        if not value.replace("_", "").isalnum():
            raise self.fail(f"{where}.code", "须为1-16个字母或数字")
        return value

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "须为映射")
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            raise self.fail(where, "须为非空列表")
        return value

    def tenths(self, value: Any, where: str) -> int:
        """A number of points with at most one decimal, in tenths."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, "须为数字")
        if not math.isfinite(value) or value < 0 or value > 100:
            raise self.fail(where, "须为0-100之间的数字")
        tenths = round(value * 10)
        if abs(tenths - value * 10) > 1e-9:
            raise self.fail(where, "最多一位小数")
        return tenths


def _option(r: _Reader, raw: Any, where: str, scenario: bool) -> Option:
    raw = r.mapping(raw, where)
    level = raw.get("level")
    if scenario and level not in SCENARIO_LEVELS:
        raise r.fail(f"{where}.level", "经营场景的选项须标明等级0-4")
    if not scenario and level is not None:
        raise r.fail(f"{where}.level", "只有经营场景的选项有等级")
    return Option(
        code=r.code(raw, where),
        label=r.text(raw, "label", where),
        points=r.tenths(raw.get("score"), f"{where}.score"),
        level=level if scenario else None,
    )


def _bands(r: _Reader, raw: Any, where: str) -> tuple[Band, ...]:
    bands: list[Band] = []
    listed = r.items(raw, where)
    for i, entry in enumerate(listed):
        entry = r.mapping(entry, f"{where}[{i}]")
        below = entry.get("below")
        last = i == len(listed) - 1
        if last and below is not None:
            raise r.fail(f"{where}[{i}].below", "最后一档不设上限，收纳其余的值")
        if not last:
            if isinstance(below, bool) or not isinstance(below, int | float):
                raise r.fail(f"{where}[{i}].below", "须为数字")
            if bands and bands[-1].below is not None and below <= bands[-1].below:
                raise r.fail(f"{where}[{i}].below", "各档上限须从小到大")
        option = entry.get("option")
        if not isinstance(option, str):
            raise r.fail(f"{where}[{i}].option", "须为选项代码")
        bands.append(Band(None if last or below is None else float(below), option))
    return tuple(bands)


def _rule(r: _Reader, raw: Any, where: str, options: set[str]) -> Rule:
    raw = r.mapping(raw, where)
    source = raw.get("from")
    if source not in SOURCES:
        raise r.fail(f"{where}.from", f"须为 {'、'.join(SOURCES)} 之一")
    known = {"from"}

    def option_of(key: str) -> str:
        value = raw.get(key)
        if value not in options:
            raise r.fail(f"{where}.{key}", f"“{value}”不是本题的选项")
        return str(value)

    rule: Rule
    if source == "capability":
        capability = raw.get("capability")
        if capability not in CAPABILITIES:
            raise r.fail(f"{where}.capability", "不在数字化能力词表中")
        rule = Rule("capability", option=option_of("option"), capability=str(capability))
        known |= {"capability", "option"}
    elif source == "enabled":
        rule = Rule("enabled", option=option_of("option"))
        known |= {"option"}
    elif source == "register":
        measure = raw.get("measure")
        if measure in MAPPED_MEASURES:
            mapping = r.mapping(raw.get("map"), f"{where}.map")
            for value, option in mapping.items():
                if option not in options:
                    raise r.fail(f"{where}.map.{value}", f"“{option}”不是本题的选项")
            default = option_of("default") if raw.get("default") is not None else None
            rule = Rule(
                "register",
                measure=str(measure),
                mapping={str(k): str(v) for k, v in mapping.items()},
                default=default,
            )
            known |= {"measure", "map", "default"}
        elif measure in BANDED_MEASURES:
            bands = _bands(r, raw.get("bands"), f"{where}.bands")
            for i, band in enumerate(bands):
                if band.option not in options:
                    raise r.fail(f"{where}.bands[{i}].option", f"“{band.option}”不是本题的选项")
            rule = Rule("register", measure=str(measure), bands=bands)
            known |= {"measure", "bands"}
        else:
            measures = (*MAPPED_MEASURES, *BANDED_MEASURES)
            raise r.fail(f"{where}.measure", f"须为 {'、'.join(measures)} 之一")
    else:
        rule = Rule("history")
    extra = sorted(set(raw) - known)
    if extra:
        raise r.fail(f"{where}.{extra[0]}", "这种预填方式不用这一项")
    return rule


def _question(r: _Reader, raw: Any, where: str, dimension: str, judged_by: str) -> Question:
    raw = r.mapping(raw, where)
    code = r.code(raw, where)
    where = f"{where}({code})"
    scenario = judged_by == "scenario"
    options = tuple(
        _option(r, o, f"{where}.options[{i}]", scenario)
        for i, o in enumerate(r.items(raw.get("options"), f"{where}.options"))
    )
    if len(options) < 2:
        raise r.fail(f"{where}.options", "至少两个选项")
    codes = [o.code for o in options]
    if len(set(codes)) != len(codes):
        raise r.fail(f"{where}.options", "选项代码重复")
    points = [o.points for o in options]
    if judged_by != "none" and (points != sorted(points) or len(set(points)) != len(points)):
        raise r.fail(f"{where}.options", "选项须按分值从低到高排列，分值各不相同")
    if judged_by != "none" and points[0] != 0:
        raise r.fail(f"{where}.options[0].score", "最低的选项须为0分")
    if judged_by == "none" and any(points):
        raise r.fail(f"{where}.options", "基本信息不计分，分值须为0")
    if scenario and [o.level for o in options] != list(SCENARIO_LEVELS):
        raise r.fail(f"{where}.options", "经营场景的选项须依次为等级0至4")
    capability = raw.get("capability")
    if capability is not None and capability not in CAPABILITIES:
        raise r.fail(f"{where}.capability", "不在数字化能力词表中")
    applies = None
    if raw.get("applies") is not None:
        cond = r.mapping(raw.get("applies"), f"{where}.applies")
        wanted = cond.get("options")
        if not isinstance(cond.get("question"), str) or not isinstance(wanted, list) or not wanted:
            raise r.fail(f"{where}.applies", "须写明 question 和 options")
        applies = Applies(str(cond["question"]), frozenset(str(o) for o in wanted))
    rules = tuple(
        _rule(r, rule, f"{where}.prefill[{i}]", set(codes))
        for i, rule in enumerate(r.items(raw.get("prefill"), f"{where}.prefill"))
    )
    return Question(
        code=code,
        dimension=dimension,
        title=r.text(raw, "title", where),
        help=r.text(raw, "help", where, optional=True),
        options=options,
        prefill=rules,
        capability=None if capability is None else str(capability),
        applies=applies,
    )


def _dimension(r: _Reader, raw: Any, where: str) -> Dimension:
    raw = r.mapping(raw, where)
    code = r.code(raw, where)
    where = f"{where}({code})"
    judged_by = raw.get("judged_by")
    if judged_by not in JUDGED_BY:
        raise r.fail(f"{where}.judged_by", f"须为 {'、'.join(JUDGED_BY)} 之一")
    weight = raw.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= 100:
        raise r.fail(f"{where}.weight", "须为0-100的整数")
    if (judged_by == "none") != (weight == 0):
        raise r.fail(f"{where}.weight", "不计分的部分权重为0，计分的部分权重大于0")
    questions = tuple(
        _question(r, q, f"{where}.questions[{i}]", code, str(judged_by))
        for i, q in enumerate(r.items(raw.get("questions"), f"{where}.questions"))
    )
    return Dimension(code, r.text(raw, "name", where), weight, str(judged_by), questions)


def _levels(r: _Reader, raw: Any) -> tuple[Level, ...]:
    levels: list[Level] = []
    for i, entry in enumerate(r.items(raw, "levels")):
        entry = r.mapping(entry, f"levels[{i}]")
        if entry.get("level") != i + 1:
            raise r.fail(f"levels[{i}].level", f"须为{i + 1}（等级从一级起依次排列）")
        minimum = r.tenths(entry.get("min"), f"levels[{i}].min")
        if levels and minimum <= levels[-1].min:
            raise r.fail(f"levels[{i}].min", "分数线须逐级升高")
        if minimum == 0:
            raise r.fail(f"levels[{i}].min", "分数线须大于0")
        levels.append(
            Level(
                i + 1,
                r.text(entry, "name", f"levels[{i}]"),
                minimum,
                r.text(entry, "description", f"levels[{i}]"),
            )
        )
    return tuple(levels)


def parse_edition(path: Path, item: Item) -> Questionnaire:
    """One edition of the questionnaire, checked whole."""
    r = _Reader(path, item)
    attrs = item.attrs
    issued = attrs.get("issued")
    if not isinstance(issued, date):
        raise r.fail("issued", "须为日期（年-月-日）")
    unverified = attrs.get("unverified") or []
    if not isinstance(unverified, list) or not all(
        isinstance(u, str) and u.strip() for u in unverified
    ):
        raise r.fail("unverified", "须为文字列表")
    dimensions = tuple(
        _dimension(r, d, f"dimensions[{i}]")
        for i, d in enumerate(r.items(attrs.get("dimensions"), "dimensions"))
    )
    if len({d.code for d in dimensions}) != len(dimensions):
        raise r.fail("dimensions", "维度代码重复")
    if sum(d.weight for d in dimensions) != 100:
        raise r.fail("dimensions", "各维度权重之和须为100")
    questions = [q for d in dimensions for q in d.questions]
    codes = {q.code: q for q in questions}
    if len(codes) != len(questions):
        raise r.fail("dimensions", "评测问题代码重复")
    for q in questions:
        if q.applies is None:
            continue
        condition = codes.get(q.applies.question)
        if condition is None or condition.applies is not None:
            raise r.fail(f"{q.code}.applies.question", "须为本问卷中无条件回答的问题")
        missing = q.applies.options - {o.code for o in condition.options}
        if missing:
            raise r.fail(f"{q.code}.applies.options", f"“{sorted(missing)[0]}”不是该题的选项")
    edition = attrs.get("edition")
    if not isinstance(edition, str) or not edition.strip() or len(edition) > 32:
        raise r.fail("edition", "须为1-32个字符的版本")
    return Questionnaire(
        code=item.code,
        name=item.name_zh,
        edition=edition.strip(),
        document=r.text(attrs, "document", "edition"),
        number=r.text(attrs, "number", "edition"),
        issuer=r.text(attrs, "issuer", "edition"),
        issued=issued,
        valid_from=item.valid_from,
        valid_to=item.valid_to,
        reference=item.reference,
        unverified=tuple(u.strip() for u in unverified),
        levels=_levels(r, attrs.get("levels")),
        dimensions=dimensions,
    )


@cache
def editions(content: Path) -> tuple[Questionnaire, ...]:
    """Every edition the city's file holds, checked whole; cached (content changes with a
    deploy)."""
    path = content / FILE
    items = load_items(path, KIND)
    found = tuple(parse_edition(path, item) for item in items)
    if len({q.edition for q in found}) != len(found):
        raise ContentError(path, "items", "版本重复")
    return found


def in_force(content: Path, on: date) -> Questionnaire | None:
    """The edition in force on ``on`` (the latest to come into force), or None."""
    live = [q for q in editions(content) if q.in_force(on)]
    return max(live, key=lambda q: q.valid_from) if live else None


def edition(content: Path, name: str) -> Questionnaire | None:
    return next((q for q in editions(content) if q.edition == name), None)


# --- scoring --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionScore:
    code: str
    name: str
    weight: int
    rate: int  # tenths of a percent: points earned over points possible
    earned: int  # tenths of a point
    possible: int  # tenths of a point; 0 when none of its questions applies


@dataclass(frozen=True)
class Scored:
    score: int  # tenths of a point, 0-1000
    level: int  # 0 (未达到一级) to 4
    dimensions: tuple[DimensionScore, ...]  # the scored ones, in order


def _tenths(value: Fraction) -> int:
    """Rounded half up to a whole number of tenths (``value`` is already in tenths)."""
    return math.floor(value + Fraction(1, 2))


def _exact(q: Questionnaire, answers: Mapping[str, str]) -> tuple[Fraction, list[DimensionScore]]:
    asked = {x.code for x in q.applicable(answers)}
    dims: list[DimensionScore] = []
    total = Fraction(0)
    weights = 0
    for d in q.dimensions:
        if not d.scored:
            continue
        questions = [x for x in d.questions if x.code in asked]
        possible = sum(x.top for x in questions)
        earned = 0
        for x in questions:
            chosen = x.option(answers.get(x.code))
            earned += chosen.points if chosen is not None else 0
        rate = Fraction(earned * FULL, possible) if possible else Fraction(0)
        dims.append(DimensionScore(d.code, d.name, d.weight, _tenths(rate), earned, possible))
        if possible:
            total += d.weight * rate
            weights += d.weight
    return (total / weights if weights else Fraction(0)), dims


def score(q: Questionnaire, answers: Mapping[str, str]) -> Scored:
    """The score and level of ``answers``; an applicable question left unanswered (or answered
    with an option it does not have) earns nothing. A dimension none of whose questions applies
    is left out and the others' weights carry the score."""
    exact, dims = _exact(q, answers)
    total = _tenths(exact)
    return Scored(total, q.level_of(total), tuple(dims))


@dataclass(frozen=True)
class Step:
    """One applicable question one option up, and what that adds to the score."""

    question: Question
    current: Option | None
    target: Option
    gain: Fraction  # tenths of a point


def steps(q: Questionnaire, answers: Mapping[str, str]) -> list[Step]:
    """Every scored question's next option up, the largest gain first (then in the
    questionnaire's order)."""
    exact, _ = _exact(q, answers)
    found: list[Step] = []
    for x in q.applicable(answers):
        if not q.dimension(x.dimension).scored:
            continue
        target = x.next_up(answers.get(x.code))
        if target is None:
            continue
        lifted = dict(answers)
        lifted[x.code] = target.code
        gain = _exact(q, lifted)[0] - exact
        if gain > 0:
            found.append(Step(x, x.option(answers.get(x.code)), target, gain))
    order = {x.code: i for i, x in enumerate(q.questions)}
    found.sort(key=lambda s: (-s.gain, order[s.question.code]))
    return found


def to_next_level(q: Questionnaire, answers: Mapping[str, str]) -> tuple[Level | None, int]:
    """The next level and the tenths of a point still missing for it (None, 0 at the top)."""
    scored = score(q, answers)
    following = q.level(scored.level + 1)
    if following is None:
        return None, 0
    return following, following.min - scored.score


def closing_steps(q: Questionnaire, answers: Mapping[str, str]) -> list[Step]:
    """A short plan that reaches the next level: the largest step first, again and again (a
    question may be taken more than one option up), on at most ``MOST_STEPS`` questions — or,
    where those cannot reach it, as far as they go. Each question once, from where it is to
    where the plan takes it, the largest gains first."""
    following, needed = to_next_level(q, answers)
    if following is None:
        return []
    lifted = dict(answers)
    plan: dict[str, Step] = {}
    gained = Fraction(0)
    order = {x.code: i for i, x in enumerate(q.questions)}
    while gained < needed:
        allowed = [s for s in steps(q, lifted) if s.question.code in plan or len(plan) < MOST_STEPS]
        if not allowed:
            break
        # Equal gains: a question not yet in the plan first (a plan that spreads reads as one
        # an enterprise can follow, not one scenario taken from 一级 to 四级), then one a
        # platform solution can bring.
        best = min(
            allowed,
            key=lambda s: (
                -s.gain,
                s.question.code in plan,
                s.question.capability is None,
                order[s.question.code],
            ),
        )
        code = best.question.code
        lifted[code] = best.target.code
        gained += best.gain
        first = plan.get(code)
        plan[code] = Step(
            best.question,
            first.current if first is not None else best.current,
            best.target,
            (first.gain if first is not None else Fraction(0)) + best.gain,
        )
    return sorted(plan.values(), key=lambda s: (-s.gain, order[s.question.code]))


def weak_dimensions(
    q: Questionnaire, scored: Scored, following: Level | None
) -> list[DimensionScore]:
    """The scored dimensions whose rate is under the next level's threshold (as a share of
    the full score), the weakest first."""
    if following is None:
        return []
    weak = [d for d in scored.dimensions if d.possible and d.rate < following.min]
    return sorted(weak, key=lambda d: d.rate)
