"""Hover text: a short card of a finding, and the Keras 3 counterpart of a Keras 2 / TF name.

The counterpart's real signature and first docstring line come from jedi, in its static mode,
from the library folders of the Python the server runs in and the site-packages of the
`pythonPath` environment (read, never run). jedi runs on its own thread with a time bound; a
slow or failed lookup only leaves the signature out.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures
import logging
import os
import queue
import re
import site
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from lsprotocol import types

from kerasfix.rules.engine import python_ast
from kerasfix.rules.engine.codes import known_code
from kerasfix.rules.engine.model import SYNTAX_ERROR_CODE
from kerasfix.rules.engine.tables import load_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

log = logging.getLogger("kerasfix.server")

# How long a hover waits for jedi's signature before answering without it.
SIGNATURE_WAIT = 0.12

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*")


@lru_cache(maxsize=1)
def counterparts() -> dict[str, dict[str, str]]:
    text = resources.files(__package__).joinpath("data", "counterparts.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["names"]


@lru_cache(maxsize=1)
def _keras3_names() -> frozenset[str]:
    return load_lines("keras3_api.txt")


@lru_cache(maxsize=1)
def _tfkeras_only() -> frozenset[str]:
    return load_lines("tfkeras_only.txt")


def dotted_at(line: str, column: int) -> tuple[str, int, int] | None:
    """The dotted name under `column` (code points), cut after the part the cursor is on:
    hovering `reduce_sum` in `tf.reduce_sum(x)` gives `tf.reduce_sum`, hovering `tf` gives `tf`.
    Also returns the code-point range of that text."""
    for match in _IDENTIFIER.finditer(line):
        if match.start() <= column <= match.end():
            text = match.group()
            cut = column - match.start()
            end = text.find(".", cut)
            end = len(text) if end < 0 else end
            while end > 0 and text[end - 1].isspace():
                end -= 1
            return re.sub(r"\s+", "", text[:end]), match.start(), match.start() + end
        if match.start() > column:
            break
    return None


class ModuleNames:
    """A module's imports (local name -> qualified name) and its functions, whose own names
    (parameters, assignments, imports) shadow the module's imports inside them."""

    def __init__(self, imports: dict[str, str], functions: Sequence[ast.FunctionDef | ast.AsyncFunctionDef] = ()) -> None:
        self.imports = imports
        self._functions = functions
        self._bound: dict[int, frozenset[str]] = {}

    def qualify(self, dotted: str, line: int) -> str | None:
        """The qualified name of `dotted` used on 0-based `line`, or None."""
        head, _, rest = dotted.partition(".")
        for function in self._functions:
            if function.lineno <= line + 1 <= (function.end_lineno or function.lineno):
                bound = self._bound.get(id(function))
                if bound is None:
                    bound = self._bound[id(function)] = _bound_in(function)
                if head in bound:
                    return None
        base = self.imports.get(head)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base


def _import_bindings(stmt: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    if isinstance(stmt, ast.Import):
        return [
            (alias.asname, alias.name) if alias.asname else (alias.name.split(".", 1)[0],) * 2
            for alias in stmt.names
        ]
    if not stmt.module or stmt.level:
        return []
    return [(alias.asname or alias.name, f"{stmt.module}.{alias.name}") for alias in stmt.names if alias.name != "*"]


def _bound_in(function: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    arguments = function.args
    names = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    names.update(a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None)
    for node in (n for stmt in function.body for n in ast.walk(stmt)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(local for local, _ in _import_bindings(node))
    return frozenset(names)


def module_names(text: str) -> ModuleNames | None:
    """The names of a module's source; None if it does not parse."""
    try:
        tree = python_ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    imports: dict[str, str] = {}
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    # Statements only: names bound by expressions (lambda parameters) are not worth a walk
    # over every node of a large file.
    todo: list[tuple[ast.stmt, bool]] = [(stmt, False) for stmt in reversed(tree.body)]
    while todo:
        stmt, in_function = todo.pop()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if not in_function:  # a function's own imports are among its bound names
                imports.update(_import_bindings(stmt))
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(stmt)
            in_function = True
        nested = [*getattr(stmt, "body", ()), *getattr(stmt, "orelse", ()), *getattr(stmt, "finalbody", ())]
        for handler in getattr(stmt, "handlers", ()):
            nested.extend(handler.body)
        todo.extend((n, in_function) for n in reversed(nested) if isinstance(n, ast.stmt))
    return ModuleNames(imports, functions)


@dataclass(frozen=True)
class Counterpart:
    original: str
    replacement: str | None
    note: str | None


def counterpart(qualified: str) -> Counterpart | None:
    """What Keras 3 offers for a qualified name, if the name is Keras 2 or TensorFlow API."""
    table = counterparts()
    # The engine's name tables come with LibCST: imported on the first hover over a name.
    from kerasfix.rules.engine.context import keras_api

    api = keras_api(qualified)
    if api is not None:
        name, origin = api
        key = f"keras.{name}" if name else "keras"
        entry = table.get(key)
        if entry is not None:
            return Counterpart(qualified, entry.get("keras"), entry.get("note"))
        if key in _keras3_names():
            if origin == "keras":
                return None
            return Counterpart(qualified, key, None)
        if key in _tfkeras_only():
            return Counterpart(qualified, None, "Exists only in the `tf.keras` compatibility namespace (TensorFlow >= 2.16): plain `keras` 3 has no such name.")
        if name and not any(n.startswith(key + ".") for n in _keras3_names()):
            return Counterpart(qualified, None, "Keras 3.15.1 has no such public name.")
        return None
    if qualified.startswith("tensorflow."):
        entry = table.get(qualified)
        if entry is None and qualified.startswith("tensorflow.math."):
            entry = table.get("tensorflow." + qualified[len("tensorflow.math."):])
        if entry is None and qualified.startswith("tensorflow."):
            entry = table.get("tensorflow.math." + qualified[len("tensorflow."):])
        if entry is not None:
            return Counterpart(qualified, entry.get("keras"), entry.get("note"))
    return None


def render_counterpart(
    spelled: str, found: Counterpart, signature: tuple[str, str] | None, markdown: bool = True
) -> str | None:
    """The counterpart of `spelled`; None when there is nothing to say (the Keras 3 name is
    spelled the same, with no note and no signature)."""
    code = _code if markdown else _plain
    parts = []
    if found.replacement and found.replacement != spelled:
        parts.append(
            f"**`{spelled}`** → Keras 3: **`{found.replacement}`**"
            if markdown
            else f"{spelled} → Keras 3: {found.replacement}"
        )
    elif not found.replacement:
        parts.append(f"{code(spelled, bold=True)}: no direct Keras 3 counterpart")
    if found.note:
        parts.append(found.note)
    if signature is not None:
        text, doc = signature
        block = f"```python\n{text}\n```" if markdown else text
        parts.append(block + (f"\n{doc}" if doc else ""))
    return "\n\n".join(parts) if parts else None


def _code(text: str, bold: bool = False) -> str:
    return f"**`{text}`**" if bold else f"`{text}`"


def _plain(text: str, bold: bool = False) -> str:
    return text


# A note longer than this (or of several paragraphs) stays out of the card: the card is a
# glance, the rule's page has the detail.
NOTE_LIMIT = 240

_FIX_STATE = {
    None: "No automatic fix",
    True: "Quick fix available",
    False: "Unsafe fix available (may change behaviour)",
}


def wants_markdown(capabilities: types.ClientCapabilities | None) -> bool:
    """Whether the client shows Markdown hovers: it says so in `textDocument.hover.
    contentFormat` (a client that does not, such as eglot without markdown-mode, would show
    the raw `#` and backticks)."""
    hover = capabilities.text_document.hover if capabilities and capabilities.text_document else None
    return bool(hover and hover.content_format and types.MarkupKind.Markdown in hover.content_format)


def finding_card(diagnostic: types.Diagnostic, markdown: bool = True) -> str | None:
    """A finding's hover: its code and message, its note if short, whether it has a fix, and
    the link to the rule's page (the diagnostic's own, so the `docsUrl` setting holds)."""
    code = str(diagnostic.code)
    if known_code(code) is None:
        return None
    data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
    fix = data.get("fix")
    state = _FIX_STATE[bool(fix.get("safe")) if isinstance(fix, dict) else None]
    parts = [f"**{code}** {diagnostic.message}" if markdown else f"{code}: {diagnostic.message}"]
    note = data.get("note")
    if isinstance(note, str) and len(note) <= NOTE_LIMIT and "\n\n" not in note:
        parts.append(note.replace("\n", " "))
    href = diagnostic.code_description.href if diagnostic.code_description else None
    if href is None:
        parts.append(state)
    elif markdown:
        parts.append(f"{state} · [Documentation]({href})")
    else:
        parts.append(f"{state}\nDocs: {href}")
    return "\n\n".join(parts)


def interpreter_sys_path() -> list[str]:
    """The library folders of the interpreter running the server, in sys.path order: those of
    its installation and the user's site-packages. The working directory and PYTHONPATH
    entries elsewhere are left out: a workspace may control them."""
    installations = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    if site.ENABLE_USER_SITE:
        installations.add(Path(site.getusersitepackages()).resolve())
    kept = []
    for entry in sys.path:
        if entry and os.path.isabs(entry):
            folder = Path(entry).resolve()
            if any(folder == root or root in folder.parents for root in installations):
                kept.append(entry)
    return kept


def _pyvenv_version(root: Path) -> str | None:
    """`X.Y` from an environment's pyvenv.cfg (`version` or virtualenv's `version_info`)."""
    try:
        text = (root / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^\s*version(?:_info)?\s*=\s*(\d+\.\d+)", text, re.MULTILINE)
    return match.group(1) if match else None


def environment_site_packages(python: str) -> list[str]:
    """The site-packages of the environment whose interpreter is `python` (or whose folder it
    is), found from the environment's layout without running anything: `lib/pythonX.Y/
    site-packages` beside the interpreter's `bin` (X.Y from pyvenv.cfg, else any), Windows'
    `Lib/site-packages`, Debian's `dist-packages`."""
    interpreter = Path(python)
    roots = [interpreter] if interpreter.is_dir() else [interpreter.parent.parent, interpreter.parent]
    found: list[str] = []
    for root in roots:
        version = _pyvenv_version(root) or "3*"
        patterns = (f"lib/python{version}/site-packages", f"lib/python{version}/dist-packages", "lib/python3/dist-packages", "Lib/site-packages")
        for pattern in patterns:
            found.extend(str(folder) for folder in sorted(root.glob(pattern)) if folder.is_dir() and str(folder) not in found)
    return found


class Signatures:
    """Signatures from jedi, looked up on one background thread and cached by name.

    jedi reads only what the server hands it, so that nothing of the workspace can make it run
    code: a jedi project of the server's own, rooted in a private empty folder (left alone,
    jedi would load a `.jedi/project.json` from the working directory, which can put the
    workspace on its path, have it import the workspace's compiled modules or run a program
    as its Python), whose path is the server interpreter's library folders and the `pythonPath`
    environment's site-packages (found from its layout: that interpreter is never run). jedi
    inspects compiled modules of the server's own library folders only, in a subprocess of the
    server's interpreter.

    The thread is a daemon: a lookup still running (jedi's first one takes seconds) never keeps
    the server from exiting."""

    def __init__(self, python: str | None = None) -> None:
        self._python = python
        self._lock = threading.Lock()
        self._futures: dict[str, concurrent.futures.Future] = {}
        self._queue: queue.SimpleQueue[tuple[str, concurrent.futures.Future] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._environment = None
        self._project = None
        self._root: tempfile.TemporaryDirectory | None = None

    def set_python(self, python: str | None) -> None:
        with self._lock:
            if python != self._python:
                self._python = python
                self._project = None
                self._futures.clear()

    def lookup(self, name: str) -> concurrent.futures.Future:
        """A future for `(signature, first docstring line)` of `name` (None if unknown)."""
        with self._lock:
            future = self._futures.get(name)
            # A hover that stops waiting cancels the future if jedi had not started on it: the
            # next hover asks again.
            if future is None or future.cancelled():
                future = self._futures[name] = concurrent.futures.Future()
                self._queue.put((name, future))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="kerasfix-jedi", daemon=True)
                    self._thread.start()
            return future

    def warm(self) -> None:
        self.lookup("keras.ops.sum")

    def shutdown(self) -> None:
        self._queue.put(None)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            name, future = item
            if future.set_running_or_notify_cancel():
                found = self._find(name)
                future.set_result(found)
                log.debug("jedi looked up %s: %s", name, "a signature" if found else "nothing")

    def _script(self, code: str):
        """A jedi Script of `code` that sees only the project and interpreter chosen here."""
        import jedi
        from jedi.api.environment import SameEnvironment

        if self._environment is None:
            # The server's own interpreter, never one that a setting or the workspace names.
            self._environment = SameEnvironment()
        return jedi.Script(code, project=self._jedi_project(), environment=self._environment)

    def _jedi_project(self):
        with self._lock:
            project, python = self._project, self._python
        if project is not None:
            return project
        import jedi

        if self._root is None:
            self._root = tempfile.TemporaryDirectory(prefix="kerasfix-jedi-")
        sys_path = interpreter_sys_path()
        if python and os.path.isabs(python):
            sys_path = environment_site_packages(python) + sys_path
        project = jedi.Project(self._root.name, sys_path=sys_path, load_unsafe_extensions=False, smart_sys_path=False)
        with self._lock:
            if python == self._python:  # else the setting changed meanwhile: build anew next time
                self._project = project
        return project

    def _find(self, name: str) -> tuple[str, str] | None:
        try:
            script = self._script(f"import {name.rpartition('.')[0]}\n{name}")
            for found in script.infer(2, len(name)):
                signatures = found.get_signatures()
                if not signatures:
                    continue
                docstring = found.docstring(raw=True).strip()
                first = docstring.split("\n\n", 1)[0].replace("\n", " ") if docstring else ""
                return signatures[0].to_string(), first
        except Exception:  # noqa: BLE001 - no signature is better than a failed hover
            log.debug("jedi could not look up %s", name, exc_info=True)
        return None


def contains(where: types.Range, position: types.Position) -> bool:
    start, end = where.start, where.end
    return (start.line, start.character) <= (position.line, position.character) <= (end.line, end.character)


async def build_hover(
    diagnostics: Sequence[types.Diagnostic],
    lines,
    position: types.Position,
    qualify: Callable[[str], Awaitable[str | None]],
    signatures: Signatures,
    markdown: bool = True,
) -> types.Hover | None:
    """The hover at `position` of a text (`lines`, a `lsp_text.Lines`) with these published
    diagnostics: the Keras 3 counterpart of the dotted name under the cursor (`qualify` turns
    its spelling into a qualified name, or None), then a short card of each finding there (the
    rule's whole page is the "Show documentation" action's). `markdown`: whether the client
    shows Markdown (`wants_markdown`), else plain text."""
    sections: list[str] = []
    hover_range: types.Range | None = None
    for diagnostic in diagnostics:
        if diagnostic.code == SYNTAX_ERROR_CODE or not contains(diagnostic.range, position):
            continue
        card = finding_card(diagnostic, markdown)
        if card:
            sections.append(card)
            hover_range = hover_range or diagnostic.range
    if position.line < len(lines.starts):
        column = lines.offset(position) - lines.starts[position.line]
        found = dotted_at(lines.line_text(position.line), column)
        if found is not None:
            spelled, start, end = found
            qualified = await qualify(spelled)
            target = counterpart(qualified) if qualified else None
            if target is not None:
                signature = None
                if target.replacement:
                    future = signatures.lookup(target.replacement)
                    try:
                        signature = await asyncio.wait_for(asyncio.wrap_future(future), SIGNATURE_WAIT)
                    except (asyncio.TimeoutError, asyncio.CancelledError):
                        signature = None
                rendered = render_counterpart(spelled, target, signature, markdown)
                if rendered:
                    sections.insert(0, rendered)
                    offset = lines.starts[position.line]
                    hover_range = lines.range(offset + start, offset + end)
    if not sections:
        return None
    kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
    return types.Hover(
        contents=types.MarkupContent(kind=kind, value="\n\n".join(sections)),
        range=hover_range,
    )
