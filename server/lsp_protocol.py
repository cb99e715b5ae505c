"""How the server admits the client's messages and answers them, per JSON-RPC and LSP.

Every request gets a response: a malformed message an Invalid Request (-32600), params that do
not validate Invalid Params (-32602), a request before `initialize` ServerNotInitialized
(-32002), a second `initialize` or any request after `shutdown` Invalid Request. Notifications
before `initialize` or after `shutdown` are dropped, `exit` excepted. Error responses never
carry a traceback (pygls puts one in `data` when a handler fails): it goes to the log instead.

It also keeps the documents' text in step with the editor's (`lsp_sync`): a `didChange` that
cannot be applied marks its document lost, and the whole text brings it back.
"""

from __future__ import annotations

import logging
from typing import Any

from cattrs import transform_error
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol, lsp_method

from .lsp_sync import LostDocuments
from .lsp_text import UTF8

log = logging.getLogger("kerasfix.server")


def envelope_problem(value: Any) -> tuple[int | str | None, str] | None:
    """Why `value` is not a JSON-RPC 2.0 request, notification or response (with the id to
    answer with: null when the id itself is unusable), or None when it is one."""
    if not isinstance(value, dict):
        return None, "a message must be a JSON object"
    has_id = "id" in value
    msg_id = value.get("id")
    if has_id and (not isinstance(msg_id, (int, str)) or isinstance(msg_id, bool)):
        return None, "the id must be an integer or a string"
    if value.get("jsonrpc") != "2.0":
        return msg_id, 'jsonrpc must be "2.0"'
    if "method" in value:
        if not isinstance(value["method"], str):
            return msg_id, "the method must be a string"
        if value.get("params") is not None and not isinstance(value["params"], (dict, list)):
            return msg_id, "params must be an object or an array"
        return None
    if has_id and ("result" in value or "error" in value):
        return None
    return msg_id, "neither a request, a notification nor a response"


def _validation_errors(error: BaseException) -> str:
    """What was wrong with a message's params, in cattrs' words (without a traceback)."""
    cause = error.__cause__ or error
    try:
        details = transform_error(cause)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - not a validation error: its own text will do
        details = [str(cause)]
    return "; ".join(details[:3])[:500]


class KerasfixProtocol(LanguageServerProtocol):
    """Prefers UTF-8 positions whenever the client offers them (no conversion for the many
    clients that count bytes), else the client's first choice, else UTF-16."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost = LostDocuments(self._server)
        self._initialize_accepted = False

    # ----- messages, as `lsp_io` reads them ------------------------------------------------

    def receive(self, value: Any) -> None:
        """Checks one decoded message against the protocol, then dispatches it."""
        problem = envelope_problem(value)
        if problem is not None:
            msg_id, reason = problem
            log.warning("invalid message from the client: %s", reason)
            self._reply_error(msg_id, JsonRpcInvalidRequest(f"Invalid Request: {reason}"))
            return
        method = value.get("method")
        is_request = method is not None and "id" in value
        if method is not None and (refusal := self._refusal(method)) is not None:
            if is_request:
                self._reply_error(value["id"], refusal)
            else:
                log.debug("dropping %s: %s", method, refusal.message)
            return
        try:
            message = self.structure_message(value)
        except Exception as error:  # noqa: BLE001 - pygls raises its own errors from cattrs'
            self._invalid_params(value, _validation_errors(error))
            return
        if method == types.INITIALIZE:
            self._initialize_accepted = True
        try:
            self.handle_message(message)
        except Exception:  # noqa: BLE001 - one message must not stop the server
            log.exception("handling %s failed", method)

    def unreadable(self, reason: str) -> None:
        log.error("a message from the client is not JSON (%s)", reason)
        self._reply_error(None, JsonRpcParseError("Parse error: the message is not JSON"))

    def stream_broken(self, reason: str) -> None:
        message = f"kerasfix server: the editor's messages cannot be read ({reason}); exiting so that the editor restarts it"
        log.error("%s", message)
        self._server.window_show_message(types.ShowMessageParams(types.MessageType.Error, message))

    def _refusal(self, method: str) -> JsonRpcException | None:
        """The error a request gets at this point of the session's life (None: admitted)."""
        if method == types.EXIT:
            return None
        if self._shutdown:
            return JsonRpcInvalidRequest(f"Invalid Request: the server is shut down ({method})")
        if method == types.INITIALIZE:
            return JsonRpcInvalidRequest("Invalid Request: already initialized") if self._initialize_accepted else None
        if not self._initialize_accepted:
            return JsonRpcServerNotInitialized(f"ServerNotInitialized: {method} before initialize")
        return None

    def _invalid_params(self, value: dict[str, Any], details: str) -> None:
        method = value.get("method")
        if method is None:
            log.warning("unreadable response from the client: %s", details)
        elif "id" in value:
            log.warning("invalid params for %s: %s", method, details)
            self._reply_error(value["id"], JsonRpcInvalidParams(f"Invalid params for {method}: {details}"))
        else:
            log.error("dropping %s: invalid params: %s", method, details)
            if method == types.TEXT_DOCUMENT_DID_CHANGE:
                self._change_rejected(value.get("params"), details)

    def _change_rejected(self, params: Any, details: str) -> None:
        document = params.get("textDocument") if isinstance(params, dict) else None
        uri = document.get("uri") if isinstance(document, dict) else None
        version = document.get("version") if isinstance(document, dict) else None
        if isinstance(uri, str):
            self.lost.lose(uri, version if isinstance(version, int) and not isinstance(version, bool) else None, details)

    def _reply_error(self, msg_id: int | str | None, error: JsonRpcException) -> None:
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": error.code, "message": error.message}})

    def _send_response(self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None) -> None:
        if error is not None and error.data is not None:
            log.debug("error data not sent to the client: %s", error.data)
            error = types.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)

    # ----- lifecycle ---------------------------------------------------------------------------

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams):
        general = params.capabilities.general
        if general is not None and general.position_encodings and UTF8 in general.position_encodings:
            general.position_encodings = [UTF8, *(e for e in general.position_encodings if e != UTF8)]
        result = yield from super().lsp_initialize(params)
        text_document = params.capabilities.text_document
        if text_document is None or text_document.diagnostic is None:
            # A client that cannot pull diagnostics has them pushed: it is not offered pulls.
            result.capabilities.diagnostic_provider = None
        return result

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any):
        """pygls's own, cancelling the other requests over a copy of their table: a cancelled
        request's callback removes it from the table at once, and pygls, iterating over the
        table itself, answered a shutdown during a workspace check with an internal error."""
        if (handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield handler, args, None
        current = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    # ----- document sync -------------------------------------------------------------------

    # The server keeps each open file's text itself (`OpenDocument`, updated with its line index
    # in `did_change`): pygls's copy of it was never read, and keeping it up to date cost more
    # than the rest of a keystroke. Notebook cells stay pygls's (notebookDocument/didChange).
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        self.lost.closed(params.text_document.uri)
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if params.text_document.uri in self.lost:
            # Only a change carrying the whole text can bring a lost document back.
            if (reopened := self.lost.changed(params)) is not None:
                yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, reopened)
            return
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_SAVE)
    def lsp_text_document__did_save(self, params: types.DidSaveTextDocumentParams):
        if params.text_document.uri in self.lost:
            if (reopened := self.lost.saved(params)) is not None:
                yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, reopened)
            return
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_SAVE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        uri = params.text_document.uri
        if uri in self.lost:
            self.lost.closed(uri)
            self._server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        yield from super().lsp_text_document__did_close(params)

    def _user_handler(self, method: str, params: Any):
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None
