"""'-' names standard input wherever a command reads a cluster or a plan document, as it does for
import (an outside tester found `placement plan - < cluster.yaml` refused as "-: no such file")."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.yaml"


def placement(*argv: str, stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "placement.cli", *argv], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def test_plan_check_and_verify_read_the_cluster_from_standard_input(tmp_path):
    done = placement("plan", "-", "--fail", "node-2", "--format", "json", stdin=SEED.read_text())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "optimal"
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(done.stdout)
    assert placement("check", "-", "--ok-to-stop", "node-2", stdin=SEED.read_text()).returncode == 0
    verified = placement("verify", "-", str(plan_file), stdin=SEED.read_text())
    assert verified.returncode == 0, verified.stderr
    verified = placement("verify", str(SEED), "-", stdin=done.stdout)
    assert verified.returncode == 0, verified.stderr


def test_standard_input_is_read_once():
    done = placement("verify", "-", "-", stdin=SEED.read_text())
    assert done.returncode == 2
    assert "standard input" in done.stderr and "Traceback" not in done.stderr


def test_the_readme_examples_missing_here_name_the_installed_copy(tmp_path):
    """Installed with pip, a user running the README's `placement plan examples/seed.yaml` from another folder
    learns where the examples are instead of only "no such file"."""
    done = placement("plan", "examples/seed.yaml", "--fail", "node-2", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    shipped = done.stderr.split("installed with it: ", 1)[1].split(" (give that path", 1)[0]
    assert Path(shipped).read_text() == SEED.read_text()
    assert placement("plan", shipped, "--fail", "node-2", cwd=tmp_path).returncode == 0
    other = placement("plan", "examples/not-shipped.yaml", cwd=tmp_path)
    assert other.returncode == 2 and "no such file" in other.stderr and "installed" not in other.stderr
