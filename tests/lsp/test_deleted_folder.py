"""A server started in a folder that has been deleted (an editor launched from a terminal left
in a removed checkout) still starts its engine and lints: it only cannot name its working
folder."""

from __future__ import annotations

import os

from raw_server import RawServer


def test_server_started_in_a_deleted_folder_lints(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    # Removed in the new process once it is inside the folder, before Python starts there.
    server = RawServer(cwd=gone, before_start=lambda: os.rmdir(gone))
    try:
        assert server.call("initialize", {"processId": None, "rootUri": project.as_uri(), "capabilities": {}})["result"]
        server.notify("initialized", {})
        uri = (project / "train.py").as_uri()
        server.open(uri, "import keras\nopt = keras.optimizers.Adam(lr=0.1)\n")
        published = server.published(uri, 1)
        assert [d["code"] for d in published["diagnostics"]] == ["KER601"]
        assert not gone.exists()
    finally:
        server.close()
