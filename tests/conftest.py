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

# `kerasfix check` and the server keep what they read of project modules in a cache folder
# (`index_store`); the suite's runs keep theirs apart from the user's, in a folder of their own
# emptied at each start, so that no run's answers come from an earlier run's store unless a
# test makes it so.
_STORE = Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests")) / "index-store"
if os.environ.get("PYTEST_XDIST_WORKER") is None and _STORE.is_dir():
    import shutil

    shutil.rmtree(_STORE, ignore_errors=True)
os.environ["KERASFIX_CACHE_DIR"] = str(_STORE)
