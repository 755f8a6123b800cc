"""Small-cell suppression: a published figure about people never reveals fewer than k of them.

One rule, used by the data channel's aggregate products and by insight's figures: a count of
people below k (but not 0) is withheld, and so is one whose complement in its group is (else
"12 people, 11 insured" singles out the one who is not)."""

from __future__ import annotations

from typing import Final

# The platform's k for figures shown to people (the channel's products each state their own).
K_MIN: Final = 10


def withheld(count: float, k: int = K_MIN, *, of: float | None = None) -> bool:
    """True where showing ``count`` people (out of ``of``, when it is a share) would single
    out fewer than ``k`` of them."""
    if 0 < count < k:
        return True
    if of is None:
        return False
    return 0 < of < k or 0 < of - count < k
