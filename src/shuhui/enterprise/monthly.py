"""An enterprise's staff and insured headcount month by month, as one file of the whole city.

A large enterprise has thousands of contribution rows a month; reading them to count one
enterprise's insured people would cost a profile hundreds of milliseconds. Instead the counts of
every enterprise and month are made in DuckDB once per version of the two tables they come from
(``employment_spells``, ``insurance_contributions``) and kept as a derived table of the approval
lookups (``approval.lookups.Derived``): an index file found by credit code, like a table's own,
so a profile reads its enterprise's two dozen rows in well under a millisecond.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

from shuhui.approval.lookups import Derived, Lookups
from shuhui.datacore.store import DataCore

NAME: Final = "enterprise_headcounts"
SPELLS: Final = "employment_spells"
CONTRIBUTIONS: Final = "insurance_contributions"
MONTHS: Final = 24  # the months a profile shows (the query's 23 before the latest, and it)

# Staff: spells open on any day of the month. Insured: people with a pension contribution due
# from the enterprise that month (every insured employee has one); unknown (NULL) before the
# first month the contributions hold, not 0. Owed: due minus paid.
_QUERY: Final = """
WITH last AS (SELECT max(month) AS m FROM insurance_contributions),
first AS (SELECT min(month) AS m FROM insurance_contributions),
months AS (
  SELECT CAST(unnest(generate_series(
           (SELECT m FROM last) - INTERVAL 23 MONTH, (SELECT m FROM last),
           INTERVAL 1 MONTH)) AS DATE) AS month
),
staff AS (
  SELECT s.credit_code, m.month, count(*) AS staff
  FROM employment_spells s JOIN months m
    ON s.start_date < m.month + INTERVAL 1 MONTH
   AND (s.end_date IS NULL OR s.end_date >= m.month)
  GROUP BY ALL
),
insured AS (
  SELECT credit_code, month,
         count(*) FILTER (WHERE insurance_type = '养老') AS insured,
         sum(amount_fen) AS due_fen,
         sum(paid_fen) AS paid_fen
  FROM insurance_contributions
  WHERE month >= (SELECT min(month) FROM months)
  GROUP BY ALL
)
SELECT coalesce(s.credit_code, i.credit_code) AS credit_code,
       coalesce(s.month, i.month) AS month,
       coalesce(s.staff, 0) AS staff,
       CASE WHEN coalesce(s.month, i.month) >= (SELECT m FROM first) THEN coalesce(i.insured, 0)
       END AS insured,
       coalesce(i.due_fen, 0) AS due_fen,
       coalesce(i.paid_fen, 0) AS paid_fen
FROM staff s FULL JOIN insured i ON s.credit_code = i.credit_code AND s.month = i.month
"""


def _build(core: DataCore) -> pa.Table:
    con = core.connect(tables=(SPELLS, CONTRIBUTIONS))
    try:
        return con.sql(_QUERY).to_arrow_table()
    finally:
        con.close()


HEADCOUNTS: Final = Derived(NAME, (SPELLS, CONTRIBUTIONS), _build)


def register(lookups: Lookups) -> Lookups:
    """Makes the headcounts readable as ``lookups.rows(NAME, "credit_code", code)``."""
    lookups.derive(HEADCOUNTS)
    return lookups
