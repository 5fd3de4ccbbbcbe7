"""Checking the arguments of the library's public functions, with the CLI's error.

Every public call (``placement.plan``, ``verify``, ``check``, ``load_cluster``,
``import_cluster``, and those planned operations add) checks what it was given
before any work, and a wrong type or value is a ``placement.InputError`` (exit
status 2 through the CLI) naming the function, the parameter and the fix, never
a raw exception or a silent wrong answer (``fail="node-2"`` is not five nodes
named by its letters)::

    args = Arguments("plan")
    cluster = args.cluster("cluster", cluster)
    fail = args.names("fail", fail, "node")
    seed = args.integer("seed", seed, 0, SEED_MAX)
    args.done()          # raises InputError listing every problem found

Each reader returns a harmless stand-in when its argument is wrong, so that
every problem is found in one call; ``done()`` then raises.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Iterable

from placement.models import names
from placement.models.errors import InputError, Problem, excerpt

SEED_MAX = 2**31 - 1  # CP-SAT's random_seed is a 32-bit integer
TIME_LIMIT = (0.1, 1_000_000.0)  # seconds: at least a tenth of a second, at most eleven and a half days


class Arguments:
    """The problems found in one call's arguments; ``done()`` raises them as one InputError."""

    def __init__(self, function: str):
        self.source = f"placement.{function}"
        self.problems: list[Problem] = []

    def problem(self, param: str, message: str) -> None:
        self.problems.append(Problem(param, message))

    def done(self) -> None:
        if self.problems:
            raise InputError(self.source, self.problems)

    # -- single values -------------------------------------------------------------------------

    def cluster(self, param: str, value: Any) -> Any:
        from placement.models.cluster import Cluster

        if not isinstance(value, Cluster):
            self.problem(param, f"expected a Cluster (from placement.load_cluster(path) or placement.parse_cluster(data)), "
                                f"got {_what(value)}")
        return value

    def mapping(self, param: str, value: Any, what: str) -> dict:
        if not isinstance(value, dict):
            self.problem(param, f"expected {what} (a dict), got {_what(value)}")
            return {}
        return value

    def path(self, param: str, value: Any) -> str | os.PathLike:
        if not isinstance(value, (str, os.PathLike)) or isinstance(value, str) and not value:
            self.problem(param, f"expected a file path (a non-empty string or a pathlib.Path), got {_what(value)}")
            return "."
        if "\0" in os.fspath(value):
            self.problem(param, f"{excerpt(os.fspath(value))} holds a NUL character, which no path can")
            return "."
        return value

    def flag(self, param: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.problem(param, f"expected True or False, got {_what(value)}")
            return False
        return value

    def integer(self, param: str, value: Any, low: int, high: int | None = None) -> int:
        span = f"in {low:,}..{high:,}" if high is not None else f">= {low:,}"
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(param, f"expected a whole number {span}, got {_what(value)}")
            return low
        if value < low or high is not None and value > high:
            self.problem(param, f"is {excerpt(value)}; expected a whole number {span}")
            return low
        return value

    def number(self, param: str, value: Any, low: float, high: float, unit: str = "") -> float:
        span = f"{low:g}..{high:,.0f}{' ' + unit if unit else ''}"
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            self.problem(param, f"expected a number in {span}, got {_what(value)}")
            return low
        if not math.isfinite(value) or not low <= value <= high:
            self.problem(param, f"is {excerpt(value)}; expected a finite number in {span}")
            return low
        return value

    def time_limit(self, param: str, value: Any) -> float:
        return self.number(param, value, *TIME_LIMIT, unit="seconds")

    def seed(self, param: str, value: Any) -> int:
        return self.integer(param, value, 0, SEED_MAX)

    def text(self, param: str, value: Any, *, optional: bool = False, max_length: int = 4096) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self.problem(param, f"expected a string{' or None' if optional else ''}, got {_what(value)}")
            return None
        if len(value) > max_length:
            self.problem(param, f"{excerpt(value)} is longer than {max_length:,} characters")
            return None
        return value

    def name(self, param: str, value: Any, kind: str, *, optional: bool = False) -> str | None:
        """One name of the policy in models/names.py (kind: node, zone, namespace, ...)."""
        if value is None and optional:
            return None
        wrong = names.name_problem(kind, value)
        if wrong is not None:
            self.problem(param, wrong)
            return None
        return value

    def callable(self, param: str, value: Any, *, optional: bool = True) -> Callable | None:
        if value is None and optional:
            return None
        if not callable(value):
            self.problem(param, f"expected a function{' or None' if optional else ''}, got {_what(value)}")
            return None
        return value

    # -- collections ---------------------------------------------------------------------------

    def items(self, param: str, value: Any, what: str) -> list:
        """The items of a list, tuple, set or other iterable; None is none. A bare string or a
        mapping is refused: iterating it would give its letters or its keys."""
        if value is None:
            return []
        if isinstance(value, (str, bytes)):
            self.problem(param, f"expected a list of {what}, got the string {excerpt(value)}; "
                                f"write {param}=[{excerpt(value)}]")
            return []
        if isinstance(value, dict) or not isinstance(value, Iterable):
            self.problem(param, f"expected a list of {what}, got {_what(value)}")
            return []
        return list(value)

    def names(self, param: str, value: Any, kind: str) -> tuple[str, ...]:
        """A list of names of one kind (node, zone, ...), each valid by the name policy."""
        found: list[str] = []
        for i, item in enumerate(self.items(param, value, f"{kind} names")):
            wrong = names.name_problem(kind, item)
            if wrong is not None:
                self.problem(f"{param}[{i}]", wrong)
            else:
                found.append(item)
        return tuple(found)

    def broker_ids(self, param: str, value: Any) -> tuple[int, ...]:
        found: list[int] = []
        for i, item in enumerate(self.items(param, value, "broker ids (integers)")):
            wrong = names.broker_id_problem(item)
            if wrong is not None:
                self.problem(f"{param}[{i}]", wrong)
            else:
                found.append(item)
        return tuple(found)

    def paths(self, param: str, value: Iterable[Any]) -> tuple:
        return tuple(self.path(f"{param}[{i}]", item) for i, item in enumerate(value))


def _what(value: Any) -> str:
    """A wrong argument as Python spells it: its type and a bounded excerpt of it."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (str, int, float)):
        return f"{excerpt(value)} (a {type(value).__name__})"
    return f"a {type(value).__name__}"
