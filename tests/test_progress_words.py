"""The solver's progress line on standard error (``placement.solve.cpsat.progress_words``) shows the
level's own figures: the offset and scaling CP-SAT's objective leaves out put back, the bound never
below the level's proven lower bound, MiB of the copied level as GiB with separators, no %g forms.
A stranger's test saw "incumbent 4.02201e+09, bound -1.30807e+08" for a level the plan then bounded
at 4.2e9."""
from __future__ import annotations

from placement.solve.cpsat import _Progress, progress_words


def test_copied_is_shown_in_gib_with_separators_and_the_proven_bound():
    words = progress_words("copied", 4_022_010_000, -130_807_000, 4_205_000_000)
    assert words == "incumbent 3,927,744.141 GiB, bound 4,106,445.312 GiB"
    assert "e+" not in words and "-" not in words


def test_other_levels_are_whole_numbers_and_cp_sat_bound_counts_when_better():
    assert progress_words("untouched", 1234567, 1200000, 17) == "incumbent 1,234,567, bound 1,200,000"
    assert progress_words("racks", -40, -55, None) == "incumbent -40, bound -55"  # a level that counts negative


def test_the_line_puts_back_offset_and_scale(capsys):
    progress = _Progress("copied", True, offset=10, unit=1024, lower_bound=20 * 1024)
    progress.start -= 5  # as if the solve had run five seconds
    progress.report(90, -500)
    line = capsys.readouterr().err
    assert "solving copied: incumbent 100 GiB, bound 20 GiB" in line
