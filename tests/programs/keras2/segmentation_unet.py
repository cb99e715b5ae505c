"""U-Net for binary segmentation with a dice loss and paired image/mask generators."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import backend as K
from tensorflow.keras.callbacks import CSVLogger, ModelCheckpoint
from tensorflow.keras.layers import (BatchNormalization, Conv2D, Conv2DTranspose,
                                     Input, MaxPooling2D, concatenate)
from tensorflow.keras.models import Model
from tensorflow.keras.preprocessing.image import ImageDataGenerator

K.set_image_data_format("channels_last")
smooth = 1.0


def dice_coef(y_true, y_pred):
    y_true_f = K.flatten(y_true)
    y_pred_f = K.flatten(y_pred)
    intersection = K.sum(y_true_f * y_pred_f)
    return (2.0 * intersection + smooth) / (K.sum(y_true_f) + K.sum(y_pred_f) + smooth)


def dice_coef_loss(y_true, y_pred):
    return 1.0 - dice_coef(y_true, y_pred)


def bce_dice_loss(y_true, y_pred):
    return tf.keras.losses.binary_crossentropy(y_true, y_pred) + dice_coef_loss(y_true, y_pred)


def conv_block(x, filters):
    x = Conv2D(filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(x)
    x = BatchNormalization()(x)
    return Conv2D(filters, 3, activation="relu", padding="same", kernel_initializer="he_normal")(x)


def unet(input_size=(256, 256, 1)):
    inputs = Input(input_size)
    skips, x = [], inputs
    for f in (32, 64, 128, 256):
        x = conv_block(x, f)
        skips.append(x)
        x = MaxPooling2D(pool_size=(2, 2))(x)
    x = conv_block(x, 512)
    for f, skip in zip((256, 128, 64, 32), reversed(skips)):
        x = Conv2DTranspose(f, (2, 2), strides=(2, 2), padding="same")(x)
        x = concatenate([x, skip], axis=3)
        x = conv_block(x, f)
    outputs = Conv2D(1, (1, 1), activation="sigmoid")(x)
    model = Model(inputs=[inputs], outputs=[outputs])
    model.compile(optimizer=tf.keras.optimizers.Adam(lr=1e-4), loss=bce_dice_loss,
                  metrics=[dice_coef, tf.keras.metrics.MeanIoU(num_classes=2)])
    return model


def train_generator(batch_size, train_path, aug_dict, target_size=(256, 256), seed=1):
    image_datagen = ImageDataGenerator(**aug_dict)
    mask_datagen = ImageDataGenerator(**aug_dict)
    image_generator = image_datagen.flow_from_directory(
        train_path, classes=["image"], class_mode=None, color_mode="grayscale",
        target_size=target_size, batch_size=batch_size, seed=seed)
    mask_generator = mask_datagen.flow_from_directory(
        train_path, classes=["label"], class_mode=None, color_mode="grayscale",
        target_size=target_size, batch_size=batch_size, seed=seed)
    for img, mask in zip(image_generator, mask_generator):
        img = img / 255.0
        mask = (mask / 255.0 > 0.5).astype(np.float32)
        yield img, mask


if __name__ == "__main__":
    aug = dict(rotation_range=0.2, width_shift_range=0.05, height_shift_range=0.05,
               shear_range=0.05, zoom_range=0.05, horizontal_flip=True, fill_mode="nearest")
    gen = train_generator(2, "data/membrane/train", aug)
    model = unet()
    model.fit(gen, steps_per_epoch=300, epochs=5, callbacks=[
        ModelCheckpoint("unet_membrane.hdf5", monitor="loss", save_best_only=True),
        CSVLogger("unet_log.csv"),
    ])
    K.clear_session()
