"""A usage error is bad input: exit status 2 and one paragraph (CONTRACT), the usage and the help
hint folded into it rather than Click's three-paragraph block."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from placement.cli import main

SEED = "examples/seed.yaml"


@pytest.mark.parametrize("argv,says", [
    (["check", SEED, "--failures", "-1"], "--failures"),
    (["plan"], "Missing argument 'CLUSTER'"),
    (["plan", SEED, "--bogus"], "--bogus"),
    (["plann", SEED], "plann"),
    (["plan", SEED, "-o", "."], "is a directory"),
])
def test_usage_errors_are_one_paragraph(argv, says):
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    text = result.output.strip()
    assert says in text and "--help" in text
    assert "\n" not in text  # one paragraph: no usage block above it
    assert text.startswith("Error: ")
