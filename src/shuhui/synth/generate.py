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
import pyarrow.compute as pc

from shuhui.datacore.schema import TableSpec
from shuhui.standard import tables
from shuhui.standard.vocabularies import (
    EDUCATION_LEVELS,
    HUKOU_TYPES,
    MARITAL_STATUSES,
    RELATIONS,
    SEXES,
)
from shuhui.synth import (
    behaviour,
    cards,
    civil,
    households,
    industry,
    infrastructure,
    payees,
    pensions,
    retirement,
    truth,
    work,
)
from shuhui.synth.columns import NEVER, BoolArray, anomaly_count, batch, pick, pool, take
from shuhui.synth.context import Stream, Window, rng_for
from shuhui.synth.enterprises import Enterprises, build_enterprises
from shuhui.synth.population import Layout, People, draw_people
from shuhui.synth.sink import Sink
from shuhui.synth.vocab import AGE_GROUP_SHARES

Progress = Callable[[str, int, int], None]
# The share of living pensioners who leave no record at all in a year: the 1 % that makes
# "99 % of pensioners leave some record" hold on the default city.
NO_RECORD_PENSIONER_SHARE = 0.01

__all__ = ["NO_RECORD_PENSIONER_SHARE", "CityConfig", "Progress", "generate_city"]


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
    no_record_pensioner_share: float = NO_RECORD_PENSIONER_SHARE  # of pensioners alive at as-of
    shared_account: float = 0.0005  # accounts per pensioner
    early_retirement: float = 0.003  # of employee pensions begun before the window
    low_contribution_base: float = 0.01  # of enterprises
    # The digital-infrastructure registry's size against Qingdao's (1.0: about 150,000 assets);
    # independent of ``residents``, since the registry is the real city's, not the sample's.
    infrastructure_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.residents < 1:
            raise ValueError("residents must be at least 1")
        if self.chunk < 1:
            raise ValueError("chunk must be at least 1")
        if not 1 <= self.months <= 120:
            raise ValueError("months must be between 1 and 120")
        if self.seed < 0:
            raise ValueError("seed must not be negative")
        if not 0.0 < self.infrastructure_scale <= 10.0:
            raise ValueError("infrastructure_scale must be above 0 and at most 10")
        for name in (
            "enterprises_per_resident",
            "pension_after_death",
            "double_pension",
            "unemployment_while_employed",
            "enterprise_distress",
            "no_record_share",
            "no_record_pensioner_share",
            "shared_account",
            "early_retirement",
            "low_contribution_base",
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
    enterprises.mark_low_base(
        rng_for(config.seed, Stream.LOW_BASE_FIRMS), config.low_contribution_base
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
    # The digital economy is drawn from the enterprises' arrays: every project, revenue and
    # enablement names an enterprise of the city, alive when it acted.
    report("industry", 0, 1)
    for spec, rows in industry.generate(enterprises, config.seed, config.as_of):
        writer.write(spec, rows)
    report("industry", 1, 1)
    report("infrastructure", 0, 1)
    for spec, rows in infrastructure.generate(
        config.infrastructure_scale, config.seed, config.as_of, enterprises.plants()
    ):
        writer.write(spec, rows)
    report("infrastructure", 1, 1)
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
    category, truth_early = retirement.categorise(
        rng_for(seed, Stream.RETIREMENT, chunk),
        people,
        pay,
        window,
        early_rate=config.early_retirement,
        at_least_one=first,
    )
    paid_to = payees.assign(
        rng_for(seed, Stream.ACCOUNTS, chunk),
        people,
        homes,
        pay,
        window,
        shared_rate=config.shared_account,
        at_least_one=first,
    )
    living_pensioner = (pay.scheme >= 0) & (people.death > window.as_of)
    silent = _silence(
        rng_for(seed, Stream.SILENCE, chunk),
        config.no_record_pensioner_share,
        people,
        homes,
        no_record,
        living_pensioner & (jobs.career_start == NEVER),
        living_pensioner,
        first,
    )
    # Pensioners silenced beyond the first draw: their visits and trips were drawn (so nobody
    # else's draws move) and are dropped here; a household of them alone reads zero.
    extra = take(people.citizen_id, np.flatnonzero(silent & ~no_record))

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
    writer.write(
        tables.CONTRIBUTIONS,
        work.contributions(
            rng_for(seed, Stream.LOW_BASE, chunk), people, jobs.spells, enterprises, window
        ),
    )
    writer.write(tables.PENSION_RECIPIENTS, pensions.recipients_batch(pay, category))
    writer.write(tables.PENSION_PAYMENTS, pensions.payments_batch(pay, paid_to.payee))
    writer.write(tables.BENEFIT_ACCOUNTS, paid_to.accounts)
    writer.write(tables.UNEMPLOYMENT_REGISTRATIONS, jobs.registrations)
    writer.write(tables.UNEMPLOYMENT_BENEFITS, jobs.benefits)
    visits = _without(
        behaviour.medical_visits(rng_for(seed, Stream.VISITS, chunk), people, no_record, window),
        extra,
    )
    writer.write(tables.MEDICAL_VISITS, visits)
    writer.write(
        tables.TRANSIT_TRIPS,
        _without(
            behaviour.transit_trips(rng_for(seed, Stream.TRIPS, chunk), people, no_record, window),
            extra,
        ),
    )
    writer.write(
        tables.UTILITY_USAGE,
        _unused(
            behaviour.utility_usage(rng_for(seed, Stream.UTILITIES, chunk), people, homes, window),
            homes,
            silent & ~no_record,
        ),
    )
    collected = cards.collections(
        rng_for(seed, Stream.COLLECTIONS, chunk), people, silent, pay, paid_to.bank, window
    )
    writer.write(tables.BENEFIT_COLLECTIONS, collected.rows)
    writer.write(
        tables.CARD_USES,
        cards.card_uses(
            rng_for(seed, Stream.CARD_USES, chunk),
            people,
            silent,
            visits,
            collected,
            pay.scheme >= 0,
            window,
            chunk,
        ),
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
            {"citizen_id": take(people.citizen_id, np.flatnonzero(silent))},
        ),
    )
    writer.write(truth.TRUTH_SHARED_ACCOUNT, paid_to.truth)
    writer.write(truth.TRUTH_EARLY_RETIREMENT, truth_early)


def _silence(
    rng: np.random.Generator,
    share: float,
    people: People,
    homes: households.Households,
    no_record: BoolArray,
    quiet_candidates: BoolArray,
    living_pensioner: BoolArray,
    first: bool,
) -> BoolArray:
    """Who leaves no record at all this year: ``no_record``, adjusted so that ``share`` of the
    living pensioners are among them.

    The residents' draw already holds about as many pensioners as that; if it holds more, some
    are given back their card uses and collections (they still have no visit, trip or meter,
    living alone where nothing is metered); if fewer, pensioners without a working life in the
    data (no spell, no contribution) are added, those living alone more likely.
    """
    silent = no_record.copy()
    target = anomaly_count(rng, share, int(living_pensioner.sum()), first)
    have = np.flatnonzero(no_record & living_pensioner)
    if have.shape[0] >= target:
        silent[have] = False
        silent[pick(rng, have, target)] = True
        return silent
    candidates = np.flatnonzero(quiet_candidates & ~no_record)
    wanted = min(target - have.shape[0], candidates.shape[0])
    if wanted == 0:
        return silent
    alone = homes.size[homes.member_of[candidates]] == 1
    weight = np.where(alone, 3.0, 1.0)
    silent[rng.choice(candidates, size=wanted, replace=False, p=weight / weight.sum())] = True
    return silent


def _without(rows: pa.RecordBatch, citizen_ids: pa.Array) -> pa.RecordBatch:
    if len(citizen_ids) == 0:
        return rows
    return rows.filter(pc.invert(pc.is_in(rows.column("citizen_id"), value_set=citizen_ids)))


def _unused(
    rows: pa.RecordBatch, homes: households.Households, silenced: BoolArray
) -> pa.RecordBatch:
    """Meter readings of households whose every member is ``silenced`` set to zero."""
    members = np.bincount(homes.member_of, minlength=homes.count)
    quiet = np.bincount(homes.member_of, weights=silenced, minlength=homes.count)
    empty = np.flatnonzero((members == quiet) & (quiet > 0))
    if empty.shape[0] == 0:
        return rows
    hit = pc.is_in(rows.column("household_id"), value_set=take(homes.household_id, empty))
    zero = pa.scalar(0, pa.int32())
    columns = {
        name: pc.if_else(hit, zero, rows.column(name)) if name in _METERS else rows.column(name)
        for name in rows.schema.names
    }
    return pa.RecordBatch.from_arrays(list(columns.values()), schema=rows.schema)


_METERS = ("water_m3", "electricity_kwh", "gas_m3")


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
