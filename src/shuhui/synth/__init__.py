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
byte-identical Parquet files, and a new kind of data gets a new stream
(:class:`context.Stream`) so the existing tables keep their values for a seed.

What a chunk writes, module by module: residents and households (`population`,
`households`); deaths and cremations, certificates, graduates, disability (`civil`);
employment spells, contributions, unemployment (`work`); pensions, their payments and
enrolments (`pensions`), each pension's retirement category against the statutory ages
before and after the 2025 reform (`retirement`), the accounts they are paid into
(`payees`: `benefit_accounts`, `pension_payments.payee_account`); the traces of daily
life a passive certification reads — medical visits, sampled transit taps, household
meters (`behaviour`), social-security card uses and pensions collected in person
(`cards`). Enterprises and their monthly tax and electricity come last (`enterprises`),
then the digital economy drawn from them (`industry`): the project pipeline (signed → started →
completed → producing), the monthly revenue of the digital-economy enterprises by key field,
and the enterprises the industrial-internet platforms enabled — fields, parks, platforms and
solutions named by the codes of `content/qingdao/enterprise/`.

Injected anomalies show in the data tables only as the data a detector would see; which
rows they are is written to `truth_*` tables (:mod:`truth`), which the data core keeps in
its separate truth folder: pensions paid after death, double pensions, unemployment
benefit while employed, enterprises in distress, one account paid several unrelated
pensioners (`truth_shared_account`; couples and carers sharing an account within a
household are normal), pensions begun before the recorded category's statutory age
(`truth_early_retirement`, computed by the rule over every row, so exact),
contributions declared below the year's floor (`truth_low_contribution_base`; normal
bases never are), and residents with no record at all (`truth_no_record`).

*No record*: a share of adults (``no_record_share``) is drawn first — they hold no job,
live alone where nothing is metered, and leave no visit, trip, card use or collection.
Then the share of *living pensioners* with no record is set to
``no_record_pensioner_share`` (1 % by default, `--no-record-pensioner-share`): pensioners
beyond it among the first draw get back their card uses (every other living pensioner
uses the card at least once a year), and if the draw holds too few, pensioners without a
working life in the data are added — their visits and trips are dropped, and a lone one's
household meters read zero (utility use is per household: only a household of the
pensioner alone says anything about them).
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
