"""Load on `kerasfix server`, next to a bare `libcst.parse_module` of the same text measured
in the same run. It is not a timed test (tests/lsp/test_load.py and
tests/lsp/test_engine_process.py check the behaviour).

    python3 tests/bench_lsp_load.py [--edits 1000] [--documents 200] [--cycles 500]

1. A flood: `--edits` didChange notifications (one typed character each) to a 3,000-line
   Keras 2 file, sent as fast as the pipe takes them; then a hover. Prints the time to send
   them, the time from the last edit to the diagnostics for its version (the settle time), the
   hover latency after the flood, how many versions were published on the way, and the peak
   resident memory (VmHWM) of the server's process and of its engine processes.
   Targets: the edits sent in under a second, the hover answered in under 200 ms.
2. Many documents: `--documents` 300-line files opened at once; the time until every one has
   its diagnostics, as a ratio of the bare parse of all of them.
3. Open and close: `--cycles` times a 300-line file opened, linted and closed; the server's
   resident memory (VmRSS) after the first and the last tenth of the cycles, and the growth per
   cycle between them (a leak shows as a steady growth).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "lsp"))

from bench_lsp_latency import bare_parse, buffer, open_in_server  # noqa: E402
from test_load import realistic_file  # noqa: E402


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_memory_mb(pid: int) -> float:
    return memory_mb(pid, "VmHWM")


def children(pid: int) -> list[int]:
    """The processes the server started (its engine processes)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


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
    engines = sum(peak_memory_mb(child) for child in children(process.pid))
    lints = len([v for v in client.published if v > 1])
    await client.send("shutdown", None, request=True)
    client.send("exit", None)
    await process.wait()
    return {"sent": sent, "diagnostics": to_diagnostics, "hover": hover, "memory": memory, "engines": engines, "lints": lints}


async def many_documents(text: str, count: int) -> float:
    """Seconds from opening `count` documents at once to the diagnostics of the last."""
    process, client, first = await open_in_server(text, "warm.py")
    folder = Path(first[len("file://") :]).parent
    started = time.perf_counter()
    uris = [(folder / f"module_{n}.py").as_uri() for n in range(count)]
    for uri in uris:
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 7, "text": text}})
    await asyncio.wait_for(client.all_published(uris, 7), 600)
    elapsed = time.perf_counter() - started
    await client.send("shutdown", None, request=True)
    client.send("exit", None)
    await process.wait()
    return elapsed


async def open_close(text: str, cycles: int) -> tuple[float, float]:
    """The server's resident memory (MB) after the first and the last tenth of the cycles."""
    process, client, first = await open_in_server(text, "warm.py")
    folder = Path(first[len("file://") :]).parent
    tenth = max(cycles // 10, 1)
    early = late = 0.0
    for n in range(cycles):
        uri = (folder / f"cycle_{n}.py").as_uri()
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 3, "text": text}})
        await asyncio.wait_for(client.all_published([uri], 3), 60)
        client.send("textDocument/didClose", {"textDocument": {"uri": uri}})
        if n + 1 == tenth:
            await client.send("kerasfix/settle", None, request=True)
            early = memory_mb(process.pid, "VmRSS")
    await client.send("kerasfix/settle", None, request=True)
    late = memory_mb(process.pid, "VmRSS")
    await client.send("shutdown", None, request=True)
    client.send("exit", None)
    await process.wait()
    return early, late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--cycles", type=int, default=500)
    args = parser.parse_args()
    text = realistic_file()
    parse = bare_parse(text, repeat=5)
    result = asyncio.run(measure(text, args.edits))
    print(f"file: {text.count(chr(10))} lines, {len(text)} characters; bare LibCST parse {parse * 1e3:.0f} ms")
    print(f"{args.edits} didChange sent in   {result['sent'] * 1e3:8.0f} ms  ({result['sent'] / parse:5.2f}x parse)  target < 1000 ms")
    print(f"last edit -> diagnostics   {result['diagnostics'] * 1e3:8.0f} ms  ({result['diagnostics'] / parse:5.2f}x parse)")
    print(f"hover after the flood      {result['hover'] * 1e3:8.0f} ms  ({result['hover'] / parse:5.2f}x parse)  target < 200 ms")
    print(f"versions published         {result['lints']:8d}     (of {args.edits}: the rest were coalesced)")
    print(f"server peak RSS (VmHWM)    {result['memory']:8.0f} MB  (engine processes: {result['engines']:.0f} MB)")
    small = buffer(300)
    small_parse = bare_parse(small, repeat=5)
    elapsed = asyncio.run(many_documents(small, args.documents))
    print(
        f"{args.documents} documents opened -> all diagnostics {elapsed * 1e3:8.0f} ms"
        f"  ({elapsed / (small_parse * args.documents):5.2f}x parsing them all)"
    )
    early, late = asyncio.run(open_close(small, args.cycles))
    tenth = max(args.cycles // 10, 1)
    growth = (late - early) * 1024 / max(args.cycles - tenth, 1)
    print(f"open/close x{args.cycles}: server RSS {early:.0f} MB -> {late:.0f} MB  ({growth:+.1f} KB per cycle)")


if __name__ == "__main__":
    main()
