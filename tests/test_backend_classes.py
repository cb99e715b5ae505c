"""A class written for one backend, in a project that also holds the other backends' variants,
is checked for that backend only; the same class alone is Keras 2 code to migrate."""

from __future__ import annotations

import ast
import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import libcst as cst
import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.backend_scope import module_step_backends
from kerasfix.rules.engine.incremental import IncrementalLinter
from kerasfix.rules.engine.project import ProjectIndex, _ModuleReader
from kerasfix.rules.engine.registry import all_rules
from kerasfix.rules.engine.settings import settings_for

# Keras 3.0 (so that KER416, TensorFlow's ragged inputs, is reported); the saving rules read
# where the project saves, which these projects do not say.
PYPROJECT = '[tool.kerasfix]\nkeras-version = "3.0"\nignore = ["KER3"]\n'

TF_TRAINER = '''"""The TensorFlow trainer."""
import keras
import tensorflow as tf


class TFTrainer(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.Input(shape=(None,), ragged=True)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}

    def test_step(self, data):
        x, y = data
        return tf.reduce_mean(self(x))
'''

TORCH_TRAINER = '''"""The PyTorch trainer."""
import keras
import torch


class TorchTrainer(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.norm = keras.layers.BatchNormalization(synchronized=True)
        self.tokens = keras.Input(shape=(None,), ragged=True)

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        gradients = [v.value.grad for v in self.trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, self.trainable_weights)
        return {"loss": loss}

    def test_step(self, data):
        x, y = data
        return torch.mean(self(x))
'''

JAX_TRAINER = '''"""The JAX trainer."""
import jax
import keras


class JaxTrainer(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.Input(shape=(None,), ragged=True)

    def train_step(self, state, data):
        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        x, y = data
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
            trainable_variables, non_trainable_variables, x, y, training=True
        )
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}, state
'''

# What each trainer gets when it is checked for every backend (alone in its project) ...
TF_ALONE = [
    ("KER107", 3),  # `import tensorflow` at module level: outside the class, every backend
    ("KER415", 9),  # ragged inputs on JAX / PyTorch
    ("KER416", 9),  # ragged inputs on TensorFlow before Keras 3.9
    ("KER501", 11),  # JAX's step signature
    ("KER502", 13),  # GradientTape on JAX / PyTorch
    ("KER505", 18),
    ("KER501", 20),
    ("KER201", 22),  # tf.reduce_mean on JAX / PyTorch
    ("KER503", 22),
]
TORCH_ALONE = [
    ("KER430", 9),  # synchronized BatchNormalization on JAX / PyTorch
    ("KER415", 10),
    ("KER416", 10),
    ("KER501", 12),
    ("KER505", 21),
    ("KER501", 23),
    ("KER503", 25),
]
JAX_ALONE = [("KER415", 9), ("KER416", 9), ("KER506", 18), ("KER505", 19)]

# ... and for its own backend only, in a project holding the others' variants.
TF_ONLY = [("KER107", 3), ("KER416", 9), ("KER505", 18), ("KER503", 22)]
TORCH_ONLY = [("KER430", 9), ("KER415", 10), ("KER505", 21), ("KER503", 25)]
JAX_ONLY = [("KER415", 9), ("KER506", 18), ("KER505", 19)]

TRAINERS = {"tf": TF_TRAINER, "torch": TORCH_TRAINER, "jax": JAX_TRAINER}


def make_project(root: Path, files: dict[str, str]) -> Path:
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (root / "trainers").mkdir(exist_ok=True)
    (root / "trainers" / "__init__.py").write_text("", encoding="utf-8")
    for name, text in files.items():
        (root / "trainers" / f"{name}.py").write_text(text, encoding="utf-8")
    return root


def found(path: Path, text: str | None = None, settings: Settings | None = None) -> list[tuple[str, int]]:
    """The findings of the file at `path` (or of the unsaved buffer `text` at that path), with
    the project's settings."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    settings = settings or settings_for(path)
    return [(f.code, f.span.start_pos.line + 1) for f in lint(text, str(path), settings)]


def test_each_trainer_is_checked_for_its_own_backend(tmp_path):
    root = make_project(tmp_path, TRAINERS)
    assert found(root / "trainers" / "tf.py") == TF_ONLY
    assert found(root / "trainers" / "torch.py") == TORCH_ONLY
    assert found(root / "trainers" / "jax.py") == JAX_ONLY


@pytest.mark.parametrize(("name", "expected"), [("tf", TF_ALONE), ("torch", TORCH_ALONE), ("jax", JAX_ALONE)])
def test_a_trainer_without_other_variants_keeps_its_findings(tmp_path, name, expected):
    root = make_project(tmp_path, {name: TRAINERS[name]})
    assert found(root / "trainers" / f"{name}.py") == expected


def test_two_variants_of_one_backend_are_no_other_variant(tmp_path):
    second = TF_TRAINER.replace("TFTrainer", "OtherTFTrainer")
    root = make_project(tmp_path, {"tf": TF_TRAINER, "tf2": second})
    assert found(root / "trainers" / "tf.py") == TF_ALONE


def test_one_other_variant_is_enough(tmp_path):
    root = make_project(tmp_path, {"tf": TF_TRAINER, "jax": JAX_TRAINER})
    assert found(root / "trainers" / "tf.py") == TF_ONLY
    assert found(root / "trainers" / "jax.py") == JAX_ONLY


def write_files(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_variants_count_within_one_top_level_package(tmp_path):
    # Keras's own layout: one subpackage per backend.
    root = write_files(
        tmp_path / "nested",
        {
            "src/pkg/__init__.py": "",
            "src/pkg/backends/__init__.py": "",
            "src/pkg/backends/tensorflow/__init__.py": "",
            "src/pkg/backends/tensorflow/trainer.py": TF_TRAINER,
            "src/pkg/backends/torch/__init__.py": TORCH_TRAINER,
        },
    )
    assert found(root / "src/pkg/backends/tensorflow/trainer.py") == TF_ONLY
    assert found(root / "src/pkg/backends/torch/__init__.py") == TORCH_ONLY
    # Scripts at the project's root count for one another.
    root = write_files(tmp_path / "flat", {"train_tf.py": TF_TRAINER, "train_torch.py": TORCH_TRAINER})
    assert found(root / "train_tf.py") == TF_ONLY


def test_variants_in_another_top_level_package_do_not_count(tmp_path):
    """An example folder's JAX step does not make the package's Keras 2 step TensorFlow's."""
    root = write_files(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/train.py": TF_TRAINER,
            "examples/jax_example.py": JAX_TRAINER,
            "examples/torch/__init__.py": TORCH_TRAINER,
            "train.py": TF_TRAINER,
        },
    )
    assert found(root / "pkg/train.py") == TF_ALONE
    assert found(root / "train.py") == TF_ALONE
    assert found(root / "examples/jax_example.py") == JAX_ONLY  # its package holds a PyTorch one


def test_the_project_targets_still_apply(tmp_path):
    root = make_project(tmp_path, TRAINERS)
    torch = root / "trainers" / "torch.py"
    jax_only = replace(settings_for(torch), target_backends=frozenset({"jax"}))
    # For a JAX-only project, the PyTorch trainer never runs: nothing of the class is reported.
    assert found(torch, settings=jax_only) == []
    with_torch = replace(settings_for(torch), target_backends=frozenset({"jax", "torch"}))
    assert found(torch, settings=with_torch) == TORCH_ONLY


BOTH = TF_TRAINER + "\n\n" + TORCH_TRAINER.split('"""\n', 2)[-1].replace("import keras\n", "", 1)
BOTH_TORCH_LINE = TF_TRAINER.count("\n") + 3  # `import torch`, after the TF trainer and two blank lines


def _shift(findings: list[tuple[str, int]], by: int) -> list[tuple[str, int]]:
    return [(code, line + by) for code, line in findings]


def _both_expected(tf: list[tuple[str, int]], torch: list[tuple[str, int]]) -> list[tuple[str, int]]:
    # The torch trainer's lines move by where it starts in BOTH, less its own two header lines.
    shift = BOTH_TORCH_LINE - 3
    return sorted(tf + _shift(torch, shift), key=lambda item: item[1])


def test_two_variants_in_the_linted_file_are_a_project_holding_both(tmp_path):
    root = make_project(tmp_path, {"both": BOTH})
    assert "import torch" in BOTH.splitlines()[BOTH_TORCH_LINE - 1]
    assert found(root / "trainers" / "both.py") == _both_expected(TF_ONLY, TORCH_ONLY)
    # Without a path (standard input) there is no project: the file's own variants still count.
    settings = settings_for(root / "trainers" / "both.py")
    assert [(f.code, f.span.start_pos.line + 1) for f in lint(BOTH, None, settings)] == _both_expected(
        TF_ONLY, TORCH_ONLY
    )


def test_the_unsaved_buffer_replaces_the_linted_module_as_last_saved(tmp_path):
    root = make_project(tmp_path, {"both": BOTH})
    both = root / "trainers" / "both.py"
    # The PyTorch trainer deleted in the editor, not saved: the TF trainer is alone.
    assert found(both, TF_TRAINER) == TF_ALONE
    # The other way: saved alone, a PyTorch variant typed into the buffer.
    both.write_text(TF_TRAINER, encoding="utf-8")
    assert found(both) == TF_ALONE
    assert found(both, BOTH) == _both_expected(TF_ONLY, TORCH_ONLY)


PLAIN_AGENT = '''import torch


class Agent:
    def train_step(self, batch):
        loss = torch.mean(batch)
        loss.backward()
'''

MIXED = '''import keras
import tensorflow as tf
import torch


class MixedTrainer(keras.Model):
    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = torch.mean(self(data))
        return {"loss": loss}
'''


def test_a_class_that_is_not_keras_is_no_variant(tmp_path):
    root = make_project(tmp_path, {"tf": TF_TRAINER, "agent": PLAIN_AGENT})
    assert found(root / "trainers" / "tf.py") == TF_ALONE


def test_a_step_written_for_two_backends_is_no_variant_and_is_not_narrowed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    root = make_project(tmp_path / "a", {"tf": TF_TRAINER, "mixed": MIXED})
    assert found(root / "trainers" / "tf.py") == TF_ALONE
    root = make_project(tmp_path / "b", {"tf": TF_TRAINER, "mixed": MIXED, "torch": TORCH_TRAINER})
    assert ("KER502", 8) in found(root / "trainers" / "mixed.py")
    assert found(root / "trainers" / "tf.py") == TF_ONLY


def test_a_subclass_of_a_project_model_is_a_variant(tmp_path):
    base = "import keras\n\n\nclass Base(keras.Model):\n    pass\n"
    torch = TORCH_TRAINER.replace("import keras\n", "import keras\nfrom .base import Base\n").replace(
        "(keras.Model)", "(Base)"
    )
    root = make_project(tmp_path, {"tf": TF_TRAINER, "torch": torch, "base": base})
    assert found(root / "trainers" / "tf.py") == TF_ONLY
    assert found(root / "trainers" / "torch.py") == _shift(TORCH_ONLY, 1)


def test_guards_inside_a_narrowed_class_intersect_with_its_backend(tmp_path):
    guarded = TORCH_TRAINER.replace(
        "        self.tokens = keras.Input(shape=(None,), ragged=True)\n",
        '        if keras.backend.backend() == "jax":\n'
        "            self.tokens = keras.Input(shape=(None,), ragged=True)\n",
    )
    root = make_project(tmp_path, {"tf": TF_TRAINER, "torch": guarded})
    # KER415 (JAX and PyTorch) is in a JAX branch of a PyTorch class: it never runs.
    expected = [(code, line + 1 if line > 10 else line) for code, line in TORCH_ONLY if code != "KER415"]
    assert found(root / "trainers" / "torch.py") == expected


# ----- the command line, and editors ----------------------------------------------------------


def _cli(root: Path, *paths: str) -> list[tuple[str, str, int]]:
    result = subprocess.run(
        [sys.executable, "-m", "kerasfix.server", "check", "--output-format", "json", *paths],
        cwd=root,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr.decode()
    return sorted(
        (Path(f["filename"]).as_posix(), f["code"], f["location"]["row"]) for f in json.loads(result.stdout)
    )


def test_the_command_line_on_the_file_alone_agrees_with_the_folder_run(tmp_path):
    root = make_project(tmp_path, TRAINERS)
    alone = _cli(root, "trainers/torch.py")
    folder = [item for item in _cli(root, "trainers") if item[0].endswith("torch.py")]
    assert alone == folder
    assert sorted((code, line) for _, code, line in alone) == sorted(TORCH_ONLY)


def _edits(source: str, name: str) -> list[str]:
    """Edits inside the classes: some keep each class's backend, some change it."""
    step = "train_step"
    return [
        source.replace("x, y = data\n", "x, y = data[0], data[1]\n", 1),
        source.replace("return {\"loss\": loss}", "return {\"total\": loss}"),
        # The PyTorch step no longer uses torch: the class is no variant.
        source.replace("        with torch.no_grad():\n            self.", "        if True:\n            self."),
        source,
        # The TF step no longer uses GradientTape.
        source.replace("tf.GradientTape()", "keras.ops.no_op()"),
        source,
        # A stateless signature: the class becomes JAX's.
        source.replace(f"def {step}(self, data):", f"def {step}(self, state, data):", 1),
        source,
        source.replace(f"def {step}(", "def fit_step(", 1),
        source,
        source + "\n\nclass Extra(keras.Model):\n    def train_step(self, state, data):\n        return {}, state\n",
        source,
        source.replace(name, name + "2"),
        source,
    ]


@pytest.mark.parametrize("name", ["tf", "torch", "both"])
def test_incremental_lint_gives_what_a_full_lint_gives(tmp_path, name):
    files = dict(TRAINERS, both=BOTH)
    root = make_project(tmp_path, {key: files[key] for key in (["both"] if name == "both" else TRAINERS)})
    path = root / "trainers" / f"{name}.py"
    source = path.read_text(encoding="utf-8")
    settings = settings_for(path)
    linter = IncrementalLinter(str(path), settings)
    linter.lint(source)
    changed = 0
    for text in _edits(source, "Trainer"):
        got = linter.lint(text)
        assert got == lint(text, str(path), settings), text
        changed += [f.code for f in got] != [f.code for f in lint(source, str(path), settings)]
    assert changed >= 4  # the edits do change what is narrowed


def test_random_edits_of_a_file_with_two_variants_match_full_lint(tmp_path):
    root = make_project(tmp_path, {"both": BOTH})
    path = root / "trainers" / "both.py"
    settings = settings_for(path)
    rng = random.Random(20261206)
    linter = IncrementalLinter(str(path), settings)
    text = last_good = BOTH
    linter.lint(text)
    pieces = ["torch.", "tf.", "x", "\n", "(", ")", ", state", "    ", "jax.numpy", "import torch\n", "#"]
    checked = 0
    for _ in range(150):
        position = rng.randrange(len(text) + 1)
        if rng.random() < 0.6:
            text = text[:position] + rng.choice(pieces) + text[position:]
        else:
            text = text[:position] + text[position + rng.randrange(1, 4) :]
        got = linter.lint(text)
        expected = lint(text, str(path), settings)
        if {f.code for f in expected} & {"KER001", "KER002"}:
            text = last_good
            linter.lint(text)
            continue
        last_good = text
        if cst.parse_module(text).code != text:
            continue
        assert got == expected, linter.last_mode
        checked += 1
    assert checked > 50


# ----- the buffer's detection is the project index's ------------------------------------------

TRICKY = '''import keras
import tensorflow as tf
import torch
from tensorflow import GradientTape
import jax.numpy as jnp
import torch.nn.functional as F
from .. import torch_utils
from .helpers import jax_tools as jt
Tape = tf.GradientTape
try:
    import jax
except ImportError:
    jax = None


class Aliased(keras.Model):
    def train_step(self, data):
        with Tape() as tape:
            return {}


class Imported(keras.Model):
    def train_step(self, data):
        with GradientTape():
            return {}


class Numpy(keras.Model):
    def train_step(self, data):
        return jnp.sum(data)


class PositionalOnly(keras.Model):
    def train_step(self, data, /):
        return F.relu(data)


class ThirdParameter(keras.Model):
    def train_step(self, data, torch=None):
        return data


class Relative(keras.Model):
    def train_step(self, data):
        return torch_utils.step(jt.grad(data))


class NamesThatAreNot:
    def train_step(self, data):
        self.torch.zero_grad()
        f(torch=1)
        try:
            pass
        except ValueError as torch:
            pass
        global jax
        import torch
        (lambda torch: 0)(1)


class NamesThatAre:
    def train_step(self, data):
        [torch for torch in data]
        x: jax.Array = f"{jnp.pi}"


class Matching(keras.Model):
    def train_step(self, data):
        match data:
            case {"a": torch, **jax}:
                pass
            case Point(x=torch):
                pass
            case [*torch]:
                pass


class Decorated(keras.Model):
    @jax.jit
    def train_step(self, data):
        return {}


class Nested(keras.Model):
    class Inner:
        def train_step(self, data):
            return torch.mean(data)

    async def train_step(self, data):
        return await data


class Redefined(keras.Model):
    def train_step(self, data):
        return tf.GradientTape

    def train_step(self, data):
        return F.gelu(data)


class Own(keras.Model):
    def train_step(self, data):
        return Own.helper(data)


if keras.backend.backend() == "jax":

    class Guarded(keras.Model):
        def train_step(self, state, data):
            return {}, state
else:
    with open("x"):

        class Within(keras.Model):
            def train_step(self, data):
                return torch.mean(data)

try:

    class Tried(keras.Model):
        def train_step(self, data):
            return tf.GradientTape()
except ImportError:

    class Tried(keras.Model):
        def train_step(self, data):
            return jnp.zeros(1)
finally:
    pass


def train_step(self, data):
    return torch.mean(data)
'''

CONSISTENCY = [
    TF_TRAINER,
    TORCH_TRAINER,
    JAX_TRAINER,
    BOTH,
    MIXED,
    PLAIN_AGENT,
    TRICKY,
    "import keras\nclass torch(keras.Model):\n    def train_step(self, data):\n        return torch.x\n",
    "import keras\nfrom torch import *\nclass A(keras.Model):\n    def train_step(self, data):\n        return nn.x\n",
    "import keras as torch\nclass A(torch.Model):\n    def train_step(self, data):\n        return torch.GradientTape\n",
]


def _rule_sources() -> list[str]:
    sources = []
    for rule in all_rules():
        for example in rule.examples:
            sources.append(example.source)
        sources.extend(rule.valid)
    return [source for source in sources if "train_step" in source]


def _example_files() -> list[str]:
    here = Path(__file__).resolve().parent
    files = [*here.glob("examples/*.py"), *here.glob("keras3/keras3_cases/*.py"), *here.glob("projects/**/*.py")]
    return [path.read_text(encoding="utf-8") for path in sorted(files)]


@pytest.mark.parametrize(("name", "is_package"), [("pkg.sub.train", False), ("pkg.sub", True), ("train", False)])
def test_the_buffer_and_the_project_index_read_the_same_backends(name, is_package):
    sources = CONSISTENCY + _rule_sources() + _example_files()
    assert len(sources) > 30
    package = name if is_package else name.rpartition(".")[0]
    compared = 0
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        expected = _ModuleReader(name, is_package).read(tree.body, source.encode()).step_backends
        assert module_step_backends(cst.parse_module(source), name, package or None) == expected, source
        compared += bool(expected)
    assert compared > 15


def test_the_tricky_sources_give_the_backends_they_should():
    """The comparison above must be able to fail: the battery holds each kind of answer."""
    got = module_step_backends(cst.parse_module(TRICKY), "pkg.sub.train", "pkg.sub")
    assert got == {
        "Aliased": {"tensorflow"},
        "Imported": {"tensorflow"},
        "Numpy": {"jax"},
        "PositionalOnly": {"torch"},
        "ThirdParameter": {"jax"},
        "NamesThatAre": {"torch", "jax"},
        "Decorated": {"jax"},
        "Redefined": {"tensorflow", "torch"},
        "Guarded": {"jax"},
        "Within": {"torch"},
        "Tried": {"jax"},
    }


def test_the_project_and_the_buffer_agree_on_a_whole_project(tmp_path):
    root = make_project(tmp_path, dict(TRAINERS, both=BOTH, mixed=MIXED, agent=PLAIN_AGENT))
    from_buffers: dict[str, set[str]] = {}
    for path in sorted((root / "trainers").glob("*.py")):
        module = f"trainers.{path.stem}" if path.stem != "__init__" else "trainers"
        backends = module_step_backends(cst.parse_module(path.read_text(encoding="utf-8")), module, "trainers")
        for klass, found_backends in backends.items():
            if len(found_backends) == 1:
                from_buffers.setdefault(next(iter(found_backends)), set()).add(f"{module}.{klass}")
    assert from_buffers == ProjectIndex(root).step_variants()
    assert set(from_buffers) == {"tensorflow", "torch", "jax"}
