"""The synthetic city: a consistent, deterministic Qingdao with its anomalies' ground truth.

``generate_city(sink, CityConfig(residents=N, seed=S))`` writes every table of the city's data
standard (:mod:`shuhui.standard.tables`) and the ground truth of :mod:`shuhui.synth.truth` to
``sink`` batch by batch. No package but the top-level CLI imports this one.
"""

from shuhui.synth.generate import CityConfig, Progress, generate_city
from shuhui.synth.sink import Sink
from shuhui.synth.sinks import CountingSink, ParquetSink
from shuhui.synth.truth import TRUTH_TABLES

__all__ = [
    "TRUTH_TABLES",
    "CityConfig",
    "CountingSink",
    "ParquetSink",
    "Progress",
    "Sink",
    "generate_city",
]
