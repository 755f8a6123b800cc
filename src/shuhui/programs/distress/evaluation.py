"""The difficulty score against the synthetic city's ground truth (``truth_enterprise_distress``).

The score is run as the program runs it (the rule's eligible on the date), read-only; the truth
is the enterprises the generator put in distress by that date."""

from __future__ import annotations

from shuhui.core.settings import get_settings
from shuhui.datacore.store import DataCore
from shuhui.programs.distress.service import RULE
from shuhui.programs.evaluation import EvaluationContext, Score, score
from shuhui.programs.service import Library
from shuhui.rules import service as rules_service

DETECTOR = "enterprise_distress"


def found_on(library: Library, context: EvaluationContext) -> set[str]:
    rule = library.rule(RULE)
    with library.connection() as con:
        rows = rules_service.candidates(con, rule, context.on, outcomes=("eligible",))
    return {e.key for e in rows}


def truth_on(core: DataCore, context: EvaluationContext) -> set[str]:
    truth = DataCore(core.main.root, core.truth_store.root, truth=True)
    con = truth.connect()
    try:
        rows = con.execute(
            "SELECT credit_code FROM truth.truth_enterprise_distress WHERE distress_start <= ?",
            [context.on],
        ).fetchall()
    finally:
        con.close()
    return {str(r[0]) for r in rows}


def evaluate(context: EvaluationContext) -> dict[str, Score]:
    library = Library(get_settings(), context.datacore)
    return {DETECTOR: score(found_on(library, context), truth_on(context.datacore, context))}
