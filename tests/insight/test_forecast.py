"""The decisions map's forecast (``insight.forecast``): its shape, its error as it says it is
measured, the cases whose answer is known (a line, a constant, a repeating year), no peeking at
the months it is tested on, and refusals of a series it cannot read (hypothesis)."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shuhui.insight.forecast import (
    HOLT,
    NAIVE,
    SEASONAL_NAIVE,
    Forecast,
    add_months,
    forecast,
)

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 1)).map(
    lambda d: d.replace(day=1)
)
amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


def monthly(start: date, values: list[float]) -> list[tuple[date, float]]:
    return [(add_months(start, i), v) for i, v in enumerate(values)]


def close(a: float, b: float, scale: float = 1.0) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6 * max(1.0, scale))


@given(
    start=starts,
    values=st.lists(amounts, min_size=1, max_size=40),
    horizon=st.integers(1, 18),
    holdout=st.integers(0, 8),
)
def test_the_forecast_follows_the_series_and_its_error_is_what_it_says(
    start: date, values: list[float], horizon: int, holdout: int
) -> None:
    series = monthly(start, values)
    got = forecast(series, horizon, holdout=holdout)
    n = len(values)
    # The months right after the series, none below 0 (the default for counts and amounts).
    assert [m for m, _ in got.points] == [add_months(start, n + h) for h in range(horizon)]
    assert all(v >= 0 and math.isfinite(v) for _, v in got.points)
    # The backtest: the last months of the series as they were, each forecast a month before.
    tested = 0 if n < 3 else min(holdout, n - 2)
    assert len(got.backtest) == tested
    assert [(t.month, t.actual) for t in got.backtest] == series[n - tested :]
    assert all(t.predicted >= 0 for t in got.backtest)
    # MAE and MAPE are what the backtest's months give, by their formulas.
    if tested == 0:
        assert got.mae is None and got.mape is None
    else:
        assert got.mae is not None
        mae = sum(abs(t.actual - t.predicted) for t in got.backtest) / tested
        assert close(got.mae, mae, max(values))
        shares = [abs(t.actual - t.predicted) / t.actual for t in got.backtest if t.actual]
        if shares:
            assert got.mape is not None and close(got.mape, sum(shares) / len(shares) * 100)
        else:
            assert got.mape is None
    # The method is named in both languages, and says how.
    assert got.method in (HOLT, SEASONAL_NAIVE, NAIVE)
    assert got.method.name and got.method.name.en and got.method.description.en
    assert (got.method is NAIVE) == (n < 3)
    assert (got.method is SEASONAL_NAIVE) <= (n >= 24)
    assert (got.alpha is not None) == (got.method is HOLT)
    # The same series gives the same forecast.
    assert forecast(series, horizon, holdout=holdout) == got


@given(
    start=starts,
    first=st.integers(-1000, 1000),
    step=st.integers(-50, 50),
    n=st.integers(3, 30),
    horizon=st.integers(1, 6),
)
def test_a_straight_line_is_continued_exactly(
    start: date, first: int, step: int, n: int, horizon: int
) -> None:
    values = [float(first + step * i) for i in range(n)]
    got = forecast(monthly(start, values), horizon, nonnegative=False)
    assert got.method is HOLT
    for h, (_, value) in enumerate(got.points, start=1):
        assert close(value, first + step * (n - 1 + h), 1000)
    assert got.mae is not None and close(got.mae, 0.0, 1000)


@given(start=starts, level=amounts, n=st.integers(1, 30))
def test_a_constant_stays_constant_without_error(start: date, level: float, n: int) -> None:
    got = forecast(monthly(start, [level] * n), 4)
    assert all(close(v, level, level) for _, v in got.points)
    assert got.mae is None if n < 3 else got.mae is not None and close(got.mae, 0.0, level)


@given(
    start=starts,
    base=st.integers(0, 1000),
    amplitude=st.integers(1, 1000),
    years=st.integers(2, 3),
    horizon=st.integers(1, 24),
)
def test_a_year_that_repeats_is_forecast_as_the_same_month_a_year_before(
    start: date, base: int, amplitude: int, years: int, horizon: int
) -> None:
    # A season no trend follows: hires in spring, graduates in summer.
    season = [1, 0, 0, 5, 0, 0, 2, 0, 0, 3, 0, 1]
    values = [float(base + amplitude * season[i % 12]) for i in range(12 * years)]
    got = forecast(monthly(start, values), horizon)
    assert got.method is SEASONAL_NAIVE and got.mae == 0 and got.alpha is None
    n = len(values)
    assert [v for _, v in got.points] == [values[(n + h) % 12] for h in range(horizon)]


@given(
    start=starts,
    values=st.lists(amounts, min_size=3, max_size=23),
    changed=amounts,
)
def test_the_backtest_never_sees_the_month_it_forecasts(
    start: date, values: list[float], changed: float
) -> None:
    """Each month of the backtest is forecast from the months before it alone: changing the
    last month changes no forecast of the backtest (under two years: Holt's alone)."""
    before = forecast(monthly(start, values))
    after = forecast(monthly(start, [*values[:-1], changed]))
    assert [t.predicted for t in before.backtest] == [t.predicted for t in after.backtest]


@given(
    start=starts,
    # Whole numbers: scaled by a power of two they stay exact (no value too small to halve).
    values=st.lists(st.integers(0, 10**6).map(float), min_size=1, max_size=30),
    power=st.integers(-3, 3),
)
def test_a_figure_in_other_units_gives_the_same_forecast_in_those_units(
    start: date, values: list[float], power: int
) -> None:
    """元 or 分, people or thousands: scaling the series (by a power of two, exact in floating
    point) scales the forecast and its error, and changes neither the method nor its α, β."""
    k = 2.0**power
    plain = forecast(monthly(start, values))
    scaled = forecast(monthly(start, [v * k for v in values]))
    assert scaled.method is plain.method
    assert (scaled.alpha, scaled.beta) == (plain.alpha, plain.beta)
    assert [v for _, v in scaled.points] == [v * k for _, v in plain.points]
    assert scaled.mae == (None if plain.mae is None else plain.mae * k)
    assert scaled.mape == plain.mape or (
        scaled.mape is not None and plain.mape is not None and close(scaled.mape, plain.mape)
    )


def test_the_holdout_shrinks_to_what_a_short_series_allows() -> None:
    got = forecast(monthly(date(2026, 1, 1), [5.0, 7.0, 9.0, 8.0]))
    assert len(got.backtest) == 2 and got.backtest[0].month == date(2026, 3, 1)
    # From the two months before it alone, March is the line through them: 9.
    assert close(got.backtest[0].predicted, 9.0)


def test_a_negative_forecast_is_held_at_zero_unless_asked() -> None:
    falling = monthly(date(2026, 1, 1), [50.0, 40.0, 30.0, 20.0, 10.0])
    assert [v for _, v in forecast(falling, 3).points] == [0.0, 0.0, 0.0]
    free: Forecast = forecast(falling, 3, nonnegative=False)
    assert [round(v, 9) for _, v in free.points] == [0.0, -10.0, -20.0]


@pytest.mark.parametrize(
    ("series", "horizon", "holdout"),
    [
        ([], 3, 6),
        ([(date(2026, 1, 1), 1.0), (date(2026, 3, 1), 2.0)], 3, 6),  # a month missing
        ([(date(2026, 2, 1), 1.0), (date(2026, 1, 1), 2.0)], 3, 6),  # out of order
        ([(date(2026, 1, 1), math.nan)], 3, 6),
        ([(date(2026, 1, 1), math.inf)], 3, 6),
        ([(date(2026, 1, 1), 1.0)], 0, 6),
        ([(date(2026, 1, 1), 1.0)], 3, -1),
    ],
)
def test_a_series_it_cannot_read_is_refused(
    series: list[tuple[date, float]], horizon: int, holdout: int
) -> None:
    with pytest.raises(ValueError):
        forecast(series, horizon, holdout=holdout)


def test_any_day_names_its_month() -> None:
    got = forecast([(date(2026, 1, 31), 1.0), (date(2026, 2, 28), 2.0)], 1)
    assert got.points == ((date(2026, 3, 1), 2.0),)
