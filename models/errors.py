"""One exception hierarchy for the whole tool.

The CLI maps it onto exit codes: InputError -> 2, anything else -> 3.
A negative verdict (no plan meets every invariant) is a result, not an error.
"""
from __future__ import annotations

from dataclasses import dataclass


class PlacementError(Exception):
    """Base of every error the library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input: where, what, and what to do."""

    path: str  # e.g. "volumes[3].replicas[1]" or "--fail"
    message: str  # what is wrong and what is expected

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class InputError(PlacementError):
    """Bad input or bad usage (exit status 2). Carries every problem found."""

    def __init__(self, source: str, problems: list[Problem] | Problem):
        self.source = source
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(self.paragraph())

    def paragraph(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return f"{head}{self.problems[0]}"
        lines = [f"{head}{len(self.problems)} problems found:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InternalError(PlacementError):
    """A bug in placement itself (exit status 3): the solver and the checks disagree, etc."""
