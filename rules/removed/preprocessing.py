"""KER603-KER605: the Keras 2 data preprocessing utilities that Keras 3 removed."""

from __future__ import annotations

from ..imports._common import TableRule
from ..engine.rule import Example


class ImageDataGenerator(TableRule):
    """
    ## Why
    Keras 3 removed `ImageDataGenerator` and the other legacy image helpers
    (`Iterator`, `DirectoryIterator`, `NumpyArrayIterator`, `random_rotation`,
    `apply_affine_transform`, ...): `keras.preprocessing.image` only has `load_img`,
    `img_to_array`, `array_to_img`, `save_img` and `smart_resize`. Only the `tf.keras`
    compatibility shim still serves them, and only with TensorFlow installed.

    ## Example
    ```python
    from tensorflow.keras.preprocessing.image import ImageDataGenerator
    gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
    train = gen.flow_from_directory("data/train", target_size=(224, 224))
    ```

    ## Use instead
    ```python
    import keras
    train = keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))
    augment = keras.Sequential([keras.layers.Rescaling(1 / 255), keras.layers.RandomFlip("horizontal")])
    train = train.map(lambda x, y: (augment(x, training=True), y))
    ```

    ## Backends
    All. Spelled through `tf.keras`, JAX and PyTorch only: with TensorFlow >= 2.16 the `tf.keras` namespace still serves `ImageDataGenerator` and the image helpers on the TensorFlow backend (checked on Keras 3.15.1 with TensorFlow 2.21, tests/keras3/test_tensorflow_keras_modules_keras3.py), so a project for TensorFlow alone gets no finding there.

    ## Fix safety
    No fix: the data pipeline has to be rewritten (the message names the replacement).

    ## References
    - Catalogue K3-DAT-001; Keras migration guide.
    """

    code = "KER603"
    name = "image-data-generator"
    message = "`ImageDataGenerator` and the legacy image helpers are not in Keras 3"
    examples = (
        Example("from tensorflow.keras.preprocessing.image import «ImageDataGenerator»\n", None),
        Example("import tensorflow as tf\ngen = «tf.keras.preprocessing.image.ImageDataGenerator»(rescale=1 / 255)\n", None),
        Example("from keras.preprocessing import image\nx = «image.random_rotation»(x, 20)\n", None),
        Example("from keras.preprocessing.image import load_img, «ImageDataGenerator»\n", None),
    )
    valid = (
        "from keras.preprocessing.image import load_img, img_to_array\n",
        "import keras\nds = keras.utils.image_dataset_from_directory('data')\n",
        "from my_project.preprocessing.image import ImageDataGenerator\n",
        "def f(tf):\n    return tf.keras.preprocessing.image.ImageDataGenerator()\n",
    )


class PreprocessingText(TableRule):
    """
    ## Why
    Keras 3 has no `keras.preprocessing.text`: `Tokenizer`, `one_hot`, `hashing_trick`,
    `text_to_word_sequence` and `tokenizer_from_json` are gone
    (`ModuleNotFoundError: No module named 'keras.preprocessing.text'`).

    ## Example
    ```python
    from tensorflow.keras.preprocessing.text import Tokenizer
    tokenizer = Tokenizer(num_words=10000)
    tokenizer.fit_on_texts(texts)
    ```

    ## Use instead
    ```python
    import keras
    vectorize = keras.layers.TextVectorization(max_tokens=10000, output_mode="int")
    vectorize.adapt(texts)
    ```

    ## Backends
    All. `TextVectorization` needs TensorFlow installed, even on the JAX and PyTorch backends;
    KerasHub tokenizers are the alternative. Spelled through `tf.keras`, JAX and PyTorch only: with TensorFlow >= 2.16 the `tf.keras` namespace still serves `Tokenizer` and the text helpers on the TensorFlow backend (checked on Keras 3.15.1 with TensorFlow 2.21, tests/keras3/test_tensorflow_keras_modules_keras3.py).

    ## Fix safety
    No fix: the tokenizer's API and vocabulary differ.

    ## References
    - Catalogue K3-DAT-002.
    """

    code = "KER604"
    name = "preprocessing-text"
    message = "`keras.preprocessing.text` is not in Keras 3"
    examples = (
        Example("from «tensorflow.keras.preprocessing.text» import Tokenizer\n", None),
        Example("import tensorflow as tf\nt = «tf.keras.preprocessing.text.Tokenizer»(num_words=100)\n", None),
        Example("from keras.preprocessing import «text»\n", None),
        Example("import «keras.preprocessing.text» as text\n", None),
    )
    valid = (
        "import keras\nv = keras.layers.TextVectorization(max_tokens=100)\n",
        "from keras.preprocessing import sequence\n",
        "def f(keras):\n    return keras.preprocessing.text.Tokenizer()\n",
    )


class PreprocessingSequence(TableRule):
    """
    ## Why
    Keras 3 kept `pad_sequences` (as `keras.utils.pad_sequences`, and still under
    `keras.preprocessing.sequence`) but removed `TimeseriesGenerator`, `skipgrams` and
    `make_sampling_table` from `keras.preprocessing.sequence`: `ImportError: cannot import
    name 'TimeseriesGenerator'`. Only the `tf.keras` compatibility shim still serves them
    (`tensorflow.keras.preprocessing.sequence`), and only with TensorFlow installed.

    ## Example
    ```python
    from tensorflow.keras.preprocessing.sequence import TimeseriesGenerator
    gen = TimeseriesGenerator(data, targets, length=10, batch_size=32)
    ```

    ## Use instead
    ```python
    import keras
    ds = keras.utils.timeseries_dataset_from_array(data, targets[10:], sequence_length=10, batch_size=32)
    ```

    ## Backends
    All: `keras.preprocessing.sequence` lacks them on JAX, TensorFlow and PyTorch. The
    `tf.keras` spelling runs wherever TensorFlow is installed, on its backend or JAX's (checked
    with TensorFlow 2.21): that spelling is reported for JAX and PyTorch only.

    ## Fix safety
    No fix for the removed names. `pad_sequences` imported through `tf.keras` is moved to
    `keras` by KER101, since Keras 3 has it.

    ## References
    - Catalogue K3-DAT-003.
    """

    code = "KER605"
    name = "preprocessing-sequence"
    message = "This `keras.preprocessing.sequence` name is not in Keras 3"
    examples = (
        Example("from tensorflow.keras.preprocessing.sequence import «TimeseriesGenerator»\n", None),
        Example("from keras.preprocessing.sequence import pad_sequences, «skipgrams»\n", None),
        Example("import tensorflow as tf\nt = «tf.keras.preprocessing.sequence.make_sampling_table»(100)\n", None),
    )
    valid = (
        "from keras.preprocessing.sequence import pad_sequences\n",
        "from keras.utils import pad_sequences\n",
        "import tensorflow as tf\nx = tf.keras.preprocessing.sequence.pad_sequences(seqs)\n",
    )
