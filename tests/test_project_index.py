"""The project index: Keras classes whose Keras base is in another module of the project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.incremental import IncrementalLinter
from kerasfix.rules.engine.project import ProjectIndex, find_root, project_for, project_index
from kerasfix.server.cli import main
from project_files import write_project

SETTINGS = Settings.from_mapping({"select": ["KER2"]})

BASE = """\
from tensorflow import keras


class BaseLayer(keras.layers.Layer):
    pass
"""

MID = """\
from .base import BaseLayer


class Mid(BaseLayer):
    pass
"""

# The TF ops of a layer's `call()` (lines 7-9), and the same ops in a class that is no layer
# (lines 14-16).
DISTANCE = """\
import tensorflow as tf

from .mid import Mid


class PairDistance(Mid):
    def call(self, a, b):
        both = tf.concat([a, b], axis=-1)
        count = tf.shape(both)[0]
        return tf.gather(both, count)


class Plain:
    def call(self, a, b):
        both = tf.concat([a, b], axis=-1)
        count = tf.shape(both)[0]
        return tf.gather(both, count)
"""

# (code, 1-based row, 1-based column) in DISTANCE: the layer's ops only. The module imports no
# Keras itself, so the ops of `Plain` are not Keras code at all.
IN_LAYER = [("KER201", 8, 16), ("KER218", 9, 17), ("KER202", 10, 16)]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def project(root: Path, prefix: str = "", **overrides: str) -> Path:
    """The three-module layer chain under `root/prefix`; returns distance.py's path."""
    files = {
        "pyproject.toml": "[project]\nname = 'pkg'\n",
        f"{prefix}pkg/__init__.py": "",
        f"{prefix}pkg/layers/__init__.py": "",
        f"{prefix}pkg/layers/base.py": BASE,
        f"{prefix}pkg/layers/mid.py": MID,
        f"{prefix}pkg/layers/distance.py": DISTANCE,
    }
    files.update({f"{prefix}pkg/{name}": text for name, text in overrides.items()})
    write(root, files)
    return root / f"{prefix}pkg/layers/distance.py"


def found(path: Path, settings: Settings = SETTINGS) -> list[tuple[str, int, int]]:
    findings = lint(path.read_text(encoding="utf-8"), str(path), settings)
    return [(f.code, f.span.start_pos.line + 1, f.span.start_pos.character + 1) for f in findings]


def checked(path: Path, capsys) -> list[tuple[str, int, int]]:
    """What `kerasfix check path --select KER2 --output-format json` reports."""
    capsys.readouterr()
    main(["check", str(path), "--select", "KER2", "--output-format", "json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    return [(item["code"], item["location"]["row"], item["location"]["column"]) for item in report]


# ----- through the engine and the command line ------------------------------------------------


def test_a_layer_whose_keras_base_is_two_modules_away_gets_the_layer_findings(tmp_path):
    distance = project(tmp_path)
    assert found(distance) == IN_LAYER


def test_kerasfix_check_on_the_file_alone_knows_the_project_around_it(tmp_path, capsys):
    distance = project(tmp_path)
    assert checked(distance, capsys) == IN_LAYER


def test_kerasfix_check_from_inside_the_package_with_a_relative_path(tmp_path, capsys, monkeypatch):
    distance = project(tmp_path)
    monkeypatch.chdir(distance.parent)
    assert checked(Path("distance.py"), capsys) == IN_LAYER


def test_without_a_path_there_is_no_project(tmp_path):
    distance = project(tmp_path)
    assert lint(DISTANCE, None, SETTINGS) == []
    assert found(distance) == IN_LAYER


def test_src_layout_with_absolute_imports(tmp_path):
    distance = project(
        tmp_path,
        "src/",
        **{
            "layers/mid.py": MID.replace("from .base import", "from pkg.layers.base import"),
            "layers/distance.py": DISTANCE.replace("from .mid import", "from pkg.layers.mid import"),
        },
    )
    assert found(distance) == IN_LAYER


def test_a_base_re_exported_by_the_package_init(tmp_path):
    distance = project(
        tmp_path,
        **{
            "layers/__init__.py": "from .mid import Mid\n",
            "layers/distance.py": DISTANCE.replace("from .mid import Mid", "from pkg.layers import Mid"),
        },
    )
    assert found(distance) == IN_LAYER


def test_a_keras_class_imported_and_aliased_by_a_compat_module(tmp_path):
    compat = (
        "from tensorflow.keras.layers import Layer\n\n"
        "try:\n    Base = Layer\nexcept ImportError:\n    Base = object\n"
    )
    distance = project(
        tmp_path,
        **{
            "compat.py": compat,
            "layers/base.py": "from .. import compat\n\n\nclass BaseLayer(compat.Base):\n    pass\n",
        },
    )
    assert found(distance) == IN_LAYER
    assert ProjectIndex(tmp_path).is_keras_class("pkg.compat.Layer")


def test_a_module_imported_from_a_parent_package(tmp_path):
    distance = project(
        tmp_path,
        **{"layers/distance.py": DISTANCE.replace("from .mid import Mid", "from ..layers import mid")
           .replace("(Mid)", "(mid.Mid)")},
    )
    assert found(distance) == IN_LAYER


# DISTANCE with a second class beside the layer, deriving from `Other` of `pkg/layers/other.py`:
# the layer's ops (now lines 9-11) are reported, the other class's (lines 16-18) only if `Other`
# is found to be Keras.
BESIDE = DISTANCE.replace("from .mid import Mid\n", "from .mid import Mid\nfrom .other import Other\n").replace(
    "class Plain:", "class NotALayer(Other):"
)
IN_LAYER_BESIDE = [(code, row + 1, column) for code, row, column in IN_LAYER]


def test_a_cycle_between_two_modules_is_not_keras_and_ends(tmp_path):
    distance = project(
        tmp_path,
        **{
            "layers/distance.py": BESIDE,
            "layers/other.py": "from .looped import Looped\n\n\nclass Other(Looped):\n    pass\n",
            "layers/looped.py": "from .other import Other\n\n\nclass Looped(Other):\n    pass\n",
        },
    )
    assert found(distance) == IN_LAYER_BESIDE
    assert not ProjectIndex(tmp_path).is_keras_class("pkg.layers.other.Other")


def test_a_base_from_an_unrelated_package_is_not_keras(tmp_path):
    distance = project(
        tmp_path,
        **{
            "layers/distance.py": BESIDE,
            "layers/other.py": "from sklearn.base import BaseEstimator\n\n\nclass Other(BaseEstimator):\n    pass\n",
        },
    )
    assert found(distance) == IN_LAYER_BESIDE


def test_a_module_with_a_syntax_error_in_the_chain_is_unknown(tmp_path, capsys):
    distance = project(
        tmp_path,
        **{
            "layers/distance.py": BESIDE,
            "layers/other.py": "from .base import BaseLayer\n\n\nclass Other(BaseLayer):\n    pass\n\ndef broken(:\n",
        },
    )
    assert found(distance) == IN_LAYER_BESIDE
    assert checked(distance, capsys) == IN_LAYER_BESIDE


def test_the_editors_incremental_linter_sees_the_project_after_an_edit(tmp_path):
    distance = project(tmp_path)
    linter = IncrementalLinter(str(distance), SETTINGS)
    first = linter.lint(DISTANCE)
    assert [(f.code, f.span.start_pos.line + 1) for f in first][:3] == [("KER201", 8), ("KER218", 9), ("KER202", 10)]
    edited = DISTANCE.replace("count = tf.shape(both)[0]", "count = tf.shape(both)[1]", 1)
    again = linter.lint(edited)
    assert linter.last_mode == "region"
    assert [(f.code, f.span.start_pos.line + 1) for f in again] == [("KER201", 8), ("KER218", 9), ("KER202", 10)]


# ----- the index itself -----------------------------------------------------------------------


def test_root_is_the_nearest_folder_with_a_project_marker(tmp_path):
    distance = project(tmp_path)
    assert find_root(distance) == tmp_path
    (tmp_path / "pkg" / "setup.cfg").write_text("", encoding="utf-8")
    assert find_root(distance) == tmp_path / "pkg"


def test_module_names_follow_packages_and_src(tmp_path):
    project(tmp_path, "src/")
    index = ProjectIndex(tmp_path)
    assert index.module_name(tmp_path / "src/pkg/layers/mid.py") == "pkg.layers.mid"
    assert index.module_name(tmp_path / "src/pkg/layers/__init__.py") == "pkg.layers"
    assert index.module_name(tmp_path / "elsewhere.txt") is None


def test_import_forms_resolve_to_the_keras_base(tmp_path):
    project(
        tmp_path,
        **{
            "models/__init__.py": "",
            "models/a.py": "import pkg.layers.base as b\n\nclass A(b.BaseLayer):\n    pass\n",
            "models/c.py": "from ..layers import base\n\nclass C(base.BaseLayer):\n    pass\n",
            "models/d.py": "from ..layers.mid import Mid as Alias\n\nclass D(Alias):\n    pass\n",
            "models/e.py": "import pkg.layers.mid\n\nclass E(pkg.layers.mid.Mid):\n    pass\n",
        },
    )
    index = ProjectIndex(tmp_path)
    for name in ("pkg.models.a.A", "pkg.models.c.C", "pkg.models.d.D", "pkg.models.e.E", "pkg.layers.mid.Mid"):
        assert index.is_keras_class(name), name
    assert not index.is_keras_class("pkg.models.a.Missing")
    assert not index.is_keras_class("numpy.ndarray")


def test_callbacks_and_losses_are_a_separate_question(tmp_path):
    write(
        tmp_path,
        {
            ".git/HEAD": "",
            "train/__init__.py": "",
            "train/base.py": "import keras\n\nclass Logger(keras.callbacks.Callback):\n    pass\n"
            "class Scaled(keras.losses.Loss):\n    pass\n"
            "class Batches(keras.utils.Sequence):\n    pass\n",
            "train/more.py": "from .base import Logger, Scaled, Batches\n\nclass Printer(Logger):\n    pass\n"
            "class Half(Scaled):\n    pass\n"
            "class Rows(Batches):\n    pass\n",
        },
    )
    index = ProjectIndex(tmp_path)
    assert not index.is_keras_class("train.more.Printer")
    assert index.keras_family("train.more.Printer") == "Callback"
    assert index.keras_family("train.more.Half") == "Loss"
    assert index.keras_family("train.more.Rows") == "PyDataset"
    assert index.keras_family("train.base.Nothing") is None


def test_modules_are_parsed_once_until_the_index_hears_of_a_change(tmp_path, monkeypatch):
    project(tmp_path)
    index = ProjectIndex(tmp_path)
    parsed: list[Path] = []
    original = index._read

    def counting(path, name):
        parsed.append(path)
        return original(path, name)

    monkeypatch.setattr(index, "_read", counting)
    assert index.is_keras_class("pkg.layers.mid.Mid")
    first = len(parsed)
    assert first >= 2
    assert index.is_keras_class("pkg.layers.mid.Mid")
    assert len(parsed) == first
    base = tmp_path / "pkg/layers/base.py"
    base.write_text("class BaseLayer:\n    pass\n", encoding="utf-8")
    os.utime(base, ns=(1, 1))
    assert index.is_keras_class("pkg.layers.mid.Mid")  # nothing told the index yet
    assert parsed[first:] == []
    index.forget(tmp_path / "pkg/layers/other.py")  # any change makes it check versions again
    assert not index.is_keras_class("pkg.layers.mid.Mid")
    assert parsed[first:] == [base]
    assert not index.is_keras_class("pkg.layers.mid.Mid")
    assert parsed[first:] == [base]


def test_module_files_are_looked_up_again_after_a_change(tmp_path):
    project(tmp_path)
    index = ProjectIndex(tmp_path)
    new = tmp_path / "pkg/layers/new.py"
    assert index.module_file("pkg.layers.new") is None
    assert not index.is_keras_class("pkg.layers.new.New")
    new.write_text("from .base import BaseLayer\n\nclass New(BaseLayer):\n    pass\n", encoding="utf-8")
    assert index.module_file("pkg.layers.new") is None  # nothing told the index yet
    index.forget(new, created=True)
    assert index.module_file("pkg.layers.new") == new
    assert index.is_keras_class("pkg.layers.new.New")
    new.unlink()
    index.forget(new)
    assert index.module_file("pkg.layers.new") is None
    assert not index.is_keras_class("pkg.layers.new.New")
    index.set_overlay(new, "from .base import BaseLayer\n\nclass New(BaseLayer):\n    pass\n")
    assert index.module_file("pkg.layers.new") == new
    assert index.is_keras_class("pkg.layers.new.New")
    index.remove_overlay(new)
    assert index.module_file("pkg.layers.new") is None


def test_one_index_per_root_is_shared(tmp_path):
    distance = project(tmp_path)
    assert project_index(distance) is project_index(tmp_path / "pkg/layers/base.py")


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8 \x00", b"class A(:\n"])
def test_unreadable_modules_are_unknown(tmp_path, content):
    write(tmp_path, {".git/HEAD": "", "bad.py": ""})
    (tmp_path / "bad.py").write_bytes(content)
    assert not ProjectIndex(tmp_path).is_keras_class("bad.A")


def test_paths_the_system_refuses_are_no_project():
    for path in ("/no/such\x00folder/layer.py", "/" + "x" * 5000 + "/layer.py"):
        assert not project_for(path).is_keras_class("layer.Layer")


def check_stdin(*args: str, cwd: Path) -> list:
    options = ["--select", "KER2", "--output-format", "json"]
    command = [sys.executable, "-m", "kerasfix.server", "check", "-", *args, *options]
    result = subprocess.run(command, input=DISTANCE, capture_output=True, text=True, cwd=cwd, timeout=120)
    return json.loads(result.stdout)


def test_standard_input_with_a_file_name_knows_that_files_project(tmp_path):
    distance = project(tmp_path)
    report = check_stdin("--stdin-filename", str(distance), cwd=tmp_path)
    assert [(item["code"], item["location"]["row"], item["location"]["column"]) for item in report] == IN_LAYER
    assert check_stdin(cwd=distance.parent) == []


# ----- whole-project facts: saving sites, registering decorators, step variants ----------------

FACTS = {
    "pyproject.toml": "",
    "pkg/__init__.py": "from .api import export\n",
    "pkg/api.py": (
        "import keras\n"
        "class export:\n"
        "    def __init__(self, path):\n"
        "        self.path = path\n"
        "    def __call__(self, symbol):\n"
        "        return keras.saving.register_keras_serializable(package='pkg')(symbol)\n"
        "def plain(f):\n"
        "    return f\n"
    ),
    "pkg/sub/__init__.py": "",
    "pkg/sub/train.py": (
        "import pickle\n"
        "import numpy as np\n"
        "import tensorflow as tf\n"
        "import torch\n"
        "class TFTrainer(tf.keras.Model):\n"
        "    def train_step(self, data):\n"
        "        with tf.GradientTape() as tape:\n"
        "            pass\n"
        "class TorchTrainer(tf.keras.Model):\n"
        "    def train_step(self, data):\n"
        "        torch.no_grad()\n"
        "class JaxTrainer(tf.keras.Model):\n"
        "    def train_step(self, state, data):\n"
        "        return state\n"
        "def go(m2, arr):\n"
        "    np.save('a', arr)\n"
        "    torch.save(arr, 'b')\n"
        "    m2.save('c_dir')\n"
        "    pickle.dump(m2, open('f', 'wb'))\n"
        "    tf.keras.callbacks.ModelCheckpoint('x', save_weights_only=True)\n"
        "    tf.keras.callbacks.ModelCheckpoint('y')\n"
    ),
    "pkg/quiet.py": (
        "import numpy as np\nimport torch\ndef f(a, manager):\n    np.save('a', a)\n    torch.save(a, 'b')\n"
        "    manager.save()\n"
    ),
    ".venv/lib/site.py": "model.save('ignored')\n",
    "build/lib/pkg/old.py": "model.save('ignored')\n",
}


def test_saving_sites_name_the_calls_that_save_or_load_keras_objects(tmp_path):
    write(tmp_path, FACTS)
    index = ProjectIndex(tmp_path)
    assert index.saving_sites() == [
        ("pkg.sub.train", 18, ".save(...)"),
        ("pkg.sub.train", 19, "pickle.dump(...)"),
        ("pkg.sub.train", 21, "ModelCheckpoint(...) saving whole models"),
    ]
    # The linted module itself is left out: its rule reads the buffer, which may be unsaved.
    assert project_for(str(tmp_path / "pkg/sub/train.py")).saving_sites() == []
    assert set(index.module_names()) == {"pkg", "pkg.api", "pkg.sub", "pkg.sub.train", "pkg.quiet"}


def test_a_project_that_never_saves_has_no_saving_sites(tmp_path):
    files = {k: v for k, v in FACTS.items() if k != "pkg/sub/train.py"}
    write(tmp_path, files)
    assert ProjectIndex(tmp_path).saving_sites() == []


def test_registering_decorators_are_followed_through_re_exports(tmp_path):
    write(tmp_path, FACTS)
    index = ProjectIndex(tmp_path)
    assert index.is_registering("pkg.export")
    assert index.is_registering("pkg.api.export")
    assert index.is_registering("keras.saving.register_keras_serializable")
    assert not index.is_registering("pkg.api.plain")
    assert not index.is_registering("functools.wraps")


def test_step_variants_by_backend(tmp_path):
    write(tmp_path, FACTS)
    assert ProjectIndex(tmp_path).step_variants() == {
        "tensorflow": {"pkg.sub.train.TFTrainer"},
        "torch": {"pkg.sub.train.TorchTrainer"},
        "jax": {"pkg.sub.train.JaxTrainer"},
    }


def test_a_new_module_is_seen_after_the_module_list_is_forgotten(tmp_path):
    write(tmp_path, {k: v for k, v in FACTS.items() if k != "pkg/sub/train.py"})
    index = ProjectIndex(tmp_path)
    assert index.saving_sites() == []
    write(tmp_path, {"pkg/sub/train.py": FACTS["pkg/sub/train.py"]})
    assert index.saving_sites() == []  # the walk is remembered
    index.forget_module_list()
    assert len(index.saving_sites()) == 3


def test_a_project_too_big_to_walk_has_unknown_facts(tmp_path, monkeypatch):
    import kerasfix.rules.engine.project as project_module

    write(tmp_path, FACTS)
    monkeypatch.setattr(project_module, "MAX_PROJECT_FILES", 2)
    index = ProjectIndex(tmp_path)
    assert index.module_names() is None
    assert index.saving_sites() is None
    assert index.step_variants() is None


# ----- an editor's overlays, what depends on what, the background index ----------------------------


PLAIN_BASE = "class BaseLayer:\n    pass\n"


def test_an_overlay_is_read_instead_of_the_file_until_it_is_removed(tmp_path):
    project(tmp_path, **{"layers/base.py": PLAIN_BASE})
    index = ProjectIndex(tmp_path)
    base = tmp_path / "pkg/layers/base.py"
    assert not index.is_keras_class("pkg.layers.mid.Mid")
    index.set_overlay(base, BASE)
    assert index.is_keras_class("pkg.layers.mid.Mid")
    # Half-typed code: the module keeps what its last good text said.
    index.set_overlay(base, BASE + "\nclass Broken(:\n")
    assert index.is_keras_class("pkg.layers.mid.Mid")
    index.forget(base)  # a change on disk does not replace an open buffer
    assert index.is_keras_class("pkg.layers.mid.Mid")
    index.remove_overlay(base)
    assert not index.is_keras_class("pkg.layers.mid.Mid")


def test_an_overlay_of_a_file_not_saved_yet_is_a_module(tmp_path):
    project(tmp_path)
    index = ProjectIndex(tmp_path)
    new = tmp_path / "pkg/layers/fresh.py"
    index.set_overlay(new, "from .base import BaseLayer\n\n\nclass Fresh(BaseLayer):\n    pass\n")
    assert index.is_keras_class("pkg.layers.fresh.Fresh")
    assert "pkg.layers.fresh" in index.module_names()


def test_dependents_follow_imports_bases_and_re_exports(tmp_path):
    project(
        tmp_path,
        **{
            "__init__.py": "from .layers.mid import Mid\n",
            "other.py": "import os\n\n\nclass Other:\n    pass\n",
            "top.py": "from pkg import Mid\n\n\nclass Top(Mid):\n    pass\n",
        },
    )
    index = ProjectIndex(tmp_path)
    whole = {"pkg", "pkg.layers.mid", "pkg.layers.distance", "pkg.top"}
    assert index.dependents({"pkg.layers.base"}) == whole
    assert index.dependents({"pkg.other"}) == set()
    # Among open files only, reading only what they reach.
    among = {"pkg.layers.distance", "pkg.other", "pkg.top", "pkg.layers.base"}
    assert index.dependents({"pkg.layers.base"}, among=among) == {"pkg.layers.distance", "pkg.top"}
    assert index.dependents({"pkg.layers.distance"}, among=among) == set()


def test_a_cycle_of_imports_ends(tmp_path):
    write(tmp_path, {
        ".git/HEAD": "",
        "a.py": "from b import B\n\n\nclass A(B):\n    pass\n",
        "b.py": "from a import A\n\n\nclass B(A):\n    pass\n",
        "c.py": "import os\n",
    })
    index = ProjectIndex(tmp_path)
    assert index.dependents({"a"}) == {"b"}
    assert index.dependents({"c"}, among={"a", "b"}) == set()


def test_indexing_reads_every_module_in_steps(tmp_path):
    project(tmp_path)
    index = ProjectIndex(tmp_path)
    steps = list(index.indexing())
    assert steps[-1] == (5, 5)
    assert any(total is None for _, total in steps)  # folders walked first
    assert len(index._modules) == 5
    assert index.module_names() == sorted(index.module_names())


def test_the_engine_finds_the_open_files_a_change_concerns(tmp_path):
    from kerasfix.server.lsp_index import ProjectTracker

    distance = project(tmp_path, **{"layers/base.py": PLAIN_BASE, "other.py": "class Other:\n    pass\n"})
    base = str(tmp_path / "pkg/layers/base.py")
    other = str(tmp_path / "pkg/other.py")
    opened = [str(distance), other]
    tracker = ProjectTracker()
    index = project_index(distance)
    assert not index.is_keras_class("pkg.layers.distance.PairDistance")  # read once, as a lint does

    # The buffer of base.py opened with the text on disk, then edited inside a function body.
    tracker.apply([(base, "open", PLAIN_BASE)], True)
    assert tracker.changes(opened) == ([], False)
    tracker.apply([(base, "open", PLAIN_BASE + "\n\ndef helper():\n    return 1\n")], True)
    tracker.apply([(base, "open", PLAIN_BASE + "\n\ndef helper():\n    return 2\n")], True)
    assert tracker.changes(opened) == ([], False)
    # Its class becomes a layer: distance.py (two modules away) is concerned, other.py is not.
    tracker.apply([(base, "open", BASE)], True)
    assert tracker.changes(opened) == ([str(distance)], True)
    assert index.is_keras_class("pkg.layers.distance.PairDistance")
    # Closed without saving: the file on disk stands for it again.
    tracker.apply([(base, "close", None)], True)
    assert tracker.changes(opened) == ([str(distance)], True)
    # Saved on disk, then reported changed.
    Path(base).write_text(BASE, encoding="utf-8")
    tracker.apply([(base, "changed", None)], True)
    assert tracker.changes(opened) == ([str(distance)], True)
    # A module starting to save models concerns every open file of the project.
    Path(other).write_text("class Other:\n    pass\n\n\ndef keep(model):\n    model.save('m.keras')\n", encoding="utf-8")
    tracker.apply([(other, "changed", None)], True)
    affected, changed = tracker.changes(opened)
    assert sorted(affected) == sorted(opened) and changed


def test_the_engine_indexes_the_workspace_in_steps(tmp_path):
    from kerasfix.server.lsp_index import ProjectTracker

    project(tmp_path)
    tracker = ProjectTracker()
    answers = []
    while True:
        answers.append(tracker.index([str(tmp_path)], 0.0))
        if not answers[-1][2]:
            break
    assert len(answers) > 5  # a step of no time reads one module
    assert answers[-1] == (5, 5, False)


def test_indexing_can_leave_large_files_for_later(tmp_path):
    project(tmp_path, **{"big.py": "x = 1\n" * 1000})
    index = ProjectIndex(tmp_path)
    assert list(index.indexing(max_bytes=2000))[-1] == (6, 6)
    assert tmp_path / "pkg/big.py" not in index._modules
    assert len(index._modules) == 5


def test_a_decorator_that_registers_through_a_helper_of_its_module(tmp_path):
    # keras-cv's shape: the export class calls a module function that calls Keras's.
    write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/api.py": (
            "import keras\n"
            "def maybe_register(symbol):\n"
            "    keras.saving.register_keras_serializable()(symbol)\n"
            "def plain(symbol):\n"
            "    return symbol\n"
            "if True:\n"
            "    class export:\n"
            "        def __call__(self, symbol):\n"
            "            maybe_register(symbol)\n"
            "            return symbol\n"
            "class other:\n"
            "    def __call__(self, symbol):\n"
            "        return plain(symbol)\n"
        ),
    })
    index = ProjectIndex(tmp_path)
    assert index.is_registering("pkg.api.export")
    assert index.is_registering("pkg.api.maybe_register")
    assert not index.is_registering("pkg.api.other")
    assert not index.is_registering("pkg.api.plain")


def test_whole_project_answers_are_kept_until_the_index_hears_of_a_change(tmp_path):
    write(tmp_path, FACTS)
    index = ProjectIndex(tmp_path)
    first = index.saving_sites()
    reads = []
    original = index.module
    index.module = lambda name: reads.append(name) or original(name)  # type: ignore[method-assign]
    assert index.saving_sites() == first
    assert index.step_variants() is not None
    index.step_variants()
    assert reads.count("pkg.sub.train") <= 1  # the second questions read no module again
    train = tmp_path / "pkg/sub/train.py"
    train.write_text("import keras\n")
    assert index.saving_sites() == first  # nothing told the index yet
    index.forget(train)
    assert index.saving_sites() == []
    index.set_overlay(train, FACTS["pkg/sub/train.py"])
    assert len(index.saving_sites()) == 3


def test_class_references_name_the_class_whose_method_holds_them(tmp_path):
    blocks = (
        "import keras\n\n"
        "class Block(keras.layers.Layer):\n"
        "    def clone(self):\n        return Block()\n\n"
        "class Exported(keras.layers.Layer):\n    pass\n\n"
        "class Owner(keras.layers.Layer):\n"
        "    kind = Block\n\n"
        "    def build(self, shape):\n"
        "        def make():\n            return Block()\n"
        "        self.blocks = [make() for _ in range(2)]\n\n"
        "class Child(Block):\n    pass\n"
    )
    use = (
        "from pkg import blocks as b\n\n"
        "@decorate(b.Block)\ndef run():\n    return b.Block()\n\n"
        "class Holder:\n    def get(self):\n        return b.Block\n"
    )
    files = {
        "pkg/__init__.py": "from .blocks import Exported\n",
        "pkg/blocks.py": blocks,
        "pkg/use.py": use,
        "pkg/use_test.py": "from pkg.blocks import Block\nBlock()\n",
    }
    index = ProjectIndex(write_project(tmp_path, files))
    found = sorted(index.class_references("pkg.blocks.Block"), key=str)
    # Its own method's `Block()` and `Child`'s base are no references; the test file is left out.
    assert found == sorted(
        [
            ("pkg.blocks", "pkg.blocks.Owner"),  # inside a function nested in Owner.build
            ("pkg.blocks", None),  # Owner's class attribute
            ("pkg.use", None),  # the decorator's argument
            ("pkg.use", "pkg.use.run"),  # run()'s body
            ("pkg.use", "pkg.use.Holder"),
        ],
        key=str,
    )
    # A package's import re-exports the class.
    assert index.class_references("pkg.Exported") == [("pkg", None)]
    # A top-level function's references: its decorator runs at module level.
    assert index.class_references("pkg.use.run") == []
    assert index.is_function("pkg.use.run") and not index.is_function("pkg.use.Holder")


def test_type_annotations_are_no_class_references(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/blocks.py": "import keras\n\n\nclass Block(keras.layers.Layer):\n    pass\n",
        "pkg/use.py": (
            "from typing import Mapping\n\nfrom pkg.blocks import Block\n\n"
            "registry: Mapping[str, Block] = {}\n\n\n"
            "def first(blocks: list[Block]) -> Block:\n    return blocks[0]\n\n\n"
            "class Holder:\n    def get(self, block: Block = None) -> Block:\n        return Block()\n"
        ),
    }
    index = ProjectIndex(write_project(tmp_path, files))
    # Only the construction in Holder.get: annotations neither build nor look the class up.
    assert index.class_references("pkg.blocks.Block") == [("pkg.use", "pkg.use.Holder")]


def test_a_base_imported_in_several_branches_derives_from_each(tmp_path):
    files = {
        "pkg/__init__.py": "",
        "pkg/jax_base.py": "import keras\n\n\nclass JaxBase(keras.layers.Layer):\n    pass\n",
        "pkg/tf_base.py": "import keras\n\n\nclass TfBase(keras.layers.Layer):\n    pass\n",
        "pkg/layer.py": (
            "import keras\n\n"
            'if keras.backend.backend() == "jax":\n    from .jax_base import JaxBase as Base\n'
            "else:\n    from .tf_base import TfBase as Base\n\n\nclass Layer(Base):\n    pass\n"
        ),
    }
    index = ProjectIndex(write_project(tmp_path, files))
    info = index.module("pkg.layer")
    assert info is not None and info.alternatives == {"Base": ["pkg.jax_base.JaxBase", "pkg.tf_base.TfBase"]}
    assert index.has_subclasses("pkg.jax_base.JaxBase") and index.has_subclasses("pkg.tf_base.TfBase")
    assert not index.has_subclasses("pkg.layer.Layer")


NAMES_NO_KERAS = {
    "pkg/__init__.py": "",
    "pkg/base.py": "import keras\n\n\nclass BaseLayer(keras.layers.Layer):\n    pass\n",
    "pkg/distance.py": (
        "from .base import BaseLayer\n\n\n"
        "class PairDistance(BaseLayer):\n"
        "    def __init__(self, scale):\n        super().__init__()\n        self.scale = scale\n"
    ),
    "pkg/plain.py": "from .base import helper\n\n\nclass Plain:\n    pass\n",
    "pkg/train.py": "import keras\nfrom .distance import PairDistance\n\nkeras.Sequential([PairDistance(2)]).save('m.keras')\n",
}


def test_a_module_naming_no_keras_that_subclasses_a_project_layer_is_checked(tmp_path):
    root = write_project(tmp_path, NAMES_NO_KERAS)
    distance, plain = root / "pkg" / "distance.py", root / "pkg" / "plain.py"
    text = distance.read_text()
    assert [f.code for f in lint(text, str(distance), Settings())] == ["KER308", "KER309"]
    linter = IncrementalLinter(str(distance), Settings())
    assert linter.lint(text) == lint(text, str(distance), Settings())
    # Its fix brings the import it needs.
    from kerasfix.rules.engine.lint import fix

    fixed = fix(text, str(distance), Settings(select=("KER308",))).source
    assert fixed == text.replace(
        "from .base import BaseLayer\n", "from .base import BaseLayer\nimport keras\n"
    ).replace("class PairDistance", "@keras.saving.register_keras_serializable()\nclass PairDistance")
    compile(fixed, str(distance), "exec")
    assert fix(fixed, str(distance), Settings(select=("KER308",))).source == fixed
    # A module whose classes derive from nothing of Keras is still skipped, and so is a file
    # outside any project.
    assert lint(plain.read_text(), str(plain), Settings()) == []
    assert lint(text, None, Settings()) == []


def test_a_buffer_opened_before_its_file_exists_is_linted_again_once_the_index_reads_it(tmp_path):
    from kerasfix.server.lsp_index import ProjectTracker

    distance = project(tmp_path)
    fresh = str(tmp_path / "pkg/layers/fresh.py")
    tracker = ProjectTracker()
    index = project_index(distance)
    assert index.module("pkg.layers.fresh") is None  # its first lint read no module
    # Its own classes' references now come from the index: its findings may change.
    tracker.apply([(fresh, "open", "from .base import BaseLayer\n\n\nclass Fresh(BaseLayer):\n    pass\n")], True)
    affected, changed = tracker.changes([fresh, str(distance)])
    assert sorted(affected) == sorted([fresh, str(distance)]) and changed
