"""The plan table for people: its heading names what the plan is for, and its volume table shows exactly
the volumes with an add, a drop or a resync (node sets compared, never lists)."""
from __future__ import annotations

import io
import re
from pathlib import Path

import yaml

import placement
from placement.models.loading import parse_cluster
from placement.render.tables import console, render_plan

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


def table(cluster, **options) -> str:
    out = io.StringIO()
    render_plan(console(out), cluster, placement.plan(cluster, **options))
    return out.getvalue()


def volume_rows(text: str) -> dict[str, list[str]]:
    """volume -> its row's cells, from the 'Volume replicas' table (cells of wrapped rows joined)."""
    if "Volume replicas" not in text:
        return {}
    section = text.split("Volume replicas", 1)[1].split("\n└", 1)[0]
    rows: dict[str, list[str]] = {}
    last = None
    for line in section.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0]:
            last = cells[0]
            rows[last] = cells
        elif last:
            rows[last] = [f"{a} {b}".strip() for a, b in zip(rows[last], cells)]
    return rows


def returned():
    doc = yaml.safe_load(SEED.read_text())
    doc["name"] = "seed-return"
    doc["brokers"][1]["node"] = "node-4"  # node-2 came back: its broker stayed on node-4
    doc["volumes"][0]["stale"] = {"node-2": 6}
    doc["volumes"][1]["stale"] = {"node-2": 6}
    return parse_cluster(doc, "return.yaml")


def test_resynced_volumes_are_shown_and_a_reordered_one_is_not():
    text = table(returned())
    assert text.startswith("Plan for seed-return (nothing failed): optimal")
    rows = volume_rows(text)
    assert sorted(rows) == ["pvc-kafka-0", "pvc-kafka-1"]  # pvc-kafka-1's target lists its nodes sorted: no change by itself
    for name in rows:
        assert rows[name][3:] == ["-", "-", "node-2"]  # new, dropped, resynced


def test_retiring_a_broker_heads_the_plan_and_moves_no_volume():
    text = table(placement.load_cluster(SEED), remove_brokers=[2])
    assert text.startswith("Plan for seed: retire broker 2: optimal")
    assert "after failure of" not in text
    assert re.search(r"│ 2 +│ node-3 │ - +│ retired \(runs nowhere\)", text) and "cannot run" not in text
    assert volume_rows(text) == {}  # pvc-kafka-2's target is its nodes sorted, nothing else


def test_a_rebalance_shows_the_volume_it_moves_only():
    cluster = placement.load_cluster(ROOT / "examples" / "tight-capacity.yaml")
    plan = placement.plan(cluster, max_used=80)
    changed = sorted(v.name for v in cluster.volumes if set(plan.placement.volumes[v.name]) != set(v.replicas))
    text = table(cluster, max_used=80)
    assert text.startswith("Plan for tight-capacity: every node within 80% of its storage: optimal")
    assert sorted(volume_rows(text)) == changed and len(changed) == 1
    assert "resynced" not in text  # no stale replica: no such column


def test_a_recovery_keeps_its_heading_and_its_changed_volumes():
    text = table(placement.load_cluster(SEED), fail=["node-2"])
    assert text.startswith("Recovery plan for seed after failure of node-2: optimal")
    rows = volume_rows(text)
    assert sorted(rows) == ["pvc-kafka-0", "pvc-kafka-1"]
    assert rows["pvc-kafka-0"][3:] == ["node-5 (node-1)", "node-2"]
