"""Pull diagnostics (LSP 3.17 `textDocument/diagnostic`, `workspace/diagnostic`).

A client that declares it can pull is answered here instead of being sent
`textDocument/publishDiagnostics` (as Ruff's server does). A pull answers with the findings of
the document's current text: it waits for the lint the worker is running on it, rather than
linting again. Each set of diagnostics has a result id; a pull naming the current one is
answered `unchanged`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

# How long a pull waits for the lint of the current text before it answers with the newest
# diagnostics there are (a lint that failed is never published).
PULL_WAIT = 30.0

# A file's findings depend on other modules of the project (base classes defined elsewhere).
DIAGNOSTIC_OPTIONS = types.DiagnosticOptions(
    identifier="kerasfix", inter_file_dependencies=True, workspace_diagnostics=True
)


async def current(document: Any) -> None:
    """Return once the newest lint scheduled for `document` has landed (or it was closed, or
    `PULL_WAIT` passed)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PULL_WAIT
    while document.published_generation < document.generation:
        waiter = loop.create_future()
        document.waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            return
        if document.closed:
            return


async def document_report(
    document: Any, previous: str | None
) -> types.RelatedFullDocumentDiagnosticReport | types.RelatedUnchangedDocumentDiagnosticReport:
    await current(document)
    if previous is not None and previous == document.result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=previous)
    return types.RelatedFullDocumentDiagnosticReport(items=list(document.published), result_id=document.result_id)


async def workspace_report(documents: list[Any], previous: dict[str, str]) -> types.WorkspaceDiagnosticReport:
    """The open documents' reports: the server checks only what is open (the workspace check
    is a command)."""
    await asyncio.gather(*(current(document) for document in documents))
    items: list[types.WorkspaceDocumentDiagnosticReport] = []
    for document in documents:
        if document.closed:
            continue
        if previous.get(document.uri) == document.result_id:
            items.append(
                types.WorkspaceUnchangedDocumentDiagnosticReport(
                    uri=document.uri, version=document.published_version, result_id=document.result_id
                )
            )
        else:
            items.append(
                types.WorkspaceFullDocumentDiagnosticReport(
                    uri=document.uri,
                    version=document.published_version,
                    items=list(document.published),
                    result_id=document.result_id,
                )
            )
    return types.WorkspaceDiagnosticReport(items=items)
