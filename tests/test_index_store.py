"""The project index's store on disk (`engine/index_store.py`): a later process answers from it
without reading unchanged modules, reads a changed module again, and never trusts a store it
cannot use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kerasfix.rules.engine import index_store, project
from kerasfix.rules.engine.project import ModuleInfo, ProjectIndex
from kerasfix.server.cli import main

BASE = "import keras\n\nclass BaseLayer(keras.layers.Layer):\n    pass\n"
DISTANCE = "from .base import BaseLayer\n\nclass PairDistance(BaseLayer):\n    pass\n"
TRAIN = (
    "import keras\nimport tensorflow as tf\nfrom keras import backend as K\n\n\ndef backend():\n    return keras.config.backend()\n\n\n"
    "@keras.saving.register_keras_serializable()\nclass Net(keras.Model):\n"
    "    def get_config(self):\n        return {}\n\n    def train_step(self, data):\n"
    "        import tensorflow as tf\n        with tf.GradientTape() as tape:\n            pass\n\n\n"
    "def register(cls):\n    return keras.saving.register_keras_serializable()(cls)\n\n\n"
    "Net().save('net.keras')\n"
)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "proj"
    (root / "pkg" / "layers").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "layers" / "__init__.py").write_text("from .base import BaseLayer\n")
    (root / "pkg" / "layers" / "base.py").write_text(BASE)
    (root / "pkg" / "layers" / "distance.py").write_text(DISTANCE)
    (root / "pkg" / "train.py").write_text(TRAIN)
    return root


@pytest.fixture
def store(tmp_path, monkeypatch):
    folder = tmp_path / "store"
    monkeypatch.setattr(index_store, "_FOLDER", folder)
    return folder


def _reads(monkeypatch) -> list[str]:
    """The modules parsed with `ast` from now on."""
    parsed: list[str] = []
    real = project._parse_tree

    def counting(path, data):
        parsed.append(path.name)
        return real(path, data)

    monkeypatch.setattr(project, "_parse_tree", counting)
    return parsed


def test_module_facts_survive_the_round_trip(tree):
    info = ProjectIndex(tree).module("pkg.train")
    assert info is not None and info.classes and info.saves and info.registering
    assert info.step_backends and info.configured and info.backend_functions
    data = json.loads(json.dumps(info.to_data()))
    assert ModuleInfo.from_data(data) == info


def test_a_later_index_answers_from_the_store_without_reading(tree, store, monkeypatch):
    first = ProjectIndex(tree)
    answers = (first.is_keras_class("pkg.layers.distance.PairDistance"), first.saving_sites(), first.module("pkg.train"))
    first.save_store()
    assert len(list(store.glob("index-*.json"))) == 1

    parsed = _reads(monkeypatch)
    second = ProjectIndex(tree)
    again = (second.is_keras_class("pkg.layers.distance.PairDistance"), second.saving_sites(), second.module("pkg.train"))
    assert again == answers and answers[0] is True
    assert parsed == []


def test_a_changed_module_is_read_again(tree, store, monkeypatch):
    first = ProjectIndex(tree)
    assert first.is_keras_class("pkg.layers.distance.PairDistance")
    first.save_store()
    (tree / "pkg" / "layers" / "base.py").write_text("class BaseLayer:\n    pass\n")

    parsed = _reads(monkeypatch)
    second = ProjectIndex(tree)
    assert not second.is_keras_class("pkg.layers.distance.PairDistance")
    assert parsed == ["base.py"]


def test_a_store_of_other_code_or_broken_is_not_used(tree, store, monkeypatch):
    first = ProjectIndex(tree)
    first.module("pkg.train")
    first.save_store()
    path = next(store.glob("index-*.json"))
    document = json.loads(path.read_text())
    document["format"] = "another"
    path.write_text(json.dumps(document))
    parsed = _reads(monkeypatch)
    assert ProjectIndex(tree).module("pkg.train") is not None
    assert parsed == ["train.py"]

    for broken in ("{", "[]", json.dumps({**document, "format": index_store._format(), "modules": {"pkg.train": 3}})):
        path.write_text(broken)
        parsed.clear()
        assert ProjectIndex(tree).module("pkg.train") is not None
        assert parsed == ["train.py"]


def test_writers_of_one_project_merge(tree, store):
    one, two = ProjectIndex(tree), ProjectIndex(tree)
    one.module("pkg.train")
    two.module("pkg.layers.base")
    one.save_store()
    two.save_store()
    modules = json.loads(next(store.glob("index-*.json")).read_text())["modules"]
    assert {"pkg.train", "pkg.layers.base"} <= set(modules)


def test_open_buffers_are_not_stored(tree, store):
    index = ProjectIndex(tree)
    index.set_overlay(tree / "pkg" / "layers" / "base.py", "class BaseLayer(:\n")
    index.module("pkg.layers.base")
    index.save_store()
    assert not list(store.glob("index-*.json"))


def test_a_folder_that_cannot_be_written_costs_nothing(tree, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(index_store, "_FOLDER", blocker / "store")  # under a file: mkdir fails
    index = ProjectIndex(tree)
    assert index.is_keras_class("pkg.layers.distance.PairDistance")
    index.save_store()  # no error


def test_no_folder_no_store(tree, monkeypatch):
    monkeypatch.setattr(index_store, "_FOLDER", None)
    index = ProjectIndex(tree)
    index.module("pkg.train")
    index.save_store()
    assert index._store is None


def test_an_index_follows_the_folder_the_process_names_now(tree, tmp_path, monkeypatch):
    """An index made while no folder was in use keeps its modules in the folder named later
    (a second `check` in the same process, with other flags)."""
    monkeypatch.setattr(index_store, "_FOLDER", None)
    index = ProjectIndex(tree)
    index.module("pkg.layers.base")
    monkeypatch.setattr(index_store, "_FOLDER", tmp_path / "later")
    index.module("pkg.train")
    index.save_store()
    modules = json.loads(next((tmp_path / "later").glob("index-*.json")).read_text())["modules"]
    assert list(modules) == ["pkg.train"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_keeps_the_store_and_finds_the_same(tree, tmp_path, capsys, jobs):
    store = tmp_path / f"cli-store-{jobs}"
    args = ["check", str(tree), "--output-format", "json", "--exit-zero", "--jobs", jobs, "--select", "ALL"]
    assert main([*args, "--no-cache"]) == 0
    fresh = capsys.readouterr().out
    assert main([*args, "--cache-dir", str(store)]) == 0
    first = capsys.readouterr().out
    stored = json.loads(next(store.glob("index-*.json")).read_text())["modules"]
    assert "pkg.layers.base" in stored
    assert main([*args, "--cache-dir", str(store)]) == 0
    second = capsys.readouterr().out
    assert fresh == first == second
    assert any(f["code"] == "KER308" for f in json.loads(fresh))  # the layer chain is seen as Keras


def test_no_cache_writes_nothing(tree, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERASFIX_CACHE_DIR", str(tmp_path / "env-store"))
    assert main(["check", str(tree), "--exit-zero", "--jobs", "1", "--no-cache"]) == 0
    assert not (tmp_path / "env-store").exists()
    assert main(["check", str(tree), "--exit-zero", "--jobs", "1"]) == 0
    assert list((tmp_path / "env-store").glob("index-*.json"))


def test_default_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("KERASFIX_CACHE_DIR", str(tmp_path / "a"))
    assert index_store.default_folder() == tmp_path / "a"
    monkeypatch.delenv("KERASFIX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert index_store.default_folder() == tmp_path / "xdg" / "kerasfix"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert index_store.default_folder() == tmp_path / "home" / ".cache" / "kerasfix"


@pytest.fixture(autouse=True)
def _fresh_indexes():
    """Each test's CLI runs start without another test's indexes in this process."""
    project._INDEXES.clear()
    project._ROOTS.clear()
    yield
    project._INDEXES.clear()
    project._ROOTS.clear()
