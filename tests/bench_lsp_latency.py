"""Editor latency of `kerasfix server`: from a one-character didChange inside one function to
the publishDiagnostics for that version, on a 300-line and a 3,000-line buffer, next to a bare
`libcst.parse_module` of the same buffer measured in the same run.

    python3 tests/bench_lsp_latency.py [--edits 60]

Prints figures; it is not a timed test. Target for the 3,000-line buffer: p50 <= 0.5x the bare
parse of the whole buffer (message passing and the lint thread's hand-off included).

Then the same keystrokes with a pause after each (`--pause`, longer than the server's idle
delay, so that its background work runs between them), without and with a large workspace
(`--workspace-modules` generated modules) being indexed in the background meanwhile: the ratio of
the two shows what the index costs a keystroke (target: p50 ratio close to 1; a keystroke waits
for one index step at most).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import libcst as cst
from pygls.uris import from_fs_path

FUNCTION = '''
def block_{i}(x, y):
    """Keras 2 code with several findings per function."""
    optimizer = tf.keras.optimizers.Adam(lr=1e-3)
    total = tf.reduce_sum(x, axis=1)
    value = K.get_value(y)
    layer = tf.keras.layers.Dense({i} + 1, activation="relu")
    scaled = total * {i}
    return optimizer, value, layer(scaled)
'''
HEADER = "import tensorflow as tf\nfrom tensorflow.keras import backend as K\n"


def buffer(lines: int) -> str:
    parts = [HEADER]
    i = 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(FUNCTION.format(i=i))
        i += 1
    return "".join(parts)


def bare_parse(text: str, repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        cst.parse_module(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


class RawClient:
    """A bare JSON-RPC client on the server's stdio: messages are parsed with `json.loads`, as
    an editor parses them, so the figures are the server's, not a Python client's."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.ids = itertools.count(1)
        self.responses: dict[int, asyncio.Future] = {}
        self.published: dict[int, float] = {}
        self.waiting: dict[int, asyncio.Future] = {}
        # The versions published for each document (for waits on many documents).
        self.published_uris: dict[str, set[int]] = {}
        self._changed = asyncio.Event()
        # When the server's background index ended ($/progress end), if it reported one.
        self.progress_end: float | None = None
        self.reader = asyncio.ensure_future(self._read())

    def send(self, method: str, params, request: bool = False) -> asyncio.Future | None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        future = None
        if request:
            message["id"] = next(self.ids)
            future = self.responses[message["id"]] = asyncio.get_running_loop().create_future()
        body = json.dumps(message).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return future

    async def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = 0
            while (line := await stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(await stream.readexactly(length))
            if message.get("method") == "textDocument/publishDiagnostics":
                version = message["params"].get("version")
                self.published_uris.setdefault(message["params"]["uri"], set()).add(version)
                self._changed.set()
                if version is not None:
                    self.published[version] = time.perf_counter()
                    future = self.waiting.pop(version, None)
                    if future is not None and not future.done():
                        future.set_result(None)
            elif message.get("method") == "$/progress":
                if message["params"]["value"].get("kind") == "end" and str(message["params"]["token"]).startswith("kerasfix-index"):
                    self.progress_end = time.perf_counter()
            elif "id" in message and "method" in message:  # a request from the server
                self.process.stdin.write(_reply(message["id"]))
            elif "id" in message and message["id"] in self.responses:
                self.responses.pop(message["id"]).set_result(message.get("result"))

    async def all_published(self, uris: list[str], version: int) -> None:
        """Wait until each of `uris` has diagnostics for `version`."""
        waiting = set(uris)
        while waiting:
            waiting -= {uri for uri, seen in self.published_uris.items() if version in seen}
            if waiting:
                self._changed.clear()
                await self._changed.wait()

    async def wait_published(self, version: int) -> float:
        if version not in self.published:
            future = self.waiting[version] = asyncio.get_running_loop().create_future()
            await asyncio.wait_for(future, 60)
        return self.published[version]


def _reply(message_id) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": message_id, "result": None}).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


MODULE = """\
import tensorflow as tf
from tensorflow import keras
{base}


class Layer{i}(Base):
    def call(self, x):
        total = tf.reduce_sum(x, axis=-1)
        return tf.concat([total, x], axis=0)
""" + "".join(f"\n\ndef helper_{j}(x, y):\n    return x * {j} + y\n" for j in range(15))


def big_workspace(folder: Path, modules: int) -> None:
    """`modules` modules in packages of 100, each class deriving from the previous module's."""
    (folder / "setup.cfg").write_text("", encoding="utf-8")
    for number in range(modules):
        package = folder / "big" / f"part{number // 100}"
        if number % 100 == 0:
            package.mkdir(parents=True)
            (package / "__init__.py").write_text("", encoding="utf-8")
        base = f"from .m{number - 1} import Layer{number - 1} as Base" if number % 100 else "Base = keras.layers.Layer"
        (package / f"m{number}.py").write_text(MODULE.format(i=number, base=base), encoding="utf-8")


async def open_in_server(text: str, name: str, workspace_modules: int = 0) -> tuple[asyncio.subprocess.Process, RawClient, str]:
    """Start `kerasfix server`, open `text` as `name` and wait for its first diagnostics; with
    `workspace_modules`, in a workspace of that many modules (indexed in the background)."""
    folder = Path(tempfile.mkdtemp(prefix="kerasfix-bench-"))
    # The server may still read the workspace until it exits: remove it when the script ends.
    atexit.register(shutil.rmtree, folder, True)
    if workspace_modules:
        big_workspace(folder, workspace_modules)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kerasfix.server", "server",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    client = RawClient(process)
    uri = from_fs_path(str(folder / name))
    await client.send(
        "initialize",
        {
            "processId": None,
            "rootUri": from_fs_path(str(folder)),
            "capabilities": {"window": {"workDoneProgress": True}},
            "initializationOptions": {"select": ["KER"]},
        },
        request=True,
    )
    client.send("initialized", {})
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
    await client.wait_published(1)
    return process, client, uri


async def measure(text: str, edits: int, pause: float = 0.0, workspace_modules: int = 0) -> tuple[list[float], int]:
    """Keystroke-to-diagnostics latencies (with `workspace_modules`, of the keystrokes sent
    while the background index was running only), and how many keystrokes were sent."""
    process, client, uri = await open_in_server(text, "bench.py", workspace_modules)
    # The edit: one character typed (then deleted) at the end of the `scaled = total * N`
    # line of the function in the middle of the buffer.
    lines = text.splitlines()
    middle = [n for n, line in enumerate(lines) if "scaled = total" in line]
    line = middle[len(middle) // 2]
    column = len(lines[line])
    latencies: list[float] = []
    for version in range(2, edits + 2):
        end = column if version % 2 == 0 else column + 1
        change = {
            "range": {"start": {"line": line, "character": column}, "end": {"line": line, "character": end}},
            "text": "1" if version % 2 == 0 else "",
        }
        started = time.perf_counter()
        indexing = client.progress_end is None
        client.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]})
        latency = await client.wait_published(version) - started
        if indexing or not workspace_modules:
            latencies.append(latency)
        if pause:
            await asyncio.sleep(pause)
    await client.send("shutdown", None, request=True)
    client.send("exit", None)
    await process.wait()
    return latencies, edits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--pause", type=float, default=0.4, help="seconds after each keystroke, in the second table")
    parser.add_argument("--workspace-modules", type=int, default=8000)
    args = parser.parse_args()
    print(f"{'buffer':>12} {'parse':>9} {'p50':>9} {'p90':>9} {'p50/parse':>10}")
    for size in (300, 3000):
        text = buffer(size)
        latencies, _ = asyncio.run(measure(text, args.edits))
        parse = bare_parse(text)
        p50 = statistics.median(latencies)
        p90 = statistics.quantiles(latencies, n=10)[-1]
        print(
            f"{text.count(chr(10)):>7} lines {parse * 1e3:>7.1f}ms {p50 * 1e3:>7.1f}ms {p90 * 1e3:>7.1f}ms {p50 / parse:>9.2f}x"
        )
    print()
    print(f"keystrokes {args.pause:g} s apart, alone and while {args.workspace_modules} modules are indexed in the background")
    print(f"{'buffer':>12} {'p50 alone':>10} {'p50 index':>10} {'ratio':>6} {'p90 alone':>10} {'p90 index':>10} {'ratio':>6} {'max index':>10}  keystrokes while indexing")
    for size in (300, 3000):
        text = buffer(size)
        alone, _ = asyncio.run(measure(text, args.edits, args.pause))
        busy, sent = asyncio.run(measure(text, args.edits, args.pause, args.workspace_modules))
        if len(busy) < 3:
            print(f"{text.count(chr(10)):>7} lines: the index ended before the keystrokes (use more --workspace-modules)")
            continue
        a50, b50 = statistics.median(alone), statistics.median(busy)
        a90, b90 = statistics.quantiles(alone, n=10)[-1], statistics.quantiles(busy, n=10)[-1]
        print(
            f"{text.count(chr(10)):>7} lines {a50 * 1e3:>8.1f}ms {b50 * 1e3:>8.1f}ms {b50 / a50:>5.2f}x"
            f" {a90 * 1e3:>8.1f}ms {b90 * 1e3:>8.1f}ms {b90 / a90:>5.2f}x {max(busy) * 1e3:>8.1f}ms  {len(busy)}/{sent}"
        )


if __name__ == "__main__":
    main()
