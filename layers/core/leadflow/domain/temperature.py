"""Temperature: cold, warm or hot, from a score and the scoring model's thresholds."""

from __future__ import annotations

from typing import Protocol


class Thresholds(Protocol):
    """Read-only, so the definitions' frozen TemperatureBands fits."""

    @property
    def warm(self) -> int: ...

    @property
    def hot(self) -> int: ...


def temperature_for(score: int, thresholds: Thresholds | None) -> str:
    """Below ``warm`` is cold; with no thresholds defined every contact is cold."""
    if thresholds is None:
        return "cold"
    if score >= thresholds.hot:
        return "hot"
    if score >= thresholds.warm:
        return "warm"
    return "cold"
