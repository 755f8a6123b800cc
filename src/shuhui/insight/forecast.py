"""A simple forecast of a monthly figure, shown with how wrong it has been (辅助决策: 简单预测).

One pure function, :func:`forecast`: a monthly series in, the next months out, with the method's
name and formula in Chinese and English and its error measured the only honest way, on months
it had not seen (a backtest). Nothing here reads a database; a page or the CLI hands it the
months of a figure (``engine.Figure.by_month``) and shows what comes back.

The method: Holt's linear trend (double exponential smoothing)
--------------------------------------------------------------

For the values y₁ … yₙ of consecutive months, a level ℓ and a trend b are carried forward::

    ℓ₁ = y₁,  b₁ = y₂ − y₁
    ℓₜ = α·yₜ + (1 − α)·(ℓₜ₋₁ + bₜ₋₁)
    bₜ = β·(ℓₜ − ℓₜ₋₁) + (1 − β)·bₜ₋₁
    ŷₙ₊ₕ = ℓₙ + h·bₙ            (h months ahead)

α and β are each one of 0.1, 0.2, … 0.9: the pair whose one-month-ahead forecasts over the
series had the least sum of squared errors (the first such pair in that order on a tie, so the
same series always gives the same forecast). A figure that cannot be negative (a count, an
amount, a rate) is forecast no lower than 0.

Where the series holds two full years or more, the seasonal naive forecast is tried beside it —
each month as the same month a year before, ŷₙ₊ₕ = yₙ₊ₕ₋₁₂ (for h up to 12) — and whichever of
the two erred less in the backtest is used (Holt on a tie): hiring and graduation have seasons
that a trend alone misses. A series of one or two months is carried forward as it is (the naive
forecast, ŷₙ₊ₕ = yₙ): there is no trend to fit.

The error: one-month-ahead forecasts of the last six months
-----------------------------------------------------------

For each of the last ``holdout`` months (6, or fewer where the series is short), the method is
fitted to the months before it alone (α and β chosen again, on those months only) and forecasts
that month; the backtest lists each such month with what happened and what was forecast.

    MAE  = mean of |yₜ − ŷₜ|                       (in the figure's unit)
    MAPE = mean of |yₜ − ŷₜ| / |yₜ| × 100 %        (over the months where yₜ ≠ 0)

MAPE is None where every month of the backtest is 0 (a share of nothing is undefined), and both
are None where there is no month to test on (a series of fewer than three months).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Final

from shuhui.core.facts import add_months
from shuhui.core.i18n import Text

HOLDOUT: Final = 6  # months backtested
SEASON: Final = 12  # months in a year: the seasonal naive's lag
GRID: Final = tuple(i / 10 for i in range(1, 10))  # α and β tried: 0.1 … 0.9


@dataclass(frozen=True, slots=True)
class Method:
    code: str  # holt | seasonal-naive | naive
    name: Text
    description: Text  # the formula in words, shown beside the forecast


HOLT: Final = Method(
    "holt",
    Text("霍尔特线性趋势法（二次指数平滑）", "Holt's linear trend (double exponential smoothing)"),
    Text(
        "逐月更新水平值和趋势值：水平 ℓₜ = α·yₜ + (1−α)(ℓₜ₋₁ + bₜ₋₁)，"
        "趋势 bₜ = β(ℓₜ − ℓₜ₋₁) + (1−β)bₜ₋₁，h 个月后的预测值为 ℓₙ + h·bₙ；"
        "α、β 在 0.1 至 0.9 之间取使逐月向前一步预测误差平方和最小的一组。",
        "A level and a trend updated month by month: level ℓₜ = α·yₜ + (1−α)(ℓₜ₋₁ + bₜ₋₁), "
        "trend bₜ = β(ℓₜ − ℓₜ₋₁) + (1−β)bₜ₋₁; h months ahead the forecast is ℓₙ + h·bₙ. "
        "α and β (0.1 to 0.9) are the pair with the least squared one-month-ahead errors.",
    ),
)
SEASONAL_NAIVE: Final = Method(
    "seasonal-naive",
    Text("季节朴素法（同比沿用）", "Seasonal naive (same month last year)"),
    Text(
        "每个月的预测值取上一年同月的实际值：ŷₙ₊ₕ = yₙ₊ₕ₋₁₂。"
        "数据满两年且回测误差小于霍尔特线性趋势法时采用。",
        "Each month is forecast as the same month a year before: ŷₙ₊ₕ = yₙ₊ₕ₋₁₂. "
        "Used where the series holds two years and it erred less than Holt's in the backtest.",
    ),
)
NAIVE: Final = Method(
    "naive",
    Text("朴素法（沿用最近一月）", "Naive (the latest month carried forward)"),
    Text(
        "数据不足三个月，无法估计趋势：各月预测值均取最近一个月的实际值 ŷₙ₊ₕ = yₙ。",
        "Fewer than three months, too few for a trend: every month is forecast as the latest, "
        "ŷₙ₊ₕ = yₙ.",
    ),
)


@dataclass(frozen=True, slots=True)
class Tested:
    """One month of the backtest: what happened, and what the method forecast a month before."""

    month: date
    actual: float
    predicted: float


@dataclass(frozen=True, slots=True)
class Forecast:
    method: Method
    points: tuple[tuple[date, float], ...]  # the months after the series, and their forecast
    backtest: tuple[Tested, ...]  # the last months, each forecast from the months before it
    mae: float | None  # mean absolute error of the backtest, in the figure's unit
    mape: float | None  # mean absolute percentage error of the backtest (%), months ≠ 0
    alpha: float | None = None  # Holt's parameters, as fitted to the whole series
    beta: float | None = None


def _checked(series: Sequence[tuple[date, float]]) -> tuple[list[date], list[float]]:
    if not series:
        raise ValueError("a forecast needs at least one month")
    months = [m.replace(day=1) for m, _ in series]
    values = [float(v) for _, v in series]
    for before, after in pairwise(months):
        if after != add_months(before, 1):
            raise ValueError(f"months must follow one another: {before} then {after}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("every value must be a finite number")
    return months, values


def _holt_run(y: Sequence[float], alpha: float, beta: float) -> tuple[float, float, float]:
    """The level and trend after ``y`` (at least two values), and the sum of squared
    one-step-ahead errors from the third value on."""
    level, trend = y[0], y[1] - y[0]
    sse = 0.0
    for t in range(1, len(y)):
        ahead = level + trend
        if t >= 2:
            sse += (y[t] - ahead) ** 2
        previous = level
        level = alpha * y[t] + (1 - alpha) * ahead
        trend = beta * (level - previous) + (1 - beta) * trend
    return level, trend, sse


def _holt_fit(y: Sequence[float]) -> tuple[float, float, float, float]:
    """α, β of the grid with the least squared errors (the first in order on a tie, or where
    no sum is a number), and the level and trend they end with."""
    best: tuple[float, float, float, float] | None = None
    best_sse = math.inf
    for alpha in GRID:
        for beta in GRID:
            level, trend, sse = _holt_run(y, alpha, beta)
            if best is None or sse < best_sse:
                best, best_sse = (alpha, beta, level, trend), sse
    assert best is not None  # the grid is not empty
    return best


def _path(method: Method, y: Sequence[float], horizon: int) -> list[float]:
    """``method``'s forecasts 1 … ``horizon`` months after ``y``, from ``y`` alone."""
    steps = range(1, horizon + 1)
    if method is SEASONAL_NAIVE:
        return [y[len(y) + (h - 1) % SEASON - SEASON] for h in steps]
    if method is NAIVE or len(y) < 2:
        return [y[-1] for _ in steps]
    _, _, level, trend = _holt_fit(y)
    return [level + h * trend for h in steps]


def _errors(tested: Sequence[Tested]) -> tuple[float | None, float | None]:
    if not tested:
        return None, None
    mae = sum(abs(t.actual - t.predicted) for t in tested) / len(tested)
    shares = [abs(t.actual - t.predicted) / abs(t.actual) for t in tested if t.actual != 0]
    mape = None if not shares else sum(shares) / len(shares) * 100
    return mae, mape


def _backtest(
    method: Method, months: Sequence[date], y: Sequence[float], holdout: int, floor: float | None
) -> tuple[Tested, ...]:
    """One-month-ahead forecasts of the last ``holdout`` months, each from the months before."""
    shown = []
    for t in range(len(y) - holdout, len(y)):
        predicted = _path(method, y[:t], 1)[0]
        if floor is not None:
            predicted = max(floor, predicted)
        shown.append(Tested(months[t], y[t], predicted))
    return tuple(shown)


def forecast(
    series: Sequence[tuple[date, float]],
    horizon: int = 3,
    *,
    holdout: int = HOLDOUT,
    nonnegative: bool = True,
) -> Forecast:
    """The next ``horizon`` months of a monthly series (consecutive months, oldest first; a
    month is any day of it), with the method used and its backtest over the last ``holdout``
    months (fewer where the series is short: at least two months stay to fit on, and the
    seasonal naive needs a year before each month tested). ``nonnegative``: no forecast below 0.

    Raises ValueError for an empty series, months that do not follow one another, a value that
    is not a finite number, a horizon below 1 or a holdout below 0."""
    if horizon < 1:
        raise ValueError("the horizon is at least one month")
    if holdout < 0:
        raise ValueError("the holdout is not negative")
    months, y = _checked(series)
    tested: tuple[Tested, ...]
    floor = 0.0 if nonnegative else None
    n = len(y)
    method, tested = NAIVE, ()
    if n >= 3:
        method = HOLT
        tested = _backtest(HOLT, months, y, min(holdout, n - 2), floor)
        seasonal_holdout = min(holdout, n - SEASON)
        if n >= 2 * SEASON and seasonal_holdout == len(tested):
            seasonal = _backtest(SEASONAL_NAIVE, months, y, seasonal_holdout, floor)
            mae_holt, _ = _errors(tested)
            mae_seasonal, _ = _errors(seasonal)
            if mae_seasonal is not None and mae_holt is not None and mae_seasonal < mae_holt:
                method, tested = SEASONAL_NAIVE, seasonal
    alpha = beta = None
    if method is HOLT:
        alpha, beta, level, trend = _holt_fit(y)
        path = [level + h * trend for h in range(1, horizon + 1)]
    else:
        path = _path(method, y, horizon)
    points = tuple(
        (add_months(months[-1], h), value if floor is None else max(floor, value))
        for h, value in enumerate(path, start=1)
    )
    mae, mape = _errors(tested)
    return Forecast(method, points, tested, mae, mape, alpha, beta)
