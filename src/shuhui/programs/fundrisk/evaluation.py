"""The fund-risk detectors scored against the synthetic city's ground truth.

Each detector's findings (its rule's "eligible" keys on the date, as a detection run would
find them; nothing is written) are compared with the truth table of the anomaly it looks for,
on the key both share. Only here are ``truth_*`` tables read.
"""

from __future__ import annotations

from typing import Final

from shuhui.core.settings import get_settings
from shuhui.datacore.store import TRUTH_SCHEMA, DataCore
from shuhui.programs.evaluation import EvaluationContext, Score, score
from shuhui.programs.fundrisk.service import findings
from shuhui.programs.service import Library

# detector → (truth table, the column holding the key the detector finds)
TRUTH: Final[dict[str, tuple[str, str]]] = {
    "risk-pension-after-death": ("truth_pension_after_death", "pension_id"),
    "risk-double-pension": ("truth_double_pension", "citizen_id"),
    "risk-unemployment-while-employed": ("truth_unemployment_while_employed", "registration_id"),
    "risk-early-retirement": ("truth_early_retirement", "pension_id"),
    "risk-shared-account": ("truth_shared_account", "account_no"),
    "risk-low-contribution-base": ("truth_low_contribution_base", "credit_code"),
}


def truth_keys(core: DataCore, table: str, column: str) -> set[str] | None:
    """The keys a truth table holds, or None when the city has no such table."""
    opened = DataCore(core.main.root, core.truth_store.root, truth=True)
    if table not in {info.name for info in opened.tables() if info.truth}:
        return None
    con = opened.connect(tables=[table])
    try:
        # Both names are this module's constants (TRUTH), never input.
        query = f'SELECT DISTINCT "{column}" FROM {TRUTH_SCHEMA}."{table}"'  # noqa: S608
        rows = con.execute(query).fetchall()
    finally:
        con.close()
    return {str(r[0]) for r in rows}


def evaluate(context: EvaluationContext) -> dict[str, Score]:
    library = Library(get_settings(), context.datacore)
    out: dict[str, Score] = {}
    for detector, _rule, found in findings(get_settings(), library, context.on):
        where = TRUTH.get(detector.code)
        true = truth_keys(context.datacore, *where) if where is not None else None
        if true is None:
            continue  # nothing to score against on this city
        out[detector.code] = score((e.key for e in found), true)
    return out
