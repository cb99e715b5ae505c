"""Load on `kerasfix server`: 1,000 didChange notifications (one typed character each) to a
3,000-line Keras 2 file, sent as fast as the pipe takes them; then a hover.

    python3 tests/bench_lsp_load.py [--edits 1000]

Prints, next to a bare `libcst.parse_module` of the same file measured in the same run:
the time to send the edits, the time from the last edit to the diagnostics for its version,
the hover latency after the flood, and the server's peak resident memory (VmHWM). It is not a
timed test (tests/lsp/test_load.py checks the behaviour). Targets: the edits sent in under a
second, the hover answered in under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "lsp"))

from bench_lsp_latency import bare_parse, open_in_server  # noqa: E402
from test_load import realistic_file  # noqa: E402


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(text: str, edits: int) -> dict[str, float]:
    process, client, uri = await open_in_server(text, "big.py")
    lines = text.split("\n")
    row = next(n for n, line in enumerate(lines) if "scaled = total * 40" in line)
    column = len(lines[row])
    started = time.perf_counter()
    for version in range(2, edits + 2):
        change = {
            "range": {"start": {"line": row, "character": column}, "end": {"line": row, "character": column}},
            "text": "1",
        }
        client.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        column += 1
    await process.stdin.drain()
    sent = time.perf_counter() - started
    last = edits + 1
    published_at = await client.wait_published(last)
    to_diagnostics = published_at - started - sent
    hover_row = next(n for n, line in enumerate(lines) if "tf.reduce_sum(x, axis=1)" in line)
    hover_started = time.perf_counter()
    answer = await client.send(
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": hover_row, "character": lines[hover_row].index("reduce_sum") + 2}},
        request=True,
    )
    hover = time.perf_counter() - hover_started
    assert answer is not None, "no hover after the flood"
    memory = peak_memory_mb(process.pid)
    lints = len([v for v in client.published if v > 1])
    await client.send("shutdown", None, request=True)
    client.send("exit", None)
    await process.wait()
    return {"sent": sent, "diagnostics": to_diagnostics, "hover": hover, "memory": memory, "lints": lints}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=1000)
    args = parser.parse_args()
    text = realistic_file()
    parse = bare_parse(text, repeat=5)
    result = asyncio.run(measure(text, args.edits))
    print(f"file: {text.count(chr(10))} lines, {len(text)} characters; bare LibCST parse {parse * 1e3:.0f} ms")
    print(f"{args.edits} didChange sent in   {result['sent'] * 1e3:8.0f} ms  ({result['sent'] / parse:5.2f}x parse)  target < 1000 ms")
    print(f"last edit -> diagnostics   {result['diagnostics'] * 1e3:8.0f} ms  ({result['diagnostics'] / parse:5.2f}x parse)")
    print(f"hover after the flood      {result['hover'] * 1e3:8.0f} ms  ({result['hover'] / parse:5.2f}x parse)  target < 200 ms")
    print(f"versions published         {result['lints']:8d}     (of {args.edits}: the rest were coalesced)")
    print(f"server peak RSS (VmHWM)    {result['memory']:8.0f} MB")


if __name__ == "__main__":
    main()
