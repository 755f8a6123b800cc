"""The synthetic city: a consistent, deterministic Qingdao with its anomalies' ground truth.

``generate_city(sink, CityConfig(residents=N, seed=S))`` writes every table of the city's data
standard (:mod:`shuhui.standard.tables`) and the ground truth of :mod:`shuhui.synth.truth` to
``sink`` batch by batch. No package but the top-level CLI imports this one.

How it works

`shuhui synth --residents N --seed S` (and `shuhui demo`, with 20,000 residents) calls
`synth.cli.build_city`: `generate_city` streams the city chunk by chunk (100,000
residents by default) into a data-core `LoadSession`, which checks every batch against
its `TableSpec` and publishes all tables together at the end. Enterprises are drawn
first (small arrays kept in memory); then each chunk of residents yields its rows of
every person-level table, so memory stays flat as N grows. Every random draw comes
from `numpy.random.default_rng([seed, stream, chunk])`: the same config gives
byte-identical Parquet files. Injected anomalies (pensions after death, double
pensions, benefits while employed, enterprises in distress, residents with no record)
show in the data tables only as the data a detector would see; which rows they are is
written to `truth_*` tables, which the data core keeps in its separate truth folder.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

# Where each name lives. They are imported on first use (PEP 562): ``shuhui --help`` imports
# ``shuhui.synth.cli`` to list the ``synth`` command, and should not load the generator (numpy,
# Arrow, the standard) for it.
_HOMES = {
    "CityConfig": "generate",
    "Progress": "generate",
    "generate_city": "generate",
    "Sink": "sink",
    "CountingSink": "sinks",
    "ParquetSink": "sinks",
    "TRUTH_TABLES": "truth",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
