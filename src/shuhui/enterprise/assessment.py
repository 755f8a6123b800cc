"""The digital-transformation assessment (数字化水平评测): an enterprise answers the SME
digital-level questionnaire (``assessment_content``), most answers pre-filled from what the city
already knows, and gets its level 1-4 and what keeps it from the next.

**Pre-fill.** Each question's rules (content) are tried in order: a capability one of the
enterprise's platform solutions carries (data core ``platform_enablements``, the solutions of
``platforms.yaml``), any enablement at all, a register's value (the enterprise's registration,
its staff, its tax, insured staff and electricity by month), the enterprise's own latest
assessment (历史选择填). A capability says what the enterprise has at least: an earlier answer of
its own that scores as much or more is kept instead, since it knows its own business better.
Every offered answer carries its source — the table and version read, or the assessment — shown
beside it; the enterprise may change any of them. Reads go through the approval domain's key
indexes (a binary search each), and a table the data core does not hold (``platform_enablements``
in a city that does not load it) simply offers nothing. "Unknown" stays unanswered: the absence
of a record is never taken for "no".

**Submitting** checks every applicable question has one of its options (each refusal in the
question's own words), scores it, works out the gaps — how far the next level is, the
dimensions under its threshold, and a short plan of answers one or more options up that would
reach it, each with the platform solutions that bring it — and keeps one
``enterprise_assessments`` row (PC-YYYYMMDD-NNNNNN: answers, which were pre-filled and whether
kept, score in tenths, level, gaps) with an ``enterprise.assessment_submitted`` ledger entry
naming the tables and versions read, in the same transaction. The enterprise sees its history
and its latest level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shuhui.approval.lookups import Lookups
from shuhui.core.clock import local, local_today, utcnow
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.enterprise import monthly
from shuhui.enterprise.access import credit_code_of
from shuhui.enterprise.assessment_content import (
    Level,
    Option,
    Question,
    Questionnaire,
    Rule,
    Scored,
    closing_steps,
    edition,
    in_force,
    score,
    to_next_level,
    weak_dimensions,
)
from shuhui.enterprise.assessment_facts import ENABLEMENTS, Facts, versioned
from shuhui.enterprise.assessment_facts import KEYED as FACT_KEYS
from shuhui.enterprise.models import Assessment
from shuhui.enterprise.platforms import PlatformCatalogue
from shuhui.trust.identity.models import User
from shuhui.trust.ledger import service as ledger

CODE_PREFIX: Final = "PC"
CODE_ATTEMPTS: Final = 5
ACTION: Final = "enterprise.assessment_submitted"  # as recorded below
SUGGESTED: Final = 3  # platform solutions suggested per gap
HISTORY: Final = 100  # the assessments a history shows
NO_LEVEL: Final = "未达到一级"
# The keyed reads a questionnaire makes, for ``Lookups.prepare`` at start-up.
KEYED: Final = FACT_KEYS


# --- where an answer came from --------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    kind: str  # capability | enabled | register | history
    text: str  # as the enterprise reads it, after "来自："
    tables: tuple[tuple[str, int], ...] = ()
    assessment: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "tables": dict(self.tables),
            "assessment": self.assessment,
        }

    @staticmethod
    def of_json(raw: Mapping[str, Any]) -> Source:
        tables = raw.get("tables") or {}
        return Source(
            kind=str(raw.get("kind", "")),
            text=str(raw.get("text", "")),
            tables=tuple((str(k), int(v)) for k, v in tables.items()),
            assessment=raw.get("assessment"),
        )


@dataclass(frozen=True)
class Offer:
    option: str
    source: Source


@dataclass(frozen=True)
class Prefill:
    """The questionnaire as offered to one enterprise: the answers the platform fills in, with
    their sources, and the tables read."""

    questionnaire: Questionnaire
    credit_code: str
    offers: dict[str, Offer]
    read: dict[str, int]
    latest: Assessment | None

    @property
    def answers(self) -> dict[str, str]:
        return {code: offer.option for code, offer in self.offers.items()}

    @property
    def asked(self) -> tuple[Question, ...]:
        return self.questionnaire.applicable(self.answers)

    @property
    def filled(self) -> int:
        """How many of the questions asked are pre-filled."""
        return sum(1 for q in self.asked if q.code in self.offers)


# --- pre-filling ------------------------------------------------------------------------------


def _history_offer(question: Question, latest: Assessment | None) -> Offer | None:
    if latest is None:
        return None
    chosen = (latest.answers or {}).get(question.code)
    if not isinstance(chosen, str) or question.option(chosen) is None:
        return None
    at = local(latest.submitted_at)
    when = f"{at.year}年{at.month}月{at.day}日"
    return Offer(
        chosen,
        Source("history", f"您{when}的评测（{latest.code}）中的选择", assessment=latest.code),
    )


def _at_least(question: Question, floor: str, source: Source, mine: Offer | None) -> Offer:
    """A floor the platform knows of, unless the enterprise's own earlier answer is as high."""
    lowest = question.option(floor)
    own = question.option(mine.option) if mine is not None else None
    if mine is not None and own is not None and lowest is not None and own.points >= lowest.points:
        return mine
    return Offer(floor, source)


def _offer(question: Question, rule: Rule, facts: Facts, mine: Offer | None) -> Offer | None:
    if rule.source == "history":
        return mine
    if rule.source == "capability" and rule.option is not None:
        names = facts.capabilities().get(str(rule.capability))
        if not names:
            return None
        shown = "、".join(f"“{n}”" for n in names[:3])
        text = f"{versioned(ENABLEMENTS, facts.version(ENABLEMENTS))}：已开通{shown}"
        source = Source("capability", text, ((ENABLEMENTS, facts.version(ENABLEMENTS)),))
        return _at_least(question, rule.option, source, mine)
    if rule.source == "enabled" and rule.option is not None:
        enabled = facts.enablements()
        if not enabled:
            return None
        platforms = {str(r.get("platform_code")) for r in enabled}
        text = (
            f"{versioned(ENABLEMENTS, facts.version(ENABLEMENTS))}："
            f"已在{len(platforms)}个工业互联网平台开通解决方案"
        )
        source = Source("enabled", text, ((ENABLEMENTS, facts.version(ENABLEMENTS)),))
        return _at_least(question, rule.option, source, mine)
    if rule.source == "register" and rule.measure is not None:
        found = facts.measure(rule.measure)
        if found is None:
            return None
        value, said, tables = found
        option = rule.option_for(value)
        if option is None:
            return None
        versions = tuple((t, facts.version(t)) for t in tables)
        named = "、".join(versioned(t, v) for t, v in versions)
        return Offer(option, Source("register", f"{named}：{said}", versions))
    return None


def latest(db: Session, credit_code: str) -> Assessment | None:
    found: Assessment | None = db.scalars(
        select(Assessment)
        .where(Assessment.credit_code == credit_code)
        .order_by(Assessment.submitted_at.desc(), Assessment.id.desc())
        .limit(1)
    ).first()
    return found


def prefill(
    db: Session,
    lookups: Lookups,
    questionnaire: Questionnaire,
    credit_code: str,
    *,
    catalogue: PlatformCatalogue | None = None,
    today: date | None = None,
) -> Prefill:
    """The answers the platform can fill in for the enterprise, each with its source."""
    monthly.register(lookups)
    facts = Facts(lookups, credit_code, today or local_today(), catalogue)
    return _prefill(db, questionnaire, facts)


def _prefill(db: Session, questionnaire: Questionnaire, facts: Facts) -> Prefill:
    credit_code = facts.credit_code
    last = latest(db, credit_code)
    offers: dict[str, Offer] = {}
    for question in questionnaire.questions:
        mine = _history_offer(question, last)
        for rule in question.prefill:
            offer = _offer(question, rule, facts, mine)
            if offer is not None:
                offers[question.code] = offer
                break
    return Prefill(questionnaire, credit_code, offers, dict(facts.read), last)


def questionnaire_for(content: Path, today: date | None = None) -> Questionnaire:
    """The edition in force today."""
    found = in_force(content, today or local_today())
    if found is None:
        raise Problem(
            "not-found", detail=Text("目前没有生效的评测问卷", "no questionnaire in force")
        )
    return found


# --- answers ----------------------------------------------------------------------------------


def check_answers(q: Questionnaire, given: Mapping[str, str]) -> dict[str, str]:
    """The answers to the questions that apply, each one of its question's options; every fault
    named at once, in the question's own words. Answers to questions that do not apply are set
    aside."""
    errors: list[FieldError] = []
    for key in given:
        if q.question(key) is None:
            errors.append(
                FieldError(f"answers.{key}", Text("问卷中没有这个问题", "no such question"))
            )
    valid = {
        k: v
        for k, v in given.items()
        if (x := q.question(k)) is not None and x.option(v) is not None
    }
    chosen: dict[str, str] = {}
    for x in q.applicable(valid):
        answer = given.get(x.code)
        if answer is None or not answer.strip():
            errors.append(
                FieldError(
                    f"answers.{x.code}",
                    Text(f"请回答“{x.title}”", f"answer question {x.code}"),
                )
            )
        elif x.option(answer) is None:
            errors.append(
                FieldError(
                    f"answers.{x.code}",
                    Text(
                        f"“{x.title}”没有这个选项，请从列出的选项中选择", "not one of its options"
                    ),
                )
            )
        else:
            chosen[x.code] = answer
    if errors:
        listed = "、".join(e.field.removeprefix("answers.") for e in errors[:5])
        raise Problem(
            "validation",
            detail=Text(
                f"评测问卷有需要修改的地方：{listed}", f"the answers need changes: {listed}"
            ),
            errors=errors,
        )
    return chosen


# --- gaps ---------------------------------------------------------------------------------------


def _points(tenths: int | Fraction) -> str:
    shown = f"{float(tenths) / 10:.1f}"
    return shown.removesuffix(".0")


def level_name(q: Questionnaire | None, number: int) -> str:
    found = q.level(number) if q is not None else None
    if found is not None:
        return found.name
    return NO_LEVEL if number == 0 else f"{number}级"


def suggested_solutions(
    catalogue: PlatformCatalogue | None,
    capability: str | None,
    *,
    industry: str | None = None,
    in_use: Iterable[str] = (),
) -> list[dict[str, str]]:
    """A few platform solutions that bring ``capability``, those serving the enterprise's
    industry first, none it already uses."""
    if catalogue is None or capability is None:
        return []
    used = set(in_use)
    found = [
        s for s in catalogue.solutions() if capability in s.capabilities and s.code not in used
    ]
    found.sort(key=lambda s: 0 if industry and industry in s.industries else 1)
    out = []
    for s in found[:SUGGESTED]:
        platform = catalogue.platform(s.platform)
        out.append(
            {
                "code": s.code,
                "name": s.name_zh,
                "platform": platform.name_zh if platform else s.platform,
            }
        )
    return out


def gaps(
    q: Questionnaire,
    answers: Mapping[str, str],
    scored: Scored,
    *,
    catalogue: PlatformCatalogue | None = None,
    industry: str | None = None,
    in_use: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """What keeps the enterprise from the next level, in plain words: how far it is, the
    dimensions under the level's threshold, and a short plan of better answers that reaches it
    (``closing_steps``), each with solutions of the platforms that bring it."""
    following, needed = to_next_level(q, answers)
    if following is None:
        return []
    used = list(in_use)
    out: list[dict[str, Any]] = [
        {
            "kind": "next",
            "level": following.level,
            "needed": needed,
            "text": f"距离{following.name}（{following.description}）还差{_points(needed)}分。",
        }
    ]
    for d in weak_dimensions(q, scored, following):
        out.append(
            {
                "kind": "dimension",
                "dimension": d.code,
                "rate": d.rate,
                "text": f"{d.name}得分率为{_points(d.rate)}%，"
                f"低于{following.name}对应的{_points(following.min)}%。",
            }
        )
    plan = closing_steps(q, answers)
    for step in plan:
        x = step.question
        now = f"目前为“{step.current.label}”" if step.current else "目前未作答"
        out.append(
            {
                "kind": "question",
                "dimension": x.dimension,
                "question": x.code,
                "current": step.current.code if step.current else None,
                "target": step.target.code,
                "gain": round(float(step.gain)),
                "text": f"{x.title}：{now}，做到“{step.target.label}”"
                f"约可提高{_points(step.gain)}分。",
                "solutions": suggested_solutions(
                    catalogue, x.capability, industry=industry, in_use=used
                ),
            }
        )
    if sum(step.gain for step in plan) < needed:
        out.append(
            {
                "kind": "more",
                "text": f"仅做到以上几项还不足以达到{following.name}，需要在更多方面同时提升。",
            }
        )
    return out


# --- saving and reading -------------------------------------------------------------------------


def _next_code(db: Session, at: datetime) -> str:
    stem = f"{CODE_PREFIX}-{local_today(at):%Y%m%d}-"
    last = db.scalar(select(func.max(Assessment.code)).where(Assessment.code.like(f"{stem}%")))
    return f"{stem}{(int(last[len(stem) :]) + 1) if last else 1:06d}"


def submit(
    db: Session,
    lookups: Lookups,
    content: Path,
    user: User,
    answers: Mapping[str, str],
    *,
    catalogue: PlatformCatalogue | None = None,
    now: datetime | None = None,
) -> Assessment:
    """Scores the enterprise's answers and keeps them, with the ledger entry."""
    credit_code = credit_code_of(user)
    now = now or utcnow()
    today = local_today(now)
    q = questionnaire_for(content, today)
    chosen = check_answers(q, answers)
    monthly.register(lookups)
    facts = Facts(lookups, credit_code, today, catalogue)
    offered = _prefill(db, q, facts)
    scored = score(q, chosen)
    industry = facts.enterprise() or {}
    in_use = [str(r.get("solution_code")) for r in facts.enablements()]
    found_gaps = gaps(
        q,
        chosen,
        scored,
        catalogue=catalogue,
        industry=industry.get("industry_code"),
        in_use=in_use,
    )
    prefilled = {
        code: {
            "offered": offer.option,
            "kept": chosen[code] == offer.option,
            "source": offer.source.as_json(),
        }
        for code, offer in offered.offers.items()
        if code in chosen
    }
    made: Assessment | None = None
    for _attempt in range(CODE_ATTEMPTS):
        candidate = Assessment(
            code=_next_code(db, now),
            credit_code=credit_code,
            edition=q.edition,
            answers=chosen,
            prefilled=prefilled,
            score=scored.score,
            level=scored.level,
            gaps=found_gaps,
            submitted_by=user.username,
            submitted_at=now,
        )
        try:
            with db.begin_nested():
                db.add(candidate)
                db.flush()
        except IntegrityError:
            continue  # another submission took the number first
        made = candidate
        break
    if made is None:
        raise Problem("conflict", detail=Text("评测编号分配冲突，请稍后重试", "try again"))
    ledger.record(
        db,
        actor=f"user:{user.username}",
        action="enterprise.assessment_submitted",
        subject=credit_code,
        detail={
            "assessment": made.code,
            "edition": q.edition,
            "score": scored.score,
            "level": scored.level,
            "prefilled": len(prefilled),
            "kept": sum(1 for p in prefilled.values() if p["kept"]),
            "tables": dict(sorted(offered.read.items())),
        },
    )
    return made


def history(db: Session, credit_code: str, limit: int = HISTORY) -> list[Assessment]:
    """The enterprise's assessments, the latest first (the latest ``limit``)."""
    return list(
        db.scalars(
            select(Assessment)
            .where(Assessment.credit_code == credit_code)
            .order_by(Assessment.submitted_at.desc(), Assessment.id.desc())
            .limit(limit)
        )
    )


def get(db: Session, credit_code: str, code: str) -> Assessment:
    """One of the enterprise's own assessments; anyone else's is not found."""
    found = db.scalar(
        select(Assessment).where(Assessment.code == code, Assessment.credit_code == credit_code)
    )
    if found is None:
        raise Problem("not-found", detail=Text(f"没有评测 {code}", f"no assessment {code}"))
    return found


# --- what the pages and the API show --------------------------------------------------------


@dataclass(frozen=True)
class AnswerView:
    question: Question
    option: Option | None
    offered: str | None
    kept: bool | None
    source: Source | None


@dataclass(frozen=True)
class ResultView:
    assessment: Assessment
    questionnaire: Questionnaire | None  # None: an edition the content no longer holds
    level: Level | None
    level_name: str
    dimensions: tuple[Any, ...]  # DimensionScore, recomputed from the kept answers
    answers: tuple[AnswerView, ...]

    @property
    def score_text(self) -> str:
        return _points(self.assessment.score)


def result_view(content: Path, row: Assessment) -> ResultView:
    q = edition(content, row.edition)
    answers = dict(row.answers or {})
    dims: tuple[Any, ...] = score(q, answers).dimensions if q is not None else ()
    shown: list[AnswerView] = []
    if q is not None:
        for x in q.questions:
            if x.code not in answers:
                continue
            pre = (row.prefilled or {}).get(x.code) or {}
            shown.append(
                AnswerView(
                    x,
                    x.option(answers[x.code]),
                    pre.get("offered"),
                    pre.get("kept"),
                    Source.of_json(pre["source"]) if pre.get("source") else None,
                )
            )
    return ResultView(
        row,
        q,
        q.level(row.level) if q is not None else None,
        level_name(q, row.level),
        dims,
        tuple(shown),
    )
