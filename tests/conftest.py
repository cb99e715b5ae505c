"""Settings for the whole suite."""

import os
from pathlib import Path

from hypothesis import configuration

# Hypothesis keeps files (the constants it collects from the code under test) in a folder of
# the current directory by default; keep them with the suite's other caches, out of the
# source tree.
configuration.set_hypothesis_home_dir(
    Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests")) / "hypothesis"
)
