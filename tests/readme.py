"""README's shell sessions, run for real, so that no transcript there can drift from what placement prints.

A session is a fenced block whose lines start with ``$ ``: each such line is a command, the lines
after it (up to the next command or the end of the block) what it printed, standard output and
standard error as a terminal shows them. A line that is exactly ``...`` stands for lines left out
(any number). Solve times and sweep times, which vary from run to run, are compared as ``<s>``.

Each session runs in a fresh directory holding a copy of ``examples/``, with ``placement`` from this
checkout first on the PATH, a stand-in ``kubectl`` replaying ``tests/captures/strimzi-messy`` (the
README's capture session) and COLUMNS=80 (the width rich uses when standard output is a pipe).

    python -m tests.readme           # say which sessions differ from what README shows
    python -m tests.readme --write   # rewrite README's transcripts from real runs (keeping each "...")
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ELIDED = "..."
CAPTURE = ROOT / "tests" / "captures" / "strimzi-messy"
SECONDS_PER_COMMAND = 300

_TIMES = (re.compile(r"(solve time: )\d+(?:\.\d+)?( s)"), re.compile(r"(; )\d+(?:\.\d+)?( s)$"))


@dataclass
class Command:
    line: int  # 0-based index of its "$ " line in README
    text: str  # the shell command
    expected: list[str] = field(default_factory=list)


@dataclass
class Session:
    start: int  # 0-based index of the opening fence
    commands: list[Command]

    @property
    def name(self) -> str:
        return f"README line {self.commands[0].line + 1}: {self.commands[0].text}"


def sessions(text: str) -> list[Session]:
    """Every fenced block of README with at least one "$ " line, in order."""
    found: list[Session] = []
    lines = text.split("\n")
    inside, start, block = False, 0, []
    for i, line in enumerate(lines):
        if line.startswith("```"):
            if inside:
                commands: list[Command] = []
                for j, body in block:
                    if body.startswith("$ "):
                        commands.append(Command(j, body[2:]))
                    elif commands:
                        commands[-1].expected.append(body)
                for command in commands:  # a blank line before the next command separates, it is not printed
                    while command.expected and not command.expected[-1].strip():
                        command.expected.pop()
                if commands:
                    found.append(Session(start, commands))
                inside = False
            else:
                inside, start, block = True, i, []
        elif inside:
            block.append((i, line))
    return found


def normalised(line: str) -> str:
    line = line.rstrip()
    for pattern in _TIMES:
        line = pattern.sub(r"\g<1><s>\g<2>", line)
    return line


def matches(expected: list[str], actual: list[str]) -> bool:
    """Do the printed lines match README's, a "..." line standing for any lines left out?"""
    expected = [normalised(x) for x in expected]
    actual = [normalised(x) for x in actual]
    segments: list[list[str]] = [[]]
    for line in expected:
        if line == ELIDED:
            segments.append([])
        else:
            segments[-1].append(line)
    if len(segments) == 1:
        return expected == actual
    first, *middle, last = segments
    if actual[:len(first)] != first or (last and actual[-len(last):] != last) or len(actual) < len(first) + len(last):
        return False
    rest = actual[len(first):len(actual) - len(last)]
    for segment in middle:  # each in order, anywhere after the previous one
        at = next((k for k in range(len(rest) - len(segment) + 1) if rest[k:k + len(segment)] == segment), None)
        if at is None:
            return False
        rest = rest[at + len(segment):]
    return True


def prepare(directory: Path) -> dict[str, str]:
    """A fresh working directory for one session; the environment its commands run in."""
    shutil.copytree(ROOT / "examples", directory / "examples")
    from tests.test_import_capture import PX_PODS, STAND_IN  # the stand-in kubectl of the capture tests

    tools = directory.parent / f"{directory.name}-bin"
    tools.mkdir()
    kubectl = tools / "kubectl"
    kubectl.write_text(STAND_IN.format(python=sys.executable), encoding="utf-8")
    kubectl.chmod(0o755)
    fixtures = directory.parent / f"{directory.name}-fixtures"
    shutil.copytree(CAPTURE, fixtures)
    (fixtures / "px-pods.json").write_text(json.dumps(PX_PODS), encoding="utf-8")
    log = directory.parent / f"{directory.name}-kubectl.log"
    log.touch()
    here = Path(sys.executable).parent  # this checkout's environment: its placement and python3
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_", "FORCE_COLOR"))}
    env.update(PATH=os.pathsep.join([str(here), str(tools), env.get("PATH", "")]), COLUMNS="80", LINES="40",
               PYTHONUNBUFFERED="1", NO_COLOR="1", KUBECTL_FIXTURES=str(fixtures), KUBECTL_LOG=str(log))
    env.pop("TERM", None)
    return env


def run(session: Session, directory: Path) -> list[list[str]]:
    """Run the session's commands one after another; what each printed, as lines."""
    directory.mkdir(parents=True)
    env = prepare(directory)
    printed = []
    for command in session.commands:
        done = subprocess.run(["bash", "-c", command.text], cwd=directory, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=SECONDS_PER_COMMAND)
        text = done.stdout[:-1] if done.stdout.endswith("\n") else done.stdout
        printed.append(text.split("\n") if text else [])
    return printed


def rewritten(expected: list[str], actual: list[str]) -> list[str]:
    """README's lines for a command from what it printed, keeping where README leaves lines out: as
    many lines before its "..." and after it as README shows."""
    if ELIDED not in expected:
        return actual
    if expected.count(ELIDED) > 1:
        raise ValueError("only one '...' per command can be rewritten; edit this one by hand")
    head = expected.index(ELIDED)
    tail = len(expected) - head - 1
    return actual[:head] + [ELIDED] + (actual[len(actual) - tail:] if tail else [])


def main(argv: list[str]) -> int:
    import tempfile

    write = "--write" in argv
    lines = README.read_text(encoding="utf-8").split("\n")
    differing = 0
    replacements: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines)
    with tempfile.TemporaryDirectory() as tmp:
        for k, session in enumerate(sessions("\n".join(lines))):
            printed = run(session, Path(tmp) / f"session-{k}")
            for command, actual in zip(session.commands, printed):
                if not matches(command.expected, actual):
                    differing += 1
                    print(f"README line {command.line + 1}: $ {command.text}: differs", file=sys.stderr)
                replacements.append((command.line + 1, command.line + 1 + len(command.expected),
                                     rewritten(command.expected, actual)))
    if write:
        for first, end, new in sorted(replacements, reverse=True):
            lines[first:end] = new
        README.write_text("\n".join(lines), encoding="utf-8")
        print(f"rewrote {len(replacements)} transcripts in {README}", file=sys.stderr)
    return 1 if differing and not write else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
