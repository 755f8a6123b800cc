"""Trust: accounts, login and roles (later: SM2/SM3, the audit ledger, e-seals, authorisations)."""
