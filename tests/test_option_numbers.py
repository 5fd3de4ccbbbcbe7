"""--failures, --jobs and --max-wave took whatever int() takes ('1_0' as 10, Arabic-Indic digits), while --seed
and --remove-broker refuse them; every whole-number option now reads ASCII digits only."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from placement import cli

SEED = Path(__file__).resolve().parent.parent / "examples" / "seed.yaml"


@pytest.mark.parametrize("option", [["--failures"], ["--jobs"], ["--waves", "--max-wave"]])
@pytest.mark.parametrize("value", ["1_0", "\u0661", "0x1"])
def test_whole_number_options_read_ascii_digits_only(option, value):
    result = CliRunner().invoke(cli.main, ["check", str(SEED), *option, value])
    assert result.exit_code == 2, result.output
    assert "is not" in result.output and "Traceback" not in result.output


def test_whole_number_options_still_take_plain_numbers():
    assert CliRunner().invoke(cli.main, ["check", str(SEED), "--failures", "1", "--jobs", "1"]).exit_code == 0
    assert CliRunner().invoke(cli.main, ["check", str(SEED), "--waves", "--max-wave", "2"]).exit_code == 0
    result = CliRunner().invoke(cli.main, ["check", str(SEED), "--failures", "-1"])
    assert result.exit_code == 2 and "--failures" in result.output
