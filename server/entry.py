"""The `kerasfix` command's entry point: `cli.main`, except that `kerasfix server` first starts
its engine process, before anything heavy is imported.

The language server's start-up is mostly imports: the protocol's types in the server's process,
LibCST and the rules in the engine's. Started here, the engine's child imports and warms on the
other core while this process imports the protocol and the server (never LibCST: `cli` and the
engine stay out of this process), so an editor's first diagnostics come about as soon as
`initialize` is answered.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["server"]:
        # Straight to the server: the command line's module imports the whole engine.
        if not {"-h", "--help", "--version"} & set(arguments[1:]):
            from .lsp_engine import prestart

            prestart("lint")
        # The protocol's types and the server allocate hundreds of thousands of objects, none
        # of them garbage: collections in the middle of the imports scan them all again (about
        # 35 ms of 400 here). Collect nothing until they are loaded, then keep them out of
        # every later collection (`gc.freeze`): they live as long as the server.
        gc.disable()
        try:
            from . import lsp
        finally:
            gc.freeze()
            gc.enable()
        return lsp.main(arguments[1:])
    from .cli import main as cli_main

    return cli_main(argv)
