"""Plan documents an outside tester handed to verify: a claim too large for a float was an internal
error (exit 3), and broker keys int() reads leniently (' 1', '01', '+1', '1_0', an Arabic-Indic digit)
were taken for another broker unsaid."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from placement import cli

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


@pytest.fixture(scope="module")
def plan_document() -> dict:
    result = CliRunner().invoke(cli.main, ["plan", str(SEED), "--fail", "node-2", "--format", "json"])
    return json.loads(result.stdout)


def verify(tmp_path, text: str):
    path = tmp_path / "plan.json"
    path.write_text(text)
    return CliRunner().invoke(cli.main, ["verify", str(SEED), str(path)])


@pytest.mark.parametrize("metric", ["copiedGiB", "newVolumeReplicas"])
def test_a_claimed_figure_beyond_any_float_is_a_false_claim(tmp_path, plan_document, metric):
    assert metric in plan_document["metrics"]
    text = json.dumps(plan_document).replace(f'"{metric}": {json.dumps(plan_document["metrics"][metric])}',
                                             f'"{metric}": 1{"0" * 400}', 1)
    result = verify(tmp_path, text)
    assert result.exit_code == 1, result.output
    assert f"metrics.{metric}" in result.output and "about 401 digits" in result.output


@pytest.mark.parametrize("key", [" 1", "01", "+1", "1\n", "1_0", "\u0661"])
def test_a_broker_key_is_written_as_placement_writes_it(tmp_path, plan_document, key):
    document = json.loads(json.dumps(plan_document))
    document["placement"]["brokers"][key] = document["placement"]["brokers"].pop("1")
    result = verify(tmp_path, json.dumps(document))
    assert result.exit_code == 2, result.output
    assert "placement.brokers" in result.output and "is not a broker id" in result.output
