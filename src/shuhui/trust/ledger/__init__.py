"""The audit ledger: ``service`` (record and record_many, the tree cache, checkpoints,
verification), ``keys`` (the platform's SM2 key), ``routes`` (checkpoints, proofs, entries) and
``cli`` (``shuhui audit verify``); its tables in ``models``."""
