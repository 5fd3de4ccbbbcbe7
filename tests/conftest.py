"""Hypothesis draws the same examples every run (``derandomize``): the suite's verdict depends on
the code, not on the day's luck, so a red CI names a change. Random draws found real bugs (an
empty cluster sampled from, a 5,000-character YAML key): explore with
``HYPOTHESIS_PROFILE=explore make test`` and keep what they find as explicit tests."""
from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
