"""One exception hierarchy for the whole tool.

The CLI maps it onto exit codes: InputError -> 2, anything else -> 3.
A negative verdict (no plan meets every invariant) is a result, not an error.
"""
from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Any

EXCERPT_CHARACTERS = 48  # of a value quoted in a message (a 10 MB name is not echoed whole)
MESSAGE_CHARACTERS = 1000  # of one problem's path and message together
PROBLEMS_SHOWN = 25  # in one paragraph; the rest are counted


def excerpt(value: Any, limit: int = EXCERPT_CHARACTERS) -> str:
    """A value as a message quotes it, bounded: strings quoted (cut with their length beyond
    ``limit``), true/false, nothing, "a mapping" or "a list", huge integers by their digit count."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, int) and value.bit_length() > 3 * limit:  # repr of a huge int is slow, even refused
        digits = math.floor(value.bit_length() * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits:,} digits"
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    if isinstance(value, (datetime.date, datetime.time)):  # only YAML's implicit typing makes one: 2024-01-01 unquoted
        return f"a date, {value.isoformat()} (YAML reads it so when unquoted: quote it, \"{value.isoformat()}\")"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


class PlacementError(Exception):
    """Base of every error the library raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the user's input: where, what, and what to do."""

    path: str  # e.g. "volumes[3].replicas[1]" or "--fail"
    message: str  # what is wrong and what is expected

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if len(text) > MESSAGE_CHARACTERS:  # a backstop: messages quote excerpts, but paths hold keys
            text = f"{text[:MESSAGE_CHARACTERS]}... (message cut at {MESSAGE_CHARACTERS} of {len(text):,} characters)"
        return text


class InputError(PlacementError):
    """Bad input or bad usage (exit status 2). Carries every problem found."""

    def __init__(self, source: str, problems: list[Problem] | Problem):
        self.source = source
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(self.paragraph())

    def paragraph(self) -> str:
        source = str(self.source)
        if len(source) > MESSAGE_CHARACTERS // 4:
            source = f"{source[:MESSAGE_CHARACTERS // 4]}..."
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            return f"{head}{self.problems[0]}"
        lines = [f"{head}{len(self.problems):,} problems found:"]
        lines += [f"  - {p}" for p in self.problems[:PROBLEMS_SHOWN]]
        if len(self.problems) > PROBLEMS_SHOWN:
            lines.append(f"  ... and {len(self.problems) - PROBLEMS_SHOWN:,} more (fix these first)")
        return "\n".join(lines)


class InternalError(PlacementError):
    """A bug in placement itself (exit status 3): the solver and the checks disagree, etc."""
