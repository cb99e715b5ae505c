"""The engine runs apart from the server's message loop: no document can freeze, starve or
crash the server, typing gets diagnostics, a cancelled request stops its work, and shutdown is
prompt whatever the engine is doing.

Some documents here hold a marker that a `sitecustomize` module (on the server's PYTHONPATH,
so loaded by the server and its engine processes alike) turns into a parser that never returns
while holding the GIL, or that aborts the process: the real failure modes of LibCST's native
parser on pathological text, on demand.
"""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from kerasfix.rules.engine.syntax import MAX_FILE_SIZE

from raw_server import RawServer

FREEZE = "FREEZE_THE_PARSER"
CRASH = "CRASH_THE_PARSER"
KERAS2 = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"

SITECUSTOMIZE = textwrap.dedent(
    f"""
    import os

    import libcst

    _parse = libcst.parse_module


    def _parse_module(source, *args, **kwargs):
        text = source if isinstance(source, str) else ""
        if {FREEZE!r} in text:
            # A C loop that never checks for other threads: the GIL is held until the process
            # is killed, as in a parse of deeply nested code.
            sum(range(1 << 62))
        if {CRASH!r} in text:
            os.abort()
        return _parse(source, *args, **kwargs)


    libcst.parse_module = _parse_module
    """
)


@pytest.fixture
def server(tmp_path: Path):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), *filter(None, [os.environ.get("PYTHONPATH")])])}
    raw = RawServer(env=env)
    raw.initialize(tmp_path, {"select": ["KER601", "KER001", "KER002"]})
    yield raw
    raw.close()


def codes(params: dict) -> list[str]:
    return sorted(d["code"] for d in params["diagnostics"])


def test_a_frozen_parse_leaves_the_server_answering_and_other_documents_checked(server: RawServer, tmp_path: Path):
    frozen = (tmp_path / "frozen.py").as_uri()
    server.open(frozen, f"# {FREEZE}\n" + KERAS2)
    # The message loop answers while the engine is stuck...
    assert server.call("kerasfix/noSuchMethod", {})["error"]["code"] == -32601
    # ... and another document gets its findings (the stuck lint is stopped at its budget and
    # its document moves to a lane of its own).
    other = (tmp_path / "other.py").as_uri()
    server.open(other, KERAS2)
    assert codes(server.published(other, 1)) == ["KER601"]
    hover = server.call(
        "textDocument/hover", {"textDocument": {"uri": other}, "position": {"line": 1, "character": 10}}
    )
    assert "error" not in hover
    assert not any(
        m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == frozen for m in server.received
    )


def test_a_crashing_parse_is_reported_on_its_document_and_the_server_goes_on(server: RawServer, tmp_path: Path):
    crashing = (tmp_path / "crashing.py").as_uri()
    server.open(crashing, f"# {CRASH}\n" + KERAS2)
    [finding] = server.published(crashing, 1)["diagnostics"]
    assert finding["code"] == "KER002"
    assert "crashed (SIGABRT)" in finding["message"]
    other = (tmp_path / "other.py").as_uri()
    server.open(other, KERAS2)
    assert codes(server.published(other, 1)) == ["KER601"]
    # The crashing document is checked again after an edit that removes the cause.
    server.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": crashing, "version": 2}, "contentChanges": [{"text": KERAS2}]},
    )
    assert codes(server.published(crashing, 2)) == ["KER601"]
    assert server.process.poll() is None


def test_a_cancelled_fix_all_stops_and_the_next_one_is_served(server: RawServer, tmp_path: Path):
    frozen = (tmp_path / "frozen.py").as_uri()
    server.open(frozen, f"# {FREEZE}\n" + KERAS2)
    fix_all = {
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": [], "only": ["source.fixAll.kerasfix"]},
    }
    stuck = server.request("textDocument/codeAction", {"textDocument": {"uri": frozen}, **fix_all})
    server.notify("$/cancelRequest", {"id": stuck})
    assert server.response(stuck)["error"]["code"] == -32800  # RequestCancelled
    plain = (tmp_path / "plain.py").as_uri()
    server.open(plain, KERAS2)
    server.published(plain, 1)
    [action] = server.call("textDocument/codeAction", {"textDocument": {"uri": plain}, **fix_all})["result"]
    [edit] = action["edit"]["documentChanges"][0]["edits"]
    start, end = edit["range"]["start"], edit["range"]["end"]
    assert start["line"] == end["line"] == 1
    line = KERAS2.splitlines()[1]
    fixed = line[: start["character"]] + edit["newText"] + line[end["character"] :]
    assert fixed == "opt = tf.keras.optimizers.Adam(learning_rate=1e-3)"


def test_shutdown_while_the_engine_is_stuck_exits_promptly_with_status_0(server: RawServer, tmp_path: Path):
    frozen = (tmp_path / "frozen.py").as_uri()
    server.open(frozen, f"# {FREEZE}\n" + KERAS2)
    # The lint is under way once a request sent after the open is answered.
    server.call("kerasfix/noSuchMethod", {})
    assert server.call("shutdown")["result"] is None
    server.notify("exit", None)
    assert server.exit_status() == 0


def test_a_document_over_the_size_limit_gets_one_finding_saying_so(server: RawServer, tmp_path: Path):
    huge = (tmp_path / "huge.py").as_uri()
    padding = "x = 1  # padding\n" * (MAX_FILE_SIZE // 17 + 1)
    server.open(huge, KERAS2 + padding)
    [finding] = server.published(huge, 1)["diagnostics"]
    assert finding["code"] == "KER002"
    assert f"{MAX_FILE_SIZE:,}" in finding["message"]
    # An edit that brings it under the limit is checked normally.
    server.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": huge, "version": 2}, "contentChanges": [{"text": KERAS2}]},
    )
    assert codes(server.published(huge, 2)) == ["KER601"]


def test_diagnostics_keep_up_with_fast_typing(server: RawServer, tmp_path: Path):
    """Each keystroke in a comment on an import line re-lints the whole of a long file (the
    imports block changed), which takes longer than the pause between keystrokes: results
    must still be published while the typing goes on, not only once it stops."""
    examples = Path(__file__).parent.parent / "examples" / "keras2_training.py"
    text = examples.read_text(encoding="utf-8")
    text = text + "\n" + "\n".join(f"def helper_{i}(x):\n    return x + {i}\n" for i in range(600))
    uri = (tmp_path / "long.py").as_uri()
    server.open(uri, text)
    server.published(uri, 1)
    row = next(n for n, line in enumerate(text.splitlines()) if line.startswith("import "))
    column = len(text.splitlines()[row])
    version = 1
    typed_while_published = None
    while version < 400 and typed_while_published is None:
        version += 1
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [
                    {
                        "range": {"start": {"line": row, "character": column}, "end": {"line": row, "character": column}},
                        "text": "  # " if version == 2 else "a",
                    }
                ],
            },
        )
        # Typing at about 20 keystrokes a second (the pause paces the typing; nothing is
        # asserted about time).
        time.sleep(0.05)
        column += 4 if version == 2 else 1
        typed_while_published = next(
            (
                m["params"]["version"]
                for m in server.drain()
                if m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and 1 < (m["params"].get("version") or 0) < version
            ),
            None,
        )
    assert typed_while_published is not None, "no diagnostics were published while typing went on"


def test_shutdown_during_a_workspace_check_answers_it_cleanly_and_publishes_nothing_after(server: RawServer, tmp_path: Path):
    for n in range(40):
        (tmp_path / f"module_{n}.py").write_text(KERAS2, encoding="utf-8")
    (tmp_path / "module_0.py").write_text(f"# {FREEZE}\n" + KERAS2, encoding="utf-8")
    check = server.request("workspace/executeCommand", {"command": "kerasfix.checkWorkspace", "arguments": []})
    # The check is under way (stuck on its first file) once a later request is answered.
    server.call("kerasfix/noSuchMethod", {})
    shutdown = server.request("shutdown")
    assert server.response(shutdown)["result"] is None
    answer = server.response(check)
    # Cancelled, or finished with what it had: never an internal error.
    assert answer.get("error", {}).get("code") in (None, -32800), answer
    server.notify("exit", None)
    assert server.exit_status() == 0
    messages = server.drain()
    published = [m for m in messages if m.get("method") == "textDocument/publishDiagnostics"]
    assert published == [], "diagnostics were published after the shutdown"


# ----- the engine processes themselves ---------------------------------------------------------


def test_an_engine_call_past_its_budget_stops_the_process_and_the_next_call_starts_another(tmp_path, monkeypatch):
    from kerasfix.rules import Settings
    from kerasfix.server.lsp_engine import EngineProcess, EngineTimeout

    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(hooks))
    engine = EngineProcess("test")
    settings = Settings(select=("KER601",))
    try:
        with pytest.raises(EngineTimeout):
            engine.call(("lint", "frozen", f"# {FREEZE}\n" + KERAS2, None, settings), 3.0)
        outcome = engine.call(("lint", "plain", KERAS2, None, settings), None)
        assert [f.code for f in outcome.findings] == ["KER601"]
        assert engine.starts == 2
    finally:
        engine.close()


def test_the_in_process_engine_serves_the_same_operations():
    """Where the platform has no POSIX pipes (Windows), the engine runs in the server's process."""
    from kerasfix.rules import Settings
    from kerasfix.server.lsp_engine import EngineAborted, InProcessEngine

    engine = InProcessEngine("test")
    settings = Settings(select=("KER601",))
    outcome = engine.call(("lint", "plain", KERAS2, None, settings), None)
    assert [f.code for f in outcome.findings] == ["KER601"]
    fixed = engine.call(("fix", KERAS2, None, settings, False), None)
    assert fixed == KERAS2.replace("lr=", "learning_rate=")
    engine.close()
    with pytest.raises(EngineAborted):
        engine.call(("fix", KERAS2, None, settings, False), None)


def test_an_engine_process_has_its_memory_capped():
    from kerasfix.server.lsp_engine import EngineProcess, _memory_limit

    engine = EngineProcess("test")
    try:
        engine.call(("warm",), None)
        limits = Path(f"/proc/{engine._process.pid}/limits").read_text()
        [line] = [line for line in limits.splitlines() if line.startswith("Max address space")]
        assert line.split()[3:5] == [str(_memory_limit())] * 2
    finally:
        engine.close()


def test_the_engine_processes_end_with_a_killed_server(server: RawServer, tmp_path: Path):
    frozen = (tmp_path / "frozen.py").as_uri()
    server.open(frozen, f"# {FREEZE}\n" + KERAS2)
    tasks = Path(f"/proc/{server.process.pid}/task")

    def engines() -> set[int]:
        return {int(pid) for task in tasks.iterdir() for pid in (task / "children").read_text().split()}

    def cpu_seconds(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            return 0.0
        return int(fields[11]) / os.sysconf("SC_CLK_TCK")

    # Wait until an engine is stuck in the frozen parse (a lint of two lines takes no CPU to
    # speak of): a stuck child never reads the end of its pipe, only the kernel can stop it.
    # (A state polled for, with a deadline far beyond the few seconds it takes.)
    deadline = time.monotonic() + 120
    while not any(cpu_seconds(pid) > 3 for pid in engines()):
        assert time.monotonic() < deadline, "no engine got stuck in the frozen parse within 120 s"
        time.sleep(0.05)
    children = engines()
    server.process.kill()
    server.process.wait()

    def gone(pid: int) -> bool:
        try:
            return "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True

    # The kernel delivers the parent-death signal at once; reaping may lag.
    deadline = time.monotonic() + 60
    while alive := [pid for pid in children if not gone(pid)]:
        assert time.monotonic() < deadline, f"engine processes {alive} outlived the server by 60 s"
        time.sleep(0.05)
