"""KER308, KER309 and KER310 report only classes that can reach a save or a load: the file or
another module of its project saves, loads or rebuilds Keras objects by config, the class has a
`get_config()` / `from_config()`, or it is registered. Projects are built in temporary folders
(a `pyproject.toml` and a package), as the index finds them on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.engine import project as project_module
from kerasfix.rules.engine.incremental import IncrementalLinter
from project_files import write_project

CODES = ("KER308", "KER309", "KER310")
SETTINGS = Settings(select=CODES)

LAYERS = '''\
import keras


class Block(keras.layers.Layer):
    def __init__(self, units, activation=keras.activations.relu):
        super().__init__()
        self.units = units
        self.activation = activation

    def call(self, x):
        return self.activation(x)
'''

LAYERS_FIXED = '''\
import keras


@keras.saving.register_keras_serializable()
class Block(keras.layers.Layer):
    def __init__(self, units, activation=keras.activations.relu, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation

    def call(self, x):
        return self.activation(x)
'''

TRAIN_SAVES = '''\
import keras

from .layers import Block


def main(x, y):
    model = keras.Sequential([Block(3)])
    model.compile(loss="mse")
    model.fit(x, y)
    model.save("model.keras")
'''

TRAIN_ONLY = '''\
import numpy as np
import keras

from .layers import Block


def main(x, y):
    model = keras.Sequential([Block(3)])
    model.compile(loss="mse")
    model.fit(x, y)
    model.save_weights("model.weights.h5")
    np.save("predictions.npy", model.predict(x))
'''


def make_project(root: Path, files: dict[str, str]) -> Path:
    return write_project(root, {"pkg/__init__.py": "", **files}, pyproject="[project]\nname = 'demo'\n")


def findings(root: Path, name: str = "pkg/layers.py", text: str | None = None):
    path = root / name
    source = path.read_text() if text is None else text
    return lint(source, str(path), SETTINGS)


def codes(found) -> list[str]:
    return sorted(f.code for f in found)


def test_a_class_of_a_project_that_saves_is_reported_with_the_save_named(tmp_path):
    root = make_project(tmp_path, {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_SAVES})
    found = findings(root)
    assert codes(found) == ["KER308", "KER309", "KER310"]
    for finding in found:
        assert finding.note == "The project saves or loads models (pkg/train.py:10, `.save(...)`)."


def test_a_project_that_never_saves_gets_no_finding(tmp_path):
    root = make_project(tmp_path, {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_ONLY})
    assert findings(root) == []
    assert findings(root, "pkg/train.py") == []


def test_the_linted_text_counts_even_unsaved(tmp_path):
    root = make_project(tmp_path, {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_ONLY})
    text = LAYERS + "\n\ndef export(model):\n    return keras.models.clone_model(model)\n"
    found = findings(root, text=text)
    assert codes(found) == ["KER308", "KER309", "KER310"]
    assert {f.note for f in found} == {"This file saves or loads models (line 15, `clone_model(...)`)."}


def test_a_class_with_get_config_or_from_config_needs_its_config_anyway(tmp_path):
    with_config = LAYERS.replace(
        "    def call(self, x):",
        "    def get_config(self):\n        return {**super().get_config(), 'units': self.units}\n\n    def call(self, x):",
    )
    root = make_project(tmp_path, {"pkg/layers.py": with_config, "pkg/train.py": TRAIN_ONLY})
    found = findings(root)
    # KER310 asks for the `get_config()` the class has.
    assert codes(found) == ["KER308", "KER309"]
    assert {f.note for f in found} == {"The class defines `get_config()`: it is written to be saved and loaded."}

    loading = LAYERS.replace(
        "    def call(self, x):",
        "    @classmethod\n    def from_config(cls, config):\n        return cls(**config)\n\n    def call(self, x):",
    )
    # KER309 leaves a class with its own `from_config()` alone: KER310 still asks for a config.
    assert codes(findings(root, text=loading)) == ["KER308", "KER310"]


REGISTERING = '''\
import keras


def export(path, package="pkg"):
    """Makes `path` public and registers the object for saving."""

    def decorate(symbol):
        keras.saving.register_keras_serializable(package=package)(symbol)
        return symbol

    return decorate
'''


@pytest.mark.parametrize(
    "spelling",
    [
        "from pkg import export\n",  # re-exported by the package's __init__
        "from . import export\n",
        "from .api import export as public\n",
        "import pkg.api\n",
    ],
)
def test_a_project_decorator_that_registers_counts_as_registration(tmp_path, spelling):
    decorator = {
        "from pkg import export\n": "@export('pkg.layers.Block')",
        "from . import export\n": "@export('pkg.layers.Block')",
        "from .api import export as public\n": "@public('pkg.layers.Block')",
        "import pkg.api\n": "@pkg.api.export('pkg.layers.Block')",
    }[spelling]
    layers = LAYERS.replace("import keras\n", "import keras\n" + spelling).replace(
        "\nclass Block", f"\n{decorator}\nclass Block"
    )
    root = make_project(
        tmp_path,
        {
            "pkg/__init__.py": "from .api import export\n",
            "pkg/api.py": REGISTERING,
            "pkg/layers.py": layers,
            "pkg/train.py": TRAIN_ONLY,
        },
    )
    found = findings(root)
    # Registered: nothing for KER308; the class is there to be saved, so its config matters.
    assert codes(found) == ["KER309", "KER310"]
    assert {f.note for f in found} == {f"The class is registered for saving (`{decorator.split('(')[0]}`)."}


def test_a_decorator_that_does_not_register_is_not_registration(tmp_path):
    layers = LAYERS.replace("import keras\n", "import keras\nfrom .api import export\n").replace(
        "\nclass Block", "\n@export('pkg.layers.Block')\nclass Block"
    )
    plain = "def export(path):\n    def decorate(symbol):\n        return symbol\n    return decorate\n"
    root = make_project(tmp_path / "quiet", {"pkg/api.py": plain, "pkg/layers.py": layers, "pkg/train.py": TRAIN_ONLY})
    assert findings(root) == []
    root2 = make_project(tmp_path / "saving", {"pkg/api.py": plain, "pkg/layers.py": layers, "pkg/train.py": TRAIN_SAVES})
    assert codes(findings(root2)) == ["KER308", "KER309", "KER310"]


def test_a_decorator_registering_through_a_helper(tmp_path):
    api = '''\
import keras


def maybe_register_serializable(symbol, package):
    keras.saving.register_keras_serializable(package=package)(symbol)


class export:
    def __init__(self, path, package="pkg"):
        self.package = package

    def __call__(self, symbol):
        maybe_register_serializable(symbol, self.package)
        return symbol
'''
    layers = LAYERS.replace("import keras\n", "import keras\nfrom pkg.api import export\n").replace(
        "\nclass Block", "\n@export('pkg.layers.Block')\nclass Block"
    )
    root = make_project(tmp_path, {"pkg/api.py": api, "pkg/layers.py": layers, "pkg/train.py": TRAIN_SAVES})
    assert "KER308" not in codes(findings(root))


def test_registration_and_custom_objects_in_the_file(tmp_path):
    root = make_project(tmp_path, {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_ONLY})
    by_call = LAYERS + "\n\nBlock = keras.saving.register_keras_serializable(package='pkg')(Block)\n"
    found = findings(root, text=by_call)
    assert codes(found) == ["KER309", "KER310"]
    assert found[0].note == "The class is registered for saving (`register_keras_serializable(...)(...)`)."
    by_load = LAYERS + "\n\nrestored = keras.models.load_model('m.keras', custom_objects={'Block': Block})\n"
    assert codes(findings(root, text=by_load)) == ["KER309", "KER310"]


def test_a_project_too_big_to_walk_keeps_every_finding(tmp_path, monkeypatch):
    root = make_project(tmp_path, {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_ONLY})
    monkeypatch.setattr(project_module, "MAX_PROJECT_FILES", 1)
    found = findings(root)
    assert codes(found) == ["KER308", "KER309", "KER310"]
    assert "too large" in found[0].note


def test_without_a_path_only_the_text_counts(tmp_path):
    assert lint(LAYERS, None, SETTINGS) == []
    found = lint(LAYERS + "\nmodel.save('m.keras')\n", None, SETTINGS)
    assert codes(found) == ["KER308", "KER309", "KER310"]
    assert found[0].note == "This file saves or loads models (line 13, `.save(...)`)."


def test_fixes_in_a_project_that_saves(tmp_path):
    root = make_project(tmp_path, {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_SAVES})
    path = str(root / "pkg/layers.py")
    fixed = fix(LAYERS, path, SETTINGS).source
    assert fixed == LAYERS_FIXED
    cst.parse_module(fixed)
    assert fix(fixed, path, SETTINGS).source == fixed
    assert codes(lint(fixed, path, SETTINGS)) == ["KER310"]  # no fix: the author serializes it
    # In a project that never saves there is nothing to fix.
    quiet = make_project(tmp_path / "quiet", {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_ONLY})
    assert fix(LAYERS, str(quiet / "pkg/layers.py"), SETTINGS).source == LAYERS


def test_an_editor_relinting_the_class_keeps_the_files_own_save(tmp_path):
    layers = LAYERS + "\n\ndef export(model):\n    model.save('m.keras')\n"
    root = make_project(tmp_path, {"pkg/layers.py": layers, "pkg/train.py": TRAIN_ONLY})
    linter = IncrementalLinter(str(root / "pkg/layers.py"), SETTINGS)
    assert codes(linter.lint(layers)) == ["KER308", "KER309", "KER310"]
    edited = layers.replace("self.units = units", "self.units = int(units)")
    found = linter.lint(edited)
    assert linter.last_mode == "region"
    assert codes(found) == ["KER308", "KER309", "KER310"]
    assert found == lint(edited, str(root / "pkg/layers.py"), SETTINGS)


# ----- the command line --------------------------------------------------------------------


def check(*args: str, cwd: Path, stdin: str | None = None) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", *args, "--select", ",".join(CODES),
         "--output-format", "json", "--exit-zero", "--quiet"],
        cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return sorted(item["code"] for item in json.loads(result.stdout))


def test_one_file_checked_alone_knows_the_rest_of_its_project(tmp_path):
    saving = make_project(tmp_path / "saving", {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_SAVES})
    quiet = make_project(tmp_path / "quiet", {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_ONLY})
    assert check("pkg/layers.py", cwd=saving) == ["KER308", "KER309", "KER310"]
    assert check("pkg/layers.py", cwd=quiet) == []


def test_standard_input_without_a_name_has_no_project(tmp_path):
    # The folder's project saves, but text read from standard input has no path: only the
    # text itself counts.
    root = make_project(tmp_path, {"pkg/layers.py": LAYERS, "pkg/train.py": TRAIN_SAVES})
    assert check("-", cwd=root, stdin=LAYERS) == []
    assert check("-", cwd=root, stdin=LAYERS + "\nmodel.save('m.keras')\n") == ["KER308", "KER309", "KER310"]


def test_an_editor_relinting_a_class_sees_a_registering_decorator_of_the_file(tmp_path):
    block = LAYERS.replace("import keras\n", "").replace("\nclass Block", "\n@export('pkg.layers.Block')\nclass Block")
    layers = REGISTERING + "\n\n" + block + "\n\ndef save(model):\n    model.save('m.keras')\n"
    root = make_project(tmp_path, {"pkg/layers.py": layers, "pkg/train.py": TRAIN_ONLY})
    path = str(root / "pkg/layers.py")
    linter = IncrementalLinter(path, SETTINGS)
    assert codes(linter.lint(layers)) == ["KER309", "KER310"]
    edited = layers.replace("self.units = units", "self.units = int(units)")
    found = linter.lint(edited)
    assert linter.last_mode == "region"
    assert found == lint(edited, path, SETTINGS)


def test_a_path_binding_makes_no_plan_in_a_file_without_a_save(monkeypatch):
    from kerasfix.rules.saving import _paths

    made = []
    original = _paths._Collector.plan
    monkeypatch.setattr(_paths._Collector, "plan", lambda self: made.append(1) or original(self))
    assert lint('import keras\nOUT = "exported"\nprint(OUT)\n') == []
    assert made == []
    found = lint('import keras\nOUT = "exported"\nmodel = keras.Sequential()\nmodel.save(OUT)\n')
    assert made and [f.code for f in found].count("KER301") >= 1


def test_a_decorator_of_the_file_registering_through_a_helper_of_the_file(tmp_path):
    # The file's own decorator registers through the file's own helper, as keras-cv's does
    # in its module: the linted text is read as the project index reads a module.
    text = '''\
import keras


def maybe_register(symbol):
    keras.saving.register_keras_serializable()(symbol)


def export(symbol):
    maybe_register(symbol)
    return symbol


@export
class Block(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}


keras.Sequential([Block(2)]).save("m.keras")
'''
    root = make_project(tmp_path, {"pkg/layers.py": text})
    assert "KER308" not in codes(findings(root, text=text))
    unregistered = text.replace("    maybe_register(symbol)\n", "")
    assert "KER308" in codes(findings(root, text=unregistered))


BASE_WITH_CONFIG = '''import keras


class DetectionModel(keras.Model):
    def __init__(self, backbone, head, **kwargs):
        super().__init__(**kwargs)
        self.backbone, self.head = backbone, head

    def get_config(self):
        return {"backbone": self.backbone, "head": self.head}
'''

SUBCLASS = '''import keras

from pkg import detection


class MaskModel(detection.DetectionModel):
    def __init__(self, backbone: keras.Model, head: keras.layers.Layer, mask_head: keras.layers.Layer, **kwargs):
        super().__init__(backbone, head, **kwargs)
        self.mask_head = mask_head

model = MaskModel(a, b, c)
model.save("mask.keras")
'''


def test_a_get_config_inherited_from_another_module_counts(tmp_path):
    root = make_project(tmp_path, {"pkg/detection.py": BASE_WITH_CONFIG, "pkg/mask.py": SUBCLASS})
    assert "KER310" not in codes(findings(root, "pkg/mask.py"))
    # Without the base's get_config, the object arguments are reported.
    bare = BASE_WITH_CONFIG.replace("def get_config", "def _config")
    root2 = make_project(tmp_path / "other", {"pkg/detection.py": bare, "pkg/mask.py": SUBCLASS})
    assert codes(findings(root2, "pkg/mask.py")).count("KER310") == 3


def test_a_test_module_counts_only_its_own_saves(tmp_path):
    root = make_project(tmp_path, {"pkg/layers_test.py": LAYERS, "pkg/train.py": TRAIN_SAVES})
    assert "KER308" not in codes(findings(root, "pkg/layers_test.py"))
    saving_test = LAYERS + "\nmodel.save('roundtrip.keras')\n"
    assert "KER308" in codes(findings(root, "pkg/layers_test.py", saving_test))


# ----- classes only other Keras classes build --------------------------------------------------

INNER = '''\
import keras


class Inner(keras.layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''

OWNER = '''\
import keras

from .inner import Inner


@keras.saving.register_keras_serializable()
class Outer(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = Inner(units)

    def build(self, shape):
        self.second = Inner(2)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''

SAVES_OUTER = '''\
import keras

from .owner import Outer


def main(x, y):
    model = keras.Sequential([Outer(3)])
    model.fit(x, y)
    model.save("model.keras")
'''


def _owned_project(root: Path, **files: str) -> Path:
    return make_project(
        root, {"pkg/inner.py": INNER, "pkg/owner.py": OWNER, "pkg/train.py": SAVES_OUTER, **files}
    )


def test_a_class_only_other_layers_build_needs_no_registration(tmp_path):
    root = _owned_project(tmp_path)
    assert findings(root, "pkg/inner.py") == []
    # A test that builds it directly does not change that: tests are not shipped code.
    root = _owned_project(tmp_path / "tested", **{"pkg/inner_test.py": "from .inner import Inner\nlayer = Inner(3)\n"})
    assert findings(root, "pkg/inner.py") == []


@pytest.mark.parametrize(
    "extra",
    [
        # Built in a function: a functional model's layer is saved under its registered name.
        {"pkg/build.py": "import keras\nfrom .inner import Inner\n\ndef make():\n    return keras.Sequential([Inner(2)])\n"},
        # Re-exported by the package: users may build it themselves.
        {"pkg/__init__.py": "from .inner import Inner\n"},
        # Built by a model whose default config names its layers.
        {"pkg/net.py": "import keras\nfrom . import inner\n\nclass Net(keras.Model):\n"
                       "    def __init__(self):\n        x = keras.Input((3,))\n"
                       "        super().__init__(x, inner.Inner(2)(x))\n"},
        # Built by a layer whose config serializes its sublayers by name.
        {"pkg/wrap.py": "import keras\nfrom .inner import Inner\n\nclass Wrap(keras.layers.Layer):\n"
                        "    def __init__(self, **kwargs):\n        super().__init__(**kwargs)\n"
                        "        self.inner = Inner(2)\n\n    def get_config(self):\n"
                        "        return {'inner': keras.saving.serialize_keras_object(self.inner)}\n"},
        # Built by a class that is no Keras layer or model.
        {"pkg/factory.py": "from .inner import Inner\n\nclass Factory:\n    def make(self):\n        return Inner(2)\n"},
        # A module that cannot be parsed names it: where it builds it is unknown.
        {"pkg/broken.py": "from .inner import Inner\nlayer = Inner(2\n"},
    ],
    ids=["function", "re-export", "functional-model", "serializing-owner", "plain-class", "unparsable"],
)
def test_a_class_built_anywhere_else_keeps_its_findings(tmp_path, extra):
    root = _owned_project(tmp_path, **extra)
    found = findings(root, "pkg/inner.py")
    assert codes(found) == ["KER308", "KER309"]


WRAP_HEAD = (
    "import keras\nfrom .inner import Inner\n\nclass Wrap(keras.layers.Layer):\n"
    "    def __init__(self, encoder, **kwargs):\n        super().__init__(**kwargs)\n"
)
WRAP_CONFIG = "\n    def get_config(self):\n        return {'encoder': keras.saving.serialize_keras_object(self.encoder)}\n"


@pytest.mark.parametrize(
    "body",
    [
        # It serializes what it was given, and builds the class into a local name.
        "        self.encoder = encoder\n        block = Inner(2)\n        self.out = block\n",
        # ... or into an attribute it does not serialize, beside another built sublayer it does.
        "        self.encoder = keras.layers.Dense(2)\n        self.block = Inner(2)\n",
    ],
    ids=["given-object", "other-sublayer"],
)
def test_an_owner_that_serializes_only_other_objects_still_rebuilds_the_class(tmp_path, body):
    root = _owned_project(tmp_path, **{"pkg/wrap.py": WRAP_HEAD + body + WRAP_CONFIG})
    assert findings(root, "pkg/inner.py") == []


@pytest.mark.parametrize(
    "wrap",
    [
        # The serialized attribute holds the class, through a local name.
        WRAP_HEAD + "        block = Inner(2)\n        self.encoder = block\n" + WRAP_CONFIG,
        # The serialized attribute is built by an expression naming the class.
        WRAP_HEAD + "        self.encoder = encoder or Inner(2)\n" + WRAP_CONFIG,
        # A serializing call outside the owner's methods: what it serializes is unknown.
        WRAP_HEAD + "        self.block = Inner(2)\n\n\ndef dump(layer):\n"
        "    return keras.saving.serialize_keras_object(layer)\n",
    ],
    ids=["local-name", "expression", "module-function"],
)
def test_an_owner_that_may_serialize_the_class_keeps_its_findings(tmp_path, wrap):
    root = _owned_project(tmp_path, **{"pkg/wrap.py": wrap})
    assert codes(findings(root, "pkg/inner.py")) == ["KER308", "KER309"]


def test_an_unused_class_keeps_its_findings(tmp_path):
    root = make_project(tmp_path, {"pkg/inner.py": INNER, "pkg/train.py": TRAIN_SAVES.replace("Block", "Other").replace(".layers", ".other")})
    assert codes(findings(root, "pkg/inner.py")) == ["KER308", "KER309"]


def test_a_registered_owned_class_still_gets_the_kwargs_advice(tmp_path):
    registered = INNER.replace("class Inner", "@keras.saving.register_keras_serializable()\nclass Inner")
    root = _owned_project(tmp_path, **{"pkg/inner.py": registered})
    assert codes(findings(root, "pkg/inner.py")) == ["KER309"]


def test_an_editor_sees_a_new_use_of_an_owned_class(tmp_path):
    root = _owned_project(tmp_path)
    index = project_module.project_index(root / "pkg" / "inner.py")
    assert findings(root, "pkg/inner.py") == []
    script = root / "pkg" / "script.py"
    index.set_overlay(script, "import keras\nfrom .inner import Inner\nmodel = keras.Sequential([Inner(1)])\n")
    try:
        assert codes(findings(root, "pkg/inner.py")) == ["KER308", "KER309"]
    finally:
        index.remove_overlay(script)
    assert findings(root, "pkg/inner.py") == []


def test_the_editor_re_lints_a_class_whose_builders_change(tmp_path):
    from kerasfix.server.lsp_index import ProjectTracker

    root = _owned_project(tmp_path, **{"pkg/script.py": "import keras\n"})
    inner, script = str(root / "pkg/inner.py"), str(root / "pkg/script.py")
    tracker = ProjectTracker()
    assert findings(root, "pkg/inner.py") == []  # read once, as the editor's lint does
    # An edit of the script that builds no project class concerns no other file.
    tracker.apply([(script, "open", "import keras\nx = 1\n")], True)
    assert tracker.changes([inner]) == ([], False)
    # Once it builds Inner in a functional model, inner.py's findings change.
    tracker.apply([(script, "open", "import keras\nfrom .inner import Inner\nm = keras.Sequential([Inner(1)])\n")], True)
    assert tracker.changes([inner]) == ([inner], True)
    assert codes(findings(root, "pkg/inner.py")) == ["KER308", "KER309"]
    tracker.apply([(script, "close", None)], True)
    assert tracker.changes([inner]) == ([inner], True)
    assert findings(root, "pkg/inner.py") == []


HELPER_OWNER = '''\
import keras

from .inner import Inner


def make_inner(units):
    return Inner(units)


def make_pair(units):
    return [make_inner(units), make_inner(2)]


@keras.saving.register_keras_serializable()
class Outer(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.blocks = make_pair(units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''

SUBCLASSED_MODEL_OWNER = '''\
import keras

from .inner import Inner


@keras.saving.register_keras_serializable()
class Outer(keras.Model):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.first = Inner(units)

    def call(self, x):
        return self.first(x)
'''


@pytest.mark.parametrize("owner", [HELPER_OWNER, SUBCLASSED_MODEL_OWNER], ids=["helper-functions", "subclassed-model"])
def test_a_class_built_through_helpers_or_by_a_subclassed_model_needs_no_registration(tmp_path, owner):
    root = _owned_project(tmp_path, **{"pkg/owner.py": owner})
    assert findings(root, "pkg/inner.py") == []


@pytest.mark.parametrize(
    "extra",
    [
        # The helper builds a layer for a script's functional model too.
        {"pkg/script.py": "import keras\nfrom .owner import make_inner\n\nmodel = keras.Sequential([make_inner(2)])\n"},
        # ... or for a function that nothing in the project calls (a public builder).
        {"pkg/build.py": "import keras\nfrom .owner import make_pair\n\ndef build():\n"
                         "    return keras.Sequential(make_pair(2))\n"},
    ],
    ids=["module-level", "uncalled-function"],
)
def test_a_helper_used_elsewhere_keeps_the_findings(tmp_path, extra):
    root = _owned_project(tmp_path, **{"pkg/owner.py": HELPER_OWNER, **extra})
    assert codes(findings(root, "pkg/inner.py")) == ["KER308", "KER309"]


BASE = '''\
import keras


class Base(keras.layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units
'''

CHILDREN = '''\
import keras

from .base import Base


@keras.saving.register_keras_serializable()
class Child(Base):
    def __init__(self, units, **kwargs):
        super().__init__(units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''


def test_a_base_nothing_builds_needs_no_registration(tmp_path):
    files = {"pkg/base.py": BASE, "pkg/children.py": CHILDREN, "pkg/train.py": SAVES_OUTER.replace(".owner import Outer", ".children import Child").replace("Outer(3)", "Child(3)")}
    root = make_project(tmp_path, files)
    # Its subclasses are saved under their own names; its `__init__` still drops what a
    # subclass's reload passes on.
    assert codes(findings(root, "pkg/base.py")) == ["KER309"]
    # Built directly somewhere, it is saved under its own name.
    built = make_project(
        tmp_path / "built", {**files, "pkg/direct.py": "import keras\nfrom .base import Base\nmodel = keras.Sequential([Base(2)])\n"}
    )
    assert codes(findings(built, "pkg/base.py")) == ["KER308", "KER309"]
    # Without a subclass nor a use, nothing shows what it is for.
    alone = make_project(tmp_path / "alone", {"pkg/base.py": BASE, "pkg/train.py": files["pkg/train.py"]})
    assert codes(findings(alone, "pkg/base.py")) == ["KER308", "KER309"]


VARIANTS = {
    "pkg/base.py": BASE,
    "pkg/jax_layer.py": "import keras\n\nfrom .base import Base\n\n\nclass JaxLayer(Base):\n    pass\n",
    "pkg/tf_layer.py": "import keras\n\nfrom .base import Base\n\n\nclass TfLayer(Base):\n    pass\n",
    "pkg/layer.py": (
        "import keras\n\n"
        "match keras.backend.backend():\n"
        '    case "jax":\n        from .jax_layer import JaxLayer as Backend\n'
        "    case _:\n        from .tf_layer import TfLayer as Backend\n\n\n"
        "@keras.saving.register_keras_serializable()\n"
        "class Layer(Backend):\n"
        "    def __init__(self, units, **kwargs):\n        super().__init__(units)\n"
    ),
    "pkg/train.py": "import keras\nfrom .layer import Layer\n\n\ndef main(units: Layer):\n"
                    "    keras.Sequential([Layer(3)]).save('model.keras')\n",
}


@pytest.mark.parametrize("variant", ["pkg/jax_layer.py", "pkg/tf_layer.py"])
def test_each_backend_variant_of_a_base_is_only_a_base(tmp_path, variant):
    root = make_project(tmp_path, VARIANTS)
    # The public class derives from whichever the backend picks; nothing else builds either.
    assert codes(findings(root, variant)) == []
    # A use of the variant itself (not an annotation) is a use.
    used = make_project(
        tmp_path / "used",
        {**VARIANTS, "pkg/direct.py": "from .jax_layer import JaxLayer\nfrom .tf_layer import TfLayer\n\n"
                                      "layers = [JaxLayer(2), TfLayer(2)]\n"},
    )
    assert codes(findings(used, variant)) == ["KER308"]
