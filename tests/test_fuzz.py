"""Seeded fuzzing of both input files through the CLI: any damage is exit 0, 1 or 2, never a traceback.

Plan documents are damaged in two ways: their structure (junk in any field) and
their steps (steps dropped, repeated, reordered, re-pointed at other nodes,
volumes and brokers, their order constraints broken, the failed list changed):
``verify`` must judge each in bounded time, exit 0, 1 or 2, never 3.
"""
from __future__ import annotations

import copy
import json
import random
import time

import pytest
from click.testing import CliRunner

from placement import cli
from tests.smallworld import random_cluster

JUNK = [None, -1, "x", 0, 1.5, True, [], {}, [1, 1], ["node-1", "node-1"], "node-99", {"a": 1}, [None]]


def _damage_cluster(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        section = rng.choice(["nodes", "volumes", "brokers", "topics", "policy"])
        if section == "policy":
            doc["policy"][rng.choice(list(doc["policy"]))] = rng.choice(JUNK)
            continue
        items = doc.get(section) or []
        if not isinstance(items, list) or not items:
            doc[section] = rng.choice(JUNK)
            continue
        item = rng.choice(items)
        if not isinstance(item, dict) or not item:
            continue
        action = rng.randrange(4)
        key = rng.choice(list(item))
        if action == 0:
            del item[key]
        elif action == 1:
            item[key] = rng.choice(JUNK)
        elif action == 2:
            items.append(copy.deepcopy(item))
        else:
            items.remove(item)
    return doc


def _damage_plan(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        where = rng.choice(["top", "placement", "brokers", "volumes", "partitions"])
        if where == "top":
            doc[rng.choice(list(doc) + ["extra"])] = rng.choice(JUNK)
        elif not isinstance(doc.get("placement"), dict):
            continue
        elif where == "placement":
            doc["placement"][rng.choice(["brokers", "volumes", "partitions"])] = rng.choice(JUNK)
        else:
            part = doc["placement"].get(where)
            if isinstance(part, dict) and part:
                part[rng.choice(list(part))] = rng.choice(JUNK)
            elif isinstance(part, list) and part:
                i = rng.randrange(len(part))
                if isinstance(part[i], dict) and part[i]:
                    part[i][rng.choice(list(part[i]))] = rng.choice(JUNK)
                else:
                    part[i] = rng.choice(JUNK)
    return doc


def _judged_cleanly(result) -> bool:
    return result.exit_code in (0, 1, 2) and "Traceback" not in (result.stderr or "")


@pytest.mark.parametrize("seed", range(120))
def test_damaged_cluster_files(tmp_path, seed):
    rng = random.Random(seed)
    doc = _damage_cluster(random_cluster(seed), rng)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli.main, ["plan", str(path), "--format", "json"])
    assert _judged_cleanly(result), (result.exit_code, result.stderr)


@pytest.fixture(scope="module")
def seed_plan() -> dict:
    result = CliRunner().invoke(cli.main, ["plan", "examples/seed.yaml", "--fail", "node-2", "--format", "json"])
    return json.loads(result.stdout)


@pytest.mark.parametrize("seed", range(150))
def test_damaged_plan_documents(tmp_path, seed, seed_plan):
    doc = _damage_plan(seed_plan, random.Random(seed))
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    result = CliRunner().invoke(cli.main, ["verify", "examples/seed.yaml", str(path)])
    assert _judged_cleanly(result), (result.exit_code, result.stderr)


# -- plan documents with mutated steps ------------------------------------------------------------

STEP_CASES = {  # example -> the failure its plan recovers from
    "seed.yaml": ["--fail", "node-2"],
    "zone-loss.yaml": ["--fail-zone", "zone-b"],
    "tight-capacity.yaml": ["--fail", "node-1"],
}
VERIFY_SECONDS = 60  # a mutated plan is judged (a proof, a counterexample or a refusal) well within this


@pytest.fixture(scope="module")
def plans_with_steps() -> dict[str, dict]:
    plans = {}
    for example, failure in STEP_CASES.items():
        result = CliRunner().invoke(cli.main, ["plan", f"examples/{example}", *failure, "--format", "json"])
        plans[example] = json.loads(result.stdout)
    return plans


def _names_in(doc: dict) -> dict[str, list]:
    """The names a mutation may swap in: nodes, volumes, brokers of the plan itself, and some that do not exist."""
    nodes = sorted({n for nodes in doc["placement"]["volumes"].values() for n in nodes} | set(doc["failed"]))
    return {"node": nodes + ["node-99"], "volume": sorted(doc["placement"]["volumes"]) + ["pvc-none"],
            "broker": sorted(int(b) for b in doc["placement"]["brokers"]) + [99, -1]}


def _mutate_step(step: dict, names: dict[str, list], ids: list[int], rng: random.Random) -> None:
    key = rng.choice(sorted(step))
    if key in ("node", "source", "from", "to"):
        step[key] = rng.choice(names["node"] + [None, 1])
    elif key == "volume":
        step[key] = rng.choice(names["volume"] + [None, 7])
    elif key == "broker":
        step[key] = rng.choice(names["broker"] + ["1", True])
    elif key == "after":
        step[key] = rng.choice([[], [step["id"]], rng.sample(ids, min(len(ids), rng.randint(1, 3))), [10**6], "1", None])
    elif key == "action":
        step[key] = rng.choice(["fence-node", "drop-volume-replica", "add-volume-replica", "move-broker",
                                "reassign-partitions", "elect-leaders", "resync-volume-replica", "cordon-node", "reboot"])
    elif key == "partitions":
        parts = step[key]
        if isinstance(parts, list) and parts and isinstance(parts[0], dict):
            part = rng.choice(parts)
            field = rng.choice(sorted(part))
            part[field] = rng.choice([[], [0], [0, 0], names["broker"][:2], None, "x", -1])
    else:  # id
        step[key] = rng.choice([ids[0], -1, "1", None, 10**6])


def _mutate_steps(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    steps = doc["steps"]
    names = _names_in(doc)
    failed = list(doc["failed"])
    for _ in range(rng.randint(1, 4)):
        ids = [s["id"] for s in steps if isinstance(s, dict) and isinstance(s.get("id"), int)] or [1]
        action = rng.randrange(9)
        if action == 0 and steps:
            steps.pop(rng.randrange(len(steps)))  # a step left out
        elif action == 1 and steps:
            twin = copy.deepcopy(rng.choice(steps))  # the same step twice, under a new id
            twin["id"] = max(ids) + 1
            steps.append(twin)
        elif action == 2 and len(steps) > 1:
            i, j = rng.sample(range(len(steps)), 2)  # two steps swap places in the list
            steps[i], steps[j] = steps[j], steps[i]
        elif action == 3:
            for s in steps:
                s["after"] = []  # every order allowed: the unordered exploration must stay bounded
        elif action == 4:
            doc["failed"] = rng.choice([[], failed[:1], failed + names["node"][:1], "node-1"])
        elif action == 5 and steps:
            steps.insert(rng.randrange(len(steps) + 1), {"id": max(ids) + 1, "action": "fence-node",
                                                         "node": rng.choice(names["node"]), "after": []})
        elif action == 6 and steps:
            a, b = rng.sample(steps, 2) if len(steps) > 1 else (steps[0], steps[0])
            a["after"], b["after"] = [b["id"]], [a["id"]]  # a cycle (or a step after itself)
        elif steps:
            _mutate_step(rng.choice(steps), names, ids, rng)
    return doc


@pytest.mark.parametrize("seed", range(90))
def test_plan_documents_with_mutated_steps(tmp_path, seed, plans_with_steps):
    example = sorted(STEP_CASES)[seed % len(STEP_CASES)]
    doc = _mutate_steps(plans_with_steps[example], random.Random(seed))
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    started = time.perf_counter()  # the failures are those the (mutated) document records
    result = CliRunner().invoke(cli.main, ["verify", f"examples/{example}", str(path)])
    assert _judged_cleanly(result), (result.exit_code, result.stderr[-2000:], result.exception)
    assert time.perf_counter() - started < VERIFY_SECONDS
