"""Start-up of `kerasfix server`: from the process start to the answer to `initialize` and to
the first diagnostics of a 300-line Keras 2 file opened right after the handshake, as an
editor does it. Next to them, in the same run: a bare `libcst.parse_module` of the same
buffer and the start of a Python that imports nothing (`python3 -c pass`).

    python3 tests/bench_lsp_startup.py [--runs 7]

Prints figures (medians over the runs); it is not a timed test. Target: first diagnostics
within 0.5 s of the process start on an idle machine.

The server gets compiled bytecode as an installed package has it, as in bench_cli.py:
`PYTHONDONTWRITEBYTECODE` is dropped and the bytecode goes to a folder outside the working tree
(`--pycache`), written by a first start that is not counted. `--no-bytecode` keeps the
environment as it is (kerasfix's own modules may then be compiled from source at every start).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pygls.uris import from_fs_path

sys.path.insert(0, str(Path(__file__).parent))
from bench_lsp_latency import RawClient, bare_parse, buffer  # noqa: E402


async def one_start(text: str, folder: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from the process start to `initialize`'s answer and to the first diagnostics."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kerasfix.server", "server",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
    )
    client = RawClient(process)
    uri = from_fs_path(str(folder / "train.py"))
    await client.send(
        "initialize",
        {"processId": None, "rootUri": from_fs_path(str(folder)), "capabilities": {}},
        request=True,
    )
    initialized = time.perf_counter() - started
    client.send("initialized", {})
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
    diagnostics = await client.wait_published(1) - started
    shutdown = client.send("shutdown", None, request=True)
    await asyncio.wait_for(shutdown, 30)
    client.send("exit", None)
    await asyncio.wait_for(process.wait(), 30)
    return initialized, diagnostics


def bare_python(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pycache", default=os.path.join(tempfile.gettempdir(), "kerasfix-bench-pycache"))
    parser.add_argument("--no-bytecode", action="store_true", help="leave PYTHONDONTWRITEBYTECODE as it is")
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = args.pycache
    text = buffer(300)
    folder = Path(tempfile.mkdtemp(prefix="kerasfix-startup-"))
    try:
        (folder / "pyproject.toml").write_text("[project]\nname = 'startup'\n", encoding="utf-8")
        (folder / "train.py").write_text(text, encoding="utf-8")
        if not args.no_bytecode:
            asyncio.run(one_start(text, folder, env))  # writes the bytecode; not counted
        results = [asyncio.run(one_start(text, folder, env)) for _ in range(args.runs)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    parse = bare_parse(text)
    python = bare_python(args.runs)
    initialize = statistics.median(r[0] for r in results)
    first = statistics.median(r[1] for r in results)
    lines = text.count("\n")
    bytecode = "as the environment has it" if args.no_bytecode else "compiled bytecode"
    print(f"buffer: {lines} lines; {args.runs} starts; medians; {bytecode}")
    print(f"bare libcst parse of the buffer:       {parse * 1000:7.1f} ms")
    print(f"bare `python -c pass`:                 {python * 1000:7.1f} ms")
    print(f"start -> initialize answered:          {initialize * 1000:7.1f} ms  ({initialize / parse:5.1f}x parse)")
    print(f"start -> first diagnostics:            {first * 1000:7.1f} ms  ({first / parse:5.1f}x parse)")
    print(f"target: first diagnostics <= 500 ms on an idle machine: {'met' if first <= 0.5 else 'not met'}")


if __name__ == "__main__":
    main()
