"""Every domain's tables in one metadata: what migrations and the schema check compare against."""

from shuhui.core.db import Base
from shuhui.trust import models as trust_models

metadata = Base.metadata

__all__ = ["metadata", "trust_models"]
