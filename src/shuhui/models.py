"""Every domain's tables in one metadata: what migrations and the schema check compare against."""

from shuhui.assets import models as asset_models
from shuhui.catalog import models as catalog_models
from shuhui.core.db import Base
from shuhui.exchange import models as exchange_models
from shuhui.programs import models as program_models
from shuhui.trust import models as trust_models

metadata = Base.metadata

__all__ = [
    "asset_models",
    "catalog_models",
    "exchange_models",
    "metadata",
    "program_models",
    "trust_models",
]
