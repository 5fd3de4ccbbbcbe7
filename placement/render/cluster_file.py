"""What ``placement import`` writes: the cluster file (JSON if its name ends in .json, else
YAML) to a file or standard output, and the report as JSON. Kept out of cli.py so the CLI
stays a thin layer."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from placement.imports import render_document
from placement.imports.report import ImportReport
from placement.models.errors import InputError, Problem


def _write(path: str, text: str, what: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(path, Problem(what, f"cannot be written: {exc.strerror}")) from None


def write_output(output: str | None, document: dict, report_file: str | None, report: ImportReport) -> None:
    text = render_document(document, as_json=bool(output and output.endswith(".json")))
    if output:
        _write(output, text, "-o")
    else:
        sys.stdout.write(text)
    if report_file:
        _write(report_file, json.dumps(report.to_document(), indent=2) + "\n", "--report")
