"""HR & social-security programs built on the rules engine: policy campaigns (政策找人)."""
