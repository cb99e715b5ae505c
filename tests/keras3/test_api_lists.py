"""The API lists the rules read (rules/data/keras3_api.txt, rules/data/tfkeras_only.txt) are what
the real packages give: tests/tools/gen_keras_api.py --check runs in the TensorFlow venv, where
Keras 3.15.1 and its `tf.keras` shim are installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from keras3_harness import ENVS, missing_venv

GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "gen_keras_api.py"


def test_api_lists_are_what_the_installed_keras_gives():
    env = ENVS["tensorflow"]
    assert missing_venv(env) is None, missing_venv(env)
    result = subprocess.run(
        [str(env.python), str(GENERATOR), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": env.backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
