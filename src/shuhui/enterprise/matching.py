"""Matching a need (诉求) to what can answer it: the platforms' solutions, the platforms, and the
enterprise policies of the rule book — each ranked, each with its reasons in plain words.

Solutions are scored on what the enterprise and the need say: the need's kind among those the
solution answers (a solution that answers none of it is no match), the enterprise's industry
among the solution's, and the words they share — the need's title and detail against the
solution's name, problem and capabilities, as overlapping pairs of characters (Chinese has no
spaces to split words on, and two characters are the usual length of a word). A solution the
enterprise already uses (``platform_enablements``) is shown as such and ranked lower. Platforms
rank by their best solution. Policies are the rule book's enterprise policies, each evaluated
for this enterprise today through the rules engine with its explanation: eligible first, the
ones this kind of need is about before the others. An explanation costs a query of the data
core, so it is kept per rule, enterprise, day and table versions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from shuhui.approval.lookups import Derived, Lookups
from shuhui.core.clock import local_today
from shuhui.core.content import ContentError, load_items
from shuhui.core.errors import Problem
from shuhui.datacore.store import DataCore
from shuhui.enterprise.access import CITY, NEEDS_FILE, NEEDS_KIND
from shuhui.enterprise.platforms import PlatformCatalogue, Solution
from shuhui.programs.service import Library, offerable
from shuhui.rules import service as rules_service
from shuhui.rules.compiler import KEY
from shuhui.rules.explain import ConditionResult, conditions_of

KIND_WEIGHT: Final = 40
INDUSTRY_WEIGHT: Final = 25
ANY_INDUSTRY_WEIGHT: Final = 10
WORDS_WEIGHT: Final = 35
IN_USE_PENALTY: Final = 20
SHOWN: Final = 8  # solutions and platforms shown per need
_HAN: Final = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+")


@dataclass(frozen=True)
class Match:
    """One thing that answers the need: a solution, a platform or a policy."""

    kind: str  # solution | platform | policy
    code: str
    name: str
    score: int  # 0-100 for solutions and platforms; policies are ordered, not scored
    reasons: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "score": self.score,
            "reasons": list(self.reasons),
            **self.extra,
        }


@dataclass(frozen=True)
class Matches:
    solutions: tuple[Match, ...]
    platforms: tuple[Match, ...]
    policies: tuple[Match, ...]

    def as_list(self) -> list[dict[str, Any]]:
        return [m.as_dict() for m in (*self.solutions, *self.platforms, *self.policies)]


@dataclass(frozen=True)
class Enterprise:
    """What matching knows of the enterprise."""

    credit_code: str
    industry_code: str
    industry_name: str
    solutions_in_use: frozenset[str] = frozenset()
    platforms_in_use: frozenset[str] = frozenset()


def bigrams(text: str) -> frozenset[str]:
    """Overlapping character pairs of the Chinese runs, and whole Latin/number words."""
    found: set[str] = set()
    for run in _HAN.findall(text):
        if run.isascii():
            found.add(run.lower())
        else:
            found.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(found)


def policy_kinds(content: Path = CITY) -> dict[str, tuple[str, ...]]:
    """Per need kind, the policies that kind of need is about (content)."""
    items = load_items(content / NEEDS_FILE, NEEDS_KIND)
    return {
        item.code: tuple(str(p) for p in item.attrs.get("policies", ()))
        for item in items
        if item.code != "bureau"
    }


def _solution(
    solution: Solution,
    need_kind: str,
    words: frozenset[str],
    enterprise: Enterprise,
    capability_names: Mapping[str, str],
) -> Match | None:
    if need_kind not in solution.need_kinds:
        return None
    reasons = ["适用于这类诉求"]
    score = KIND_WEIGHT
    if enterprise.industry_code in solution.industries:
        score += INDUSTRY_WEIGHT
        reasons.append(f"面向您所在的{enterprise.industry_name}")
    elif not solution.industries:
        score += ANY_INDUSTRY_WEIGHT
        reasons.append("各行业通用")
    capabilities = [capability_names.get(c, c) for c in solution.capabilities]
    theirs = bigrams(" ".join((solution.name_zh, solution.problem, *capabilities)))
    shared = words & theirs
    if shared and words:
        score += round(WORDS_WEIGHT * min(1.0, len(shared) / max(4, min(len(words), 12))))
        hits = [c for c in capabilities if bigrams(c) & words]
        if hits:
            reasons.append("与您描述的需求相关：" + "、".join(hits[:3]))
        else:
            reasons.append("方案所解决的问题与您的描述相近")
    if solution.code in enterprise.solutions_in_use:
        score -= IN_USE_PENALTY
        reasons.append("您已在使用这个方案")
    return Match(
        kind="solution",
        code=solution.code,
        name=solution.name_zh,
        score=max(0, min(100, score)),
        reasons=tuple(reasons),
        extra={
            "platform": solution.platform,
            "problem": solution.problem,
            "price_band": solution.price_band,
            "customers": list(solution.customers[:3]),
        },
    )


def match_solutions(
    catalogue: PlatformCatalogue, need_kind: str, text: str, enterprise: Enterprise
) -> tuple[tuple[Match, ...], tuple[Match, ...]]:
    """The best solutions for the need, and the platforms ranked by their best solution."""
    words = bigrams(text)
    scored = [
        m
        for s in catalogue.solutions()
        if (m := _solution(s, need_kind, words, enterprise, catalogue.capabilities)) is not None
    ]
    scored.sort(key=lambda m: (-m.score, m.code))
    best: dict[str, list[Match]] = {}
    for m in scored:
        best.setdefault(str(m.extra["platform"]), []).append(m)
    platforms: list[Match] = []
    for code, found in best.items():
        platform = catalogue.platform(code)
        if platform is None:
            continue
        reasons = [f"有 {len(found)} 个方案与您的诉求相关，最相关的是“{found[0].name}”"]
        if platform.kind == "super":
            reasons.append("超级平台（一超多专）")
        if code in enterprise.platforms_in_use:
            reasons.append("您已接入这个平台")
        platforms.append(
            Match(
                kind="platform",
                code=code,
                name=platform.name_zh,
                score=found[0].score,
                reasons=tuple(reasons),
                extra={"operator": platform.operator, "field": platform.field},
            )
        )
    platforms.sort(key=lambda m: (-m.score, m.code))
    named = {p.code: p.name_zh for p in catalogue.platforms}
    solutions = tuple(
        Match(
            m.kind,
            m.code,
            m.name,
            m.score,
            m.reasons,
            {**m.extra, "platform_name": named.get(str(m.extra["platform"]), "")},
        )
        for m in scored[:SHOWN]
    )
    return solutions, tuple(platforms[:SHOWN])


POLICY_TABLE: Final = "enterprise_policy_{}"


def _outcomes(library: Library, code: str) -> Derived:
    """The policy evaluated for every enterprise of the city as of today, kept as a derived
    table of the lookups: one DuckDB run a day (or a new version of its tables), then each
    enterprise's row read by key. Evaluating one enterprise on its own would scan every
    contribution of the city (they are sorted by person, not by employer)."""
    rule = library.rule(code)

    def build(core: DataCore) -> pa.Table:
        current = library.rule(code)  # the rule book as it is when the day's run is made
        with library.connection() as con:
            return con.sql(rules_service.whole_query(con, current, local_today())).to_arrow_table()

    return Derived(POLICY_TABLE.format(code), tuple(sorted(rule.tables)), build, daily=True)


OUTCOME_NAMES: Final = {
    "eligible": "符合条件",
    "not_eligible": "暂不符合",
    "undetermined": "还需补充信息",
}


def _condition_lines(node: ConditionResult) -> list[str]:
    """The conditions one level under the root, each with whether it holds."""
    shown = node.children or [node]
    marks = {True: "✓", False: "✗", None: "？"}
    return [f"{marks[c.value]} {c.zh}" for c in shown]


def enterprise_policies(library: Library) -> list[str]:
    book, _ = library.book()
    return [
        code
        for code, rule in book.rules.items()
        if rule.entity.code == "enterprise" and offerable(rule)
    ]


def register_policies(library: Library, lookups: Lookups) -> list[tuple[str, tuple[str, ...]]]:
    """Makes every enterprise policy's daily evaluation readable by key, and says which, so a
    served process can build them before the first need is matched; none when the rule book
    cannot load (a data core not yet built)."""
    try:
        codes = enterprise_policies(library)
    except (Problem, ContentError, ValueError):
        return []
    made: list[tuple[str, tuple[str, ...]]] = []
    for code in codes:
        derived = _outcomes(library, code)
        lookups.derive(derived)
        made.append((derived.name, (KEY,)))
    return made


def match_policies(
    library: Library,
    lookups: Lookups,
    need_kind: str,
    credit_code: str,
    *,
    content: Path = CITY,
) -> tuple[Match, ...]:
    """Every enterprise policy, evaluated for the enterprise as of today: eligible first, then
    the ones this kind of need is about, each with its conditions as the engine found them."""
    about = set(policy_kinds(content).get(need_kind, ()))
    found: list[tuple[tuple[int, int, str], Match]] = []
    for code in enterprise_policies(library):
        derived = _outcomes(library, code)
        lookups.derive(derived)
        rows = lookups.rows(derived.name, KEY, credit_code)
        if rows is None or not rows.rows:
            continue  # not an enterprise the policy's register holds (deregistered, say)
        rule = library.rule(code)
        evaluation = rules_service.evaluation_of(rule, rows.rows[0])
        lines = _condition_lines(conditions_of(rule, evaluation))
        reasons = [f"{OUTCOME_NAMES.get(evaluation.outcome, evaluation.outcome)}：{rule.summary}"]
        if code in about:
            reasons.append("与这类诉求相关的政策")
        extra: dict[str, Any] = {
            "outcome": evaluation.outcome,
            "conditions": lines,
            "department": rule.department,
            "reference": rule.reference,
            "amount": evaluation.amount,
            "amount_unit": rule.amount.unit if rule.amount else None,
            "evaluated_at": rows.at.isoformat(),
        }
        rank = (0 if evaluation.outcome == "eligible" else 1, 0 if code in about else 1, code)
        found.append((rank, Match("policy", code, rule.name_zh, 0, tuple(reasons), extra)))
    found.sort(key=lambda pair: pair[0])
    return tuple(m for _, m in found)


def match(
    catalogue: PlatformCatalogue,
    library: Library,
    lookups: Lookups,
    need_kind: str,
    text: str,
    enterprise: Enterprise,
    *,
    content: Path = CITY,
) -> Matches:
    solutions, platforms = match_solutions(catalogue, need_kind, text, enterprise)
    policies = match_policies(library, lookups, need_kind, enterprise.credit_code, content=content)
    return Matches(solutions, platforms, policies)


def in_use(rows: Iterable[Mapping[str, Any]]) -> tuple[frozenset[str], frozenset[str]]:
    """The solutions and platforms an enterprise's enablement rows name."""
    listed: Sequence[Mapping[str, Any]] = list(rows)
    return (
        frozenset(str(r["solution_code"]) for r in listed if r.get("solution_code")),
        frozenset(str(r["platform_code"]) for r in listed if r.get("platform_code")),
    )
