"""Rewrite the golden outputs: ``python -m tests.golden.regenerate [CASE...]`` (``make golden``).

Only after a deliberate output change: review ``git diff tests/golden/outputs`` before committing.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from tests.golden.cases import CASE_NAMES, STORED, produce


def main(names: list[str]) -> None:
    for name in names or CASE_NAMES:
        with tempfile.TemporaryDirectory() as work:
            files = produce(name, Path(work))
        folder = STORED / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for file, text in files.items():
            (folder / file).write_text(text)
        print(f"{name}: {len(files)} files")


if __name__ == "__main__":
    main(sys.argv[1:])
