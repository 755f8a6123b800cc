"""The trust layer, by what it is: ``crypto`` (SM2/SM3, canonical JSON, Merkle trees, key files:
pure), ``ledger`` (the audit ledger and the platform key), ``identity`` (accounts, sessions,
roles), ``seals`` (e-seals) and ``authorisations`` (mandates and certificate-use authorisations).
Each depends only on the ones listed before it (the import-linter contract in pyproject.toml)."""
