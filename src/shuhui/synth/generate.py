"""Generate a whole synthetic Qingdao into a sink, chunk by chunk.

Order of work: lay out the population (cells and ranks, see :mod:`population`), draw the
enterprises, then stream residents ``chunk`` at a time. Each chunk produces its rows of every
person-level table and fills in what enterprises need from people (legal representatives,
headcount, wage bill); the enterprise tables come last.

Determinism: every random draw comes from a generator seeded with ``[seed, stream, chunk]``
(see :class:`context.Stream`), nothing depends on the clock or on set order, so the same
:class:`CityConfig` always gives byte-identical batches. ``chunk`` is part of the city's
identity: the same seed with a different chunk size gives a different (equally valid) city.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from shuhui.datacore.schema import TableSpec
from shuhui.standard import tables
from shuhui.standard.vocabularies import (
    EDUCATION_LEVELS,
    HUKOU_TYPES,
    MARITAL_STATUSES,
    RELATIONS,
    SEXES,
)
from shuhui.synth import behaviour, civil, households, pensions, truth, work
from shuhui.synth.columns import NEVER, anomaly_count, batch, pick, pool, take
from shuhui.synth.context import Stream, Window, rng_for
from shuhui.synth.enterprises import Enterprises, build_enterprises
from shuhui.synth.population import Layout, People, draw_people
from shuhui.synth.sink import Sink
from shuhui.synth.vocab import AGE_GROUP_SHARES

Progress = Callable[[str, int, int], None]

__all__ = ["CityConfig", "Progress", "generate_city"]


@dataclass(frozen=True)
class CityConfig:
    """What city to build. Anomaly rates are shares of the population they can affect."""

    residents: int
    seed: int
    as_of: date = date(2026, 10, 31)
    months: int = 12
    chunk: int = 100_000
    enterprises_per_resident: float = 0.06
    pension_after_death: float = 0.004  # of deceased pensioners
    double_pension: float = 0.001  # of pensioners
    unemployment_while_employed: float = 0.02  # of unemployment-benefit recipients
    enterprise_distress: float = 0.03  # of enterprises
    no_record_share: float = 0.01  # of residents (adults alive at the as-of date)

    def __post_init__(self) -> None:
        if self.residents < 1:
            raise ValueError("residents must be at least 1")
        if self.chunk < 1:
            raise ValueError("chunk must be at least 1")
        if not 1 <= self.months <= 120:
            raise ValueError("months must be between 1 and 120")
        if self.seed < 0:
            raise ValueError("seed must not be negative")
        for name in (
            "enterprises_per_resident",
            "pension_after_death",
            "double_pension",
            "unemployment_while_employed",
            "enterprise_distress",
            "no_record_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    @property
    def chunks(self) -> int:
        return -(-self.residents // self.chunk)


def generate_city(
    sink: Sink, config: CityConfig, progress: Progress | None = None
) -> dict[str, int]:
    """Write every table of a synthetic city to ``sink``; return the rows written per table.

    ``progress(stage, done, total)`` is called as work completes: stage "residents" counts
    residents, stage "enterprises" counts enterprises.
    """
    report = progress or (lambda _stage, _done, _total: None)
    writer = _Writer(sink)
    window = Window.ending(config.as_of, config.months)
    layout = Layout.build(config.residents, config.seed, config.as_of)
    bounds = np.minimum(np.arange(config.chunks + 1) * config.chunk, config.residents)
    enterprises = build_enterprises(
        count=max(1, round(config.residents * config.enterprises_per_resident)),
        seed=config.seed,
        window=window,
        distress_rate=config.enterprise_distress,
        chunk_sizes=np.diff(bounds),
    )
    hazard = civil.mean_hazard(np.array(AGE_GROUP_SHARES))
    report("residents", 0, config.residents)
    for chunk in range(config.chunks):
        start, stop = int(bounds[chunk]), int(bounds[chunk + 1])
        _chunk(writer, config, layout, enterprises, window, hazard, chunk, start, stop)
        report("residents", stop, config.residents)
    done = 0
    for spec, rows in enterprises.batches():
        writer.write(spec, rows)
        if spec is tables.ENTERPRISES:
            done += rows.num_rows
            report("enterprises", done, enterprises.count)
    writer.finish()
    return writer.rows


class _Writer:
    """Passes non-empty batches on and counts rows; gives every table at least one batch."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.rows = {spec.name: 0 for spec in (*tables.TABLES, *truth.TRUTH_TABLES)}
        self._written: set[str] = set()

    def write(self, spec: TableSpec, rows: pa.RecordBatch) -> None:
        if rows.num_rows == 0:
            return
        self.sink.write(spec, rows)
        self.rows[spec.name] += rows.num_rows
        self._written.add(spec.name)

    def finish(self) -> None:
        for spec in (*tables.TABLES, *truth.TRUTH_TABLES):
            if spec.name not in self._written:
                self.sink.write(spec, _empty(spec))


def _empty(spec: TableSpec) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array([], type=field.type) for field in spec.arrow_schema], schema=spec.arrow_schema
    )


def _chunk(
    writer: _Writer,
    config: CityConfig,
    layout: Layout,
    enterprises: Enterprises,
    window: Window,
    hazard: float,
    chunk: int,
    start: int,
    stop: int,
) -> None:
    seed = config.seed
    first = chunk == 0
    people = draw_people(layout, seed, config.as_of, chunk, start, stop)
    people.death = civil.draw_deaths(rng_for(seed, Stream.DEATHS, chunk), people, window, hazard)

    anomalies = rng_for(seed, Stream.ANOMALIES, chunk)
    eligible = np.flatnonzero((people.age >= 18) & (people.death == NEVER))
    no_record = np.zeros(people.size, dtype=bool)
    no_record[
        pick(
            anomalies,
            eligible,
            anomaly_count(anomalies, config.no_record_share, people.size, first),
        )
    ] = True

    homes = households.form_households(
        rng_for(seed, Stream.HOUSEHOLDS, chunk), people, no_record, start
    )
    # Everyone in a household shares its registration type.
    people.rural = homes.rural[homes.member_of]
    _fix_marriages(people, homes)

    work_rng = rng_for(seed, Stream.WORK, chunk)
    jobs = work.simulate_work(
        work_rng,
        people,
        no_record,
        enterprises,
        window,
        anomaly_rate=config.unemployment_while_employed,
        at_least_one=first,
    )
    pension_rng = rng_for(seed, Stream.PENSIONS, chunk)
    pay = pensions.simulate_pensions(
        pension_rng,
        people,
        jobs,
        window,
        after_death_rate=config.pension_after_death,
        double_rate=config.double_pension,
        at_least_one=first,
    )
    _legal_reps(rng_for(seed, Stream.LEGAL_REPS, chunk), people, enterprises, chunk)

    writer.write(tables.RESIDENTS, _residents(people, homes))
    writer.write(
        tables.HOUSEHOLDS,
        households.households_batch(rng_for(seed, Stream.ADDRESSES, chunk), people, homes),
    )
    deaths, cremations = civil.deaths_batches(
        rng_for(seed, Stream.DEATH_RECORDS, chunk), people, window
    )
    writer.write(tables.DEATHS, deaths)
    writer.write(tables.CREMATIONS, cremations)
    writer.write(tables.EMPLOYMENT_SPELLS, work.spells_batch(people, jobs.spells, enterprises))
    writer.write(
        tables.ENROLMENTS, pensions.enrolments(pension_rng, people, jobs, pay, enterprises, window)
    )
    writer.write(tables.CONTRIBUTIONS, work.contributions(people, jobs.spells, enterprises, window))
    writer.write(tables.PENSION_RECIPIENTS, pay.recipients)
    writer.write(tables.PENSION_PAYMENTS, pay.payments)
    writer.write(tables.UNEMPLOYMENT_REGISTRATIONS, jobs.registrations)
    writer.write(tables.UNEMPLOYMENT_BENEFITS, jobs.benefits)
    writer.write(
        tables.MEDICAL_VISITS,
        behaviour.medical_visits(rng_for(seed, Stream.VISITS, chunk), people, no_record, window),
    )
    writer.write(
        tables.TRANSIT_TRIPS,
        behaviour.transit_trips(rng_for(seed, Stream.TRIPS, chunk), people, no_record, window),
    )
    writer.write(
        tables.UTILITY_USAGE,
        behaviour.utility_usage(rng_for(seed, Stream.UTILITIES, chunk), people, homes, window),
    )

    cert_rng = rng_for(seed, Stream.CERTIFICATES, chunk)
    graduates = civil.graduates(cert_rng, people, window)
    registry = civil.disabled(cert_rng, people, window)
    digits = max(8, len(str(config.residents - 1)))
    writer.write(
        tables.CERTIFICATES,
        civil.certificates(cert_rng, people, window, graduates, registry, homes.head, digits),
    )
    writer.write(
        tables.COLLEGE_GRADUATES,
        civil.college_graduates(cert_rng, people, window, graduates, jobs.employed_at_end),
    )
    writer.write(tables.DISABLED_PERSONS, civil.disabled_batch(people, registry))

    writer.write(truth.TRUTH_PENSION_AFTER_DEATH, pay.truth_after_death)
    writer.write(truth.TRUTH_DOUBLE_PENSION, pay.truth_double)
    writer.write(truth.TRUTH_UNEMPLOYMENT_WHILE_EMPLOYED, jobs.truth)
    writer.write(
        truth.TRUTH_NO_RECORD,
        batch(
            truth.TRUTH_NO_RECORD,
            {"citizen_id": take(people.citizen_id, np.flatnonzero(no_record))},
        ),
    )


def _fix_marriages(people: People, homes: households.Households) -> None:
    # Spouses, and the heads they live with, are married whatever the age table drew.
    spouse = np.flatnonzero(homes.relation == RELATIONS.index("配偶"))
    married = MARITAL_STATUSES.index("已婚")
    people.marital[spouse] = married
    people.marital[homes.head[homes.member_of[spouse]]] = married


def _legal_reps(
    rng: np.random.Generator, people: People, enterprises: Enterprises, chunk: int
) -> None:
    mine = np.flatnonzero(enterprises.rep_chunk == chunk)
    if mine.shape[0] == 0:
        return
    alive = people.death == NEVER
    for eligible in (
        (people.age >= 25) & (people.age <= 70) & alive,
        (people.age >= 18) & alive,
        people.age >= 0,
    ):
        candidates = np.flatnonzero(eligible)
        if candidates.shape[0] > 0:
            break
    chosen = candidates[rng.integers(0, candidates.shape[0], mine.shape[0])]
    enterprises.set_legal_reps(mine, take(people.citizen_id, chosen), take(people.name, chosen))


def _residents(people: People, homes: households.Households) -> pa.RecordBatch:
    return batch(
        tables.RESIDENTS,
        {
            "citizen_id": people.citizen_id,
            "name": people.name,
            "sex": take(pool(SEXES), (~people.male).astype(np.int64)),
            "birth_date": people.birth,
            "district_code": people.district_code,
            "household_id": take(homes.household_id, homes.member_of),
            "relation": take(pool(RELATIONS), homes.relation),
            "hukou_type": take(pool(HUKOU_TYPES), people.rural.astype(np.int64)),
            "education": take(pool(EDUCATION_LEVELS), people.education),
            "marital_status": take(pool(MARITAL_STATUSES), people.marital),
            "phone": people.phone,
        },
    )
