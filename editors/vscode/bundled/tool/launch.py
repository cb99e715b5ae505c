"""Runs the kerasfix language server for the VS Code extension, from the kerasfix that the
`kerasfix.importStrategy` setting chooses:

    python launch.py useBundled [--probe]        the kerasfix bundled in ../libs
    python launch.py fromEnvironment [--probe]   the interpreter's own kerasfix, else ../libs

With --probe it only checks that the server can run and prints what would run as one JSON line
(exit status 0), or why it cannot (`error`, exit status 1), without starting it.

Run as a script, not with `-m`: `python -m` puts the working folder (the user's workspace) first
on the module path, and the workspace's files must never be imported.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import importlib.util
import json
import os
import platform
import runpy
import sys
import sysconfig

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")
MANIFEST = os.path.join(LIBS, "kerasfix-bundle.json")
STRATEGIES = ("useBundled", "fromEnvironment")


class CannotRun(Exception):
    pass


def this_python() -> str:
    return f"{sys.executable} (Python {platform.python_version()}, {sysconfig.get_platform()})"


def use_bundled() -> None:
    """Put the bundle first on the module path, after checking that this interpreter would load
    its compiled modules: they are built for one Python version and platform. The check asks the
    import system's own finder for each one, without importing it (LibCST takes long to import)."""
    try:
        with open(MANIFEST, encoding="utf-8") as file:
            manifest = json.load(file)
    except OSError:
        raise CannotRun(f"this build of the extension has no bundled kerasfix ({LIBS} is missing)") from None
    built_for = f"Python {manifest['python']} ({manifest['cacheTag']}, {manifest['platform']})"
    for name in manifest["compiledModules"]:
        *package, module = name.split(".")
        spec = importlib.machinery.PathFinder.find_spec(module, [os.path.join(LIBS, *package)])
        loads = isinstance(getattr(spec, "loader", None), importlib.machinery.ExtensionFileLoader)
        if not loads or manifest["platform"] != sysconfig.get_platform():
            raise CannotRun(
                f"the bundled kerasfix was built for {built_for} and cannot run in {this_python()} "
                f"(its compiled module {name} does not load there)"
            )
    sys.path.insert(0, LIBS)


def installed() -> bool:
    try:
        return importlib.util.find_spec("kerasfix.server.cli") is not None
    except ImportError:
        return False


def choose(strategy: str) -> dict[str, str]:
    """Set up the module path for `strategy`; what runs, for the output channel."""
    if sys.version_info < (3, 10):
        raise CannotRun(f"kerasfix needs Python 3.10 or newer, and {this_python()} is older")
    note = ""
    if strategy == "fromEnvironment" and installed():
        origin = "environment"
    else:
        if strategy == "fromEnvironment":
            note = f"kerasfix is not installed in the environment of {sys.executable}: using the bundled kerasfix"
        # The interpreter's half-found kerasfix must not shadow the bundle's.
        for name in [name for name in sys.modules if name.split(".")[0] == "kerasfix"]:
            del sys.modules[name]
        use_bundled()
        origin = "bundled"
    spec = importlib.util.find_spec("kerasfix")
    location = os.path.dirname(spec.origin) if spec and spec.origin else "?"
    try:
        version = importlib.metadata.version("kerasfix")
    except importlib.metadata.PackageNotFoundError:  # a source folder on the path, not installed
        version = "(unknown version)"
    return {
        "origin": origin,
        "kerasfix": version,
        "location": location,
        "python": sys.executable,
        "pythonVersion": platform.python_version(),
        "note": note,
    }


def main() -> int:
    arguments = sys.argv[1:]
    if not arguments or arguments[0] not in STRATEGIES or arguments[1:] not in ([], ["--probe"]):
        print(f"usage: launch.py {{{','.join(STRATEGIES)}}} [--probe]", file=sys.stderr)
        return 2
    try:
        chosen = choose(arguments[0])
    except CannotRun as error:
        if arguments[1:]:
            print(json.dumps({"error": str(error)}))
        else:
            print(f"kerasfix: {error}", file=sys.stderr)
        return 1
    if arguments[1:]:
        print(json.dumps(chosen))
        return 0
    # stderr reaches the extension's output channel; stdout is the protocol's.
    if chosen["note"]:
        print(chosen["note"], file=sys.stderr)
    print(
        f"kerasfix {chosen['kerasfix']} ({chosen['origin']}: {chosen['location']}) "
        f"on Python {chosen['pythonVersion']} ({chosen['python']})",
        file=sys.stderr,
    )
    sys.argv = ["kerasfix", "server"]
    try:
        runpy.run_module("kerasfix", run_name="__main__", alter_sys=True)
    except ImportError as error:
        # A compiled module that the probe found but that does not load (a C library too old):
        # one line in the output channel rather than a traceback.
        print(f"kerasfix: {chosen['origin']} kerasfix cannot run in {this_python()}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
