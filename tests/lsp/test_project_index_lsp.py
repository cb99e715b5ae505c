"""The language server knows the project around an opened file: a layer's Keras base may be in
another module, read from disk or from the buffer the editor has open, and it keeps that
knowledge live: a change of a base class re-publishes the files that depend on it."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path

from kerasfix.rules.engine import index_store

from conftest import WAIT, Session, logged

BASE = "from tensorflow import keras\n\n\nclass BaseLayer(keras.layers.Layer):\n    pass\n"
MID = "from .base import BaseLayer\n\n\nclass Mid(BaseLayer):\n    pass\n"
DISTANCE = (
    "import tensorflow as tf\n\nfrom .mid import Mid\n\n\n"
    "class PairDistance(Mid):\n"
    "    def call(self, a, b):\n"
    "        both = tf.concat([a, b], axis=-1)\n"
    "        count = tf.shape(both)[0]\n"
    "        return tf.gather(both, count)\n"
)

# A base that is no Keras class, and the same base deriving from a Keras layer.
PLAIN_BASE = "class BaseLayer:\n    def describe(self):\n        return 'plain'\n"
KERAS_BASE = "import tensorflow as tf\n\n\nclass BaseLayer(tf.keras.layers.Layer):\n    def describe(self):\n        return 'plain'\n"
PAIR_DISTANCE = (
    "import tensorflow as tf\n\nfrom .base import BaseLayer\n\n\n"
    "class PairDistance(BaseLayer):\n"
    "    def call(self, a, b):\n"
    "        return tf.concat([a, b], axis=-1)\n"
)
LAYER_FINDINGS = [("KER201", 7, 15)]

# The size of the workspace indexed in the background while a file is opened.
BIG_WORKSPACE = 2000


@pytest.fixture
def workspace(tmp_path: Path, request) -> Path:
    """The session's folder; for a test named `..._big_workspace_...`, a project of
    BIG_WORKSPACE modules (classes deriving from one another across modules) is there before
    the server starts."""
    root = tmp_path / "project"
    root.mkdir()
    if "big_workspace" in request.node.name:
        (root / "setup.cfg").write_text("", encoding="utf-8")
        for package in range(BIG_WORKSPACE // 100):
            folder = root / "big" / f"part{package}"
            folder.mkdir(parents=True)
            (folder / "__init__.py").write_text("", encoding="utf-8")
            for number in range(100):
                base = f"from .m{number - 1} import C{number - 1} as Base" if number else "from tensorflow import keras\n\nBase = keras.layers.Layer"
                (folder / f"m{number}.py").write_text(
                    f"import tensorflow as tf\n{base}\n\n\nclass C{number}(Base):\n"
                    "    def call(self, x):\n        return tf.reduce_sum(x, axis=-1)\n"
                    + "".join(f"\n\ndef helper_{i}(x):\n    return x * {i}\n" for i in range(10)),
                    encoding="utf-8",
                )
        (root / "big" / "__init__.py").write_text("", encoding="utf-8")
    return root


@pytest.fixture
def session(verbose_session: Session) -> Session:
    """Sessions whose server logs when the project index has taken in the changes sent to it."""
    return verbose_session


TOOK_IN = "the project index took in the changes"


def codes(diagnostics) -> list[tuple[str, int, int]]:
    return [(d.code, d.range.start.line, d.range.start.character) for d in diagnostics]


async def next_published(session: Session, uri: str, after: int, accept: Callable[[list], bool]) -> int:
    """Wait for a publication for `uri` past the first `after` ones whose findings `accept`
    takes; returns how many publications there were then."""

    async def wait() -> int:
        while True:
            for number, params in enumerate(session.published[after:], after + 1):
                if params.uri == uri and accept(codes(params.diagnostics)):
                    return number
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(wait(), WAIT * 2)


def layer_project(session: Session) -> Path:
    """pkg/base.py (no Keras class yet) and pkg/distance.py, whose class derives from it."""
    (session.root / "setup.cfg").write_text("", encoding="utf-8")
    (session.root / "pkg").mkdir()
    (session.root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (session.root / "pkg" / "base.py").write_text(PLAIN_BASE, encoding="utf-8")
    (session.root / "pkg" / "distance.py").write_text(PAIR_DISTANCE, encoding="utf-8")
    return session.root / "pkg" / "base.py"


def watched_change(session: Session, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=session.uri(str(path.relative_to(session.root))), type=types.FileChangeType.Changed)]
        )
    )


@pytest.mark.options({"select": ["KER2"]})
async def test_opening_a_layer_alone_publishes_the_ops_of_its_call(session):
    layers = session.root / "pkg" / "layers"
    layers.mkdir(parents=True)
    (session.root / "setup.cfg").write_text("", encoding="utf-8")
    for name, text in {"__init__.py": "", "base.py": BASE, "mid.py": MID}.items():
        (layers / name).write_text(text, encoding="utf-8")
    (session.root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    # Only distance.py is opened, and it is not even saved: its neighbours are read from disk.
    uri = session.open("pkg/layers/distance.py", DISTANCE)
    diagnostics = await session.diagnostics(uri, 1)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diagnostics] == [
        ("KER201", 7, 15),
        ("KER218", 8, 16),
        ("KER202", 9, 15),
    ]


@pytest.mark.options({"select": ["KER2"]})
async def test_a_base_class_changed_on_disk_re_publishes_the_files_deriving_from_it(session):
    base = layer_project(session)
    uri = session.open("pkg/distance.py", PAIR_DISTANCE)
    assert await session.diagnostics(uri, 1) == []
    count = len(session.published)
    # base.py becomes a Keras layer on disk (saved by another program, or by git).
    watched_change(session, base, KERAS_BASE)
    count = await next_published(session, uri, count, lambda found: found == LAYER_FINDINGS)
    assert session.published[count - 1].version == 1  # distance.py itself was not edited
    watched_change(session, base, PLAIN_BASE)
    await next_published(session, uri, count, lambda found: found == [])


@pytest.mark.options({"select": ["KER2"]})
async def test_an_unsaved_edit_of_a_base_class_re_publishes_the_files_deriving_from_it(session):
    layer_project(session)
    uri = session.open("pkg/distance.py", PAIR_DISTANCE)
    assert await session.diagnostics(uri, 1) == []
    base = session.open("pkg/base.py", PLAIN_BASE)
    await session.diagnostics(base, 1)
    count = len(session.published)
    # The buffer of base.py derives from a Keras layer; nothing is saved.
    session.replace_all(base, KERAS_BASE)
    count = await next_published(session, uri, count, lambda found: found == LAYER_FINDINGS)
    assert session.published[count - 1].version == 1
    # An edit inside a method changes no class: distance.py is not checked again. (Its next
    # publication must be the one that follows the class change below.)
    # (Every change before was taken in before distance.py was checked again.)
    seen = await logged(session, TOOK_IN)
    session.replace_all(base, KERAS_BASE.replace("'plain'", "'keras'"))
    await session.diagnostics(base, 3)
    await logged(session, TOOK_IN, seen)  # the buffer has reached the index on its own
    session.replace_all(base, PLAIN_BASE)
    number = await next_published(session, uri, count, lambda found: found == [])
    assert [p for p in session.published[count : number - 1] if p.uri == uri] == []
    # Closed unsaved: the file on disk (no Keras class) stands for it; still no findings.
    session.replace_all(base, KERAS_BASE)
    count = await next_published(session, uri, number, lambda found: found == LAYER_FINDINGS)
    session.client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(base)))
    await next_published(session, uri, count, lambda found: found == [])


@pytest.mark.options({"select": ["KER2"]})
async def test_fix_all_sees_the_unsaved_buffer_of_a_base_class(session):
    layer_project(session)
    uri = session.open("pkg/distance.py", PAIR_DISTANCE)
    assert await session.diagnostics(uri, 1) == []
    base = session.open("pkg/base.py", PLAIN_BASE)
    count = len(session.published)
    session.replace_all(base, KERAS_BASE)
    await next_published(session, uri, count, lambda found: found == LAYER_FINDINGS)
    # Fix-all runs in an engine process of its own: it knows the buffer too.
    actions = await session.code_actions(uri, [], only=["source.fixAll.kerasfix"])
    [action] = actions
    fixed = session.apply(uri, action.edit)
    assert "keras.ops.concatenate([a, b], axis=-1)" in fixed


TF_KERAS_LAYER = (
    "import tensorflow as tf\nfrom tensorflow import keras\n\n\n"
    "class PairConcat(keras.layers.Layer):\n"
    "    def call(self, a, b):\n"
    "        return tf.concat([a, b], axis=-1)\n"
)
PLAIN_HELPER = "def double(x):\n    return x + x\n"
KERAS_3_HELPER = "from keras import ops\n\n\ndef double(x):\n    return ops.add(x, x)\n"


@pytest.mark.options({"select": ["KER2"]})
async def test_a_module_written_for_keras_3_elsewhere_re_publishes_a_tf_keras_module(session):
    (session.root / "setup.cfg").write_text("", encoding="utf-8")
    (session.root / "pkg").mkdir()
    (session.root / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    helper = session.root / "pkg" / "helper.py"
    helper.write_text(PLAIN_HELPER, encoding="utf-8")
    uri = session.open("pkg/layer.py", TF_KERAS_LAYER)
    # A Keras 2 project: the module is code to migrate.
    assert codes(await session.diagnostics(uri, 1)) == [("KER201", 6, 15)]
    count = len(session.published)
    # Another module of the package is ported to Keras 3: the `tf.keras` module is kept for
    # TensorFlow by choice, and its TensorFlow op is no finding there.
    watched_change(session, helper, KERAS_3_HELPER)
    count = await next_published(session, uri, count, lambda found: found == [])
    assert session.published[count - 1].version == 1  # layer.py itself was not edited
    watched_change(session, helper, PLAIN_HELPER)
    await next_published(session, uri, count, lambda found: found == [("KER201", 6, 15)])


@pytest.mark.options({"select": ["KER2"]})
async def test_a_big_workspace_is_indexed_in_the_background_after_the_first_diagnostics(session):
    ends: list[int] = []
    progress = session.client.protocol.fm.features[types.PROGRESS]

    def record(params: types.ProgressParams) -> None:
        if isinstance(params.value, dict) and params.value.get("kind") == "end" or isinstance(params.value, types.WorkDoneProgressEnd):
            ends.append(len(session.published))
        progress(params)

    session.client.protocol.fm.features[types.PROGRESS] = record
    # Opened while the server indexes 2,000 modules: its diagnostics come first.
    uri = session.open("big/part7/m3.py", (session.root / "big/part7/m3.py").read_text(encoding="utf-8"))
    assert codes(await session.diagnostics(uri, 1)) == [("KER201", 6, 15)]
    first = next(n for n, p in enumerate(session.published, 1) if p.uri == uri)
    window = session.client.capabilities.window
    assert window and window.work_done_progress  # every client profile tested shows progress

    async def ended() -> None:
        while not ends:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(ended(), 120)
    assert first <= ends[0]
    [reports] = [r for token, r in session.client.progress_reports.items() if str(token).startswith("kerasfix-index")]
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert reports[-1].message == f"{len(list(session.root.rglob('*.py')))} modules"
    percentages = [r.percentage for r in reports[1:-1]]
    assert percentages == sorted(percentages)
    # What was read is kept for the next server and `kerasfix check` (the suite's cache folder),
    # except the open buffer's text.
    store = index_store.Store(session.root, Path(os.environ["KERASFIX_CACHE_DIR"])).path
    modules = json.loads(store.read_text(encoding="utf-8"))["modules"]
    assert "big.part7.m3" not in modules and "big.part7.m4" in modules
    assert len(modules) == len(list(session.root.rglob("*.py"))) - 1


async def test_a_workspace_folder_added_later_is_indexed_with_progress(session):
    added = session.root.parent / "added"
    (added / "pkg").mkdir(parents=True)
    (added / "setup.cfg").write_text("", encoding="utf-8")
    for number in range(250):
        (added / "pkg" / f"m{number}.py").write_text(f"class C{number}:\n    pass\n", encoding="utf-8")
    session.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=from_fs_path(str(added)), name="added")], removed=[]
            )
        )
    )

    def ended() -> list | None:
        for token, reports in session.client.progress_reports.items():
            if str(token).startswith("kerasfix-index") and reports and isinstance(reports[-1], types.WorkDoneProgressEnd):
                return reports
        return None

    async def wait() -> list:
        while (reports := ended()) is None:
            await asyncio.sleep(0.05)
        return reports

    reports = await asyncio.wait_for(wait(), 120)
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    # Both folders: the first one's few files, and the 250 modules of the one added.
    assert reports[-1].message == f"{250 + len(list(session.root.rglob('*.py')))} modules"
