"""Break the product on purpose and check that the test suite notices.

Each mutant replaces one snippet of the product by a broken one (fixes that do nothing, whole-file
rules dropped from incremental lints, a BOM lost on writing...) in a copy of the committed tree
(`git archive HEAD`), then runs the tests that should catch it there. A mutant the tests let
through is a hole in the suite:

    python3 tests/tools/mutants.py            # every mutant; exit 1 if one survives
    python3 tests/tools/mutants.py --list
    python3 tests/tools/mutants.py fix-does-nothing bom-dropped

The copy imports its own `kerasfix` (its root first on `PYTHONPATH`, its `kerasfix/` package
linked to its `rules/` and `server/`), so the installed package and the working tree are left
alone; subprocesses the tests start (the language server, the CLI) inherit it. `tests/test_mutants.py` checks that
each snippet is still in the product, so this list cannot silently go stale.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # in the repository
    original: str  # found exactly once in `path`
    broken: str
    tests: tuple[str, ...]  # pytest arguments run in the copy
    why: str


MUTANTS = (
    Mutant(
        "fix-does-nothing",
        "rules/engine/lint.py",
        "    if not edits:\n        return source\n",
        "    if True:\n        return source\n",
        ("tests/test_rule_examples.py", "tests/test_cli.py"),
        "applying fixes returns the text unchanged",
    ),
    Mutant(
        "incremental-drops-whole-file-rules",
        "rules/engine/incremental.py",
        "                walk(module, ctx, dispatch_table(self.rules))\n",
        "                walk(module, ctx, dispatch_table(tuple(r for r in self.rules if not r.whole_file)))\n",
        ("tests/test_incremental.py", "tests/test_incremental_rules.py"),
        "the server's lints never run the rules whose findings span statements",
    ),
    Mutant(
        "incremental-findings-not-moved",
        "rules/engine/incremental.py",
        "                    findings.append(_moved(f, delta, lines, end))\n",
        "                    findings.append(f)\n",
        ("tests/test_incremental.py", "tests/test_incremental_rules.py"),
        "findings after an edited statement keep their old positions",
    ),
    Mutant(
        "bom-dropped",
        "server/files.py",
        "        return text.encode(encoding)\n",
        "        return text.lstrip('\\ufeff').encode(encoding)\n",
        ("tests/test_robustness.py",),
        "a fixed file loses its byte-order mark",
    ),
    Mutant(
        "per-file-ignores-ignored",
        "rules/engine/settings.py",
        "        if not path or not self.per_file_ignores:\n",
        "        if True:\n",
        ("tests/test_settings_documented.py", "tests/test_settings_scale.py"),
        "`per-file-ignores` has no effect",
    ),
    Mutant(
        "extend-select-ignored",
        "rules/engine/settings.py",
        "        selected = _longest_match(code, self.select + self.extend_select)\n",
        "        selected = _longest_match(code, self.select)\n",
        ("tests/test_settings_documented.py",),
        "`extend-select` has no effect",
    ),
    Mutant(
        "shortest-severity-prefix-wins",
        "rules/engine/settings.py",
        "            if code.startswith(prefix) and len(prefix) > best:\n",
        "            if code.startswith(prefix) and best < 0:\n",
        ("tests/test_settings_documented.py", "tests/lsp/test_settings.py"),
        "the first `severity` prefix that matches wins, not the longest",
    ),
    Mutant(
        "utf16-counted-as-code-points",
        "server/lsp_text.py",
        "    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)\n",
        "    return len(text)\n",
        ("tests/lsp/test_bad_input.py", "tests/lsp/test_diagnostics.py"),
        "an emoji counts as one UTF-16 unit in the positions sent to the editor",
    ),
    Mutant(
        "hover-without-counterpart",
        "server/lsp_hover.py",
        "                    sections.insert(0, rendered)\n",
        "                    pass\n",
        ("tests/lsp/test_hover.py",),
        "hover no longer shows the Keras 3 counterpart of a name",
    ),
)


def check_snippets() -> list[str]:
    """The mutants whose original snippet is not exactly once in its file."""
    stale = []
    for mutant in MUTANTS:
        text = (ROOT / mutant.path).read_text(encoding="utf-8")
        if text.count(mutant.original) != 1:
            stale.append(f"{mutant.name}: {mutant.path} holds the snippet {text.count(mutant.original)} times")
    return stale


def _export(into: Path) -> None:
    """The committed tree, as CI checks it out."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def _package_folder(tree: Path) -> Path:
    """A folder that, first on PYTHONPATH, makes `kerasfix` the copy's own: the copy's
    `kerasfix/` package, given its two sub-packages (top-level folders of the tree) as links.
    The links go in the package itself, because Python finds it there first whenever the
    working directory is the copy's root."""
    (tree / "kerasfix" / "rules").symlink_to(tree / "rules")
    (tree / "kerasfix" / "server").symlink_to(tree / "server")
    return tree


def run(mutant: Mutant) -> tuple[bool, str]:
    """Whether the tests failed (the mutant was caught), and pytest's summary line."""
    with tempfile.TemporaryDirectory(prefix=f"kerasfix-mutant-{mutant.name}-") as scratch:
        tree = Path(scratch)
        _export(tree)
        target = tree / mutant.path
        text = target.read_text(encoding="utf-8")
        if text.count(mutant.original) != 1:
            return False, f"snippet not found once in {mutant.path}"
        target.write_text(text.replace(mutant.original, mutant.broken), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(_package_folder(tree)), os.environ.get("PYTHONPATH", "")]))
        env.setdefault("KERASFIX_TEST_CACHE", str(Path.home() / ".cache" / "kerasfix-tests"))
        check = subprocess.run(
            [sys.executable, "-c", "import kerasfix.rules, sys; print(kerasfix.rules.__file__)"],
            cwd=tree, env=env, capture_output=True, text=True,
        )
        if not check.stdout.startswith(str(tree)):
            return False, f"the copy did not import its own kerasfix: {check.stdout or check.stderr}"
        tests = [t for t in mutant.tests if (tree / t.split("::")[0]).exists()]
        if not tests:
            return False, f"none of its tests is in the tree: {', '.join(mutant.tests)}"
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
            cwd=tree, env=env, capture_output=True, text=True,
        )
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        failed = [line for line in lines if line.startswith("FAILED")]
        summary = failed[0] if failed else (lines[-1] if lines else result.stderr.strip()[-300:])
        # Exit code 1: tests ran and some failed. Anything else (a collection error, no tests)
        # does not count as the suite catching the mutant.
        return result.returncode == 1, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    if args.list:
        for mutant in MUTANTS:
            print(f"{mutant.name:38} {mutant.why}")
        return 0
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        parser.error(f"no such mutant: {', '.join(sorted(unknown))}")
    survivors = 0
    for mutant in chosen:
        started = time.monotonic()
        caught, summary = run(mutant)
        survivors += not caught
        verdict = "caught" if caught else "SURVIVED"
        print(f"{mutant.name:38} {verdict:8} {time.monotonic() - started:6.1f}s  {summary}", flush=True)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
