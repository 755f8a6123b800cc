"""What goes wrong in a load, said precisely: which row, which column, and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text


@dataclass(frozen=True)
class RowError:
    # 1-based row of the input as a spreadsheet shows it: a CSV file's header is row 1, so its
    # first data row is row 2; Arrow and Parquet have no header row. None: the whole file.
    row: int | None
    column: str | None
    reason: str  # English: what the command line prints and the load's log keeps
    value: str | None = None
    # The reason in Chinese, for a page or an API answer (a person uploading a file); None
    # where only the English was written.
    zh: str | None = None

    @property
    def said(self) -> Text:
        """The reason as a message for people: Chinese first, with its English."""
        return Text(self.zh or self.reason, self.reason)

    def __str__(self) -> str:
        where = [f"row {self.row}" if self.row is not None else "file"]
        if self.column:
            where.append(f"column {self.column}")
        shown = f" (value {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}: {self.reason}{shown}"


@dataclass
class LoadError(Exception):
    """A load that was refused; the table still serves its previous version."""

    table: str
    errors: list[RowError] = field(default_factory=list)
    message: str = ""

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        head = self.message or f"load of {self.table} refused"
        return head + "".join(f"\n  {e}" for e in self.errors)

    def as_problem(self) -> Problem:
        return Problem(
            "validation",
            detail=f"数据表 {self.table} 加载失败，原版本保持不变",
            errors=[
                FieldError(
                    f"row {e.row}.{e.column}" if e.row is not None else (e.column or "file"),
                    e.said,
                )
                for e in self.errors
            ],
        )


class QueryRefused(ValueError):
    """A query the read-only SQL interface does not run."""


class TableNotFound(KeyError):
    def __str__(self) -> str:
        return f"no table named {self.args[0]!r} in the data core"
