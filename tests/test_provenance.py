"""Provenance (rules/engine/provenance.py): what a name or `self.attr` holds, and the receiver
checks of the saving, layer and training rules that ask it instead of guessing from names."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.engine import provenance as prov
from kerasfix.rules.engine.context import Context
from kerasfix.rules.engine.incremental import IncrementalLinter
from kerasfix.rules.engine.names import module_bindings
from kerasfix.rules.engine.project import project_for
from kerasfix.rules.engine.provenance import Where, fact_of

HEADER = "import keras\nimport tensorflow as tf\n"


def _context(source: str, path: str | None = None) -> tuple[cst.Module, Context]:
    module = cst.parse_module(source)
    return module, Context(module, Settings(), path, project=project_for(path))


def _find(module: cst.Module, dotted: str) -> Where:
    """The position inside the function `f` or the method `Class.method`."""
    klass = None
    body = module.body
    functions: list[cst.FunctionDef] = []
    for part in dotted.split("."):
        node = next(s for s in body if isinstance(s, (cst.FunctionDef, cst.ClassDef)) and s.name.value == part)
        if isinstance(node, cst.ClassDef):
            klass = node
        else:
            functions.append(node)
        body = node.body.body
    return Where(tuple(functions), klass)


def fact(source: str, expr: str = "m", inside: str | None = None, path: str | None = None) -> prov.Fact:
    module, ctx = _context(source, path)
    where = _find(module, inside) if inside else Where()
    return fact_of(ctx, cst.parse_expression(expr), where)


def kind(source: str, expr: str = "m", inside: str | None = None, path: str | None = None) -> str:
    return fact(source, expr, inside, path).kind


# ----- each source kind ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "assignment, expected",
    [
        ("m = keras.Sequential([keras.layers.Dense(2)])", prov.MODEL),
        ("m = keras.Model(inputs, outputs)", prov.MODEL),
        ("m = tf.keras.models.load_model('a.h5')", prov.MODEL),
        ("m = keras.saving.load_model('a.keras')", prov.MODEL),
        ("m = keras.models.clone_model(base)", prov.MODEL),
        ("m = keras.models.model_from_json(text)", prov.MODEL),
        ("m = keras.applications.ResNet50(weights=None)", prov.MODEL),
        ("m = tf.keras.applications.efficientnet.EfficientNetB0()", prov.MODEL),
        ("m = keras.Sequential.from_config(config)", prov.MODEL),
        ("m = keras.layers.Dense(3)", prov.LAYER),
        ("m = base.layers[0]", prov.LAYER),
        ("m = base.layers[1:]", prov.LIST),
        ("m = base.get_layer('encoder')", prov.LAYER),
        ("m = keras.Input((3,))", prov.TENSOR),
        ("m = keras.layers.Dense(3)(x)", prov.TENSOR),
        ("m = keras.ops.sum(x)", prov.TENSOR),
        ("m = keras.layers.concatenate([a, b])", prov.TENSOR),
        ("m = [keras.layers.Dense(2)]", prov.LIST),
        ("m = {'a': 1}", prov.DICT),
        ("m = (1, 2)", prov.TUPLE),
        ("m = keras.optimizers.Adam(1e-3)", prov.OPTIMIZER),
        ("m = tf.keras.optimizers.get('adam')", prov.OPTIMIZER),
        ("m = keras.metrics.AUC()", prov.METRIC),
        ("m = keras.losses.BinaryCrossentropy()", prov.LOSS),
        ("m = keras.losses.mse", prov.LOSS),
        ("m = keras.callbacks.EarlyStopping()", prov.CALLBACK),
        ("m = tf.data.Dataset.from_tensor_slices(x)", prov.DATASET),
        ("m = tf.data.TFRecordDataset(files).map(parse).batch(32).prefetch(2)", prov.DATASET),
        ("m = keras.utils.image_dataset_from_directory('images')", prov.DATASET),
        ("m = keras.utils.to_categorical(y)", prov.OTHER),
        ("m = tf.train.Checkpoint(model=net)", prov.OTHER),
        ("m = 'model.keras'", prov.OTHER),
        ("m = open('weights.bin', 'rb')", prov.OTHER),
        ("m = dict(a=1)", prov.DICT),
        ("m = max(candidates, key=score)", prov.UNKNOWN),
        ("import keras_hub\nm = keras_hub.models.BertClassifier.from_preset('bert_base_en')", prov.MODEL),
        ("import keras_hub\nm = keras_hub.models.BertTokenizer.from_preset('bert_base_en')", prov.LAYER),
        ("import keras_cv\nm = keras_cv.models.YOLOV8Detector(num_classes=3)", prov.MODEL),
        ("import tensorflow_model_optimization as tfmot\nm = tfmot.quantization.keras.quantize_model(b)", prov.UNKNOWN),
        ("import copy\nm = copy.deepcopy(keras.Sequential())", prov.MODEL),
        ("m = tf.nest.map_structure(f, opts)", prov.UNKNOWN),
        ("import tensorflow.compat.v2 as tf2\nm = tf2.nest.map_structure(f, opts)", prov.UNKNOWN),
        ("import tensorflow.compat.v2 as tf2\nm = tf2.data.Dataset.range(3)", prov.DATASET),
        ("import tf_keras\nm = tf_keras.Sequential()", prov.OTHER),
        ("m = make_model()", prov.UNKNOWN),
        ("m = models[0]", prov.UNKNOWN),
        ("m = trainer.model", prov.UNKNOWN),
    ],
)
def test_source_kinds(assignment, expected):
    assert kind(HEADER + assignment + "\n") == expected


def test_a_library_other_than_keras_is_shown_not_to_be_a_model():
    source = "from PIL import Image\nimport PIL.Image\nimg = Image.open(p)\nmodel = PIL.Image.new('RGB', (2, 2))\n"
    assert kind(source, "img") == prov.OTHER
    assert kind(source, "model") == prov.OTHER
    assert "PIL" in fact(source, "model").why


@pytest.mark.parametrize(
    "source",
    [
        "import tensorflow.keras as tk\nm = tk.Sequential()\n",
        "from tensorflow import keras as K2\nm = K2.models.Sequential()\n",
        "from keras import models as km\nm = km.load_model('a.keras')\n",
        "from tensorflow.keras.models import Model\nm = Model(inputs=i, outputs=o)\n",
        "import keras_core as keras\nm = keras.Sequential()\n",
        "from tensorflow.python.keras.engine.sequential import Sequential\nm = Sequential()\n",
    ],
)
def test_any_keras_spelling(source):
    assert kind(source) == prov.MODEL


def test_a_parameter_named_like_an_import_is_not_keras():
    source = "import keras\ndef f(keras):\n    m = keras.Sequential()\n    return m\n"
    assert kind(source, inside="f") == prov.UNKNOWN


# ----- scopes, reassignment, functions, parameters ------------------------------------------------


def test_reassignment_to_another_kind_is_unknown_and_says_so():
    source = HEADER + "m = keras.Sequential()\nif debug:\n    m = [1, 2]\n"
    found = fact(source)
    assert found.kind == prov.UNKNOWN
    assert found.why == "assigned values of different kinds: list, model"


def test_none_placeholder_and_same_kind_reassignment_keep_the_kind():
    source = HEADER + "m = None\nm = keras.Sequential()\nm = keras.models.load_model('x.keras')\n"
    assert kind(source) == prov.MODEL


def test_a_binding_that_is_not_followed_makes_the_name_unknown():
    source = HEADER + "m = keras.Sequential()\nfor m in models:\n    pass\n"
    assert kind(source) == prov.UNKNOWN
    source = HEADER + "m = keras.Sequential()\nm, n = pair\n"
    assert kind(source) == prov.UNKNOWN


def test_comprehension_and_lambda_names_make_the_same_name_unknown():
    source = HEADER + "m = keras.Sequential()\nsaved = [m.save(p) for m in images]\n"
    assert fact(source) == prov.Fact(prov.UNKNOWN, "assigned a model and a value not followed (also a comprehension's variable)")
    source = HEADER + "m = keras.Sequential()\nsave = lambda m: m.save('x')\n"
    assert kind(source) == prov.UNKNOWN
    source = HEADER + "if (m := keras.Sequential()):\n    pass\n"
    assert kind(source) == prov.MODEL


def test_names_are_answered_by_their_own_scope():
    source = HEADER + "model = keras.Sequential()\ndef f(model):\n    return model\ndef g():\n    return model\n"
    assert kind(source, "model") == prov.MODEL
    assert kind(source, "model", "f") == prov.UNKNOWN
    assert fact(source, "model", "f").why == "a parameter without annotation"
    assert kind(source, "model", "g") == prov.MODEL


def test_a_function_of_the_module_returning_a_model():
    source = HEADER + (
        "def build(n):\n    net = keras.Sequential()\n    if n:\n        return net\n"
        "    return keras.models.clone_model(net)\n"
        "def pick(n):\n    if n:\n        return keras.Sequential()\n    return 'none'\n"
        "a = build(2)\nb = pick(1)\n"
    )
    assert kind(source, "a") == prov.MODEL
    assert kind(source, "b") == prov.UNKNOWN


@pytest.mark.parametrize(
    "signature",
    ["m: keras.Model", "m: tf.keras.Sequential", "m: Optional[keras.Model] = None", "m: keras.Model | None = None"],
)
def test_a_parameter_annotated_with_a_model_class(signature):
    source = HEADER + f"def f({signature}):\n    return m\n"
    assert kind(source, inside="f") == prov.MODEL


def test_annotations_of_other_types():
    source = HEADER + "from PIL import Image\ndef f(m: Image.Image, n: str, o: keras.layers.Layer):\n    pass\n"
    assert kind(source, "m", "f") == prov.OTHER
    assert kind(source, "n", "f") == prov.OTHER
    assert kind(source, "o", "f") == prov.LAYER


def test_evidence_by_use():
    source = HEADER + (
        "def train(model, data):\n    model.fit(data)\n"
        "def show(model):\n    print(model)\n"
        "import segmentation_models as sm\nunet = sm.Unet('resnet34')\nunet.compile('adam')\n"
        "from sklearn.svm import SVC\nclf = SVC()\nclf.fit(x, y)\n"
        "from PIL import Image\nimg = Image.open(p)\nimg.predict(x)\n"
    )
    assert fact(source, "model", "train") == prov.Fact(prov.MODEL, "`.fit()` is called on it")
    assert kind(source, "model", "show") == prov.UNKNOWN
    assert kind(source, "unet") == prov.MODEL
    assert kind(source, "clf") == prov.OTHER
    assert kind(source, "img") == prov.OTHER


# ----- self and self.attr ------------------------------------------------------------------------


CLASSES = HEADER + '''\
from keras import layers


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.encoder = layers.Dense(4)
        self.backbone = keras.applications.MobileNetV2(weights=None)
        self.blocks = []
        self.head = None

    def build_head(self):
        self.head = keras.Sequential()

    def call(self, x):
        return self.head(self.encoder(x))


class Logger(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        pass


class Block(layers.Layer):
    def call(self, x):
        return x


class Holder:
    def __init__(self):
        self.model = Image.open(p)

    def go(self):
        pass
'''


def test_self_and_its_attributes():
    assert kind(CLASSES, "self", "Net.call") == prov.MODEL
    assert kind(CLASSES, "self.encoder", "Net.call") == prov.LAYER
    assert kind(CLASSES, "self.backbone", "Net.call") == prov.MODEL
    assert kind(CLASSES, "self.blocks", "Net.call") == prov.LIST
    assert kind(CLASSES, "self.head", "Net.call") == prov.MODEL
    assert kind(CLASSES, "self.optimizer", "Net.call") == prov.OPTIMIZER
    assert kind(CLASSES, "self.optimizer.lr", "Net.call") == prov.UNKNOWN
    assert kind(CLASSES, "self.model", "Logger.on_epoch_end") == prov.MODEL
    assert kind(CLASSES, "self.model.optimizer", "Logger.on_epoch_end") == prov.OPTIMIZER
    assert kind(CLASSES, "self", "Block.call") == prov.LAYER
    assert kind(CLASSES, "super()", "Block.call") == prov.LAYER
    assert kind(CLASSES, "self", "Holder.go") == prov.OTHER
    assert kind(CLASSES, "self.model", "Holder.go") == prov.UNKNOWN  # `Image` is not imported
    assert kind(CLASSES.replace("class Holder", "from PIL import Image\nclass Holder"), "self.model", "Holder.go") == prov.OTHER


def test_instances_of_module_classes():
    source = CLASSES + "a = Net()\nb = Block()\nc = Holder()\nd = Logger()\n"
    assert [kind(source, name) for name in "abcd"] == [prov.MODEL, prov.LAYER, prov.OTHER, prov.CALLBACK]


# ----- classes of other modules of the project ---------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    package = tmp_path / "demo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text(
        "from tensorflow import keras\n\n\nclass BaseModel(keras.Model):\n    pass\n\n\n"
        "class BaseLayer(keras.layers.Layer):\n    pass\n\n\nclass Trainer:\n    pass\n\n\n"
        "def build():\n    return keras.Sequential()\n"
    )
    (package / "nets.py").write_text("from .base import BaseModel\n\n\nclass Net(BaseModel):\n    pass\n")
    return package


PROJECT_FILE = """\
import keras
from .nets import Net
from demo.base import BaseLayer, Trainer, build
from . import base

m = Net()
m2 = base.BaseModel()
layer = BaseLayer()
trainer = Trainer()
built = build()
m.save("c_dir")
trainer.save("t_dir")
"""


def test_a_project_class_of_another_module(project: Path):
    path = str(project / "train.py")
    assert kind(PROJECT_FILE, "m", path=path) == prov.MODEL
    assert kind(PROJECT_FILE, "m2", path=path) == prov.MODEL
    assert kind(PROJECT_FILE, "layer", path=path) == prov.LAYER
    assert kind(PROJECT_FILE, "trainer", path=path) == prov.OTHER
    built = fact(PROJECT_FILE, "built", path=path)
    assert built == prov.Fact(prov.UNKNOWN, "the result of a function of another module")


def test_a_project_model_is_saved_whatever_its_name(project: Path):
    path = str(project / "train.py")
    found = [(f.code, PROJECT_FILE[f.span.start:f.span.end]) for f in lint(PROJECT_FILE, path, SAVING)]
    assert found == [("KER301", '"c_dir"')]


def test_a_project_optimizer_class_of_another_module(project: Path):
    (project / "opt.py").write_text("import keras\n\n\nclass BaseOpt(keras.optimizers.Optimizer):\n    pass\n")
    source = "import keras\nfrom .opt import BaseOpt\n\n\nclass Mine(BaseOpt):\n    def get_gradients(self, loss, params):\n        pass\n"
    path = str(project / "mine.py")
    assert [f.code for f in lint(source, path, Settings(select=("KER521",)))] == ["KER521"]
    assert [f.code for f in lint(source.replace("(BaseOpt)", "(object)"), path, Settings(select=("KER521",)))] == []


def test_a_module_beside_a_script_is_the_users_own(tmp_path: Path):
    """`scripts/train.py` runs with `scripts/` on the path: `from utils import build` is the
    user's function (unknown), not another library's value (other)."""
    (tmp_path / "pyproject.toml").write_text("")
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "utils.py").write_text("import keras\n\ndef build():\n    return keras.Sequential()\n")
    source = "import keras\nfrom utils import build\nfrom PIL import Image\nmodel = build()\nimg = Image.open(p)\n"
    path = str(scripts / "train.py")
    assert kind(source, "model", path=path) == prov.UNKNOWN
    assert kind(source, "img", path=path) == prov.OTHER
    saved = source + 'model.save("out_dir")\n'
    assert findings(saved, path=path) == [("KER301", '"out_dir"')]
    assert kind(source, "model", path=str(tmp_path / "elsewhere" / "train.py")) == prov.OTHER


# ----- the rules ---------------------------------------------------------------------------------

SAVING = Settings(select=("KER3",))


def findings(source: str, settings: Settings = SAVING, path: str = "train.py") -> list[tuple[str, str]]:
    return [(f.code, source[f.span.start:f.span.end]) for f in lint(source, path, settings)]


def check_fix(source: str, expected: str, settings: Settings = SAVING) -> None:
    fixed = fix(source, "train.py", settings, unsafe=True).source
    assert fixed == expected
    cst.parse_module(fixed)
    assert fix(fixed, "train.py", settings, unsafe=True).source == fixed


def test_a_sequential_named_m2_saved_to_a_directory():
    source = 'import keras\nm2 = keras.Sequential([keras.layers.Dense(2)])\nm2.save("c_dir")\n'
    assert findings(source) == [("KER301", '"c_dir"')]
    check_fix(source, source.replace('"c_dir"', '"c_dir.keras"'))


def test_a_loaded_model_named_net_saved_to_a_directory():
    source = 'import keras\nnet = keras.models.load_model("a.h5")\nnet.save("exported")\n'
    assert findings(source) == [("KER301", '"exported"')]
    check_fix(source, source.replace('"exported"', '"exported.keras"'))


@pytest.mark.parametrize(
    "source",
    [
        'import keras\nfrom PIL import Image\nimg = Image.open(p)\nimg.save("x")\n',
        'import keras\nimport PIL\nmodel = PIL.Image.new("RGB", (8, 8))\nmodel.save("out")\n',
        'import keras\nfrom gensim.models import Word2Vec\nmodel = Word2Vec(sentences)\nmodel.save("w2v")\n',
        'import keras\nmodel = keras.layers.Dense(4)\nmodel.save("layer_dir")\n',
        'import keras\ndef f(net: keras.layers.Layer):\n    net.save("x")\n',
    ],
)
def test_values_shown_not_to_be_models_are_not_saving_findings(source):
    assert findings(source) == []


def test_unknown_receivers_fall_back_to_their_names():
    source = 'import keras\ndef export(model, img):\n    model.save("a_dir")\n    img.save("b_dir")\n'
    assert findings(source) == [("KER301", '"a_dir"')]


def test_a_parameter_used_as_a_model_is_one_whatever_its_name():
    source = 'import keras\ndef run(clf, data):\n    clf.fit(data)\n    clf.save("out")\n'
    assert findings(source) == [("KER301", '"out"')]


def test_weights_of_objects_shown_not_to_be_models():
    source = (
        "import keras\nimport mrcnn.model as modellib\n"
        'rcnn = modellib.MaskRCNN(mode="inference")\nrcnn.load_weights("coco", by_name=True)\n'
        'm2 = keras.Sequential()\nm2.save_weights("w.h5")\nm2.load_weights("ckpt/w", by_name=True)\n'
    )
    # `load_weights("coco", by_name=True)` of Mask R-CNN's own class is neither KER304 (a
    # checkpoint prefix) nor KER306.
    assert findings(source) == [("KER304", '"w.h5"'), ("KER304", '"ckpt/w"'), ("KER306", "by_name=True")]


def test_save_format_needs_a_model_receiver():
    source = (
        'import keras\nfrom PIL import Image\nimg = Image.open(p)\nimg.save("a.png", save_format="png")\n'
        'm2 = keras.Sequential()\nm2.save("m.keras", save_format="keras")\n'
    )
    assert findings(source, Settings(select=("KER302",))) == [("KER302", 'save_format="keras"')]
    check_fix(
        source,
        source.replace('"m.keras", save_format="keras"', '"m.keras"'),
        Settings(select=("KER302",)),
    )


LAYERS = Settings(select=("KER406", "KER407"))


def test_removed_layer_api_by_provenance():
    source = (
        "import keras\nm2 = keras.Sequential()\nm2.reset_states()\n"
        "lstm = keras.layers.LSTM(4, stateful=True)\nlstm.reset_states()\n"
        "dense = keras.layers.Dense(2)\nprint(dense.output_shape)\n"
        "model_layer = keras.Model(i, o)\nprint(model_layer.output_shape)\n"
        "layer_sizes = [64, 32]\nprint(layer_sizes.updates)\n"
    )
    assert findings(source, LAYERS) == [("KER406", "m2.reset_states"), ("KER406", "dense.output_shape")]
    check_fix(source, source.replace("dense.output_shape", "dense.output.shape"), LAYERS)


def test_add_loss_of_another_library_is_quiet():
    source = (
        "import keras\nfrom mylib import Trainer\ntrainer = Trainer()\ntrainer.add_loss(l2)\n"
        "model = keras.Model(inp, out)\nmodel.add_loss(keras.ops.mean(out))\n"
    )
    assert findings(source, LAYERS) == [("KER407", "model.add_loss")]


def test_metric_and_optimizer_checks():
    settings = Settings(select=("KER507", "KER520"))
    source = (
        "import keras\nacc = keras.metrics.Mean()\nacc.reset_states()\n"
        "counter = MyCounter()\ncounter.reset_states()\n"
        "opt = keras.optimizers.SGD()\nprint(opt.lr)\n"
        "sched = keras.optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)\nprint(sched.lr)\n"
        "m2 = keras.Sequential()\nprint(m2.optimizer.lr)\n"
    )
    found = [(f.code, f.span.start_pos.line) for f in lint(source, "train.py", settings)]
    assert found == [("KER507", 2), ("KER520", 6), ("KER520", 10)]


# ----- partial lints (editors re-linting some statements) ----------------------------------------


def test_module_level_names_are_unknown_in_a_partial_lint():
    whole = cst.parse_module(HEADER + "m2 = keras.Sequential()\nm2.save('x')\n")
    part = cst.parse_module("m2.save('x')\n")
    ctx = Context(part, Settings(), None, bindings=module_bindings(whole), classes={})
    found = fact_of(ctx, cst.Name("m2"), Where())
    assert found.kind == prov.UNKNOWN
    assert "re-linted" in found.why


def test_incremental_lint_matches_the_whole_file():
    rules = LAYERS
    source = HEADER + (
        "def build():\n    m2 = keras.Sequential()\n    m2.reset_states()\n    return m2\n\n\n"
        "class Net(keras.Model):\n    def go(self):\n        self.reset_states()\n"
    )
    linter = IncrementalLinter("m.py", rules)
    assert linter.lint(source) == lint(source, "m.py", rules)
    edited = source.replace("    return m2\n", "    x = 1\n    return m2\n")
    got = linter.lint(edited)
    assert linter.last_mode == "region"
    assert got == lint(edited, "m.py", rules)
    assert [edited[f.span.start:f.span.end] for f in got] == ["m2.reset_states", "self.reset_states"]
