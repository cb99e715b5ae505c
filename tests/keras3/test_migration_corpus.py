"""The migration corpus (tests/examples/migration/): complete Keras 2 programs of the kinds people
wrote, each run as written on Keras 2 (tf-keras 2.21, TensorFlow's `tf.keras` before Keras 3),
then fixed with `kerasfix check --fix --unsafe-fixes` and run on Keras 3.15.1 with TensorFlow,
with JAX and with PyTorch (the JAX and PyTorch venvs have no TensorFlow).

Every run imports tests/keras3/same_start.py first: the same initial weights from NumPy on every
Keras, and no shuffling in `fit`, so the numbers can be compared.
- A deterministic program (`numbers = "same"`) must give the same History and
  RESULT as the Keras 2 original on every backend, within TOLERANCE.
- A program that draws random numbers while it trains (dropout, augmentation, a VAE's or a GAN's
  noise: `numbers = "random"`) draws other ones on each backend. It must give the same numbers
  where it is deterministic (its RESULT's `before` entry, computed before training), and its
  History must have the original's keys with finite values and a falling loss.
- What the fixes leave is exactly the program's `remaining` list; a program with a blocker names
  the error it still stops with on each backend (`blocked`), so an unfixable program is pinned,
  not hidden.
Each program states these in TOML on its `# corpus: ` comment lines, e.g.
    # corpus: numbers = "same"
    # corpus: remaining = ["KER540"]
    # corpus: blocked.jax = "ValueError: ..."
    # corpus: differs.tensorflow = ["evaluation"]
`differs.<env>` names the RESULT entries a deterministic program still gets wrong there (the
fixed program runs but computes something else): they must differ, the rest must be the same.
`with_tensorflow` names the envs with TensorFlow installed and another backend (`tf-jax`,
`tf-torch`) where a program that keeps TensorFlow for its input pipeline must run and give the
same numbers.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from keras3_cases import close
from keras3_harness import RUNNER, Result

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[0] / "examples" / "migration"
PROGRAMS = sorted(path.stem for path in CORPUS.glob("*.py"))
FILES = {"same_start.py": (HERE / "same_start.py").read_text(encoding="utf-8")}
FIXED_ENVS = ("tensorflow", "jax", "torch")
# A program that keeps TensorFlow for its input pipeline (`tf.data`, KER540) cannot run where
# TensorFlow is not installed; `with_tensorflow` names the envs (TensorFlow installed, another
# backend) where it must compute the same as elsewhere.
DATA_ENVS = ("tf-jax", "tf-torch")
# History keys Keras 3 spells otherwise, with the same numbers: the learning-rate callbacks log
# `learning_rate` where Keras 2 logged `lr` (KER515 reports code that reads the old key).
KERAS3_LOG_KEYS = {"lr": "learning_rate"}
# float32 sums in another order on each backend and Keras; over a few epochs of training the
# differences stay below this (relative, or absolute near zero).
TOLERANCE = 1e-3


def _runnable(source: str) -> str:
    return "import same_start  # noqa: F401\n" + source


def _fix_corpus() -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """Each program after `kerasfix check --fix --unsafe-fixes`, after a second such run, and the
    codes `kerasfix check` still reports on it. Each program is a project of its own (a folder with a `pyproject.toml`),
    as it would be on its author's machine: what another program of the corpus does (saving a
    model, say) must not change its findings."""
    work = Path(tempfile.mkdtemp(prefix="kerasfix-corpus-"))
    try:
        for name in PROGRAMS:
            (work / name).mkdir()
            (work / name / "pyproject.toml").write_text("", encoding="utf-8")
            shutil.copy(CORPUS / f"{name}.py", work / name / f"{name}.py")
        command = [sys.executable, "-m", "kerasfix.server", "check", "--quiet"]
        texts = []
        for _ in range(2):
            done = subprocess.run([*command, "--fix", "--unsafe-fixes", "."], cwd=work, capture_output=True,
                                  text=True, timeout=300)
            # 0: nothing remains; 1: findings remain (each program names them); 2 would be an error.
            if done.returncode not in (0, 1):
                raise RuntimeError(f"kerasfix check --fix failed: {done.stdout}{done.stderr}")
            texts.append({name: (work / name / f"{name}.py").read_text(encoding="utf-8") for name in PROGRAMS})
        report = subprocess.run([*command, "--output-format", "json", "--exit-zero", "."], cwd=work,
                                capture_output=True, text=True, timeout=300, check=True)
        remaining: dict[str, list[str]] = {name: [] for name in PROGRAMS}
        for finding in json.loads(report.stdout):
            remaining[Path(finding["filename"]).stem].append(finding["code"])
        return texts[0], texts[1], remaining
    finally:
        shutil.rmtree(work, ignore_errors=True)


ORIGINAL = {name: (CORPUS / f"{name}.py").read_text(encoding="utf-8") for name in PROGRAMS}


def _expected(source: str) -> dict:
    marker = "# corpus: "
    return tomllib.loads("\n".join(line[len(marker):] for line in source.splitlines() if line.startswith(marker)))


EXPECTED = {name: _expected(source) for name, source in ORIGINAL.items()}
FIXED, FIXED_TWICE, REMAINING = _fix_corpus()


def _marks(name: str, envs: tuple[str, ...]) -> list:
    runs = [("tf-keras", _runnable(ORIGINAL[name]), FILES)]
    runs += [(env, _runnable(FIXED[name]), FILES) for env in envs]
    return [pytest.mark.keras3(runs=runs, rule="corpus", env=envs[0] if envs else "tf-keras", phase="fixed")]


def _original(name: str) -> Result:
    result = RUNNER.run("tf-keras", _runnable(ORIGINAL[name]), FILES)
    assert result.ok, f"the Keras 2 original does not run: {result.describe()}"
    return result


def _as_keras3_logs(result: object) -> object:
    """The Keras 2 RESULT with its History keys spelt as Keras 3 logs them."""
    if isinstance(result, dict) and isinstance(result.get("history"), dict):
        history = {KERAS3_LOG_KEYS.get(key, key): value for key, value in result["history"].items()}
        return {**result, "history": history}
    return result


def _fixed(name: str, env: str) -> Result:
    return RUNNER.run(env, _runnable(FIXED[name]), FILES)


def test_corpus_is_described():
    assert len(PROGRAMS) >= 12
    for name in PROGRAMS:
        assert EXPECTED[name]["numbers"] in ("same", "random"), name
        assert set(EXPECTED[name].get("blocked", {})) <= set(FIXED_ENVS), name
        assert set(EXPECTED[name].get("differs", {})) <= set(FIXED_ENVS), name
        assert set(EXPECTED[name].get("with_tensorflow", ())) <= set(DATA_ENVS), name


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n, ())) for n in PROGRAMS])
def test_original_runs_on_keras2(name: str):
    result = _original(name)
    history = result.result["history"]  # type: ignore[index]
    losses = history[EXPECTED[name].get("loss", "loss")]
    assert losses and all(math.isfinite(v) for v in losses), history


@pytest.mark.parametrize("name", PROGRAMS)
def test_what_the_fixes_leave(name: str):
    """The fixed program parses, is a fixed point of the fixes, and still reports exactly the
    problems no fix could mend (each a blocker the program names)."""
    fixed = FIXED[name]
    assert fixed != ORIGINAL[name]
    compile(fixed, name, "exec")
    assert FIXED_TWICE[name] == fixed
    assert sorted(REMAINING[name]) == sorted(EXPECTED[name].get("remaining", [])), fixed


@pytest.mark.parametrize(
    ("name", "env"),
    [
        pytest.param(n, env, marks=_marks(n, (env,)), id=f"{n}-{env}")
        for n in PROGRAMS
        for env in (*FIXED_ENVS, *EXPECTED[n].get("with_tensorflow", ()))
    ],
)
def test_fixed_program_computes_the_same(name: str, env: str):
    result = _fixed(name, env)
    blocked = EXPECTED[name].get("blocked", {}).get(env)
    if blocked is not None:
        assert not result.ok and blocked in f"{result.error}: {result.message}", result.describe()
        return
    assert result.ok, f"{FIXED[name]}\n{result.describe()}"
    got, want = result.result, _as_keras3_logs(_original(name).result)
    assert isinstance(got, dict) and isinstance(want, dict)
    assert sorted(got) == sorted(want)
    if EXPECTED[name]["numbers"] == "same":
        differs = EXPECTED[name].get("differs", {}).get(env, [])
        for key in differs:
            assert not close(got[key], want[key], TOLERANCE), f"{env}: {key} is now right: {got[key]}"
        same = [key for key in want if key not in differs]
        assert close({k: got[k] for k in same}, {k: want[k] for k in same}, TOLERANCE), f"{env}: {got}\nKeras 2: {want}"
        return
    if "before" in want:
        assert close(got["before"], want["before"], TOLERANCE), f"{env}: {got['before']}\nKeras 2: {want['before']}"
    history, original = got["history"], want["history"]
    assert sorted(history) == sorted(original)
    assert all(math.isfinite(v) for values in history.values() for v in values), history
    losses = history[EXPECTED[name].get("loss", "loss")]
    assert losses[-1] < losses[0], history
