"""Fine-tune MobileNetV2 on a folder of flower photos with ImageDataGenerator (TF 2.3)."""
import os

import matplotlib.pyplot as plt
import tensorflow as tf
from tensorflow.keras.applications import MobileNetV2
from tensorflow.keras.applications.mobilenet_v2 import preprocess_input
from tensorflow.keras.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from tensorflow.keras.layers import Dense, Dropout, GlobalAveragePooling2D
from tensorflow.keras.models import Model, load_model
from tensorflow.keras.optimizers import Adam, SGD
from tensorflow.keras.preprocessing.image import ImageDataGenerator

DATA_DIR = os.path.expanduser("~/datasets/flower_photos")
IMG_SIZE = (224, 224)
BATCH = 32

train_gen = ImageDataGenerator(
    preprocessing_function=preprocess_input,
    rotation_range=20,
    width_shift_range=0.2,
    height_shift_range=0.2,
    horizontal_flip=True,
    validation_split=0.2,
)
train_flow = train_gen.flow_from_directory(
    DATA_DIR, target_size=IMG_SIZE, batch_size=BATCH, subset="training")
val_flow = train_gen.flow_from_directory(
    DATA_DIR, target_size=IMG_SIZE, batch_size=BATCH, subset="validation")

base = MobileNetV2(weights="imagenet", include_top=False, input_shape=IMG_SIZE + (3,))
base.trainable = False

x = GlobalAveragePooling2D()(base.output)
x = Dropout(0.2)(x)
outputs = Dense(train_flow.num_classes, activation="softmax")(x)
model = Model(inputs=base.input, outputs=outputs)

model.compile(optimizer=Adam(lr=1e-3, decay=1e-6),
              loss="categorical_crossentropy", metrics=["acc"])

callbacks = [
    ModelCheckpoint("checkpoints/flowers_best.h5", monitor="val_acc",
                    save_best_only=True, save_weights_only=True, period=1),
    EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
    ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=2, min_lr=1e-6),
]

history = model.fit_generator(
    train_flow,
    steps_per_epoch=train_flow.samples // BATCH,
    validation_data=val_flow,
    validation_steps=val_flow.samples // BATCH,
    epochs=10,
    callbacks=callbacks,
    workers=4,
    use_multiprocessing=True,
)

# fine-tune the top of the base network
base.trainable = True
for layer in base.layers[:100]:
    layer.trainable = False
model.compile(optimizer=SGD(lr=1e-4, momentum=0.9),
              loss="categorical_crossentropy", metrics=["acc"])
history_ft = model.fit_generator(train_flow, epochs=5, validation_data=val_flow)

model.load_weights("checkpoints/flowers_best.h5")
model.save("flowers_mobilenet.h5")
restored = load_model("flowers_mobilenet.h5")
loss, acc = restored.evaluate_generator(val_flow)
print("val acc", acc)

plt.plot(history.history["acc"] + history_ft.history["acc"])
plt.plot(history.history["val_acc"] + history_ft.history["val_acc"])
plt.savefig("flowers_history.png")
