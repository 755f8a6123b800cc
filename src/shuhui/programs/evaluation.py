"""Scoring the programs against the synthetic city's ground truth (``truth_*`` tables).

A detector, the certification cycle or the enterprise-difficulty score never reads a truth
table: only this evaluation does. Each program contributes an *evaluator*: a function that is
given the data core and the evaluation date, runs the program's own findings
as the program would (read-only: nothing is written, no alert is opened), reads the truth
tables it is scored against, and returns one :class:`Score` per detector or outcome.

Evaluators are registered by dotted name in :data:`EVALUATORS` and imported only when
``shuhui programs evaluate`` runs, so a program that is not installed costs nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shuhui.datacore.store import DataCore


@dataclass(frozen=True)
class Score:
    """How one detector's findings compare with the truth: found, true, and both right."""

    found: int
    true: int
    hits: int

    @property
    def precision(self) -> float:
        # Nothing found is nothing found wrongly.
        return self.hits / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        # Nothing to find is everything found.
        return self.hits / self.true if self.true else 1.0

    def as_json(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "found": self.found,
            "true": self.true,
        }


def score(found: Iterable[str], true: Iterable[str]) -> Score:
    """Compares two sets of keys (a citizen ID, a pension ID, a credit code…)."""
    found_set, true_set = set(found), set(true)
    return Score(found=len(found_set), true=len(true_set), hits=len(found_set & true_set))


@dataclass(frozen=True)
class EvaluationContext:
    datacore: DataCore
    on: date


Evaluator = Callable[[EvaluationContext], Mapping[str, Score]]

# ``module:function`` of each program's evaluator, in the order they are printed.
EVALUATORS: tuple[str, ...] = (
    "shuhui.programs.certification.evaluation:evaluate",
    "shuhui.programs.fundrisk.evaluation:evaluate",
    "shuhui.programs.distress.evaluation:evaluate",
)


def evaluator(dotted: str) -> Evaluator:
    module, _, name = dotted.partition(":")
    found: Evaluator = getattr(importlib.import_module(module), name)
    return found


def evaluate(context: EvaluationContext, names: Iterable[str] = EVALUATORS) -> dict[str, Score]:
    """Every registered evaluator's scores, detector by detector (names are unique)."""
    scores: dict[str, Score] = {}
    for dotted in names:
        for detector, result in evaluator(dotted)(context).items():
            if detector in scores:
                raise ValueError(f"two evaluators score {detector!r}")
            scores[detector] = result
    return scores
