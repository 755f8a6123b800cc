"""The certification cycle against the synthetic city's ground truth (``truth_*``).

Run read-only (``cycle.findings``: the cycle's evidence query, nothing written):

- ``certification.deceased`` — recipients found deceased against the pensioners the city
  kept paying after death (``truth_pension_after_death``: every death among pensions still in
  payment);
- ``certification.undetermined`` — recipients left without evidence against the living
  pensioners who left no record (``truth_no_record``);
- ``certification.certified_by_data`` — certified against the living pensioners who did leave
  a record;
- ``certification.deceased_certified`` — deceased pensioners certified: must find none
  (``found`` is their number; precision 1.0 only when it is 0).
"""

from __future__ import annotations

from collections.abc import Mapping

from shuhui.core.settings import get_settings
from shuhui.datacore.store import DataCore
from shuhui.programs.certification.config import cycle_on, load_cycles
from shuhui.programs.certification.cycle import findings
from shuhui.programs.evaluation import EvaluationContext, Score, score
from shuhui.programs.service import Library


def _truth_core(core: DataCore) -> DataCore:
    if core.truth:
        return core
    return DataCore(core.main.root, core.truth_store.root, truth=True)


def evaluate(context: EvaluationContext) -> Mapping[str, Score]:
    settings = get_settings()
    core = _truth_core(context.datacore)
    library = Library(settings, core)
    cycle = cycle_on(load_cycles(settings.city_content), context.on)
    found = findings(library, cycle, context.on)
    con = core.connect()
    try:
        dead = {
            str(r[0])
            for r in con.execute(
                "SELECT DISTINCT citizen_id FROM truth.truth_pension_after_death "
                "WHERE death_date <= ?",
                [context.on],
            ).fetchall()
        }
        silent = {
            str(r[0])
            for r in con.execute("SELECT citizen_id FROM truth.truth_no_record").fetchall()
        }
    finally:
        con.close()
    living = found.recipients - dead
    return {
        "certification.deceased": score(found.deceased, dead & found.recipients),
        "certification.undetermined": score(found.undetermined, living & silent),
        "certification.certified_by_data": score(found.certified, living - silent),
        "certification.deceased_certified": Score(
            found=len(found.certified & dead), true=0, hits=0
        ),
    }
