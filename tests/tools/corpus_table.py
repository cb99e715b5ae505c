"""The migration corpus as a table: each program of tests/examples/migration/, fixed by the
kerasfix that `python -m kerasfix.server` runs, on Keras 3.15.1 with TensorFlow, JAX and PyTorch
(and JAX and PyTorch with TensorFlow installed, for the input pipelines that keep `tf.data`),
against the Keras 2 original on tf-keras, judged as tests/keras3/test_migration_corpus.py judges
it. Not a test: it prints what happens, whatever the programs' `# corpus: ` lines expect, so
that two versions of kerasfix can be compared (put the other one first on PYTHONPATH).

    python tests/tools/corpus_table.py

Each cell: `same` (every number equal, or for a program that draws random numbers, its
deterministic numbers equal and its loss falling), `runs` (it runs, but some numbers differ:
listed below the table), or the error it stops with.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "keras3"))

import test_migration_corpus as corpus  # noqa: E402
from keras3_cases import close  # noqa: E402
from keras3_harness import RUNNER  # noqa: E402


def judge(name: str, env: str) -> tuple[str, list[str]]:
    result = corpus._fixed(name, env)
    if not result.ok:
        return f"{result.error}: {result.message.splitlines()[0][:60] if result.message else ''}", []
    want = corpus._as_keras3_logs(corpus._original(name).result)
    got = result.result
    if not isinstance(got, dict) or not isinstance(want, dict) or sorted(got) != sorted(want):
        return "runs", ["RESULT keys"]
    if corpus.EXPECTED[name]["numbers"] == "same":
        wrong = [key for key in want if not close(got[key], want[key], corpus.TOLERANCE)]
    else:
        wrong = [key for key in ("before",) if key in want and not close(got[key], want[key], corpus.TOLERANCE)]
        losses = got["history"].get(corpus.EXPECTED[name].get("loss", "loss"), [])
        if not losses or not losses[-1] < losses[0]:
            wrong.append("loss not falling")
    return ("same" if not wrong else "runs"), wrong


def main() -> int:
    rows = []
    notes = []
    for name in corpus.PROGRAMS:
        for env in ("tf-keras", *corpus.FIXED_ENVS, *corpus.DATA_ENVS):
            RUNNER.submit(env, corpus._runnable(corpus.ORIGINAL[name] if env == "tf-keras" else corpus.FIXED[name]),
                          corpus.FILES)
    for name in corpus.PROGRAMS:
        cells = []
        for env in (*corpus.FIXED_ENVS, *corpus.DATA_ENVS):
            cell, wrong = judge(name, env)
            cells.append(cell)
            if wrong:
                notes.append(f"{name} on {env}: differs in {', '.join(wrong)}")
        remaining = ", ".join(sorted(corpus.REMAINING[name])) or "-"
        rows.append(f"| {name} | {' | '.join(cells)} | {remaining} |")
    RUNNER.shutdown()
    print("| program | TensorFlow | JAX | PyTorch | JAX, TensorFlow installed | PyTorch, TensorFlow installed | still reported |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
