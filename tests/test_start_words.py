"""What the start already breaks (``preexisting``) is said of the start: a volume short of replicas at the start is "already short before any plan", not "no replica is added" (the words
of a plan that left it short), which a stranger reading ``preexisting`` took for a plan's doing."""
from __future__ import annotations

from pathlib import Path

import yaml

import placement
from placement.models.loading import parse_cluster
from placement.rules import check_start

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


def _short_start():
    doc = yaml.safe_load(SEED.read_text())
    doc["volumes"][1]["replicas"] = doc["volumes"][1]["replicas"][:2]  # RF 3, two listed
    return parse_cluster(doc, "short.yaml"), doc


def test_start_findings_say_the_start_is_short_and_where_the_room_is():
    cluster, doc = _short_start()
    found = {v.invariant: v.message for v in check_start(cluster)}
    volume = doc["volumes"][1]["name"]
    assert found["I1"].startswith(f"volume {volume} keeps 2 of 3 replicas: already short before any plan; ")
    assert "has room for its" in found["I1"] or "have room for its" in found["I1"]
    assert not any("no replica is added" in v.message for v in check_start(cluster))


def test_the_plan_document_carries_the_start_words_and_the_target_words_stay():
    cluster, _ = _short_start()
    document = placement.plan(cluster).to_document()
    assert document["preexisting"] and all("no replica is added" not in v["message"] for v in document["preexisting"])
    assert any("already short before any plan" in v["message"] for v in document["preexisting"])
