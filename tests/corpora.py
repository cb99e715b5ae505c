"""Real Keras 2 projects from PyPI, downloaded once into the test cache.

    python tests/corpora.py            # download (if needed) and print per-rule findings

The corpora are the ones named in the project's knowledge base: the Keras 2 source itself, the
largest tf.keras application code, a GNN library, two before/after pairs of projects that
their maintainers migrated to Keras 3 by hand, and two libraries written for Keras 3 (keras-cv,
keras-nlp). tests/corpus_metrics.py measures recall and precision on them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

CACHE = Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests")) / "corpora"

# name, version, wheel?, the package folder inside the archive
CORPORA = {
    "tf-keras": ("tf-keras", "2.15.0", False, "tf_keras-2.15.0/tf_keras"),
    "tf-models-official": ("tf-models-official", "2.15.0", True, "official"),
    "spektral": ("spektral", "1.3.1", False, "spektral-1.3.1/spektral"),
    "scikeras-0.12": ("scikeras", "0.12.0", False, "scikeras-0.12.0/scikeras"),
    "scikeras-0.13": ("scikeras", "0.13.0", False, "scikeras-0.13.0/scikeras"),
    "keras-tuner-1.3": ("keras-tuner", "1.3.5", False, "keras-tuner-1.3.5/keras_tuner"),
    "keras-tuner-1.4": ("keras-tuner", "1.4.0", False, "keras-tuner-1.4.0/keras_tuner"),
    "keras-cv": ("keras-cv", "0.8.2", False, "keras-cv-0.8.2/keras_cv"),
    "keras-nlp": ("keras-nlp", "0.8.2", False, "keras-nlp-0.8.2/keras_nlp"),
}
# The versions whose maintainers finished a hand migration to Keras 3.
MIGRATED = ("scikeras-0.13", "keras-tuner-1.4")
# Keras 3 code: the migrated versions and two libraries written for Keras 3 (they still use
# tf.data in preprocessing on purpose). Findings there are mostly false.
CLEAN = (*MIGRATED, "keras-cv", "keras-nlp")
# Before/after pairs: the Keras 2 version and its hand migration.
PAIRS = (("scikeras-0.12", "scikeras-0.13"), ("keras-tuner-1.3", "keras-tuner-1.4"))


def fetch(name: str) -> Path:
    """The corpus's package folder, downloading and unpacking it the first time."""
    package, version, wheel, inner = CORPORA[name]
    target = CACHE / name
    folder = target / inner
    if folder.is_dir():
        return folder
    target.mkdir(parents=True, exist_ok=True)
    kind = ["--only-binary", ":all:"] if wheel else ["--no-binary", ":all:"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind,
         f"{package}=={version}", "-d", str(target)],
        check=True,
    )
    for archive in target.iterdir():
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(target)
        elif archive.name.endswith(".tar.gz"):
            with tarfile.open(archive) as tf:
                tf.extractall(target, filter="data")
    if not folder.is_dir():
        raise RuntimeError(f"{name}: {folder} not found after unpacking")
    return folder


def main() -> None:
    import json
    from collections import Counter

    for name in CORPORA:
        folder = fetch(name)
        result = subprocess.run(
            [sys.executable, "-m", "kerasfix.server", "check", str(folder), "--output-format", "json",
             "--exit-zero", "--quiet"],
            capture_output=True, text=True, check=True,
        )
        counts = Counter(item["code"] for item in json.loads(result.stdout))
        files = sum(1 for _ in folder.rglob("*.py"))
        print(f"{name}: {files} files, {sum(counts.values())} findings")
        for code, count in sorted(counts.items()):
            print(f"  {code} {count}")


if __name__ == "__main__":
    main()
