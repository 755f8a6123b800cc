"""The measures of the decisions map (see ``shuhui.insight.measures``)."""

from __future__ import annotations

from shuhui.insight.measures import Measure

MEASURES: tuple[Measure, ...] = ()
