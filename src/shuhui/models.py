"""Every domain's tables in one metadata: what migrations and the schema check compare against."""

from shuhui.catalog import models as catalog_models
from shuhui.channel import models as channel_models
from shuhui.core.db import Base
from shuhui.programs import models as program_models
from shuhui.trust import models as trust_models

metadata = Base.metadata

__all__ = ["catalog_models", "channel_models", "metadata", "program_models", "trust_models"]
