"""Per-layer parity of the native converter: Keras's own output vs the real TF.js.

Each case is a tiny Keras model around one layer and option. It is saved
as a Keras user would save it, converted by the native converter
(``quantize: none``), run by TF.js's CPU backend in Node.js (all cases in one
process), and compared with Keras's own output for the same model. A wrong
padding, stride, default, axis, weight order or activation formula fails
its case; the cases cover every option of every lowered layer, not only its
defaults. Each case's ``model.json`` signature must also carry Keras's own
static input and output shapes (unknown sizes included), and every entry of
``LAYERS`` must be reached by some case. The tolerance, 5e-6, sits just above
the largest error measured over all 269 cases (3.8e-6: float32 rounding
through a folded BatchNormalization, and through exp). The cases of
``attention_cases`` (attention, normalisation, 3-D, augmentation, keras.ops)
and every activation run again on the WebAssembly backend; their largest
errors: 3.8e-6 on both backends (einsum of unscaled Dense outputs), attention
itself 3.6e-7. The cases with Keras masks (token ids with padding into
MultiHeadAttention, Attention, merges and pooling, Keras 3 and tf_keras) hold
``MASK_TOL``. A case may take several inputs (``inputs``), boolean ones too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from mkdocs_tfjs.convert import Choice, convert_model

from .tfjs_node import run_models

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@dataclass
class Case:
    id: str
    build: object  # () -> keras.Model
    shape: tuple  # input shape without the batch
    tol: float = 5e-6
    dtype: str = "float32"
    low: float = -2.0
    high: float = 2.0
    save: str = "keras"  # keras | h5 | npz
    prepare: object = None  # (x) -> x: shapes the random input (e.g. masked steps)
    inputs: object = None  # (rng) -> [arrays]: the inputs of a model with several


def seq(*layers, shape):
    import keras

    return keras.Sequential([keras.Input(shape), *layers])


def L():
    import keras

    return keras.layers


def one(layer_fn, shape, **kw):
    return Case(kw.pop("id"), lambda: seq(layer_fn(), shape=shape), shape, **kw)


def cases() -> list[Case]:
    import keras

    layers = keras.layers
    out: list[Case] = []
    add = out.append
    # -- core
    add(one(lambda: layers.Dense(7), (5,), id="dense"))
    add(one(lambda: layers.Dense(7, activation="relu"), (5,), id="dense-relu-fused"))
    add(one(lambda: layers.Dense(7, use_bias=False, activation="tanh"), (5,), id="dense-nobias"))
    add(one(lambda: layers.Dense(6, activation="sigmoid"), (3, 5), id="dense-rank3"))
    add(one(lambda: layers.Dense(4), (3, 2, 5), id="dense-rank4"))
    for name in ACTIVATIONS:
        add(Case(f"activation-{name}", lambda name=name: seq(layers.Dense(6), layers.Activation(name), shape=(4,)),
                 (4,), low=-4, high=4))
    for name, make in [
        ("dropout", lambda: layers.Dropout(0.5)), ("spatial-dropout1d", lambda: layers.SpatialDropout1D(0.5)),
        ("gaussian-noise", lambda: layers.GaussianNoise(1.0)), ("gaussian-dropout", lambda: layers.GaussianDropout(0.5)),
        ("activity-regularization", lambda: layers.ActivityRegularization(0.1)), ("identity", lambda: layers.Identity()),
    ]:
        add(Case(name, lambda make=make: seq(make(), layers.Dense(3), shape=(4, 5)), (4, 5)))
    add(Case("spatial-dropout2d", lambda: seq(layers.SpatialDropout2D(0.5), shape=(4, 4, 3)), (4, 4, 3)))
    add(one(lambda: layers.Flatten(), (3, 4, 2), id="flatten"))
    add(one(lambda: layers.Reshape((4, -1)), (3, 4, 2), id="reshape"))
    add(one(lambda: layers.Permute((2, 1, 3)), (3, 4, 2), id="permute"))
    add(one(lambda: layers.RepeatVector(3), (5,), id="repeat-vector"))
    add(Case("embedding", lambda: keras.Sequential([keras.Input((6,), dtype="int32"), layers.Embedding(20, 4)]),
             (6,), dtype="int32", low=0, high=20))
    # -- convolution
    for pad in ("valid", "same", "causal"):
        add(one(lambda pad=pad: layers.Conv1D(4, 3, padding=pad), (9, 3), id=f"conv1d-{pad}"))
    add(one(lambda: layers.Conv1D(4, 3, strides=2, padding="same", activation="relu"), (10, 3), id="conv1d-strided"))
    add(one(lambda: layers.Conv1D(4, 3, dilation_rate=2, padding="causal"), (10, 3), id="conv1d-dilated-causal"))
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv2D(5, 3, padding=pad), (7, 8, 3), id=f"conv2d-{pad}"))
        add(one(lambda pad=pad: layers.Conv2D(4, (3, 2), strides=2, padding=pad), (9, 8, 3), id=f"conv2d-strided-{pad}"))
    add(one(lambda: layers.Conv2D(4, 3, dilation_rate=2, padding="same", activation="relu6"), (9, 9, 2), id="conv2d-dilated"))
    add(one(lambda: layers.Conv2D(6, 3, groups=2, padding="same", activation="elu"), (6, 6, 4), id="conv2d-groups"))
    add(one(lambda: layers.Conv2D(4, 1, use_bias=False, activation="swish"), (5, 5, 3), id="conv2d-nobias"))
    # groups == input channels (ConvNeXt's depthwise 7x7) is lowered as one depthwise convolution.
    add(one(lambda: layers.Conv2D(8, 3, groups=4, padding="same", activation="relu"), (6, 6, 4), id="conv2d-groups-per-channel"))
    add(one(lambda: layers.Conv2D(4, 3, groups=4, strides=2, use_bias=False), (7, 7, 4), id="conv2d-groups-per-channel-strided"))
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, 3, strides=2, padding=pad), (4, 5, 2), id=f"conv2d-transpose-{pad}"))
    add(one(lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1), (4, 4, 2),
            id="conv2d-transpose-output-padding"))
    add(one(lambda: layers.Conv2DTranspose(2, 2, strides=1, activation="sigmoid"), (4, 4, 2), id="conv2d-transpose-stride1"))
    add(one(lambda: layers.DepthwiseConv2D(3, padding="same"), (6, 6, 3), id="depthwise"))
    add(one(lambda: layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2, activation="relu"), (7, 7, 3), id="depthwise-mult"))
    add(one(lambda: layers.DepthwiseConv2D(3, dilation_rate=2, use_bias=False), (8, 8, 2), id="depthwise-dilated"))
    add(one(lambda: layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2), (6, 6, 3), id="separable2d"))
    add(one(lambda: layers.SeparableConv2D(4, 3, strides=2, activation="relu"), (7, 7, 3), id="separable2d-strided"))
    add(one(lambda: layers.SeparableConv1D(4, 3, padding="same"), (8, 3), id="separable1d"))
    for cls in ("MaxPooling", "AveragePooling"):
        for pad in ("valid", "same"):
            add(one(lambda cls=cls, pad=pad: getattr(layers, cls + "2D")(3, strides=2, padding=pad), (7, 8, 2), id=f"{cls}2d-{pad}"))
            add(one(lambda cls=cls, pad=pad: getattr(layers, cls + "1D")(2, padding=pad), (7, 3), id=f"{cls}1d-{pad}"))
    for cls in ("GlobalAveragePooling", "GlobalMaxPooling"):
        add(one(lambda cls=cls: getattr(layers, cls + "2D")(), (4, 5, 3), id=f"{cls}2d"))
        add(one(lambda cls=cls: getattr(layers, cls + "2D")(keepdims=True), (4, 5, 3), id=f"{cls}2d-keepdims"))
        add(one(lambda cls=cls: getattr(layers, cls + "1D")(), (6, 3), id=f"{cls}1d"))
    add(one(lambda: layers.ZeroPadding2D(((1, 2), (0, 3))), (4, 4, 2), id="zero-padding2d"))
    add(one(lambda: layers.ZeroPadding1D(2), (4, 2), id="zero-padding1d"))
    add(one(lambda: layers.Cropping2D(((1, 0), (2, 1))), (6, 6, 2), id="cropping2d"))
    add(one(lambda: layers.Cropping1D((1, 2)), (6, 2), id="cropping1d"))
    add(one(lambda: layers.UpSampling2D(2), (3, 4, 2), id="upsampling2d-nearest"))
    add(one(lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (3, 4, 2), id="upsampling2d-bilinear"))
    add(one(lambda: layers.UpSampling1D(3), (4, 2), id="upsampling1d"))
    # -- normalisation
    add(Case("batchnorm-folded-into-conv", lambda: trained_bn(seq(layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(), shape=(6, 6, 3))), (6, 6, 3)))
    add(Case("batchnorm-folded-into-depthwise", lambda: trained_bn(seq(layers.DepthwiseConv2D(3, depth_multiplier=2), layers.BatchNormalization(), layers.ReLU(6.0), shape=(6, 6, 3))), (6, 6, 3)))
    add(Case("batchnorm-folded-into-dense", lambda: trained_bn(seq(layers.Dense(5), layers.BatchNormalization(center=False), shape=(4,))), (4,)))
    add(Case("batchnorm-after-activation", lambda: trained_bn(seq(layers.Conv2D(4, 3, activation="relu"), layers.BatchNormalization(scale=False), shape=(6, 6, 3))), (6, 6, 3)))
    add(Case("batchnorm-axis1", lambda: trained_bn(seq(layers.BatchNormalization(axis=1), shape=(3, 4, 2))), (3, 4, 2)))
    add(Case("layernorm", lambda: randomized(seq(layers.LayerNormalization(), shape=(3, 6))), (3, 6)))
    add(Case("layernorm-rms", lambda: randomized(seq(layers.LayerNormalization(rms_scaling=True), shape=(3, 6))), (3, 6)))
    add(Case("layernorm-axes", lambda: randomized(seq(layers.LayerNormalization(axis=[1, 2], center=False), shape=(3, 4, 2))), (3, 4, 2)))
    add(Case("rms-normalization", lambda: randomized(seq(layers.RMSNormalization(), shape=(3, 6))), (3, 6)))
    add(one(lambda: layers.UnitNormalization(), (3, 6), id="unit-normalization"))
    add(one(lambda: layers.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0]), (4, 3), id="normalization-config"))
    add(one(lambda: layers.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.25, 1.0], invert=True), (4, 3), id="normalization-invert"))
    add(Case("normalization-adapted", adapted_normalization, (3,)))
    # -- activation layers
    add(one(lambda: layers.ReLU(), (6,), id="relu-layer"))
    add(one(lambda: layers.ReLU(max_value=1.5), (6,), id="relu-max-value"))
    add(one(lambda: layers.ReLU(negative_slope=0.1), (6,), id="relu-negative-slope"))
    add(one(lambda: layers.ReLU(max_value=6.0, negative_slope=0.2, threshold=0.5), (6,), id="relu-all-options"))
    add(one(lambda: layers.ReLU(threshold=0.5), (6,), id="relu-threshold"))
    add(one(lambda: layers.LeakyReLU(negative_slope=0.15), (6,), id="leaky-relu-layer"))
    add(one(lambda: layers.ELU(alpha=0.5), (6,), id="elu-alpha"))
    add(Case("prelu", lambda: randomized(seq(layers.PReLU(shared_axes=[1, 2]), shape=(3, 3, 4))), (3, 3, 4)))
    add(one(lambda: layers.Softmax(axis=1), (3, 4), id="softmax-axis1"))
    # -- merges
    for cls in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        add(Case(f"merge-{cls.lower()}", lambda cls=cls: merge_model(getattr(layers, cls)()), (4,)))
    add(Case("concatenate", lambda: merge_model(layers.Concatenate()), (4,)))
    add(Case("concatenate-axis1", lambda: merge_model(layers.Concatenate(axis=1), reshape=True), (4,)))
    # -- preprocessing inside the model
    add(one(lambda: layers.Rescaling(1 / 127.5, offset=-1), (4, 4, 3), id="rescaling", low=0, high=255))
    add(one(lambda: layers.Rescaling([0.5, 2.0, -1.0]), (4, 4, 3), id="rescaling-per-channel"))
    add(one(lambda: layers.Resizing(6, 9), (4, 5, 3), id="resizing-bilinear-up"))
    add(one(lambda: layers.Resizing(3, 2), (7, 6, 3), id="resizing-bilinear-down"))
    add(one(lambda: layers.Resizing(6, 9, interpolation="nearest"), (4, 5, 3), id="resizing-nearest"))
    add(one(lambda: layers.Resizing(4, 4, crop_to_aspect_ratio=True), (6, 9, 3), id="resizing-crop-to-aspect"))
    add(one(lambda: layers.CenterCrop(3, 4), (6, 7, 3), id="center-crop"))
    add(one(lambda: layers.CenterCrop(8, 6), (5, 7, 3), id="center-crop-upscale"))
    # -- keras.ops arithmetic and application layers
    add(Case("ops-arithmetic", ops_model, (4,)))
    add(Case("layer-scale", layer_scale_model, (3, 3, 4)))
    add(Case("ops-gelu-approximate", lambda: gelu_op_model(True), (4,), low=-4, high=4))
    add(Case("ops-gelu-exact", lambda: gelu_op_model(False), (4,), low=-4, high=4))
    # -- model structure and file formats
    add(Case("nested-sequential", nested_model, (6,)))
    add(Case("shared-layer", shared_model, (6,)))
    add(Case("nested-sequential-h5", nested_model, (6,), save="h5"))
    add(Case("conv-bn-h5", lambda: trained_bn(seq(layers.Conv2D(4, 3), layers.BatchNormalization(), layers.Activation("relu"), layers.Flatten(), layers.Dense(3, activation="softmax"), shape=(6, 6, 2))), (6, 6, 2), save="h5"))
    add(Case("nested-sequential-npz", nested_model, (6,), save="npz"))
    add(Case("conv-bn-npz", lambda: trained_bn(seq(layers.Conv2D(4, 3), layers.BatchNormalization(), layers.Dense(3), shape=(6, 6, 2))), (6, 6, 2), save="npz"))
    return out + option_cases()


#: Every activation the lowering knows by name: each gets a case as an ``Activation``
#: layer and as a layer's own ``activation=`` (fused into the kernel or not).
ACTIVATIONS = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "hard_sigmoid",
               "silu", "swish", "hard_silu", "hard_swish", "mish", "softplus", "softsign", "tanh",
               "exponential", "linear", "softmax", "log_softmax"]


def option_cases() -> list[Case]:
    """Non-default options: each case fails on a lowering that ignores or misreads its option."""
    import keras

    layers = keras.layers
    out: list[Case] = []
    add = out.append
    # -- activations by name in a layer's `activation=`: Dense (fused MatMul), Dense without
    # a bias (no fused op), Conv2D (fused Conv2D) and DepthwiseConv2D (fused depthwise).
    for name in ACTIVATIONS:
        # exp's float32 rounding grows with its value: a smaller range keeps 5e-6 absolute.
        span = 1 if name == "exponential" else 4
        add(one(lambda name=name: layers.Dense(6, activation=name), (4,), id=f"dense-activation-{name}", low=-span, high=span))
    for name in ("relu", "relu6", "elu", "sigmoid", "hard_swish", "softmax"):
        add(one(lambda name=name: layers.Dense(6, use_bias=False, activation=name), (4,), id=f"dense-nobias-{name}", low=-4, high=4))
        add(one(lambda name=name: layers.Conv2D(3, 2, activation=name), (4, 4, 2), id=f"conv2d-activation-{name}", low=-4, high=4))
        add(one(lambda name=name: layers.DepthwiseConv2D(2, activation=name), (4, 4, 2), id=f"depthwise-activation-{name}", low=-4, high=4))
    # -- activation layers' parameters
    add(one(lambda: layers.ReLU(max_value=6.0, negative_slope=0.3), (6,), id="relu-max6-negative-slope", low=-8, high=8))
    add(one(lambda: layers.ReLU(negative_slope=0.25, threshold=0.7), (6,), id="relu-threshold-negative-slope"))
    add(one(lambda: layers.ReLU(max_value=0.8, threshold=0.3), (6,), id="relu-threshold-max-value"))
    add(one(lambda: layers.LeakyReLU(), (6,), id="leaky-relu-default"))
    add(one(lambda: layers.LeakyReLU(negative_slope=1.7), (6,), id="leaky-relu-steep"))
    add(one(lambda: layers.ELU(), (6,), id="elu-default", low=-4, high=4))
    add(one(lambda: layers.ELU(alpha=2.5), (6,), id="elu-alpha-large", low=-4, high=4))
    # -- BatchNormalization alone (not folded): first layer, or after a merge
    add(Case("batchnorm-first-epsilon", lambda: trained_bn(seq(layers.BatchNormalization(epsilon=0.5), shape=(5,))), (5,)))
    for name, kw in [("center-off", {"center": False}), ("scale-off", {"scale": False}),
                     ("both-off", {"center": False, "scale": False}), ("epsilon", {"epsilon": 0.3})]:
        add(Case(f"batchnorm-after-add-{name}", lambda kw=kw: trained_bn(merge_model(layers.Add(), then=layers.BatchNormalization(**kw))), (4,)))
    add(Case("batchnorm-first-both-off", lambda: trained_bn(seq(layers.BatchNormalization(center=False, scale=False, epsilon=0.2), shape=(3, 4))), (3, 4)))
    add(Case("batchnorm-folded-epsilon", lambda: trained_bn(seq(layers.Conv2D(4, 3), layers.BatchNormalization(epsilon=0.4, center=False), shape=(5, 5, 2))), (5, 5, 2)))
    # -- dilation
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv1D(3, 3, dilation_rate=2, padding=pad), (11, 2), id=f"conv1d-dilated-{pad}"))
        add(one(lambda pad=pad: layers.Conv2D(3, (3, 2), dilation_rate=(2, 3), padding=pad), (9, 10, 2), id=f"conv2d-dilated-nonsquare-{pad}"))
        add(one(lambda pad=pad: layers.DepthwiseConv2D((2, 3), dilation_rate=(3, 2), padding=pad), (9, 9, 2), id=f"depthwise-dilated-{pad}"))
        add(one(lambda pad=pad: layers.SeparableConv2D(3, 3, dilation_rate=2, padding=pad), (9, 8, 2), id=f"separable2d-dilated-{pad}"))
        add(one(lambda pad=pad: layers.SeparableConv1D(3, 2, dilation_rate=3, padding=pad), (10, 2), id=f"separable1d-dilated-{pad}"))
    add(one(lambda: layers.Conv2D(4, 3, groups=4, dilation_rate=2, padding="same"), (7, 7, 4), id="conv2d-groups-per-channel-dilated"))
    add(one(lambda: layers.Conv2D(4, 3, groups=2, dilation_rate=(1, 2)), (7, 7, 4), id="conv2d-groups-dilated"))
    # -- `same` padding with even kernels and strides > 1 (TensorFlow pads one more after than
    # before) and non-square kernels and strides (height != width)
    for size in ((7, 8), (8, 7)):
        tag = f"{size[0]}x{size[1]}"
        add(one(lambda: layers.Conv2D(3, 4, strides=2, padding="same"), (*size, 2), id=f"conv2d-same-even-{tag}"))
        add(one(lambda: layers.Conv2D(3, (2, 4), strides=(3, 2), padding="same"), (*size, 2), id=f"conv2d-same-nonsquare-{tag}"))
        add(one(lambda: layers.DepthwiseConv2D((4, 2), strides=(2, 3), padding="same"), (*size, 2), id=f"depthwise-same-even-{tag}"))
        add(one(lambda: layers.SeparableConv2D(3, (2, 4), strides=(2, 1), padding="same"), (*size, 2), id=f"separable2d-same-even-{tag}"))
        for cls in ("MaxPooling2D", "AveragePooling2D"):
            add(one(lambda cls=cls: getattr(layers, cls)(2, strides=2, padding="same"), (*size, 2), id=f"{cls}-same-even-{tag}"))
            add(one(lambda cls=cls: getattr(layers, cls)((4, 2), strides=(3, 1), padding="same"), (*size, 2), id=f"{cls}-same-nonsquare-{tag}"))
            add(one(lambda cls=cls: getattr(layers, cls)((3, 2), strides=(1, 2)), (*size, 2), id=f"{cls}-valid-nonsquare-{tag}"))
    for cls in ("MaxPooling1D", "AveragePooling1D"):
        add(one(lambda cls=cls: getattr(layers, cls)(4, strides=3, padding="same"), (10, 2), id=f"{cls}-same-even"))
        add(one(lambda cls=cls: getattr(layers, cls)(3, strides=1), (7, 2), id=f"{cls}-stride1"))
    add(one(lambda: layers.Conv1D(3, 4, strides=3, padding="same"), (10, 2), id="conv1d-same-even"))
    add(one(lambda: layers.SeparableConv1D(3, 2, strides=2, padding="same"), (9, 2), id="separable1d-same-even"))
    add(one(lambda: layers.Conv2D(3, (1, 3), strides=(2, 1), padding="valid"), (7, 8, 2), id="conv2d-valid-nonsquare"))
    # -- transposed convolution: even kernels, kernel < stride, every output_padding,
    # non-square, dilation (Keras allows it with strides 1 only)
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, 4, strides=2, padding=pad), (3, 4, 2), id=f"conv2d-transpose-even-{pad}"))
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, 2, strides=3, padding=pad), (3, 4, 2), id=f"conv2d-transpose-kernel-lt-stride-{pad}"))
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, 1, strides=2, padding=pad), (3, 4, 2), id=f"conv2d-transpose-1x1-{pad}"))
        for extra in range(3):
            add(one(lambda pad=pad, extra=extra: layers.Conv2DTranspose(2, 3, strides=3, padding=pad, output_padding=extra), (3, 4, 2),
                    id=f"conv2d-transpose-output-padding-{extra}-{pad}"))
        add(one(lambda pad=pad: layers.Conv2DTranspose(2, 4, strides=2, padding=pad, output_padding=1), (3, 4, 2),
                id=f"conv2d-transpose-even-output-padding-{pad}"))
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, (3, 4), strides=(2, 3), padding=pad, output_padding=(1, 2)), (3, 4, 2),
                id=f"conv2d-transpose-nonsquare-{pad}"))
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, 3, dilation_rate=2, padding=pad), (5, 6, 2), id=f"conv2d-transpose-dilated-{pad}"))
        add(one(lambda pad=pad: layers.Conv2DTranspose(3, (2, 3), dilation_rate=(3, 2), padding=pad), (5, 6, 2), id=f"conv2d-transpose-dilated-even-{pad}"))
    # -- the other forms of padding, cropping, resampling and normalisation options
    add(one(lambda: layers.ZeroPadding2D(2), (4, 3, 2), id="zero-padding2d-int"))
    add(one(lambda: layers.ZeroPadding2D((1, 2)), (4, 3, 2), id="zero-padding2d-symmetric"))
    add(one(lambda: layers.ZeroPadding1D((1, 3)), (4, 2), id="zero-padding1d-asymmetric"))
    add(one(lambda: layers.Cropping2D(1), (6, 5, 2), id="cropping2d-int"))
    add(one(lambda: layers.Cropping2D((2, 1)), (6, 5, 2), id="cropping2d-symmetric"))
    add(one(lambda: layers.Cropping1D(2), (7, 2), id="cropping1d-int"))
    add(one(lambda: layers.UpSampling2D((3, 2)), (3, 4, 2), id="upsampling2d-nearest-nonsquare"))
    add(one(lambda: layers.Permute((3, 1, 2)), (3, 4, 2), id="permute-cycle"))
    add(Case("layernorm-epsilon-no-scale", lambda: randomized(seq(layers.LayerNormalization(epsilon=0.5, scale=False), shape=(3, 6))), (3, 6)))
    add(one(lambda: layers.UnitNormalization(axis=[1, 2]), (3, 4), id="unit-normalization-axes"))
    add(Case("prelu-per-element", lambda: randomized(seq(layers.PReLU(), shape=(3, 4))), (3, 4)))
    for cls in ("Add", "Average", "Maximum"):
        add(Case(f"merge-{cls.lower()}-three", lambda cls=cls: merge_three(getattr(layers, cls)()), (4,)))
    # -- the layers no case above reaches
    add(one(lambda: layers.AlphaDropout(0.5), (6,), id="alpha-dropout"))
    add(one(lambda: layers.SpatialDropout3D(0.5), (2, 3, 3, 2), id="spatial-dropout3d"))
    add(one(lambda: layers.Masking(mask_value=0.5), (5, 3), id="masking", prepare=masked_steps))
    add(Case("masking-zero", lambda: seq(layers.Masking(), layers.Dense(2), shape=(5, 3)), (5, 3), prepare=masked_steps))
    for cls in ("GlobalAveragePooling3D", "GlobalMaxPooling3D"):
        add(one(lambda cls=cls: getattr(layers, cls)(), (2, 3, 4, 2), id=f"{cls}"))
        add(one(lambda cls=cls: getattr(layers, cls)(keepdims=True), (2, 3, 4, 2), id=f"{cls}-keepdims"))
    add(one(lambda: layers.GlobalMaxPooling1D(keepdims=True), (6, 3), id="GlobalMaxPooling1D-keepdims"))
    add(Case("custom-scale-layer", custom_scale_model, (4,)))
    add(Case("ops-maximum-minimum", ops_extrema_model, (4,)))
    # -- sizes unknown until the model runs: the signature keeps them as -1
    add(Case("conv1d-unknown-length", lambda: seq(layers.Conv1D(3, 3, padding="same"), layers.GlobalMaxPooling1D(), shape=(None, 2)), (7, 2)))
    add(Case("dense-unknown-steps", lambda: seq(layers.Dense(3, activation="tanh"), shape=(None, 4)), (5, 4)))
    add(Case("global-pool-unknown-size", lambda: seq(layers.Conv2D(3, 2, strides=2, padding="same"), layers.GlobalAveragePooling2D(), shape=(None, None, 2)), (5, 6, 2)))
    return out


def merge_three(merge):
    import keras

    x = keras.Input((4,))
    parts = [keras.layers.Dense(4, activation=a)(x) for a in ("tanh", None, "sigmoid")]
    return keras.Model(x, merge(parts))


def masked_steps(x):
    """Set some time steps to the mask value (0.5 or 0.0 by the case) in every feature."""
    x = x.copy()
    x[:, 1, :] = 0.5
    x[0, 3, :] = 0.5
    x[:, 4, :] = 0.0
    return x


def custom_scale_model():
    import keras
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    x = keras.Input((4,))
    a, b = keras.layers.Dense(4)(x), keras.layers.Dense(4, activation="tanh")(x)
    return keras.Model(x, CustomScaleLayer(0.17)([a, b]))


def ops_extrema_model():
    import keras

    x = keras.Input((4,))
    y = keras.layers.Dense(6)(x)
    y = keras.ops.maximum(keras.ops.minimum(y, 0.8), -0.3)
    y = keras.ops.true_divide(y, keras.layers.Dense(6, activation="sigmoid")(x))
    return keras.Model(x, keras.ops.maximum(y, keras.layers.Dense(6)(x)))


def randomized(model):
    """Give every weight random values (initial ones hide weight-order bugs)."""
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def trained_bn(model):
    """Random weights, with positive variances where BatchNormalization needs them."""
    rng = np.random.default_rng(11)
    weights = []
    for var in model.weights:
        value = rng.normal(size=var.shape).astype("float32")
        if "variance" in var.path:
            value = rng.uniform(0.5, 2.0, size=var.shape).astype("float32")
        weights.append(value)
    model.set_weights(weights)
    return model


def adapted_normalization():
    import keras

    norm = keras.layers.Normalization()
    norm.adapt(np.random.default_rng(5).normal(3.0, 2.0, size=(64, 3)).astype("float32"))
    return seq(norm, keras.layers.Dense(2), shape=(3,))


def merge_model(merge, reshape=False, then=None):
    import keras

    x = keras.Input((4,))
    a = keras.layers.Dense(4, activation="tanh")(x)
    b = keras.layers.Dense(4)(x)
    if reshape:
        a, b = keras.layers.Reshape((2, 2))(a), keras.layers.Reshape((2, 2))(b)
    y = merge([a, b])
    return keras.Model(x, then(y) if then is not None else y)


def ops_model():
    import keras

    x = keras.Input((4,))
    y = keras.layers.Dense(4)(x)
    y = (y + 3.0) * 0.5
    y = keras.ops.divide(y, 2.0)
    y = keras.ops.subtract(1.0, y)
    return keras.Model(x, y)


def gelu_op_model(approximate: bool):
    import keras

    x = keras.Input((4,))
    return keras.Model(x, keras.ops.gelu(keras.layers.Dense(6)(x), approximate=approximate))


def layer_scale_model():
    import keras
    from keras.src.applications.convnext import LayerScale

    x = keras.Input((3, 3, 4))
    return randomized(keras.Model(x, LayerScale(1e-6, 4)(keras.layers.Conv2D(4, 1)(x))))


def nested_model():
    import keras

    inner = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(4)], name="inner")
    x = keras.Input((6,))
    y = keras.layers.Dense(6, name="outer")(x)
    return trained_bn(keras.Model(x, inner(y)))


def shared_model():
    import keras

    x = keras.Input((6,))
    shared = keras.layers.Dense(6, activation="tanh")
    y = shared(shared(x))
    return randomized(keras.Model(x, keras.layers.Add()([y, x])))


def attention_cases() -> list[Case]:
    """Attention, normalisation, 3-D and augmentation layers and keras.ops nodes (issue 19).

    Each also runs on TF.js's WebAssembly backend (``test_attention_cases_on_wasm``).
    """
    import keras

    layers = keras.layers
    out: list[Case] = []
    add = out.append
    # -- MultiHeadAttention: self and cross attention, key apart from value, every option.
    # Keras 3 takes its fused path for rank-3 queries without dropout or returned scores,
    # and the explicit one otherwise (masks differ for a fully masked row: see masked_inputs).
    for name, kw, call in [
        ("self", {"num_heads": 2, "key_dim": 3}, {}),
        ("value-dim-nobias", {"num_heads": 3, "key_dim": 2, "value_dim": 5, "use_bias": False}, {}),
        ("output-shape", {"num_heads": 2, "key_dim": 3, "output_shape": 5}, {}),
        ("output-shape-2d", {"num_heads": 2, "key_dim": 3, "output_shape": (2, 3)}, {}),
        ("causal", {"num_heads": 2, "key_dim": 4}, {"use_causal_mask": True}),
        ("dropout-causal", {"num_heads": 2, "key_dim": 3, "dropout": 0.3}, {"use_causal_mask": True}),
        ("gate-sliding-window", {"num_heads": 2, "key_dim": 3, "use_gate": True, "sliding_window": 2}, {}),
    ]:
        add(Case(f"mha-{name}", lambda kw=kw, call=call: mha_model((5, 8), None, None, kw, call), (5, 8)))
    add(Case("mha-unknown-length", lambda: mha_model((None, 8), None, None, {"num_heads": 2, "key_dim": 3}, {}), (7, 8)))
    add(Case("mha-cross-key", lambda: mha_model((5, 8), (6, 4), (6, 3), {"num_heads": 2, "key_dim": 3}, {}),
             None, inputs=lambda rng: uniform_inputs(rng, (5, 8), (6, 4), (6, 3))))
    for path, kw in [("fused", {}), ("explicit", {"dropout": 0.1})]:
        add(Case(f"mha-attention-mask-{path}", lambda kw=kw: mha_model((5, 8), (6, 4), None, {"num_heads": 2, "key_dim": 3, **kw}, {}, mask=True),
                 None, inputs=lambda rng: masked_inputs(rng, (5, 8), (6, 4))))
        add(Case(f"mha-attention-mask-causal-{path}", lambda kw=kw: mha_model((5, 8), None, None, {"num_heads": 2, "key_dim": 3, **kw}, {"use_causal_mask": True}, mask=True),
                 None, inputs=lambda rng: masked_inputs(rng, (5, 8), (5, 8))))
    add(Case("mha-return-scores", lambda: mha_model((5, 8), None, None, {"num_heads": 2, "key_dim": 3}, {"return_attention_scores": True}, mask=True, scores=True),
             None, inputs=lambda rng: masked_inputs(rng, (5, 8), (5, 8))))
    add(Case("mha-query-value-masks", mha_explicit_masks_model, None,
             inputs=lambda rng: [*uniform_inputs(rng, (5, 8), (6, 4)), *(rng.integers(0, 2, (3, n)).astype("float32") for n in (5, 6))]))
    # Keras masks (Embedding(mask_zero=True), Masking) into MultiHeadAttention: a sentence padded
    # at its end and inside, one all padding, one without; the fused and the explicit path.
    import tf_keras

    def masked(id, build, inputs=None, **kw):
        add(Case(id, build, kw.pop("shape", None), tol=MASK_TOL, inputs=inputs, **kw))

    def tokens(*lengths, empty_row=True):
        return lambda rng: [padded_ids(rng, n, empty_row=empty_row) for n in lengths]

    for path, kw in [("fused", {}), ("explicit", {"dropout": 0.1})]:
        mha = {"num_heads": 2, "key_dim": 3, **kw}
        masked(f"mha-mask-zero-self-{path}", lambda mha=mha: token_mha_model(keras, mha), tokens(6))
        masked(f"mha-mask-zero-value-only-{path}", lambda mha=mha: token_mha_model(keras, mha, cross="value"), tokens(6, 5))
        masked(f"mha-mask-zero-attention-mask-{path}", lambda mha=mha: token_mha_model(keras, mha, attention_mask=True),
               lambda rng: [padded_ids(rng, 6), masked_inputs(rng, (6,), (6,))[-1]])
        masked(f"mha-mask-zero-causal-{path}", lambda mha=mha: token_mha_model(keras, mha, {"use_causal_mask": True}), tokens(6))
    mha = {"num_heads": 2, "key_dim": 3}
    masked("mha-mask-zero-key-only", lambda: token_mha_model(keras, mha, cross="key"), tokens(6, 5))
    masked("mha-mask-zero-scores", lambda: token_mha_model(keras, mha, {"return_attention_scores": True}, scores=True), tokens(6))
    masked("mha-masking-layer", masking_mha_model, shape=(5, 8), prepare=masked_steps)
    # The output keeps the query's mask: the average after it skips the padding (no empty row:
    # Keras's average of no steps is 0 / 0).
    masked("mha-mask-zero-pooled", lambda: token_mha_model(keras, mha, pooled=True), tokens(6, empty_row=False))
    for keep in (False, True):
        masked(f"global-average-pooling1d-masked-keepdims-{keep}".lower(), lambda keep=keep: keras.Sequential(
            [keras.Input((6,), dtype="int32"), layers.Embedding(10, 4, mask_zero=True), layers.GlobalAveragePooling1D(keepdims=keep)]),
            tokens(6, empty_row=False))
    # Merges of masked inputs, then attention and an average: Keras 3's Add keeps a step either mask keeps
    # and drops the mask where one input has none; tf_keras's keeps a step both keep, and the
    # one mask there is.
    for k, save in ((keras, "keras"), (tf_keras, "h5")):
        for other in ("masked", "unmasked"):
            masked(f"merge-mask-and-{other}-{save}", lambda k=k, other=other: merged_masks_model(k, other == "masked"),
                   lambda rng: [padded_ids(rng, 6, empty_row=False), padded_ids(rng, 6, empty_row=False)[::-1].copy()], save=save)
    # tf_keras's: its own mask arithmetic (it adds -1e9), the key's mask taken from the value's.
    masked("mha-mask-zero-self-tf-keras", lambda: token_mha_model(tf_keras, mha), tokens(6), save="h5")
    masked("mha-mask-zero-value-causal-tf-keras", lambda: token_mha_model(tf_keras, mha, {"use_causal_mask": True}, cross="value"),
           tokens(6, 5), save="h5")
    masked("mha-mask-zero-key-only-tf-keras", lambda: token_mha_model(tf_keras, mha, cross="key"), tokens(6, 5), save="h5")
    masked("mha-mask-zero-pooled-tf-keras", lambda: token_mha_model(tf_keras, mha, pooled=True), tokens(6, empty_row=False), save="h5")
    # attention_axes over the rows, the columns, both, and both with returned scores
    for axes in ((1,), (2,), (1, 2)):
        tag = "-".join(map(str, axes))
        add(Case(f"mha-axes-{tag}", lambda axes=axes: mha_model((3, 4, 6), None, None, {"num_heads": 2, "key_dim": 3, "attention_axes": axes}, {}), (3, 4, 6)))
    # -- Attention (dot and concat scores, scale) and AdditiveAttention, masks given to the call
    for cls, kw in [("Attention", {}), ("Attention", {"use_scale": True}), ("Attention", {"score_mode": "concat"}),
                    ("Attention", {"score_mode": "concat", "use_scale": True}), ("AdditiveAttention", {}),
                    ("AdditiveAttention", {"use_scale": False})]:
        tag = "-".join([cls.lower(), *(f"{k}-{v}".lower() for k, v in kw.items())])
        add(Case(tag, lambda cls=cls, kw=kw: dense_attention_model(getattr(layers, cls)(**kw), key=True),
                 None, inputs=lambda rng: uniform_inputs(rng, (5, 4), (6, 4), (6, 4))))
    for cls in ("Attention", "AdditiveAttention"):
        # Keras masks of embedded query and value tokens (tf_keras's and Keras 3's), then an
        # average over the query's steps: the output keeps the query's mask.
        for k, save in ((keras, "keras"), (tf_keras, "h5")):
            masked(f"{cls.lower()}-mask-zero-pooled-{save}", lambda cls=cls, k=k: token_attention_model(k, getattr(k.layers, cls)()),
                   lambda rng: [padded_ids(rng, 5, empty_row=False), padded_ids(rng, 6)], save=save)
        # tf_keras's given boolean masks and the causal mask, then an average
        masked(f"{cls.lower()}-bool-masks-causal-pooled-h5", lambda cls=cls: tf_keras_masked_attention(getattr(tf_keras.layers, cls)()),
               lambda rng: [*uniform_inputs(rng, (5, 4), (5, 4)), *(m > 0 for m in masks_01(rng, 5, 5))], save="h5")
        add(Case(f"{cls.lower()}-masks-causal", lambda cls=cls: dense_attention_model(getattr(layers, cls)(), masks=True, call={"use_causal_mask": True}),
                 None, inputs=lambda rng: [*uniform_inputs(rng, (5, 4), (5, 4)), *masks_01(rng, 5, 5)]))
        add(Case(f"{cls.lower()}-scores", lambda cls=cls: dense_attention_model(getattr(layers, cls)(), masks=True, call={"return_attention_scores": True}),
                 None, inputs=lambda rng: [*uniform_inputs(rng, (5, 4), (6, 4)), *masks_01(rng, 5, 6)]))
    # -- LayerNormalization's other options, GroupNormalization, UnitNormalization
    for tag, kw in [("both-off", {"center": False, "scale": False}), ("middle-axis", {"axis": -2}),
                    ("axes-rms", {"axis": [1, 2], "rms_scaling": True}), ("axes-epsilon", {"axis": [2, 3], "epsilon": 0.2})]:
        add(Case(f"layernorm-{tag}", lambda kw=kw: small_random(seq(layers.LayerNormalization(**kw), shape=(3, 4, 5))), (3, 4, 5)))
    for tag, kw, shape in [("default", {"groups": 2}, (5, 4)), ("image", {"groups": 3, "epsilon": 0.1}, (3, 4, 6)),
                           ("instance", {"groups": -1}, (5, 4)), ("layer", {"groups": 1, "center": False}, (3, 3, 4)),
                           ("no-scale", {"groups": 2, "scale": False}, (5, 4))]:
        add(Case(f"groupnorm-{tag}", lambda kw=kw, shape=shape: small_random(seq(layers.GroupNormalization(**kw), shape=shape)), shape))
    add(one(lambda: layers.UnitNormalization(axis=1), (3, 4), id="unit-normalization-axis1"))
    # -- augmentation layers: what each does at inference (the input as it is); the Dense after
    # them fails on a lowering that changes the image or its shape
    from mkdocs_tfjs.convert.layers.preprocessing import AUGMENTATIONS

    for cls in AUGMENTATIONS:
        if hasattr(layers, cls):  # RandomHeight and RandomWidth are tf_keras's only
            add(Case(f"augment-{cls}", lambda cls=cls: small_random(seq(augmentation(cls), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(3), shape=(8, 8, 3))),
                     (8, 8, 3), low=0, high=1))
    # Keras 3's RandomCrop passes the uncropped image on at inference: the pooling sees all of it.
    add(Case("augment-RandomCrop", lambda: small_random(seq(layers.RandomCrop(4, 5), layers.GlobalAveragePooling2D(), layers.Dense(3), shape=(8, 8, 3))),
             (8, 8, 3), low=0, high=1))
    # -- 1-D transposed and 3-D convolutions, 3-D pooling
    for pad in ("valid", "same"):
        add(one(lambda pad=pad: layers.Conv1DTranspose(3, 3, strides=2, padding=pad), (5, 2), id=f"conv1d-transpose-{pad}"))
        add(one(lambda pad=pad: layers.Conv1DTranspose(3, 4, strides=3, padding=pad, output_padding=1, activation="relu"), (5, 2), id=f"conv1d-transpose-output-padding-{pad}"))
        add(one(lambda pad=pad: layers.Conv3D(3, (3, 2, 3), strides=(2, 1, 2), padding=pad, activation="relu"), (5, 6, 7, 2), id=f"conv3d-{pad}"))
        add(one(lambda pad=pad: layers.Conv3DTranspose(3, (3, 2, 3), strides=(2, 1, 3), padding=pad), (3, 4, 3, 2), id=f"conv3d-transpose-{pad}"))
        add(one(lambda pad=pad: layers.Conv3DTranspose(2, 2, strides=2, padding=pad, output_padding=1, use_bias=False), (2, 3, 2, 2), id=f"conv3d-transpose-output-padding-{pad}"))
        for cls in ("MaxPooling3D", "AveragePooling3D"):
            add(one(lambda cls=cls, pad=pad: getattr(layers, cls)((2, 3, 2), strides=(2, 1, 2), padding=pad), (5, 6, 5, 2), id=f"{cls}-{pad}"))
    add(one(lambda: layers.Conv1DTranspose(2, 3, dilation_rate=2, use_bias=False), (6, 2), id="conv1d-transpose-dilated"))
    add(one(lambda: layers.Conv3D(2, 2, dilation_rate=2, use_bias=False, activation="tanh"), (5, 5, 5, 2), id="conv3d-dilated"))
    add(one(lambda: layers.Conv3DTranspose(2, 3, activation="sigmoid"), (3, 3, 3, 2), id="conv3d-transpose-stride1"))
    # -- keras.ops nodes: positions from the token ids (a positional embedding), split, matmul,
    # transpose, and einsum's attention patterns
    add(Case("ops-positions", positions_model, (6,), dtype="int32", low=0, high=20))
    add(Case("ops-split-matmul-transpose", split_matmul_model, (4, 6)))
    for equation in ("bqhd,bkhd->bhqk", "bhqk,bkhd->bqhd", "btd,bde->bte", "bij,bkj->bki", "bqd,bde->beq"):
        add(Case(f"ops-einsum-{equation.replace(',', '-').replace('->', '-to-')}", lambda equation=equation: einsum_model(equation), (4, 6)))
    # tf_keras's own: RandomHeight and RandomWidth (identity at inference), RandomCrop (a centred
    # crop of the target's aspect ratio, resized)
    for cls, args in (("RandomHeight", (0.3,)), ("RandomWidth", (0.3,)), ("RandomCrop", (4, 6))):
        add(Case(f"augment-{cls}-tf-keras", lambda cls=cls, args=args: tf_keras_augmentation(cls, args), (7, 9, 3), low=0, high=1, save="h5"))
    return out


def positions_model():
    """Token ids → token embedding + position embedding (positions 1..T from cumsum(ones_like))."""
    import keras

    ids = keras.Input((6,), dtype="int32")
    positions = keras.ops.cumsum(keras.ops.ones_like(ids), axis=1)
    x = keras.layers.Add()([keras.layers.Embedding(20, 4)(ids), keras.layers.Embedding(7, 4)(positions)])
    return small_random(keras.Model(ids, x))


def split_matmul_model():
    import keras

    x = keras.Input((4, 6))
    q, k, v = keras.ops.split(keras.layers.Dense(9)(x), 3, axis=-1)
    scores = keras.ops.matmul(q, keras.ops.transpose(k, (0, 2, 1)))
    first, rest = keras.ops.split(x, [2], axis=1)
    joined = keras.layers.Concatenate(axis=1)([first * 0.5, rest])
    return small_random(keras.Model(x, keras.layers.Concatenate()([keras.ops.matmul(scores, v), joined])))


def einsum_model(equation):
    """The einsum of two operands made from one input [batch, 4, 6] by Dense and Reshape layers."""
    import keras

    x = keras.Input((4, 6))
    shapes = {"q": 4, "k": 4, "t": 4, "h": 2, "d": 3, "e": 5, "i": 4, "j": 6}
    operands = []
    for spec in (equation.split("->")[0].split(",")):
        dims = [shapes[c] for c in spec[1:]]
        size = int(np.prod(dims))
        y = keras.layers.Dense(size)(keras.layers.Flatten()(x))
        operands.append(keras.layers.Reshape(dims)(y))
    return small_random(keras.Model(x, keras.ops.einsum(equation, *operands)))


def tf_keras_augmentation(cls, args):
    """A tf_keras model around one of its augmentation layers, random weights."""
    import tf_keras

    layers = tf_keras.layers
    model = tf_keras.Sequential([layers.InputLayer((7, 9, 3)), getattr(layers, cls)(*args), layers.Conv2D(2, 3),
                                 layers.GlobalAveragePooling2D(), layers.Dense(3)])
    rng = np.random.default_rng(7)
    model.set_weights([0.3 * rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def augmentation(cls):
    """An instance of the augmentation layer ``cls`` with its required arguments."""
    import keras

    required = {"MaxNumBoundingBoxes": (3,), "RandomBrightness": (0.3,), "RandomColorDegeneration": (0.5,),
                "RandomContrast": (0.5,), "RandomGrayscale": (0.5,), "RandomHue": (0.3,), "RandomPosterization": (4,),
                "RandomRotation": (0.2,), "RandomSaturation": (0.3,), "RandomSharpness": (0.3,), "RandomShear": (0.2,),
                "RandomTranslation": (0.2, 0.2), "RandomZoom": (0.2,), "Solarization": (0.5, 0.5)}
    return getattr(keras.layers, cls)(*required.get(cls, ()))


def dense_attention_model(layer, key=False, masks=False, call=None):
    """Attention or AdditiveAttention on [query, value(, key)], with 0/1 masks as inputs."""
    import keras

    q = keras.Input((5, 4))
    v = keras.Input((5, 4) if masks and "use_causal_mask" in (call or {}) else (6, 4))
    inputs = [q, v, *([keras.Input((6, 4))] if key else [])]
    extra = dict(call or {})
    if masks:
        extra["mask"] = [keras.Input((5,)), keras.Input((v.shape[1],))]
    out = layer(inputs, **extra)
    scores = extra.get("return_attention_scores", False)
    return small_random(keras.Model(inputs + extra.get("mask", []), out[1] if scores else out))


def masks_01(rng, t, s):
    """A query mask [batch, t] and a value mask [batch, s] of 0/1, each row keeping one step."""
    masks = [rng.integers(0, 2, size=(3, n)).astype("float32") for n in (t, s)]
    for m in masks:
        m[:, 0] = 1
    return masks


def mha_model(q_shape, v_shape, k_shape, kw, call, mask=False, scores=False):
    """One MultiHeadAttention on its own inputs (the query serves as value when ``v_shape`` is None)."""
    import keras

    q = keras.Input(q_shape)
    inputs, args, extra = [q], [q, q], dict(call)
    if v_shape is not None:
        args[1] = keras.Input(v_shape)
        inputs.append(args[1])
    if k_shape is not None:
        extra["key"] = keras.Input(k_shape)
        inputs.append(extra["key"])
    if mask:
        extra["attention_mask"] = keras.Input((q_shape[0], (v_shape or q_shape)[0]))
        inputs.append(extra["attention_mask"])
    out = keras.layers.MultiHeadAttention(**kw)(*args, **extra)
    # With scores returned the model's output is the scores: the output itself is checked elsewhere.
    return small_random(keras.Model(inputs if len(inputs) > 1 else q, out[1] if scores else out))


#: Tolerance of the cases with Keras masks: measured worst 2.4e-7 (Masking before
#: MultiHeadAttention, cpu and wasm: two float32 steps at 1.57); the masks are exact (0 or 1).
MASK_TOL = 3e-7


def padded_ids(rng, length, vocab=10, empty_row=True):
    """Token ids [3, length], 0 the padding: the first row padded at its end (and one step
    inside), the second all padding (``empty_row``, else padded at its start), the third none."""
    ids = rng.integers(1, vocab, size=(3, length)).astype("int32")
    ids[0, -2:] = 0
    ids[0, 1] = 0
    ids[1, : (length if empty_row else 2)] = 0
    return ids


def token_mha_model(k, kw, call=None, cross=None, attention_mask=False, pooled=False, scores=False, length=5):
    """Token ids → Embedding(mask_zero=True) → MultiHeadAttention, in Keras ``k`` (keras or tf_keras).

    Self-attention, or ``cross``: "value" (the query from an Embedding without mask, the value
    masked, no key) or "key" (query and value without masks, the key masked); the other
    sequence has ``length`` steps. ``attention_mask`` adds one as an input; ``pooled`` a
    GlobalAveragePooling1D after (which reads the output's mask).
    """
    layers = k.layers
    ids = k.Input((6,), dtype="int32")
    inputs, extra = [ids], dict(call or {})
    if cross is None:
        query = value = layers.Embedding(10, 8, mask_zero=True)(ids)
    else:
        other = k.Input((length,), dtype="int32")
        inputs.append(other)
        query = layers.Embedding(10, 8)(ids)
        value = layers.Embedding(10, 4, mask_zero=cross == "value")(other)
        if cross == "key":
            extra["key"] = layers.Embedding(10, 4, mask_zero=True)(other)
    if attention_mask:
        extra["attention_mask"] = k.Input((6, value.shape[1]))
        inputs.append(extra["attention_mask"])
    out = layers.MultiHeadAttention(**kw)(query, value, **extra)
    out = out[1] if scores else out
    if pooled:
        out = layers.GlobalAveragePooling1D()(out)
    return small_random(k.Model(inputs, out))


def merged_masks_model(k, both_masked):
    """Embeddings of two token sequences, one with mask_zero (or both), added, then
    self-attention and an average: each reads the mask of the sum."""
    layers = k.layers
    ids = [k.Input((6,), dtype="int32"), k.Input((6,), dtype="int32")]
    embedded = [layers.Embedding(10, 4, mask_zero=i == 0 or both_masked)(x) for i, x in enumerate(ids)]
    x = layers.Add()(embedded)
    x = layers.MultiHeadAttention(2, 2)(x, x)
    return small_random(k.Model(ids, layers.GlobalAveragePooling1D()(x)))


def masking_mha_model():
    """Masking (0.5) → MultiHeadAttention over the masked steps, self-attention."""
    import keras

    x = keras.Input((5, 8))
    masked = keras.layers.Masking(0.5)(x)
    return small_random(keras.Model(x, keras.layers.MultiHeadAttention(2, 3)(masked, masked)))


def token_attention_model(k, layer):
    """Embedded query and value tokens (mask_zero) → ``layer`` (Attention or AdditiveAttention),
    given the masks as Keras gives them (``mask=[query_mask, value_mask]``) → an average."""
    layers = k.layers
    q_ids, v_ids = k.Input((5,), dtype="int32"), k.Input((6,), dtype="int32")
    query = layers.Embedding(10, 4, mask_zero=True)(q_ids)
    value = layers.Embedding(10, 4, mask_zero=True)(v_ids)
    return small_random(k.Model([q_ids, v_ids], layers.GlobalAveragePooling1D()(layer([query, value]))))


def tf_keras_masked_attention(layer):
    """tf_keras's ``layer([query, value], mask=[query_mask, value_mask], use_causal_mask=True)``,
    the masks boolean inputs, then an average over the query's kept steps."""
    import tf_keras

    q, v = tf_keras.Input((5, 4)), tf_keras.Input((5, 4))
    masks = [tf_keras.Input((5,), dtype="bool"), tf_keras.Input((5,), dtype="bool")]
    out = layer([q, v], mask=masks, use_causal_mask=True)
    return small_random(tf_keras.Model([q, v, *masks], tf_keras.layers.GlobalAveragePooling1D()(out)))


def mha_explicit_masks_model():
    """query_mask and value_mask given to the call as tensors (what mask_zero's masks become)."""
    import keras

    q, v = keras.Input((5, 8)), keras.Input((6, 4))
    qm, vm = keras.Input((5,)), keras.Input((6,))
    out = keras.layers.MultiHeadAttention(2, 3)(q, v, query_mask=qm, value_mask=vm)
    return small_random(keras.Model([q, v, qm, vm], out))


def small_random(model):
    """Random weights of scale 0.3: attention's outputs stay near 1, where float32's rounding is 1e-7."""
    rng = np.random.default_rng(7)
    model.set_weights([0.3 * rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def uniform_inputs(rng, *shapes):
    return [rng.uniform(-2, 2, size=(3, *shape)).astype("float32") for shape in shapes]


def masked_inputs(rng, q_shape, v_shape):
    """Query, value and a random 0/1 attention mask [batch, T, S] with one fully masked row.

    A fully masked row is where Keras's paths differ: its fused attention gives a uniform
    row there, its Softmax layer zeros.
    """
    mask = rng.integers(0, 2, size=(3, q_shape[0], v_shape[0])).astype("float32")
    mask[0, 1, :] = 0
    inputs = uniform_inputs(rng, q_shape) if q_shape == v_shape else uniform_inputs(rng, q_shape, v_shape)
    return [*inputs, mask]


CASES = cases() + attention_cases()


# -- recurrent layers (LSTM, GRU, SimpleRNN, Bidirectional, TimeDistributed) and masks ------

#: Tolerance of the recurrent cases: float32 rounding through a few steps of sigmoid and tanh
#: (and a different summation order in TF.js's matmuls). Measured worst: 5.4e-7 for the
#: recurrent layers (SimpleRNN on wasm), 9.5e-7 for TimeDistributed(Conv2D) on wasm.
RNN_TOL = 1.5e-6


def rnn_randomized(model):
    """Random weights at a scale that keeps the gates away from saturation (which hides errors)."""
    rng = np.random.default_rng(17)
    model.set_weights([(0.6 * rng.normal(size=w.shape)).astype("float32") for w in model.get_weights()])
    return model


def rnn_model(make, shape=(6, 3), merge_outputs=False, states_from_input=0):
    """A model around one recurrent layer: ``make()`` returns the layer.

    ``merge_outputs``: the layer returns several tensors (states, merge_mode=None); the
    model flattens and concatenates them into its one output, so every one is compared.
    ``states_from_input``: that many initial states, each a Dense of the flattened input.
    """
    import keras

    x = keras.Input(shape)
    layer = make()
    if states_from_input:
        flat = keras.layers.Flatten()(x)
        units = getattr(layer, "units", None) or layer.forward_layer.units
        states = [keras.layers.Dense(units, activation="tanh")(flat) for _ in range(states_from_input)]
        y = layer(x, initial_state=states)
    else:
        y = layer(x)
    if merge_outputs:
        y = keras.layers.Concatenate()([keras.layers.Flatten()(t) if len(t.shape) > 2 else t for t in y])
    return rnn_randomized(keras.Model(x, y))


def masked_tokens(x):
    """Token ids with 0 (masked) at the end of each sequence, inside one and at the start of another."""
    x = x.copy()
    x[:, -2:] = 0
    x[0, 0] = 0
    x[1, 2] = 0
    return x


def embedded_rnn(make, merge_outputs=False, between=None):
    """Embedding(mask_zero=True) → (``between``) → the recurrent layer ``make()``."""
    import keras

    x = keras.Input((7,), dtype="int32")
    y = keras.layers.Embedding(12, 3, mask_zero=True)(x)
    for layer in between or []:
        y = layer(y)
    y = make()(y)
    if merge_outputs:
        y = keras.layers.Concatenate()([keras.layers.Flatten()(t) if len(t.shape) > 2 else t for t in y])
    return rnn_randomized(keras.Model(x, y))


def masked_functional():
    """Masking → Dense → Bidirectional → LSTM as a functional model: Keras 3 records the mask
    as ``ops.NotEqual`` and ``ops.Any`` nodes passed to each recurrent layer as ``mask=``."""
    import keras

    x = keras.Input((6, 3))
    y = keras.layers.Dense(3)(keras.layers.Masking(0.5)(x))
    y = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True))(y)
    return rnn_randomized(keras.Model(x, keras.layers.LSTM(2)(y)))


def recurrent_cases() -> list[Case]:
    """LSTM, GRU (both ``reset_after``), SimpleRNN, Bidirectional, TimeDistributed, every
    inference option, and Keras masks into them; each fails on the option ignored or misread."""
    import keras

    layers = keras.layers
    out: list[Case] = []

    def add(id, make, shape=(6, 3), **kw):
        out.append(Case(id, make, shape, tol=kw.pop("tol", RNN_TOL), **kw))

    kinds = {
        "lstm": layers.LSTM,
        "gru": layers.GRU,
        "gru-reset-before": lambda *a, **k: layers.GRU(*a, reset_after=False, **k),
        "simple-rnn": layers.SimpleRNN,
    }
    for name, cls in kinds.items():
        add(f"{name}", lambda cls=cls: rnn_model(lambda: cls(4)))
        add(f"{name}-sequences", lambda cls=cls: rnn_model(lambda: cls(4, return_sequences=True)))
        add(f"{name}-go-backwards", lambda cls=cls: rnn_model(lambda: cls(4, go_backwards=True, return_sequences=True)))
        add(f"{name}-go-backwards-last", lambda cls=cls: rnn_model(lambda: cls(3, go_backwards=True)))
        add(f"{name}-nobias", lambda cls=cls: rnn_model(lambda: cls(4, use_bias=False, return_sequences=True)))
        # A bounded activation: relu lets the state grow, and TensorFlow's own float32
        # rounding (which varies with its thread count) with it.
        add(f"{name}-activations", lambda cls=cls, name=name: rnn_model(lambda: cls(
            4, activation="softsign", return_sequences=True,
            **({} if name == "simple-rnn" else {"recurrent_activation": "hard_sigmoid"}))))
        add(f"{name}-state", lambda cls=cls: rnn_model(lambda: cls(4, return_state=True), merge_outputs=True))
        add(f"{name}-sequences-state", lambda cls=cls: rnn_model(lambda: cls(3, return_sequences=True, return_state=True), merge_outputs=True))
        states = 2 if name == "lstm" else 1
        add(f"{name}-initial-state", lambda cls=cls, states=states: rnn_model(lambda: cls(4, return_sequences=True), states_from_input=states))
        add(f"{name}-masked-embedding", lambda cls=cls: embedded_rnn(lambda: cls(4)), (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
        add(f"{name}-masked-embedding-sequences-backwards", lambda cls=cls: embedded_rnn(lambda: cls(4, return_sequences=True, go_backwards=True)),
            (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
        add(f"{name}-masked-embedding-state", lambda cls=cls: embedded_rnn(lambda: cls(3, return_sequences=True, return_state=True), merge_outputs=True),
            (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
        add(f"{name}-masking-layer", lambda cls=cls: rnn_model(lambda: keras.Sequential([layers.Masking(0.5), cls(4, return_sequences=True)])),
            (6, 3), prepare=masked_steps)
    add("lstm-unit-forget-bias-off-unroll", lambda: rnn_model(lambda: layers.LSTM(4, unit_forget_bias=False, unroll=True)))
    add("lstm-zero-output-for-mask", lambda: embedded_rnn(lambda: layers.LSTM(4, return_sequences=True, zero_output_for_mask=True)),
        (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
    add("lstm-stacked-masked", lambda: embedded_rnn(lambda: layers.LSTM(3), between=[layers.LSTM(4, return_sequences=True)]),
        (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
    add("lstm-mask-through-dense-dropout", lambda: embedded_rnn(lambda: layers.GRU(3, return_sequences=True),
        between=[layers.Dense(5, activation="tanh"), layers.Dropout(0.3), layers.TimeDistributed(layers.Dense(4))]),
        (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
    add("masking-functional-bidirectional", masked_functional, (6, 3), prepare=masked_steps)
    add("masking-zero-lstm", lambda: rnn_model(lambda: keras.Sequential([layers.Masking(), layers.LSTM(4)])), (6, 3), prepare=masked_steps)
    # -- Bidirectional: every merge mode, states, masks, each inner class
    for mode in ("concat", "sum", "mul", "ave"):
        add(f"bidirectional-lstm-{mode}", lambda mode=mode: rnn_model(lambda: layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode=mode)))
    add("bidirectional-merge-none", lambda: rnn_model(lambda: layers.Bidirectional(layers.GRU(3, return_sequences=True), merge_mode=None), merge_outputs=True))
    add("bidirectional-last", lambda: rnn_model(lambda: layers.Bidirectional(layers.SimpleRNN(4))))
    add("bidirectional-gru-reset-before", lambda: rnn_model(lambda: layers.Bidirectional(layers.GRU(3, reset_after=False, return_sequences=True))))
    add("bidirectional-lstm-state", lambda: rnn_model(lambda: layers.Bidirectional(layers.LSTM(3, return_state=True)), merge_outputs=True))
    add("bidirectional-merge-none-state", lambda: rnn_model(lambda: layers.Bidirectional(layers.GRU(3, return_sequences=True, return_state=True), merge_mode=None),
        merge_outputs=True))
    add("bidirectional-initial-state", lambda: rnn_model(lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True)), states_from_input=4))
    add("bidirectional-custom-backward", lambda: rnn_model(lambda: layers.Bidirectional(
        layers.LSTM(3, return_sequences=True), backward_layer=layers.LSTM(3, return_sequences=True, go_backwards=True, activation="relu"))))
    add("bidirectional-masked-sequences", lambda: embedded_rnn(lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True))),
        (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
    add("bidirectional-masked-last", lambda: embedded_rnn(lambda: layers.Bidirectional(layers.GRU(3), merge_mode="sum")),
        (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
    add("bidirectional-masked-state", lambda: embedded_rnn(lambda: layers.Bidirectional(layers.LSTM(3, return_state=True, return_sequences=True)), merge_outputs=True),
        (7,), dtype="int32", low=1, high=12, prepare=masked_tokens)
    # -- TimeDistributed around a lowered layer of each kind
    add("time-distributed-dense", lambda: rnn_model(lambda: layers.TimeDistributed(layers.Dense(5, activation="relu"))))
    add("time-distributed-conv2d", lambda: randomized(seq(layers.TimeDistributed(layers.Conv2D(3, 2, padding="same")), shape=(4, 5, 5, 2))), (4, 5, 5, 2))
    add("time-distributed-flatten", lambda: seq(layers.TimeDistributed(layers.Flatten()), shape=(4, 3, 2)), (4, 3, 2))
    return out


CASES += recurrent_cases()
RECURRENT = [c for c in CASES if c.id in {r.id for r in recurrent_cases()}]


@pytest.fixture(scope="module")
def wasm_results(results):
    """The recurrent cases' converted models run again, on TF.js's WebAssembly backend."""
    runs = [(results[c.id].folder, [results[c.id].x]) for c in RECURRENT if results[c.id].folder]
    got = run_models(runs, backend="wasm")
    return {str(folder.parent.name): result for (folder, _), result in zip(runs, got, strict=True)}


@pytest.mark.parametrize("case", RECURRENT, ids=[c.id for c in RECURRENT])
def test_recurrent_layer_matches_keras_on_wasm(results, wasm_results, case):
    """The issue asks parity on the CPU and WebAssembly backends (wasm's matmul sums in its own order)."""
    got = wasm_results.get(case.id, "not converted")
    assert not isinstance(got, str), got
    error = float(np.abs(got[0] - results[case.id].expected).max())
    assert error <= case.tol, f"max abs error {error:.3g} > {case.tol}"


@pytest.mark.parametrize("case", RECURRENT, ids=[c.id for c in RECURRENT])
def test_recurrent_graph_runs_on_every_backend_without_execute_async(results, case):
    """Every op the unrolled recurrence writes is one the kernel table gives webgl, wasm and cpu,
    and none needs ``executeAsync`` (no control flow: the widgets' ``execute`` path runs it)."""
    import json

    from mkdocs_tfjs.convert import kernels

    model = json.loads((results[case.id].folder / "model.json").read_text())
    ops = kernels.graph_ops(model)
    assert kernels.runnable_backends(ops) == list(kernels.backends()), kernels.missing_kernels(ops, "wasm")
    assert not kernels.needs_async(ops)

assert len({c.id for c in CASES}) == len(CASES), "two cases share an id"


@dataclass
class Outcome:
    expected: np.ndarray
    got: list | str  # TF.js's outputs, or why there are none
    signature: dict | None = None  # model.json's "signature"
    keras_shapes: tuple = ()  # (inputs, outputs): Keras's own static shapes, None unknown
    keys: frozenset = frozenset()  # the LAYERS keys of the saved model's config
    folder: Path | None = None  # the converted model, for runs on other backends
    x: np.ndarray | None = None  # the input it was run with
    run: tuple = ()  # (converted model folder, inputs), to run again on another backend


def config_keys(config: dict) -> set[str]:
    """Return the LAYERS keys a saved model config uses, nested models' included."""
    from mkdocs_tfjs.convert.keras_config import MODEL_CLASSES
    from mkdocs_tfjs.convert.native import layer_key

    keys = set()
    for entry in config.get("config", {}).get("layers", []):
        key = layer_key(entry)
        keys |= config_keys(entry) if key in MODEL_CLASSES else {key}
    return keys


def case_input(case: Case, rng: np.random.Generator) -> np.ndarray:
    """Return a batch of three random inputs for ``case``, in its dtype and range."""
    if case.inputs is not None:
        return case.inputs(rng)
    shape = (3, *case.shape)
    if case.dtype == "int32":
        x = rng.integers(case.low, case.high, size=shape).astype("int32")
    else:
        x = rng.uniform(case.low, case.high, size=shape).astype("float32")
    return case.prepare(x) if case.prepare is not None else x


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Save, convert and run every case once; return {id: Outcome}."""
    import json

    import keras

    from mkdocs_tfjs.convert.keras_config import read_config

    keras.utils.set_random_seed(3)
    root = tmp_path_factory.mktemp("layers")
    rng = np.random.default_rng(0)
    runs, outcomes = [], {}
    for case in CASES:
        try:
            model = case.build()
        except Exception as exc:  # noqa: BLE001 - reported by the case's own test
            outcomes[case.id] = Outcome(np.zeros(0), f"Keras cannot build it: {exc}")
            continue
        folder = root / case.id
        folder.mkdir()
        x = case_input(case, rng)
        # Calling the model runs Keras's own layers eagerly: ten times cheaper than predict(),
        # which traces a tf.function per model (the same values to 1e-6).
        expected = keras.ops.convert_to_numpy(model(x, training=False))
        outcome = outcomes[case.id] = Outcome(expected, "not run")
        outcome.keras_shapes = tuple([tuple(t.shape) for t in ts] for ts in (model.inputs, model.outputs))
        source = folder / f"model.{'keras' if case.save != 'h5' else 'h5'}"
        if case.save == "npz":
            from keras.src.saving import saving_lib

            saving_lib.save_model(model, source, weights_format="npz")
        else:
            model.save(source)
        outcome.keys = frozenset(config_keys(read_config(source, case.id)[0]))
        out = folder / "tfjs"
        try:
            convert_model(source, out, "none", case.id, Choice("native"))
        except Exception as exc:  # noqa: BLE001 - reported by the case's own test
            outcome.got = f"conversion failed: {type(exc).__name__}: {exc}"
            continue
        outcome.signature = json.loads((out / "model.json").read_text())["signature"]
        outcome.folder, outcome.x = out, x
        outcome.run = (out, x if isinstance(x, list) else [x])
        runs.append((case, *outcome.run))
    got = run_models([(out, inputs) for _, out, inputs in runs])
    for (case, _, _), result in zip(runs, got, strict=True):
        outcomes[case.id].got = result
    return outcomes


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_matches_keras(results, case):
    outcome = results[case.id]
    expected, got = outcome.expected, outcome.got
    assert not isinstance(got, str), got
    assert got[0].shape == expected.shape
    error = float(np.abs(got[0] - expected).max())
    assert error <= case.tol, f"max abs error {error:.3g} > {case.tol}"


def signature_shapes(entries: dict) -> list[tuple]:
    """Return the shapes of model.json's signature inputs or outputs, in order, None unknown."""
    shapes = []
    for key in sorted(entries):
        dims = entries[key]["tensorShape"].get("dim", [])
        shapes.append(tuple(None if int(d["size"]) == -1 else int(d["size"]) for d in dims))
    return shapes


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_signature_shapes_match_keras(results, case):
    """The converted signature's static shapes are Keras's own, unknown sizes included.

    A lowering that computes a wrong static shape (an output size rule, a lost
    None) can still run in TF.js, whose kernels recompute sizes: only the
    signature, which a widget reads to size its input, shows it.
    """
    outcome = results[case.id]
    assert outcome.signature is not None, outcome.got
    inputs, outputs = outcome.keras_shapes
    assert signature_shapes(outcome.signature["inputs"]) == inputs
    assert signature_shapes(outcome.signature["outputs"]) == outputs


#: LAYERS keys no case can reach, and why. Aliases: Keras saves the class under the
#: name on the right, so a file never holds the alias (and the alias must lower the same).
ALIASES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution2DTranspose": "Conv2DTranspose",
    "SeparableConvolution1D": "SeparableConv1D", "SeparableConvolution2D": "SeparableConv2D",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D", "GlobalMaxPool3D": "GlobalMaxPooling3D",
    "Convolution1DTranspose": "Conv1DTranspose", "Convolution3D": "Conv3D", "Convolution3DTranspose": "Conv3DTranspose",
    "MaxPool3D": "MaxPooling3D", "AvgPool3D": "AveragePooling3D",
}


def test_every_lowered_layer_has_a_case(results):
    """Each LAYERS key is used by some case's saved model, or is a Keras alias of one that is.

    A layer added to the table without a parity case fails here; so does an
    alias Keras does not have (``GlobalAvePool2D`` could never match a file)
    or one that lowers differently from its class.
    """
    import keras

    from mkdocs_tfjs.convert.layers import LAYERS

    covered = set().union(*(o.keys for o in results.values()))
    # These never lower: at a model input the page runs them (tests/test_text_preprocessing.py
    # checks them token for token), anywhere else their entry refuses them.
    in_the_page = {"TextVectorization", "StringLookup", "IntegerLookup", "Hashing"}
    missing = sorted(set(LAYERS) - covered - set(ALIASES) - in_the_page)
    assert not missing, f"LAYERS entries without a parity case: {missing}"
    for alias, name in ALIASES.items():
        assert getattr(keras.layers, alias, None) is getattr(keras.layers, name), f"keras.layers has no alias {alias} of {name}"
        assert alias in LAYERS and LAYERS[alias] is LAYERS[name], f"{alias} does not lower as {name}"


@pytest.mark.parametrize(("quantize", "tol"), [("float16", 1e-4), ("uint8", 3e-3)])
def test_quantized_weights_decode_in_tfjs(tmp_path, quantize, tol):
    """float16 and affine uint8 weights as TF.js decodes them (a wrong scale or min is off by far more).

    Measured on the digits model (softmax outputs, random input): float16 4.7e-5, uint8 1.5e-3.
    """
    import keras

    source = Path(__file__).resolve().parents[1] / "models" / "digits" / "digits.keras"
    model = keras.models.load_model(source, compile=False)
    x = np.random.default_rng(2).uniform(0, 1, size=(8, 28, 28, 1)).astype("float32")
    convert_model(source, tmp_path / quantize, quantize, "digits", Choice("native"))
    manifest = (tmp_path / quantize / "model.json").read_text()
    assert f'"dtype":"{quantize}"' in manifest
    (got,) = run_models([(tmp_path / quantize, [x])])
    error = float(np.abs(got[0] - model.predict(x, verbose=0)).max())
    assert error <= tol, error


def test_weight_lookup_reads_each_layer_tag_once(tmp_path, monkeypatch):
    """Reading a .keras file's weights is linear in the number of layers.

    The reader once scanned every layer's name tag for each layer it looked
    up: quadratic, 15 s of NASNetMobile's conversion (770 layers). Counting
    HDF5 attribute reads keeps the test independent of the machine's speed:
    about one per layer now, ``layers² / 2`` then.
    """
    import h5py
    import keras

    layers = 120
    model = keras.Sequential([keras.Input((2,)), *[keras.layers.Dense(2) for _ in range(layers)]])
    model.save(tmp_path / "deep.keras")
    reads = 0
    original = h5py.AttributeManager.__getitem__

    def counting(self, name):
        nonlocal reads
        reads += 1
        return original(self, name)

    monkeypatch.setattr(h5py.AttributeManager, "__getitem__", counting)
    convert_model(tmp_path / "deep.keras", tmp_path / "tfjs", "none", "deep", Choice("native"))
    assert reads <= 2 * layers, f"{reads} HDF5 attribute reads for {layers} layers"


def test_several_inputs_and_outputs_keep_their_order(tmp_path):
    """A Functional model with two inputs and two outputs: each input lands on its own
    Placeholder and each output comes back in the model's order (a swap is off by far
    more than float32 rounding)."""
    import keras

    a, b = keras.Input((3,), name="a"), keras.Input((4, 2), name="b")
    shared = keras.layers.Dense(5, activation="tanh")
    joined = keras.layers.Concatenate()([shared(a), keras.layers.Flatten()(b)])
    first = keras.layers.Dense(2, name="first")(joined)
    second = keras.layers.Dense(6, activation="sigmoid", name="second")(shared(keras.layers.Dense(3)(first)))
    model = randomized(keras.Model([a, b], [first, second]))
    model.save(tmp_path / "two.keras")
    rng = np.random.default_rng(4)
    x = [rng.normal(size=(3, 3)).astype("float32"), rng.normal(size=(3, 4, 2)).astype("float32")]
    convert_model(tmp_path / "two.keras", tmp_path / "tfjs", "none", "two", Choice("native"))
    (got,) = run_models([(tmp_path / "tfjs", x)])
    assert not isinstance(got, str), got
    expected = model.predict(x, verbose=0)
    assert [g.shape for g in got] == [e.shape for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert float(np.abs(g - e).max()) <= 5e-6


def test_conv2d_with_one_group_per_channel_is_one_depthwise_op(tmp_path):
    """ConvNeXt's depthwise convolutions (``Conv2D(groups=channels)``) stay one op each.

    They were split into one Conv2D per channel and concatenated: right, but
    18,000 graph nodes for ConvNeXtBase, and as many kernel launches per
    inference in the browser.
    """
    import json

    import keras

    model = seq(keras.layers.Conv2D(64, 7, groups=64, padding="same"), shape=(8, 8, 64))
    model.save(tmp_path / "depthwise.keras")
    convert_model(tmp_path / "depthwise.keras", tmp_path / "tfjs", "none", "depthwise", Choice("native"))
    nodes = json.loads((tmp_path / "tfjs" / "model.json").read_text())["modelTopology"]["node"]
    ops = sorted(node["op"] for node in nodes if node["op"] not in ("Const", "Placeholder", "Identity"))
    assert ops == ["FusedDepthwiseConv2dNative"], ops


#: The cases also run on the WebAssembly backend: issue 19's, and every activation (exact GELU's Erf too).
ATTENTION_IDS = [c.id for c in attention_cases()] + [
    f"{kind}activation-{name}" for kind in ("", "dense-") for name in ACTIVATIONS
]
WASM_CASES = [c for c in CASES if c.id in ATTENTION_IDS]


@pytest.fixture(scope="module")
def attention_wasm_results(results):
    """Run the converted models of ``attention_cases`` again, on TF.js's WebAssembly backend."""
    ids = [i for i in ATTENTION_IDS if results[i].run]
    return dict(zip(ids, run_models([results[i].run for i in ids], backend="wasm"), strict=True))



def test_multi_head_attention_follows_the_keras_mask_of_its_inputs(tmp_path):
    """Embedding(mask_zero=True) before MultiHeadAttention: the padded steps change Keras's own
    output (the same weights without mask_zero give other numbers), and TF.js gives the masked
    output on both backends. Once refused; the parity cases above cover the other masks.
    Measured 4.5e-8 (cpu), 8.9e-8 (wasm), against a difference of 0.028 without the mask."""
    import keras

    def build(mask_zero):
        x = keras.Input((6,), dtype="int32")
        y = keras.layers.Embedding(10, 4, mask_zero=mask_zero)(x)
        return small_random(keras.Model(x, keras.layers.MultiHeadAttention(2, 2)(y, y)))

    ids = padded_ids(np.random.default_rng(1), 6)
    model = build(True)
    expected = keras.ops.convert_to_numpy(model(ids))
    unmasked = keras.ops.convert_to_numpy(build(False)(ids))
    assert float(np.abs(unmasked - expected).max()) > 0.01, "the padding does not change Keras's output"
    model.save(tmp_path / "masked.keras")
    convert_model(tmp_path / "masked.keras", tmp_path / "tfjs", "none", "masked", Choice("native"))
    for backend in ("cpu", "wasm"):
        (got,) = run_models([(tmp_path / "tfjs", [ids])], backend=backend)
        assert not isinstance(got, str), got
        error = float(np.abs(got[0] - expected).max())
        assert error <= MASK_TOL, (backend, error)


@pytest.mark.parametrize("case", WASM_CASES, ids=[c.id for c in WASM_CASES])
def test_attention_cases_on_wasm(results, attention_wasm_results, case):
    """The WebAssembly backend, which has no Einsum kernel, runs what the converter wrote, as Keras."""
    assert case.id in attention_wasm_results, results[case.id].got
    got, expected = attention_wasm_results[case.id], results[case.id].expected
    assert not isinstance(got, str), got
    assert got[0].shape == expected.shape
    error = float(np.abs(got[0] - expected).max())
    assert error <= case.tol, f"max abs error {error:.3g} > {case.tol}"


def test_mha_scores_over_two_axes(tmp_path):
    """Scores of attention over two axes: [batch, heads, rows, cols, rows, cols], as Keras lays them out.

    Not a ``Case``: Keras's own static shape of these scores is wrong ([batch, heads, rows,
    rows]), so the signature check cannot hold; the values are Keras's. Measured 2e-7.
    """
    import keras

    model = mha_model((3, 4, 6), None, None, {"num_heads": 2, "key_dim": 3, "attention_axes": (1, 2)},
                      {"return_attention_scores": True}, scores=True)
    model.save(tmp_path / "m.keras")
    x = np.random.default_rng(2).uniform(-2, 2, size=(3, 3, 4, 6)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x))
    convert_model(tmp_path / "m.keras", tmp_path / "tfjs", "none", "m", Choice("native"))
    for backend in ("cpu", "wasm"):
        (got,) = run_models([(tmp_path / "tfjs", [x])], backend)
        assert not isinstance(got, str), got
        assert got[0].shape == expected.shape == (3, 2, 3, 4, 3, 4)
        assert float(np.abs(got[0] - expected).max()) <= 1e-6, backend


def test_converted_ops_run_on_every_backend(results):
    """Every op the native converter wrote for any case runs on webgl, wasm and cpu (the kernel table).

    An op only some backends have (``Einsum``: not wasm) would take a backend from the page.
    """
    import json

    from mkdocs_tfjs.convert import kernels

    ops = set()
    for outcome in results.values():
        if outcome.run:
            ops |= kernels.graph_ops(json.loads((outcome.run[0] / "model.json").read_text()))
    assert "BatchMatMulV2" in ops and "Einsum" not in ops
    assert kernels.runnable_backends(ops) == list(kernels.backends()), {
        b: kernels.unsupported(ops, b) for b in kernels.backends()
    }


@pytest.mark.parametrize(("equation", "why"), [
    ("bij,bjk->bk", "einsum `bij,bjk->bk` (a letter summed in one operand only)"),
    ("bij->bji", "einsum `bij->bji` (two operands and an explicit output only)"),
])
def test_einsum_outside_the_attention_patterns_is_refused_by_name(tmp_path, equation, why):
    """An einsum the batched-matmul lowering cannot express is refused, saying which and why,
    rather than written as TF.js's Einsum (which the WebAssembly backend cannot run)."""
    import keras

    from mkdocs_tfjs.errors import ConversionError

    x = keras.Input((4, 4))
    operands = [x, keras.layers.Dense(4)(x)][: equation.split("->")[0].count(",") + 1]
    keras.Model(x, keras.ops.einsum(equation, *operands)).save(tmp_path / "m.keras")
    with pytest.raises(ConversionError) as info:
        convert_model(tmp_path / "m.keras", tmp_path / "tfjs", "none", "m", Choice("native"))
    assert why in str(info.value)


def test_a_keras_mask_through_a_concatenate_of_steps_is_refused(tmp_path):
    """Keras joins the masks of a Concatenate along the steps too; passing one input's mask on
    built a graph whose masked average then failed in the page (shapes [2, 8, 2] against
    [2, 4, 1]), so the build refuses it, naming the layer."""
    import tf_keras

    from mkdocs_tfjs.errors import ConversionError

    ids = tf_keras.Input((4,))
    embedded = tf_keras.layers.Embedding(10, 2, mask_zero=True)(ids)
    joined = tf_keras.layers.Concatenate(axis=1, name="join")([embedded, embedded])
    tf_keras.Model(ids, tf_keras.layers.GlobalAveragePooling1D()(joined)).save(tmp_path / "m.h5")
    with pytest.raises(ConversionError) as info:
        convert_model(tmp_path / "m.h5", tmp_path / "tfjs", "none", "m", Choice("native"))
    assert "`join`" in str(info.value), str(info.value)
    assert "a Keras mask through a Concatenate along the steps axis" in str(info.value)
