"""Documents whose text the server lost: a change it could not apply.

A `didChange` that cannot be applied (a negative position, a range starting past the end of the
document, an end before its start) means the editor's text and the server's differ from then
on: every later finding, hover and fix would be computed on the wrong text. Such a document is
taken out of the open documents (so that no feature answers from its stale text, and a lint
still running on it is not published), the user is told, and a single diagnostic at the top of
the file says what happened. It comes back with its full text: a change that replaces the whole
document, a save carrying the text, or closing and reopening it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .lsp_text import UTF16, ChangeRejected, Lines, apply_change

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger("kerasfix.server")

LOST_MESSAGE = (
    "kerasfix lost this file's text: the editor sent a change it could not apply ({reason}). "
    "No findings are shown until the server has the whole text again: save the file, or close and reopen it."
)


@dataclass
class LostDocument:
    version: int | None
    reason: str


class LostDocuments:
    def __init__(self, server: LanguageServer) -> None:
        self._server = server
        self._lost: dict[str, LostDocument] = {}

    def __contains__(self, uri: object) -> bool:
        return uri in self._lost

    def lose(self, uri: str, version: int | None, reason: str) -> None:
        """Forget the text of an open document after a change that could not be applied."""
        server: Any = self._server
        document = server.documents.pop(uri, None)
        if document is None and uri not in self._lost:
            return  # not open: nothing was lost
        server.worker.forget(uri)
        if document is not None:
            document.close()
            server.project.closed(document.path)  # other modules see the file as saved
        first = uri not in self._lost
        self._lost[uri] = LostDocument(version, reason)
        if not first:
            return
        log.error("%s: a change could not be applied (%s); its text is lost until it is saved or reopened", uri, reason)
        server.window_show_message(
            types.ShowMessageParams(
                types.MessageType.Error,
                f"kerasfix: {uri}: a change could not be applied ({reason}). "
                "Save the file, or close and reopen it, to see its findings again.",
            )
        )
        top = types.Range(types.Position(0, 0), types.Position(0, 0))
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[
                    types.Diagnostic(
                        range=top,
                        message=LOST_MESSAGE.format(reason=reason),
                        severity=types.DiagnosticSeverity.Error,
                        source="kerasfix",
                    )
                ],
            )
        )

    def changed(self, params: types.DidChangeTextDocumentParams) -> types.DidOpenTextDocumentParams | None:
        """For a lost document: the document to open again when the change carries its whole
        text (the changes after a whole-text one are applied to it), else None."""
        uri = params.text_document.uri
        lost = self._lost[uri]
        lost.version = params.text_document.version
        changes = params.content_changes
        whole = [i for i, event in enumerate(changes) if isinstance(event, types.TextDocumentContentChangeWholeDocument)]
        if not whole:
            return None
        lines = Lines(changes[whole[-1]].text, self._server.workspace.position_encoding or UTF16)
        try:
            for event in changes[whole[-1] + 1 :]:
                lines = apply_change(lines, event)
        except ChangeRejected as error:
            lost.reason = str(error)
            return None
        return self.found(uri, lost.version, lines.text)

    def saved(self, params: types.DidSaveTextDocumentParams) -> types.DidOpenTextDocumentParams | None:
        """For a lost document saved with its text: the document to open again."""
        uri = params.text_document.uri
        if params.text is None:
            return None
        return self.found(uri, self._lost[uri].version, params.text)

    def found(self, uri: str, version: int | None, text: str) -> types.DidOpenTextDocumentParams:
        self._lost.pop(uri, None)
        log.info("%s: the whole text came back; linting it again", uri)
        item = types.TextDocumentItem(uri=uri, language_id="python", version=version or 0, text=text)
        return types.DidOpenTextDocumentParams(item)

    def closed(self, uri: str) -> None:
        """A lost document closed (or opened again): drop it; clear its diagnostic on close."""
        self._lost.pop(uri, None)
