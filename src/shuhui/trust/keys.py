"""The platform's own SM2 key, which signs the ledger's checkpoints.

Kept as PKCS#8 PEM in the data directory, readable only by its owner, created on first use. An
operator can replace it with a key from an HSM export or ``openssl genpkey -algorithm SM2``.
"""

from __future__ import annotations

import os
from pathlib import Path

from shuhui.trust.sm import SM2PrivateKey

KEY_FILE = Path("keys") / "platform-sm2.pem"


def platform_key(data_dir: Path) -> SM2PrivateKey:
    path = data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = SM2PrivateKey.generate()
        # Created with owner-only permissions before any byte of the key is written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.to_pem())
        return key
    return SM2PrivateKey.from_pem(path.read_text())
