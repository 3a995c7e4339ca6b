"""Lifecycle stages and temperatures: ordered vocabularies that conditions and engines compare."""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class _Ordered(StrEnum):
    """A StrEnum whose members compare by declaration order, not alphabetically.

    ``Stage.MQL > Stage.LEAD`` is what a marketer means; comparing with a plain string
    (``Stage.SQL >= "mql"``) works too, so stored values need no conversion first.
    """

    @property
    def rank(self) -> int:
        """Position in the order, from 0."""
        return list(type(self)).index(self)

    def _rank_of(self, other: object) -> int:
        if isinstance(other, str):
            return type(self)(other).rank
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        return self.rank < self._rank_of(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= self._rank_of(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > self._rank_of(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= self._rank_of(other)

    __hash__ = StrEnum.__hash__

    @classmethod
    def ordered(cls) -> list[Self]:
        """Members from first to last."""
        return list(cls)


class Stage(_Ordered):
    """Lifecycle stage, in order; a contact's stage only moves forward unless an admin sets it."""

    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MQL = "mql"
    SQL = "sql"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"


class Temperature(_Ordered):
    """How engaged a contact is, from the score and the scoring model's thresholds; cold < warm < hot."""

    COLD = "cold"
    WARM = "warm"
    HOT = "hot"
