"""The quality report: five dimensions, their checks, scores 0–100 and the overall score."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

Dimension = Literal["completeness", "validity", "uniqueness", "consistency", "timeliness"]
DIMENSIONS: Final[tuple[Dimension, ...]] = (
    "completeness",
    "validity",
    "uniqueness",
    "consistency",
    "timeliness",
)
DIMENSION_TITLES: Final[Mapping[str, str]] = {
    "completeness": "完整性",
    "validity": "有效性",
    "uniqueness": "唯一性",
    "consistency": "一致性",
    "timeliness": "及时性",
}
DEFAULT_WEIGHTS: Final[Mapping[str, float]] = {
    "completeness": 0.25,
    "validity": 0.25,
    "uniqueness": 0.15,
    "consistency": 0.20,
    "timeliness": 0.15,
}


def bounded_score(value: float) -> float:
    """Two decimals, rounded down: a check with any failure never shows 100."""
    return max(0.0, min(100.0, math.floor(value * 100 + 1e-6) / 100))


@dataclass(frozen=True)
class CheckResult:
    """One check: ``failed`` of ``total`` values (or rows, or keys) did not pass."""

    name: str  # missing, citizen_id, credit_code, division, vocabulary, range, date_range, …
    column: str | None  # the column checked; "a,b" for several; None for the whole table
    failed: int
    total: int
    score: float  # 0–100
    examples: tuple[str, ...] = ()  # a few failing values, personal ones masked
    detail: str = ""  # what was expected, in words

    @classmethod
    def counted(
        cls,
        name: str,
        column: str | None,
        failed: int,
        total: int,
        examples: Iterable[str] = (),
        detail: str = "",
    ) -> CheckResult:
        score = 100.0 if total == 0 else bounded_score(100.0 * (1 - failed / total))
        return cls(name, column, failed, total, score, tuple(examples), detail)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "column": self.column,
            "failed": self.failed,
            "total": self.total,
            "score": self.score,
            "examples": list(self.examples),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class DimensionResult:
    """A dimension's score is the mean of its checks' scores; None when nothing applied."""

    name: str
    score: float | None
    checks: tuple[CheckResult, ...]

    @property
    def title(self) -> str:
        return DIMENSION_TITLES.get(self.name, self.name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "score": self.score,
            "checks": [c.as_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class QualityReport:
    table: str
    version: int
    computed_at: datetime  # UTC
    rows: int
    score: float  # weighted mean of the dimensions that applied, 0–100
    dimensions: tuple[DimensionResult, ...]
    loaded_at: str = ""  # when the assessed version was published (ISO 8601, UTC)
    seconds: float = 0.0  # time the assessment took
    notes: tuple[str, ...] = ()  # checks that could not run, and why

    def dimension(self, name: str) -> DimensionResult:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise KeyError(name)

    def checks(self, name: str | None = None, column: str | None = None) -> list[CheckResult]:
        """All checks, or those with this name and/or column."""
        return [
            c
            for d in self.dimensions
            for c in d.checks
            if (name is None or c.name == name) and (column is None or c.column == column)
        ]

    def failures(self) -> list[tuple[str, CheckResult]]:
        return [(d.name, c) for d in self.dimensions for c in d.checks if c.failed]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types only."""
        return {
            "table": self.table,
            "version": self.version,
            "computed_at": self.computed_at.astimezone(UTC).isoformat(timespec="seconds"),
            "loaded_at": self.loaded_at,
            "rows": self.rows,
            "score": self.score,
            "dimensions": [d.as_dict() for d in self.dimensions],
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }
