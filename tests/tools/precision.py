"""Precision of kerasfix on Keras 2 code, judged by hand on a seeded sample of its findings.

    python tests/tools/precision.py sample [CORPUS ...] [--per-family N]
        print the sampled findings with their context, and add the ones not judged yet to the
        judgements file (verdict "?")
    python tests/tools/precision.py report [CORPUS ...]
        precision per rule family over the judged sample: TRUE / (TRUE + FALSE), DEBATABLE apart

The corpora are the Keras 2 code of tests/corpora.py (spektral, tf-models-official and the
Keras 2 side of each before/after pair) and the hand-written Keras 2 programs of
tests/programs/keras2 (each run through `kerasfix check`). A finding is TRUE when the code it
points at fails or misbehaves on Keras 3 as its message says (on the backends it names), FALSE
when it does not, DEBATABLE when both readings hold; the reason says why, in a line.

The sample is stable: each finding's key (corpus, code, file, the line's text) is hashed with
the seed, and the N smallest hashes of each rule family (KER1, KER2, ...) are taken, so a change
elsewhere in the findings does not reshuffle what was already judged. Judgements live in
tests/precision_judgements.toml, keyed the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))
from corpora import PAIRS, fetch  # noqa: E402
from corpus_metrics import check, stable_sample  # noqa: E402

JUDGEMENTS = TESTS / "precision_judgements.toml"
PROGRAMS = TESTS / "programs" / "keras2"
SEED = "kerasfix-precision-1"
KERAS2 = ("spektral", "tf-models-official", *(before for before, _after in PAIRS), "programs")
CONTEXT = 3
# Findings sampled per rule family and corpus.
PER_FAMILY = 6
VERDICTS = ("TRUE", "FALSE", "DEBATABLE", "?")


@dataclass(frozen=True)
class Sampled:
    corpus: str
    code: str
    file: str  # relative to the corpus root
    row: int
    line: str  # the reported line's text, stripped: the judgement key with the others
    message: str
    context: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.corpus, self.code, self.file, self.line)


def corpus_root(name: str) -> Path:
    return PROGRAMS if name == "programs" else fetch(name)


def findings(name: str) -> list[Sampled]:
    root = corpus_root(name)
    out = []
    texts: dict[Path, list[str]] = {}
    for item in check(root):
        path = Path(item["filename"]).resolve()
        lines = texts.setdefault(path, path.read_text(encoding="utf-8", errors="replace").splitlines())
        row = item["location"]["row"]
        first, last = max(1, row - CONTEXT), min(len(lines), item["end_location"]["row"] + CONTEXT)
        context = "\n".join(f"{'>' if n == row else ' '}{n:5} {lines[n - 1]}" for n in range(first, last + 1))
        out.append(
            Sampled(
                name,
                item["code"],
                path.relative_to(root.resolve()).as_posix(),
                row,
                lines[row - 1].strip(),
                item["message"],
                context,
            )
        )
    return out


def sample(items: list[Sampled], per_family: int) -> list[Sampled]:
    """The `per_family` findings of each rule family with the smallest hashes (one per key)."""
    return stable_sample(items, lambda item: item.key, per_family, SEED)


def load() -> list[dict]:
    if not JUDGEMENTS.exists():
        return []
    return tomllib.loads(JUDGEMENTS.read_text(encoding="utf-8")).get("precision", [])


def save(entries: list[dict]) -> None:
    out = [
        "# Judgements for tests/tools/precision.py: sampled findings on Keras 2 code, read in context.",
        "# TRUE: the code fails or misbehaves on Keras 3 as the finding says; FALSE: it does not;",
        '# DEBATABLE: both readings hold. "?" = not read yet.',
        "",
    ]
    for item in sorted(entries, key=lambda d: (d["corpus"], d["code"], d["file"], d["line"])):
        out.append("[[precision]]")
        out += [f"{key} = {json.dumps(item[key], ensure_ascii=False)}" for key in ("corpus", "code", "file", "line", "verdict", "reason")]
        out.append("")
    JUDGEMENTS.write_text("\n".join(out), encoding="utf-8")


def precision(verdicts: Counter) -> float | None:
    judged = verdicts["TRUE"] + verdicts["FALSE"]
    return verdicts["TRUE"] / judged if judged else None


def judged_sample(names: list[str], per_family: int = PER_FAMILY) -> list[tuple[Sampled, dict | None]]:
    """The sampled findings of each corpus with their judgements (None: not judged yet)."""
    known = {(e["corpus"], e["code"], e["file"], e["line"]): e for e in load()}
    return [(item, known.get(item.key)) for name in names for item in sample(findings(name), per_family)]


def by_family(judged: list[tuple[Sampled, dict | None]]) -> dict[str, Counter]:
    """Rule family (KER1, KER2, ...) -> how many of its sampled findings got each verdict."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for item, entry in judged:
        counts[item.code[:4]][entry["verdict"] if entry else "?"] += 1
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("sample", "report"))
    parser.add_argument("corpora", nargs="*", default=list(KERAS2))
    parser.add_argument("--per-family", type=int, default=PER_FAMILY)
    args = parser.parse_args(argv)
    entries = load()
    known = {(e["corpus"], e["code"], e["file"], e["line"]): e for e in entries}
    per_family: dict[str, Counter] = defaultdict(Counter)
    for name in args.corpora:
        chosen = sample(findings(name), args.per_family)
        for item in chosen:
            entry = known.get(item.key)
            if entry is None and args.command == "sample":
                entry = {"corpus": name, "code": item.code, "file": item.file, "line": item.line, "verdict": "?", "reason": ""}
                entries.append(entry)
                known[item.key] = entry
            verdict = entry["verdict"] if entry else "?"
            per_family[item.code[:4]][verdict] += 1
            if args.command == "sample":
                print(f"== {verdict} {item.code} {name}:{item.file}:{item.row}: {item.message}")
                print(item.context)
                if entry and entry["reason"]:
                    print(f"   reason: {entry['reason']}")
                print()
    if args.command == "sample":
        save(entries)
    total: Counter = Counter()
    print("family   TRUE FALSE DEBATABLE unread  precision")
    for family in sorted(per_family):
        counts = per_family[family]
        total += counts
        value = precision(counts)
        shown = f"{value:.1%}" if value is not None else "-"
        print(f"{family:7} {counts['TRUE']:5} {counts['FALSE']:5} {counts['DEBATABLE']:9} {counts['?']:6}  {shown}")
    value = precision(total)
    print(f"{'all':7} {total['TRUE']:5} {total['FALSE']:5} {total['DEBATABLE']:9} {total['?']:6}  {value:.1%}" if value is not None else "all: nothing judged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
