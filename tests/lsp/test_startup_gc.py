"""`kerasfix server` loads the protocol and the server with garbage collection off (start-up),
and must hand the server a process that collects again, with what it loaded frozen out of
later collections."""

from __future__ import annotations

import gc

from kerasfix.server import entry, lsp, lsp_engine


def test_the_server_runs_with_garbage_collection_on_and_its_imports_frozen(monkeypatch):
    seen: dict[str, object] = {}

    def server_main(arguments):
        seen.update(arguments=arguments, enabled=gc.isenabled(), frozen=gc.get_freeze_count())
        return 0

    monkeypatch.setattr(lsp, "main", server_main)
    monkeypatch.setattr(lsp_engine, "prestart", lambda name: None)
    try:
        assert entry.main(["server", "--stdio"]) == 0
    finally:
        gc.unfreeze()
    assert seen == {"arguments": ["--stdio"], "enabled": True, "frozen": seen["frozen"]}
    assert seen["frozen"] > 10_000
