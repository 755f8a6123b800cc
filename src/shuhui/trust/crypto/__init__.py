"""National (国密) cryptography and the ledger's pure building blocks: SM2/SM3 (``sm``), RFC 8785
canonical JSON (``canonical``), the RFC 6962/9162 Merkle tree (``merkle``) and private-key files
(``keystore``). No database and no HTTP here."""
