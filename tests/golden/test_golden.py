"""The CLI's outputs on every example match the stored golden files (tests/golden/cases.py).

They pin what users see while the code moves; a deliberate change regenerates
them with ``make golden`` and shows up in review as a diff of the stored files.
"""
from __future__ import annotations

import pytest

from tests.golden.cases import CASE_NAMES, produce, stored


@pytest.mark.parametrize("name", CASE_NAMES)
def test_cli_outputs_match_the_golden_files(name, tmp_path):
    expected = stored(name)
    assert expected, f"no golden files for {name}: run make golden"
    actual = produce(name, tmp_path)
    assert sorted(actual) == sorted(expected)
    for file in sorted(expected):
        assert actual[file] == expected[file], f"{name}/{file} differs from the golden file"
