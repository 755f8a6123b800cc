"""Mandates (委托授权) and certificate-use authorisations (用证授权), signed with SM2 and
recorded in the ledger. Other domains call ``service``; ``routes`` (API) and ``pages`` validate
through ``schemas``."""
