"""Recall and precision of kerasfix on real code.

    python tests/corpus_metrics.py              # print the figures, the misses and the findings
    python tests/corpus_metrics.py --record     # also add unjudged lines and findings to the
                                                # judgements file (verdict "?", to be read)
    python tests/corpus_metrics.py --all        # also list every finding on Keras 3 code

Recall, on the before/after pairs (tests/corpora.py, PAIRS): the "before" and "after" files are
matched by their path under the package (keras-tuner 1.4.0 moved its code into
`keras_tuner/src/`: that prefix is removed; a file the "before" has and the "after" lacks counts
as removed whole, except tests and conftest.py, which the later sdist simply does not ship).
difflib gives the "before" lines that were changed or removed; of those, the ones that hold code
(tokenize: comment-only lines and docstrings dropped), except lines whose text the "after"
inserts elsewhere (a line that only moved), are the candidates. Which candidates hold a
Keras-2-only construct is a judgement, kept in tests/corpus_judgements.toml (`keras2` or
`unrelated`, with a reason). Recall = keras2 lines that kerasfix reports (a finding of any code
whose range covers the line) / keras2 lines.

Precision, on Keras 3 code (tests/corpora.py, CLEAN): findings per 1,000 physical lines of `.py`,
with a per-rule breakdown, and a sample of findings (fixed seed, stratified by rule family)
judged TRUE / FALSE / DEBATABLE in the same judgements file.

tests/projects/chain3 is a hand-made project (a layer chain three classes deep across three
modules); its expected lines are marked `# expect` (or `# expect-known-miss`) in the source.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import io
import json
import re
import subprocess
import sys
import tokenize
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpora import CLEAN, PAIRS, fetch  # noqa: E402

JUDGEMENTS = Path(__file__).parent / "corpus_judgements.toml"
PROJECTS = Path(__file__).parent / "projects"
SEED = 20260
SAMPLE_PER_FAMILY = 6


# ---------------------------------------------------------------------------------------------
# Running kerasfix

def check(path: Path) -> list[dict]:
    """kerasfix's findings for a file or folder (the CLI, once)."""
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", str(path), "--output-format", "json",
         "--exit-zero", "--quiet"],
        capture_output=True, text=True, timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kerasfix check {path} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def reported_lines(findings: list[dict], root: Path) -> dict[str, set[int]]:
    """Relative path -> the lines some finding covers (from its first to its last row)."""
    lines: dict[str, set[int]] = defaultdict(set)
    for item in findings:
        rel = Path(item["filename"]).resolve().relative_to(root.resolve()).as_posix()
        start, end = item["location"]["row"], item["end_location"]["row"]
        lines[rel].update(range(start, end + 1))
    return lines


# ---------------------------------------------------------------------------------------------
# Lines of code

def code_lines(text: str) -> set[int]:
    """Line numbers holding code: not blank, not comment-only, not part of a docstring."""
    docstrings: set[int] = set()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if not isinstance(body, list):
                continue
            for stmt in body:
                # Any bare string statement is documentation (module, class, function docstrings
                # and attribute docstrings alike).
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) \
                        and isinstance(stmt.value.value, str):
                    docstrings.update(range(stmt.lineno, stmt.end_lineno + 1))
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type not in skip:
                lines.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return {i for i, line in enumerate(text.splitlines(), 1)
                if line.strip() and not line.strip().startswith("#")} - docstrings
    return lines - docstrings


def physical_lines(folder: Path) -> int:
    return sum(len(p.read_text(encoding="utf-8", errors="replace").splitlines())
               for p in folder.rglob("*.py"))


# ---------------------------------------------------------------------------------------------
# Recall on a before/after pair

@dataclass(frozen=True)
class Candidate:
    pair: str
    file: str      # path under the "before" package
    line: int
    text: str      # the line, stripped

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.pair, self.file, self.text)


def _is_shipped_test(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith("_test.py") or name.startswith("test_") or name == "conftest.py"


def match_files(before: Path, after: Path) -> dict[str, Path | None]:
    """Before-relative path -> the matching "after" file (None: removed in the migration)."""
    after_files: dict[str, Path] = {}
    for path in sorted(after.rglob("*.py")):
        rel = path.relative_to(after).as_posix()
        if rel.startswith("src/"):
            after_files[rel[len("src/"):]] = path        # the moved code wins over API shims
        else:
            after_files.setdefault(rel, path)
    matched: dict[str, Path | None] = {}
    for path in sorted(before.rglob("*.py")):
        rel = path.relative_to(before).as_posix()
        if rel in after_files:
            matched[rel] = after_files[rel]
        elif not _is_shipped_test(rel):
            matched[rel] = None
    return matched


def changed_code_lines(before_text: str, after_text: str | None) -> list[tuple[int, str]]:
    """(line number, stripped text) of "before" code lines changed or removed in "after"."""
    old = before_text.splitlines()
    code = code_lines(before_text)
    if after_text is None:
        return [(i, old[i - 1].strip()) for i in sorted(code)]
    new = [x.strip() for x in after_text.splitlines()]
    matcher = difflib.SequenceMatcher(None, [x.strip() for x in old], new, autojunk=False)
    opcodes = matcher.get_opcodes()
    # A removed line whose text the "after" inserts elsewhere only moved.
    inserted = {new[j] for tag, _i1, _i2, j1, j2 in opcodes if tag in ("replace", "insert")
                for j in range(j1, j2)}
    out = []
    for tag, i1, i2, _j1, _j2 in opcodes:
        if tag not in ("replace", "delete"):
            continue
        for i in range(i1, i2):
            text = old[i].strip()
            if i + 1 in code and text not in inserted:
                out.append((i + 1, text))
    return out


def pair_candidates(name: str, before: Path, after: Path) -> list[Candidate]:
    out = []
    for rel, after_path in match_files(before, after).items():
        before_text = (before / rel).read_text(encoding="utf-8")
        after_text = after_path.read_text(encoding="utf-8") if after_path else None
        out += [Candidate(name, rel, n, t) for n, t in changed_code_lines(before_text, after_text)]
    return out


# ---------------------------------------------------------------------------------------------
# Judgements

def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def load_judgements() -> dict:
    if not JUDGEMENTS.exists():
        return {"recall": [], "precision": []}
    data = tomllib.loads(JUDGEMENTS.read_text(encoding="utf-8"))
    data.setdefault("recall", [])
    data.setdefault("precision", [])
    return data


def save_judgements(data: dict) -> None:
    out = [
        "# Judgements for tests/corpus_metrics.py, read by hand in context.",
        "# [[recall]]: a changed \"before\" line of a pair: keras2 (holds a Keras-2-only construct) or",
        "#   unrelated (a move, a refactor, packaging, a Keras-3-neutral change).",
        "# [[precision]]: a sampled finding on Keras 3 code: TRUE (the code breaks or is not",
        "#   multi-backend where it claims to be), FALSE, DEBATABLE. \"?\" = not read yet.",
        "",
    ]
    for item in sorted(data["recall"], key=lambda d: (d["pair"], d["file"], d["line"])):
        out += ["[[recall]]"] + [f"{k} = {_toml_str(item[k])}" for k in
                                 ("pair", "file", "line", "verdict", "reason")] + [""]
    for item in sorted(data["precision"], key=lambda d: (d["corpus"], d["code"], d["file"], d["line"])):
        out += ["[[precision]]"] + [f"{k} = {_toml_str(item[k])}" for k in
                                    ("corpus", "code", "file", "line", "verdict", "reason")] + [""]
    JUDGEMENTS.write_text("\n".join(out), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Measuring

@dataclass
class PairResult:
    name: str
    keras2: list[Candidate] = field(default_factory=list)
    hits: list[Candidate] = field(default_factory=list)
    misses: list[Candidate] = field(default_factory=list)
    unjudged: list[Candidate] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return len(self.hits) / len(self.keras2) if self.keras2 else 1.0


@dataclass
class CleanResult:
    name: str
    lines: int
    findings: list[dict]
    root: Path

    @property
    def per_kloc(self) -> float:
        return 1000 * len(self.findings) / self.lines

    def keras2_split(self) -> tuple[int, int, int, int]:
        """(files, findings) in modules that import Keras through TensorFlow at their top level
        (Keras 2 code kept in a Keras 3 library, e.g. keras-cv's tf.keras-only layers), and
        (lines, findings) in the others."""
        keras2 = {p.resolve() for p in self.root.rglob("*.py") if imports_tf_keras(p)}
        inside = sum(1 for f in self.findings if Path(f["filename"]).resolve() in keras2)
        other_lines = self.lines - sum(len(p.read_text(encoding="utf-8").splitlines()) for p in keras2)
        return len(keras2), inside, other_lines, len(self.findings) - inside


def imports_tf_keras(path: Path) -> bool:
    """A top-level, unconditional `from tensorflow import keras` / `from tensorflow.keras...
    import` / `import tensorflow.keras`."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return False
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module:
            if stmt.module.startswith("tensorflow.keras") or (
                stmt.module == "tensorflow" and any(a.name == "keras" for a in stmt.names)
            ):
                return True
        elif isinstance(stmt, ast.Import) and any(a.name.startswith("tensorflow.keras") for a in stmt.names):
            return True
    return False


def measure_pair(before_name: str, after_name: str, judgements: dict,
                 after_findings: list[dict] | None = None) -> PairResult:
    before, after = fetch(before_name), fetch(after_name)
    verdicts = {(j["pair"], j["file"], j["line"]): j["verdict"] for j in judgements["recall"]}
    lines = reported_lines(check(before), before)
    result = PairResult(before_name)
    for cand in pair_candidates(before_name, before, after):
        verdict = verdicts.get(cand.key)
        if verdict is None or verdict == "?":
            result.unjudged.append(cand)
        elif verdict == "keras2":
            result.keras2.append(cand)
            (result.hits if cand.line in lines.get(cand.file, ()) else result.misses).append(cand)
    return result


def measure_clean(name: str) -> CleanResult:
    folder = fetch(name)
    return CleanResult(name, physical_lines(folder), check(folder), folder)


EXPECT = re.compile(r"# expect(?:$|-known-miss\b)")


def expected_lines(project: Path) -> dict[str, set[int]]:
    """Relative path -> lines marked `# expect` (pinned by a test) or `# expect-known-miss`."""
    out: dict[str, set[int]] = defaultdict(set)
    for path in sorted(project.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if EXPECT.search(line.rstrip()):
                out[path.relative_to(project).as_posix()].add(n)
    return out


def measure_project(project: Path) -> tuple[int, int, list[tuple[str, int]]]:
    """(expected, reported, misses) for a hand-made project checked as a folder."""
    expected = expected_lines(project)
    lines = reported_lines(check(project), project)
    misses = [(f, n) for f, ns in expected.items() for n in sorted(ns) if n not in lines.get(f, ())]
    total = sum(len(ns) for ns in expected.values())
    return total, total - len(misses), misses


def line_text(root: Path, item: dict) -> tuple[str, str]:
    path = Path(item["filename"])
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    return rel, lines[item["location"]["row"] - 1].strip()


def stable_sample(items: list, key, per_family: int, seed: str) -> list:
    """The `per_family` items of each rule family (the first four characters of the code, the
    key's second part) whose keys hash smallest with `seed`, one per key. A finding added or
    removed elsewhere does not reshuffle the rest, so what was judged stays in the sample."""
    families: dict[str, dict[tuple, object]] = defaultdict(dict)
    for item in items:
        families[key(item)[1][:4]].setdefault(key(item), item)
    chosen = []
    for family in sorted(families):
        ranked = sorted(families[family].items(),
                        key=lambda pair: hashlib.sha256(json.dumps([seed, *pair[0]]).encode()).hexdigest())
        chosen += [item for _key, item in ranked[:per_family]]
    return chosen


def sample(result: CleanResult) -> list[dict]:
    """Up to SAMPLE_PER_FAMILY findings per rule family (`stable_sample`), as judgement keys."""
    keyed = []
    for item in result.findings:
        rel, text = line_text(result.root, item)
        keyed.append({"corpus": result.name, "code": item["code"], "file": rel, "line": text,
                      "row": item["location"]["row"]})
    return stable_sample(keyed, lambda d: (d["corpus"], d["code"], d["file"], d["line"]),
                         SAMPLE_PER_FAMILY, f"{SEED}-{result.name}")


def main(argv: list[str]) -> int:
    record = "--record" in argv
    judgements = load_judgements()

    print("== Recall on before/after pairs (keras2 lines reported / keras2 lines)")
    for before_name, _after_name in PAIRS:
        res = measure_pair(before_name, _after_name, judgements)
        print(f"{before_name}: {len(res.hits)}/{len(res.keras2)} = {res.recall:.1%}"
              f"  ({len(res.unjudged)} unjudged)")
        for c in res.misses:
            print(f"  MISS {c.file}:{c.line}: {c.text}")
        if record:
            for c in res.unjudged:
                judgements["recall"].append({"pair": c.pair, "file": c.file, "line": c.text,
                                             "verdict": "?", "reason": ""})
        else:
            for c in res.unjudged:
                print(f"  UNJUDGED {c.file}:{c.line}: {c.text}")

    for project in sorted(p for p in PROJECTS.iterdir() if p.is_dir()) if PROJECTS.is_dir() else ():
        total, hit, misses = measure_project(project)
        print(f"project {project.name}: {hit}/{total} = {hit / total if total else 1:.1%}")
        for f, n in misses:
            print(f"  MISS {f}:{n}")

    print("\n== Findings on Keras 3 code (per 1,000 physical lines of .py)")
    known = {(j["corpus"], j["code"], j["file"], j["line"]): j for j in judgements["precision"]}
    verdict_counts: Counter = Counter()
    for name in CLEAN:
        res = measure_clean(name)
        counts = Counter(i["code"] for i in res.findings)
        print(f"{name}: {len(res.findings)} findings / {res.lines} lines = {res.per_kloc:.2f} per kLOC")
        files, inside, other_lines, other = res.keras2_split()
        if files:
            print(f"  of which {inside} in {files} modules taking Keras from TensorFlow (checked for TensorFlow only);"
                  f" elsewhere {other} / {other_lines} lines = {1000 * other / other_lines:.2f} per kLOC")
        for code, n in sorted(counts.items()):
            print(f"  {code} {n}")
        if "--all" in argv:
            keras2 = {p.resolve() for p in res.root.rglob("*.py") if imports_tf_keras(p)}
            for item in sorted(res.findings, key=lambda i: (i["code"], i["filename"], i["location"]["row"])):
                rel, text = line_text(res.root, item)
                where = "keras2-module" if Path(item["filename"]).resolve() in keras2 else "keras3-module"
                print(f"    {item['code']} {where} {rel}:{item['location']['row']}: {text[:100]}")
        for item in sample(res):
            key = (item["corpus"], item["code"], item["file"], item["line"])
            j = known.get(key)
            if j is None and record:
                j = {"corpus": item["corpus"], "code": item["code"], "file": item["file"],
                     "line": item["line"], "verdict": "?", "reason": ""}
                judgements["precision"].append(j)
                known[key] = j
            verdict = j["verdict"] if j else "?"
            verdict_counts[verdict] += 1
            print(f"    sample {verdict:9} {item['code']} {item['file']}:{item['row']}: {item['line']}")
    print("sampled verdicts:", dict(sorted(verdict_counts.items())))
    if record:
        save_judgements(judgements)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
