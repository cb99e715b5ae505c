"""The Deprecated tag (struck through by editors) is on a removed API, never on a string
literal a rule points at (the path given to a saving call)."""

from __future__ import annotations

import pytest
from lsprotocol import types

SAVE = (
    "import keras\n"
    "from keras.models import save_model\n"
    "model = keras.Sequential()\n"
    'model.save("exported_model")\n'
    "def export(root):\n"
    '    save_model(model, f"{root}/classifier/")\n'
    "opt = keras.optimizers.Adam(lr=1e-3)\n"
)


@pytest.mark.options({"select": ["KER301", "KER601"]})
async def test_deprecated_tag_only_on_the_api(session):
    uri = session.open("save.py", SAVE)
    diagnostics = await session.diagnostics(uri, 1)
    lines = SAVE.splitlines()
    seen = [
        (d.code, lines[d.range.start.line][d.range.start.character : d.range.end.character], d.tags)
        for d in sorted(diagnostics, key=lambda d: d.range.start.line)
    ]
    assert seen == [
        ("KER301", '"exported_model"', None),
        ("KER301", 'f"{root}/classifier/"', None),
        ("KER601", "lr=1e-3", (types.DiagnosticTag.Deprecated,)),
    ]
