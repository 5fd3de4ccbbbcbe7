"""Seeded fuzzing of both input files through the CLI: any damage is exit 0, 1 or 2, never a traceback."""
from __future__ import annotations

import copy
import json
import random

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
