"""Benchmark: `placement import` of a capture of the 1,000-node cluster, and `placement plan` on it.

    python bench/imports.py            # writes bench/RESULTS-import.md (about a minute)

The capture (bench/capture.py: nodes, pods, claims, volumes as kubectl prints them,
pxctl status / provision-status / volume list, kafka-topics and kafka-log-dirs
output) is written first, untimed. Every command then runs as its own process, the
way a user runs it, process start included; wall time is the median of 3 runs,
peak memory the largest resident set of any run.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from capture import CLUSTER, write_capture  # noqa: E402

# Runs one command and reports its wall time and its peak resident memory (the only child).
MEASURE = ("import json, resource, subprocess, sys, time\n"
           "t = time.perf_counter()\n"
           "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
           "print(json.dumps({'seconds': time.perf_counter() - t, 'rc': done.returncode, 'stderr': done.stderr[-400:],\n"
           "                  'peakMiB': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))\n")


def measure(args: list[str], repeat: int = 3) -> dict:
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, check=True, cwd=ROOT)
        runs.append(json.loads(out.stdout))
    return {"median": statistics.median(r["seconds"] for r in runs), "runs": [r["seconds"] for r in runs],
            "peakMiB": max(r["peakMiB"] for r in runs), "rc": runs[0]["rc"], "stderr": runs[0]["stderr"]}


def section(repeat: int = 3) -> list[str]:
    from placement.models.generate import generate_cluster

    placement = str(Path(sys.executable).parent / "placement")
    cluster = generate_cluster(**CLUSTER)
    failed = cluster.brokers[0].node
    with tempfile.TemporaryDirectory() as tmp:
        capture = Path(tmp) / "capture"
        write_capture(cluster, capture, seed=CLUSTER["seed"])
        size = sum(f.stat().st_size for f in capture.iterdir()) / 2**20
        as_yaml = measure([placement, "import", str(capture), "-o", str(Path(tmp) / "cluster.yaml")], repeat)
        as_json = measure([placement, "import", str(capture), "-o", str(Path(tmp) / "cluster.json")], repeat)
        on_dir = measure([placement, "plan", str(capture), "--fail", failed, "--format", "json", "-o", str(Path(tmp) / "p1.json")], repeat)
        on_file = measure([placement, "plan", str(Path(tmp) / "cluster.json"), "--fail", failed, "--format", "json",
                           "-o", str(Path(tmp) / "p2.json")], repeat)
        same = json.loads((Path(tmp) / "p1.json").read_text())["placement"] == json.loads((Path(tmp) / "p2.json").read_text())["placement"]
    for m in (as_yaml, as_json, on_dir, on_file):
        if m["rc"] not in (0,):
            raise SystemExit(f"a benchmarked command failed: {m['stderr']}")

    def row(label: str, m: dict) -> str:
        return f"| {label} | {m['median']:.2f} s | {', '.join(f'{t:.2f}' for t in m['runs'])} | {m['peakMiB']:.0f} MiB |"

    return ["## Import: `placement import` of a capture, and `placement plan` on it", "",
            f"Capture of the cluster above in the real formats (bench/capture.py): {len(cluster.nodes):,} nodes, "
            f"{len(cluster.volumes):,} pods, claims, persistent volumes and Portworx volumes, "
            f"{sum(len(t.partitions) for t in cluster.topics):,} partitions in the describe and log-dirs output; "
            f"{size:.0f} MiB in 9 files. Each command a fresh process, process start included; median of {repeat}.", "",
            "| command | wall time (median) | runs | peak memory |", "|---|---|---|---|",
            row("placement import DIR -o cluster.yaml", as_yaml), row("placement import DIR -o cluster.json", as_json),
            row(f"placement plan DIR --fail {failed}", on_dir), row(f"placement plan cluster.json --fail {failed}", on_file), "",
            f"Plan on the directory against the cluster file plus its import: {on_dir['median']:.2f} s against "
            f"{on_file['median']:.2f} + {as_json['median']:.2f} s; the same placement from both: {same}.", "",
            "Targets (issue 11): import in at most 5 s and 1 GiB."]


def main() -> None:
    lines = ["# Import benchmark", ""] + section()
    (ROOT / "bench" / "RESULTS-import.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
