"""Volumes whose size is 0 (freshly provisioned, nothing written) are valid input: every command
plans them like any other, never an internal error (the shortfall bound divided by the largest
size, 0 here: exit 3 on ``plan --drain``)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _empty_seed(tmp_path: Path) -> Path:
    document = yaml.safe_load((ROOT / "examples" / "seed.yaml").read_text())
    for volume in document["volumes"]:
        volume["sizeGiB"] = 0
        if "usedGiB" in volume:
            volume["usedGiB"] = 0
    path = tmp_path / "empty.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _plan(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "placement.cli", "plan", str(path), *args, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_empty_volumes_plan_a_drain_and_a_failure(tmp_path):
    path = _empty_seed(tmp_path)
    for args in (("--drain", "node-1"), ("--fail", "node-1"), ("--fail-zone", "zone-a")):
        run = _plan(path, *args)
        assert run.returncode in (0, 1), (args, run.stderr)
        assert "internal error" not in run.stderr
        assert '"status"' in run.stdout


def test_the_shortfall_bound_with_empty_volumes_never_exceeds_the_brute_force_minimum():
    """Half the volumes of small random clusters emptied (size 0): the LP bound stays a bound."""
    import random

    from placement.models.failures import resolve_failures
    from placement.models.loading import parse_cluster
    from placement.scenario import Scenario
    from placement.solve.shortfall import major_shortfall_bound
    from placement.solve.space import Space
    from tests.smallworld import brute_force, random_cluster, search_size

    compared = 0
    for seed in range(60):
        doc = random_cluster(seed)
        for volume in doc["volumes"][::2]:
            volume["sizeGiB"] = volume["usedGiB"] = 0
        cluster = parse_cluster(doc, f"empty-{seed}")
        failed = random.Random(seed).sample([n.name for n in cluster.nodes], 1)
        scenario = Scenario(cluster, resolve_failures(cluster, failed))
        if search_size(scenario) > 60_000:
            continue
        best = brute_force(scenario)
        if best is not None:
            assert major_shortfall_bound(Space.for_planning(scenario)) <= best[0]
            compared += 1
    assert compared >= 20
