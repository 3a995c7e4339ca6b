"""Problems found in a definitions bundle, reported all at once so a marketer fixes them in one pass."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a bundle, at a path like ``flows[0].steps[3].then``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, str]:
        """The shape the admin API returns, one object per problem."""
        return {"path": self.path, "message": self.message}


class DefinitionsError(Exception):
    """A bundle is invalid; ``problems`` lists every problem found, not just the first.

    Deliberately not a ``ValueError``: raised from inside a pydantic validator it must reach the
    caller as itself, with its paths, instead of being folded into a pydantic error.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the definitions"
        return "\n".join([head + ":", *(f"  {problem}" for problem in self.problems)])

    def to_dict(self) -> dict[str, object]:
        """The admin API's error body."""
        return {"message": self._summary().splitlines()[0], "problems": [p.to_dict() for p in self.problems]}
