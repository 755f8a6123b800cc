"""The synthetic city: a consistent, deterministic Qingdao with its anomalies' ground truth.

``generate_city(sink, CityConfig(residents=N, seed=S))`` writes every table of
:mod:`shuhui.synth.tables` to ``sink`` batch by batch.
"""

from shuhui.synth.generate import CityConfig, Progress, generate_city
from shuhui.synth.sink import Sink
from shuhui.synth.sinks import CountingSink, ParquetSink
from shuhui.synth.tables import TABLES, TRUTH_TABLES

__all__ = [
    "TABLES",
    "TRUTH_TABLES",
    "CityConfig",
    "CountingSink",
    "ParquetSink",
    "Progress",
    "Sink",
    "generate_city",
]
