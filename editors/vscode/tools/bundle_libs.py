"""Builds bundled/libs: kerasfix from this checkout and its runtime dependencies, installed with
pip the way Python tool extensions (black-formatter, ruff-vscode) bundle theirs, so that the
extension runs kerasfix with any Python of the same version and platform, with nothing installed.

LibCST (and PyYAML, watchfiles) carry compiled modules: the bundle is for the Python that runs
this script. bundled/libs/kerasfix-bundle.json records which Python that is and which modules are
compiled, for the launcher (bundled/tool/launch.py) to tell a mismatch from a broken install.

A bundle built from the same sources by the same Python is kept (`--force` rebuilds it): the
manifest records a fingerprint of the package's sources.

    python3 tools/bundle_libs.py [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import json
import platform
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

EXTENSION = Path(__file__).resolve().parents[1]
CHECKOUT = EXTENSION.parents[1]
LIBS = EXTENSION / "bundled" / "libs"
MANIFEST_NAME = "kerasfix-bundle.json"
# What pip packages from the checkout (pyproject.toml's package-dir).
SOURCES = ["pyproject.toml", "kerasfix", "rules", "server"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{sys.version}|{sysconfig.get_platform()}|{sys.implementation.cache_tag}".encode())
    for name in SOURCES:
        root = CHECKOUT / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(str(file.relative_to(CHECKOUT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def compiled_modules(libs: Path) -> list[str]:
    """The dotted names of the compiled modules in `libs` (`libcst.native`, ...)."""
    names = []
    for file in libs.rglob("*"):
        suffix = next((s for s in importlib.machinery.EXTENSION_SUFFIXES if file.name.endswith(s)), None)
        if suffix and file.is_file():
            parts = file.relative_to(libs).parts
            names.append(".".join([*parts[:-1], file.name[: -len(suffix)]]))
    return sorted(names)


def build(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    # --no-compile: the .pyc files would be for this Python only and would bloat the package.
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--target", str(target), str(CHECKOUT)]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, timeout=900)
    # Console scripts would name this machine's interpreter; the extension runs modules.
    shutil.rmtree(target / "bin", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if the bundle is up to date")
    args = parser.parse_args()
    if sys.version_info < (3, 10):
        parser.error(f"kerasfix needs Python 3.10 or newer to build its bundle (this is {platform.python_version()})")
    wanted = fingerprint()
    manifest_file = LIBS / MANIFEST_NAME
    if not args.force and manifest_file.is_file():
        if json.loads(manifest_file.read_text(encoding="utf-8")).get("fingerprint") == wanted:
            print(f"bundled/libs is up to date ({platform.python_version()}, {sysconfig.get_platform()})")
            return 0
    # Built aside and then moved in, so that a failed build leaves no half bundle.
    staging = LIBS.with_name("libs.partial")
    build(staging)
    manifest = {
        "fingerprint": wanted,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "cacheTag": sys.implementation.cache_tag,
        "platform": sysconfig.get_platform(),
        "compiledModules": compiled_modules(staging),
    }
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(LIBS, ignore_errors=True)
    staging.rename(LIBS)
    print(f"bundled/libs built for {sys.implementation.cache_tag} on {sysconfig.get_platform()}: "
          f"{', '.join(manifest['compiledModules'])} compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
