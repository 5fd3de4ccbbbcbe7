"""What the ``import`` command writes, kept out of cli.py so the CLI stays a thin layer."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from models.errors import InputError, Problem
from placement.imports.report import ImportReport


def _write(path: str, text: str, what: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(path, Problem(what, f"cannot be written: {exc.strerror}")) from None


def write_output(output: str | None, text: str, report_file: str | None, report: ImportReport) -> None:
    if output:
        _write(output, text, "-o")
    else:
        sys.stdout.write(text)
    if report_file:
        _write(report_file, json.dumps(report.to_document(), indent=2) + "\n", "--report")
