"""Figures over repeated rounds: the median as the figure, min and max as its spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Spread:
    median: float
    min: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan)
        return cls(statistics.median(finite), min(finite), max(finite))

    def as_json(self) -> dict[str, float | None]:
        return {k: (None if math.isnan(v) else v) for k, v in asdict(self).items()}


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: a latency some request really had, never an interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator and math.isfinite(denominator) else math.nan


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Spread:
    """Ratios of figures measured side by side in the same round, so that a noisy machine
    slows both sides of each ratio alike."""
    return Spread.of([ratio(n, d) for n, d in zip(numerators, denominators, strict=True)])
