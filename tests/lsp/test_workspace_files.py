"""`kerasfix.checkWorkspace` checks the files `kerasfix check` checks, read as the CLI reads them.

The workspace holds what must not be read (a FIFO and a `/dev/zero` symlink named like source),
folders that are not the project's code (environments, a gitignored folder), and a Latin-1 file
with a coding cookie, which must be checked.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from lsprotocol import types

from conftest import WAIT

SOURCE = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
LATIN1 = "# -*- coding: latin-1 -*-\nname = 'café'\n" + SOURCE


def _build(root: Path) -> None:
    os.mkfifo(root / "x.py")
    os.symlink("/dev/zero", root / "zero.py")
    for folder in ("env", "site-packages", "__pypackages__", "generated"):
        (root / folder).mkdir()
        (root / folder / "m.py").write_text(SOURCE, encoding="utf-8")
    (root / ".gitignore").write_text("generated/\n", encoding="utf-8")
    (root / "legacy.py").write_bytes(LATIN1.encode("latin-1"))
    (root / "clean.py").write_text("print('no keras here')\n", encoding="utf-8")


def _release(fifo: Path) -> None:
    """Let a reader blocked on the FIFO go (a writer opening and closing it ends its read)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


async def test_check_workspace_selects_and_reads_files_as_the_cli_does(session):
    _build(session.root)
    command = session.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="kerasfix.checkWorkspace")
    )
    try:
        result = await asyncio.wait_for(command, WAIT)
    finally:
        _release(session.root / "x.py")
    assert result == {"files": 2, "findings": 1}
    published = {p.uri: [d.code for d in p.diagnostics] for p in session.published}
    assert published == {session.uri("legacy.py"): ["KER601"], session.uri("clean.py"): []}
