"""Golden outputs: what the CLI prints and writes for every example, byte for byte.

Each case runs the CLI in-process (click's CliRunner) with a fixed console width
and no colour, and collects every output it makes: the plan document, the table,
the script, the Kafka files, ``verify`` on the plan, and ``check``. Only
wall-clock figures are normalised (``solveSeconds``, ``seconds``, "solve time",
the sweep's elapsed time); everything else must match the stored files exactly.

Regenerate (after a deliberate output change only): ``make golden``, which runs
``python -m tests.golden.regenerate``.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
STORED = Path(__file__).resolve().parent / "outputs"
WIDTH = "100"
WALL_CLOCK_KEYS = {"solveSeconds", "seconds"}
WALL_CLOCK_TEXT = [
    (re.compile(r"solve time: [0-9.]+ s"), "solve time: <seconds> s"),
    (re.compile(r"undecided; [0-9.]+ s$", re.M), "undecided; <seconds> s"),
    (re.compile(r"to maintain; [0-9.]+ s$", re.M), "to maintain; <seconds> s"),
]


@dataclass(frozen=True)
class PlanCase:
    name: str
    example: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class CheckCase:
    name: str
    example: str
    args: tuple[str, ...]


PLAN_CASES = (
    PlanCase("seed-fail-node-2", "seed.yaml", ("--fail", "node-2")),
    PlanCase("seed-remove-broker-2", "seed.yaml", ("--remove-broker", "2")),
    PlanCase("zone-loss-fail-zone-b", "zone-loss.yaml", ("--fail-zone", "zone-b")),
    PlanCase("tight-capacity-fail-node-1", "tight-capacity.yaml", ("--fail", "node-1")),
    PlanCase("tight-capacity-fail-node-1-node-4", "tight-capacity.yaml", ("--fail", "node-1", "--fail", "node-4")),
    PlanCase("impossible-fail-node-3", "impossible.yaml", ("--fail", "node-3")),
    PlanCase("fragile-fail-node-1", "fragile.yaml", ("--fail", "node-1")),
)
CHECK_CASES = (
    CheckCase("check-seed-failures-2-zones-minimum", "seed.yaml", ("--failures", "2", "--zones", "--minimum")),
    CheckCase("check-fragile-failures-2", "fragile.yaml", ("--failures", "2")),
    CheckCase("check-seed-ok-to-stop-node-2", "seed.yaml", ("--ok-to-stop", "node-2")),
    CheckCase("check-seed-ok-to-stop-node-2-node-4", "seed.yaml", ("--ok-to-stop", "node-2", "node-4")),
    CheckCase("check-seed-waves", "seed.yaml", ("--waves",)),
    CheckCase("check-fragile-waves-max-wave-2", "fragile.yaml", ("--waves", "--max-wave", "2")),
    CheckCase("check-tight-capacity-waves", "tight-capacity.yaml", ("--waves",)),
)


def normalise_document(data):
    """Wall-clock fields replaced by a marker, at any depth."""
    if isinstance(data, dict):
        return {k: "<seconds>" if k in WALL_CLOCK_KEYS else normalise_document(v) for k, v in data.items()}
    if isinstance(data, list):
        return [normalise_document(x) for x in data]
    return data


def normalise_text(text: str) -> str:
    for pattern, marker in WALL_CLOCK_TEXT:
        text = pattern.sub(marker, text)
    return text


def _json_text(text: str) -> str:
    return json.dumps(normalise_document(json.loads(text)), indent=2) + "\n"


def _invoke(args: list[str], *, with_stderr: bool = False):
    from placement.cli import main

    env = {"COLUMNS": WIDTH, "LINES": "50", "NO_COLOR": "1", "FORCE_COLOR": None, "TERM": "dumb",
           "TTY_COMPATIBLE": None, "TTY_INTERACTIVE": None}
    result = CliRunner().invoke(main, args, env=env, catch_exceptions=False)
    if with_stderr:  # only where stderr is deterministic (plan's progress notes depend on timing)
        return result.exit_code, result.stdout, result.stderr
    return result.exit_code, result.stdout


def _failure_options(args: tuple[str, ...]) -> list[str]:
    """The --fail and --fail-zone options of a plan command (those verify takes too)."""
    kept = []
    for option, value in zip(args[::2], args[1::2]):
        if option in ("--fail", "--fail-zone"):
            kept += [option, value]
    return kept


def produce_plan(case: PlanCase, workdir: Path) -> dict[str, str]:
    """Every output of ``placement plan`` (four formats) and ``placement verify`` for one case."""
    cluster = str(EXAMPLES / case.example)
    here = Path.cwd()
    os.chdir(workdir)
    try:
        files: dict[str, str] = {}
        codes: dict[str, int] = {}
        codes["plan-table"], table = _invoke(["plan", cluster, *case.args, "-o", "plan.json"])
        files["plan.txt"] = normalise_text(table)
        files["plan.json"] = _json_text(Path("plan.json").read_text())
        codes["plan-script"], files["script.sh"] = _invoke(["plan", cluster, *case.args, "--format", "script"])
        codes["plan-kafka"], _ = _invoke(["plan", cluster, *case.args, "--format", "kafka", "-o", "move.json"])
        for name in sorted(p.name for p in Path(".").glob("move*.json")):
            files[f"kafka-{name}"] = Path(name).read_text()
        codes["verify"], files["verify.txt"], errors = _invoke(["verify", cluster, "plan.json",
                                                               *_failure_options(case.args)], with_stderr=True)
        if errors:
            files["verify.stderr.txt"] = errors
        files["exit-codes.json"] = json.dumps(codes, indent=2, sort_keys=True) + "\n"
        return files
    finally:
        os.chdir(here)


def produce_check(case: CheckCase, workdir: Path) -> dict[str, str]:
    """``placement check`` as a table and as JSON for one case."""
    cluster = str(EXAMPLES / case.example)
    codes: dict[str, int] = {}
    codes["check-table"], table = _invoke(["check", cluster, *case.args])
    codes["check-json"], document = _invoke(["check", cluster, *case.args, "--format", "json"])
    return {"check.txt": normalise_text(table), "check.json": _json_text(document),
            "exit-codes.json": json.dumps(codes, indent=2, sort_keys=True) + "\n"}


def produce(name: str, workdir: Path) -> dict[str, str]:
    for case in PLAN_CASES:
        if case.name == name:
            return produce_plan(case, workdir)
    for case in CHECK_CASES:
        if case.name == name:
            return produce_check(case, workdir)
    raise KeyError(name)


def stored(name: str) -> dict[str, str]:
    folder = STORED / name
    return {p.name: p.read_text() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


CASE_NAMES = tuple(c.name for c in PLAN_CASES) + tuple(c.name for c in CHECK_CASES)
