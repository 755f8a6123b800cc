"""What the data core knows of one enterprise, as the digital-level questionnaire's pre-fill
asks it: the registration, the platform solutions it is enabled with and the capabilities they
carry, its staff, and the trends of its revenue (or tax), its tax per insured employee and its
electricity per yuan of tax over the latest year a register holds.

Each read is keyed (the approval domain's key indexes: a binary search), made once per
questionnaire and only when a rule asks for it, and remembered with the table's version so the
answer can say where it came from. A table the data core does not hold reads as nothing known;
a trend needs all twelve months of the year, or it is not given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Final

from shuhui.approval.lookups import Lookups
from shuhui.enterprise import monthly
from shuhui.enterprise.platforms import PlatformCatalogue
from shuhui.standard.tables import TABLES

ENTERPRISES: Final = "enterprises"
ENABLEMENTS: Final = "platform_enablements"
TAX: Final = "enterprise_tax"
OUTPUT: Final = "digital_economy_output"
ELECTRICITY: Final = "enterprise_electricity"
SPELLS: Final = "employment_spells"
CONTRIBUTIONS: Final = "insurance_contributions"
HALF: Final = 6  # months: a trend compares the latest half-year held with the one before
TITLES: Final = {spec.name: spec.title for spec in TABLES}
# The keyed reads a questionnaire makes, for ``Lookups.prepare`` at start-up.
KEYED: Final = (
    (ENTERPRISES, ("credit_code",)),
    (ENABLEMENTS, ("credit_code",)),
    (TAX, ("credit_code",)),
    (OUTPUT, ("credit_code",)),
    (ELECTRICITY, ("credit_code",)),
    (monthly.NAME, ("credit_code",)),
)
# A register's measure: its value, what it says in words, and the tables it was read from.
Measure = tuple[object, str, tuple[str, ...]]


def _month_text(month: date) -> str:
    return f"{month.year}年{month.month}月"


def versioned(table: str, version: int) -> str:
    return f"{TITLES.get(table, table)}（第{version}版）"


def _change_text(change: float, up: str, down: str) -> str:
    if abs(change) < 0.05:
        return "基本没有变化"
    return f"{up if change > 0 else down}{abs(change):.1f}%"


def _months_back(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class Facts:
    """What the data core knows of one enterprise, read once each when a rule asks."""

    lookups: Lookups
    credit_code: str
    today: date
    catalogue: PlatformCatalogue | None
    read: dict[str, int] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict)

    def _rows(self, table: str) -> tuple[dict[str, Any], ...] | None:
        if table in self._cache:
            cached: tuple[dict[str, Any], ...] | None = self._cache[table]
            return cached
        found = self.lookups.rows(table, "credit_code", self.credit_code)
        rows = None
        if found is not None:  # None: the data core does not hold the table
            rows = found.rows
            if table == monthly.NAME:  # derived: name the tables it is made of
                versions = self.lookups.versions()
                for source in monthly.HEADCOUNTS.sources:
                    if source in versions:
                        self.read[source] = versions[source]
            else:
                self.read[table] = found.version
        self._cache[table] = rows
        return rows

    def version(self, table: str) -> int:
        return self.read.get(table, 0)

    def enterprise(self) -> dict[str, Any] | None:
        rows = self._rows(ENTERPRISES)
        return rows[0] if rows else None

    def enablements(self) -> list[dict[str, Any]]:
        rows = self._rows(ENABLEMENTS) or ()
        return [
            r
            for r in rows
            if not isinstance(r.get("enabled_date"), date) or r["enabled_date"] <= self.today
        ]

    def capabilities(self) -> dict[str, list[str]]:
        """Each capability the enterprise's enabled solutions carry → those solutions' names."""
        if "capabilities" in self._cache:
            cached: dict[str, list[str]] = self._cache["capabilities"]
            return cached
        found: dict[str, list[str]] = {}
        for row in self.enablements():
            solution = None
            if self.catalogue is not None and row.get("solution_code"):
                solution = self.catalogue.solution(str(row["solution_code"]))
            if solution is None:
                continue
            platform = self.catalogue.platform(solution.platform) if self.catalogue else None
            name = f"{platform.name_zh}·{solution.name_zh}" if platform else solution.name_zh
            for capability in solution.capabilities:
                names = found.setdefault(str(capability), [])
                if name not in names:
                    names.append(name)
        self._cache["capabilities"] = found
        return found

    # --- the registers' measures: (value, what it says, tables) or None when unknown -------

    def measure(self, name: str) -> Measure | None:
        key = f"measure:{name}"
        if key not in self._cache:
            self._cache[key] = getattr(self, f"_{name}")()
        found: Measure | None = self._cache[key]
        return found

    def _industry(self) -> Measure | None:
        e = self.enterprise()
        if e is None or not e.get("industry_code"):
            return None
        shown = e.get("industry_name") or e["industry_code"]
        return e["industry_code"], f"行业门类为“{shown}”", (ENTERPRISES,)

    def _size(self) -> Measure | None:
        e = self.enterprise()
        if e is None or not e.get("size_class"):
            return None
        return e["size_class"], f"企业规模为“{e['size_class']}”", (ENTERPRISES,)

    def _years(self) -> Measure | None:
        e = self.enterprise()
        founded = e.get("established_date") if e else None
        if not isinstance(founded, date) or founded > self.today:
            return None
        years = (self.today - founded).days / 365.2425
        when = f"{founded.year}年{founded.month}月{founded.day}日"
        return years, f"成立于{when}", (ENTERPRISES,)

    def _headcounts(self) -> dict[date, dict[str, Any]]:
        rows = self._rows(monthly.NAME) or ()
        return {r["month"]: r for r in rows if isinstance(r.get("month"), date)}

    def _staff(self) -> Measure | None:
        months = self._headcounts()
        if not months:
            return None
        latest = max(months)
        staff = int(months[latest].get("staff") or 0)
        return staff, f"{_month_text(latest)}在职登记{staff}人", (SPELLS,)

    def _monthly(self, table: str, column: str) -> dict[date, int]:
        out: dict[date, int] = {}
        for r in self._rows(table) or ():
            month, value = r.get("month"), r.get(column)
            if isinstance(month, date) and isinstance(value, int):
                out[month] = out.get(month, 0) + value
        return out

    def _window(self, table: str = TAX, column: str = "tax_fen") -> tuple[list[date], ...] | None:
        """The latest half-year a monthly register holds for the enterprise and the one before,
        when it holds all twelve months."""
        held = self._monthly(table, column)
        if not held:
            return None
        latest = max(held)
        months = [_months_back(latest, n) for n in range(2 * HALF - 1, -1, -1)]
        if any(m not in held for m in months):
            return None
        return months[:HALF], months[HALF:]

    def _change(self, table: str, column: str) -> tuple[float, str] | None:
        window = self._window(table, column)
        if window is None:
            return None
        held = self._monthly(table, column)
        before, after = (sum(held[m] for m in half) for half in window)
        if before <= 0:
            return None
        span = f"{_month_text(window[1][0])}至{_month_text(window[1][-1])}"
        return (after - before) * 100 / before, span

    def _revenue_change(self) -> Measure | None:
        found = self._change(OUTPUT, "revenue_fen")
        if found is None:
            return None
        change, span = found
        said = f"{span}主营业务收入比之前半年{_change_text(change, '增长', '下降')}"
        return change, said, (OUTPUT,)

    def _tax_change(self) -> Measure | None:
        found = self._change(TAX, "tax_fen")
        if found is None:
            return None
        change, span = found
        said = f"{span}缴纳税款比之前半年{_change_text(change, '增长', '下降')}"
        return change, said, (TAX,)

    def _productivity_change(self) -> Measure | None:
        window = self._window()
        if window is None:
            return None
        tax = self._monthly(TAX, "tax_fen")
        heads = self._headcounts()
        ratios = []
        for half in window:
            insured = sum(int(heads.get(m, {}).get("insured") or 0) for m in half)
            paid = sum(tax[m] for m in half)
            if insured <= 0 or paid <= 0:
                return None
            ratios.append(Fraction(paid, insured))
        change = float((ratios[1] / ratios[0] - 1) * 100)
        said = f"每名参保职工对应的缴纳税款比之前半年{_change_text(change, '提高', '下降')}"
        return change, said, (TAX, CONTRIBUTIONS)

    def _energy_change(self) -> Measure | None:
        window = self._window()
        if window is None:
            return None
        tax = self._monthly(TAX, "tax_fen")
        kwh = self._monthly(ELECTRICITY, "electricity_kwh")
        ratios = []
        for half in window:
            if any(m not in kwh for m in half):
                return None
            used, paid = sum(kwh[m] for m in half), sum(tax[m] for m in half)
            if used <= 0 or paid <= 0:
                return None
            ratios.append(Fraction(used, paid))
        change = float((ratios[1] / ratios[0] - 1) * 100)
        said = f"每元缴纳税款对应的用电量比之前半年{_change_text(change, '上升', '下降')}"
        return change, said, (ELECTRICITY, TAX)
