"""What ``placement import`` writes: the cluster file (JSON if its name ends in .json, else
YAML) to a file or standard output, and the report as JSON. Kept out of cli.py so the CLI
stays a thin layer."""
from __future__ import annotations

from dataclasses import dataclass

from placement.imports import render_document
from placement.imports.report import ImportReport
from placement.render.outputs import OutputFile, Outputs, json_text, write_stdout


@dataclass(frozen=True)
class ImportOutputs:
    outputs: Outputs
    cluster: OutputFile | None  # None: standard output
    report: OutputFile | None


def prepare_outputs(sources, output: str | None, report_file: str | None) -> ImportOutputs:
    """Check -o and --report before anything is read: writable, distinct, and no source (nor inside a
    source directory)."""
    outputs = Outputs(inputs=[str(s) for s in sources])
    cluster = outputs.file(output, "-o") if output else None
    report = outputs.file(report_file, "--report") if report_file else None
    return ImportOutputs(outputs, cluster, report)


def write_output(prepared: ImportOutputs, document: dict, report: ImportReport) -> None:
    cluster_file = prepared.cluster
    text = render_document(document, as_json=bool(cluster_file and cluster_file.path.endswith(".json")))
    texts = {}
    if cluster_file is not None:
        texts[cluster_file] = text
    if prepared.report is not None:
        texts[prepared.report] = json_text(report.to_document())
    if texts:
        prepared.outputs.write(texts)  # both or neither
    if cluster_file is None:
        write_stdout(text)
