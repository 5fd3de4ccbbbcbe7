"""README's shell sessions are real: each runs, and prints what README shows (tests/readme.py)."""
from __future__ import annotations

import pytest

from tests import readme

SESSIONS = readme.sessions(readme.README.read_text(encoding="utf-8"))


def test_readme_has_the_sessions_it_is_known_for():
    commands = [c.text for s in SESSIONS for c in s.commands]
    for expected in ("placement plan examples/seed.yaml --fail node-2", "placement capture -o capture --context prod --namespace kafka",
                     "placement import capture -o cluster.yaml --report report.json", "placement plan capture --fail node-0002",
                     "placement check examples/seed.yaml --failures 2 --zones --minimum"):
        assert expected in commands


@pytest.mark.parametrize("session", SESSIONS, ids=[s.name for s in SESSIONS])
def test_readme_session_prints_what_readme_shows(session, tmp_path):
    printed = readme.run(session, tmp_path / "session")
    for command, actual in zip(session.commands, printed):
        assert readme.matches(command.expected, actual), (
            f"README line {command.line + 1}: $ {command.text}\n--- README shows:\n" + "\n".join(command.expected)
            + "\n--- it prints:\n" + "\n".join(actual) + "\n(python -m tests.readme --write rewrites the transcripts)")


def test_the_comparison_tells_a_changed_figure_and_allows_only_what_it_should():
    shown = ["Recovery plan for seed after failure of node-2: optimal",
             "copied over the network: 75 GiB   new volume replicas: 2   solve time: 0.329 s", "...",
             "steps proven safe: every prefix and every order the steps allow (27 states over 13 resources)"]
    printed = ["Recovery plan for seed after failure of node-2: optimal",
               "copied over the network: 75 GiB   new volume replicas: 2   solve time: 1.5 s", "Brokers", "x",
               "steps proven safe: every prefix and every order the steps allow (27 states over 13 resources)"]
    assert readme.matches(shown, printed)  # times differ, "..." covers the tables
    assert not readme.matches(shown, [*printed[:-1], printed[-1].replace("27 states", "28 states")])
    assert not readme.matches(shown[:2], printed)  # without "...", every line must be there
    assert not readme.matches(["5 assumed, 1 unresolved:"], ["4 assumed, 1 unresolved:"])
    assert readme.matches(["a", "...", "b", "...", "c"], ["a", "x", "b", "y", "z", "c"])
    assert not readme.matches(["a", "...", "b", "...", "c"], ["a", "x", "y", "c"])
