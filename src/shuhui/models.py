"""Every domain's tables in one metadata: what migrations and the schema check compare against."""

from shuhui.approval import models as approval_models
from shuhui.assets import models as asset_models
from shuhui.catalog import models as catalog_models
from shuhui.channel import models as channel_models
from shuhui.core.db import Base
from shuhui.enterprise import models as enterprise_models
from shuhui.hrss import models as hrss_models
from shuhui.jobs import models as jobs_models
from shuhui.monitor.alarms import models as monitor_alarm_models
from shuhui.monitor.telemetry import models as telemetry_models
from shuhui.programs import models as program_models
from shuhui.programs.certification import models as certification_models
from shuhui.programs.distress import models as distress_models
from shuhui.programs.fundrisk import models as fundrisk_models
from shuhui.trust.authorisations import models as authorisations_models
from shuhui.trust.identity import models as identity_models
from shuhui.trust.ledger import models as ledger_models
from shuhui.trust.seals import models as seals_models

metadata = Base.metadata

__all__ = [
    "approval_models",
    "asset_models",
    "authorisations_models",
    "catalog_models",
    "certification_models",
    "channel_models",
    "distress_models",
    "enterprise_models",
    "fundrisk_models",
    "hrss_models",
    "identity_models",
    "jobs_models",
    "ledger_models",
    "metadata",
    "monitor_alarm_models",
    "program_models",
    "seals_models",
    "telemetry_models",
]
