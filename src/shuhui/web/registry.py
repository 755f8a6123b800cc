"""The business register as the trust layer needs it: who legally represents an enterprise.

Read from the data core's ``enterprises`` table (the market-regulation bureau's register); the
trust package only sees the
:class:`shuhui.trust.authorisations.service.EnterpriseRegistry` protocol, so it does not depend
on the data core.
"""

from __future__ import annotations

import duckdb

from shuhui.datacore.store import DataCore

TABLE = "enterprises"


class DataCoreEnterprises:
    def __init__(self, datacore: DataCore) -> None:
        self.datacore = datacore

    def legal_representative(self, credit_code: str) -> str | None:
        if TABLE not in {t.name for t in self.datacore.tables()}:
            return None
        con = self.datacore.connect()
        try:
            row = con.execute(
                f"SELECT legal_rep_citizen_id FROM {TABLE} WHERE credit_code = ? LIMIT 1",  # noqa: S608
                [credit_code],
            ).fetchone()
        except duckdb.Error:
            return None
        finally:
            con.close()
        return None if row is None else str(row[0])
