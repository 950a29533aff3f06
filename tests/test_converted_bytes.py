"""The native converter's output, byte for byte: sha256 of every file it writes.

Each example model in ``models/`` and a handful of small models built here
(a folded BatchNormalization, separable, transposed and depthwise
convolutions, pooling, merging, padding and resizing, normalization, the
composed activations) is converted at every ``quantize`` choice, and the
digest of ``model.json`` and its weight shards must equal the one pinned
below. Moving code around the converter (as the split of the lowering into
one module per domain did) must leave these bytes alone; a change that
means to change them bumps ``NATIVE_VERSION`` and re-pins with
``PIN_CONVERTED_BYTES=1 pytest tests/test_converted_bytes.py -s``, which
prints the new table.

The built models take their weights from a seeded numpy generator and name
every layer (and clear Keras's session, whose counters name keras.ops
nodes), so neither Keras's initialisers nor its name counters reach the
bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from mkdocs_tfjs.convert import Choice, convert_model
from mkdocs_tfjs.spec import QUANTIZE_CHOICES

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
#: One Keras file per example folder, named after its folder.
EXAMPLES = sorted((ROOT / "models").glob("*/*.keras"))


def _seeded(model, seed: int):
    """Give ``model`` random weights from ``seed``, positive where a variance needs it."""
    rng = np.random.default_rng(seed)
    weights = []
    for var in model.weights:
        if "variance" in var.path:
            weights.append(rng.uniform(0.5, 2.0, size=var.shape).astype("float32"))
        else:
            weights.append(rng.normal(size=var.shape).astype("float32"))
    model.set_weights(weights)
    return model


def _conv_bn_fold(keras):
    layers = keras.layers
    x = keras.Input((8, 8, 3), name="image")
    y = layers.Conv2D(6, 3, padding="same", name="conv")(x)
    y = layers.BatchNormalization(name="bn", epsilon=0.01)(y)
    y = layers.ReLU(name="relu")(y)
    y = layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False, name="depthwise")(y)
    y = layers.BatchNormalization(name="bn_depthwise")(y)
    y = layers.Flatten(name="flatten")(y)
    y = layers.Dense(4, name="dense")(y)
    y = layers.BatchNormalization(name="bn_dense")(y)
    y = layers.Activation("softmax", name="probabilities")(y)
    return keras.Model(x, y, name="conv_bn_fold")


def _separable(keras):
    layers = keras.layers
    x = keras.Input((9, 9, 4), name="image")
    y = layers.SeparableConv2D(5, 3, depth_multiplier=2, activation="relu6", name="sep2d")(x)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.Reshape((49, 5), name="to_steps")(y)
    y = layers.SeparableConv1D(3, 3, padding="same", activation="elu", name="sep1d")(y)
    y = layers.Conv1D(2, 3, padding="causal", dilation_rate=2, name="causal")(y)
    return keras.Model(x, y, name="separable")


def _transpose(keras):
    layers = keras.layers
    x = keras.Input((4, 5, 3), name="image")
    y = layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="sigmoid", name="up")(x)
    y = layers.Conv2DTranspose(2, 2, strides=2, use_bias=False, name="up2")(y)
    y = layers.BatchNormalization(name="bn")(y)
    y = layers.Conv2DTranspose(3, 3, dilation_rate=2, activation="tanh", name="dilated")(y)
    return keras.Model(x, y, name="transpose")


def _pooling(keras):
    layers = keras.layers
    x = keras.Input((12, 12, 3), name="image")
    y = layers.MaxPooling2D(2, name="max")(x)
    y = layers.AveragePooling2D(3, strides=1, padding="same", name="average")(y)
    a = layers.GlobalAveragePooling2D(name="global_average")(y)
    b = layers.GlobalMaxPooling2D(keepdims=True, name="global_max")(y)
    b = layers.Flatten(name="flatten")(b)
    steps = layers.Reshape((36, 3), name="steps")(y)
    c = layers.MaxPooling1D(2, name="max1d")(steps)
    c = layers.GlobalAveragePooling1D(name="global_average1d")(c)
    return keras.Model(x, [a, b, c], name="pooling")


def _merging(keras):
    layers = keras.layers
    x = keras.Input((6,), name="features")
    a = layers.Dense(4, activation="tanh", name="a")(x)
    b = layers.Dense(4, activation="swish", name="b")(x)
    c = layers.Dense(4, name="c")(x)
    merged = [
        layers.Add(name="merge_add")([a, b, c]),
        layers.Subtract(name="merge_subtract")([a, b]),
        layers.Multiply(name="merge_multiply")([a, c]),
        layers.Average(name="merge_average")([a, b]),
        layers.Maximum(name="merge_maximum")([b, c]),
        layers.Minimum(name="merge_minimum")([a, c]),
    ]
    # keras.ops on symbolic tensors become ``ops.<Class>`` nodes.
    ops = keras.ops
    merged.append(ops.maximum(ops.add(a, b) / 2.0, ops.multiply(c, 3.0) - a))
    y = layers.Concatenate(name="concat")(merged)
    return keras.Model(x, y, name="merging")


def _activations(keras):
    layers = keras.layers
    x = keras.Input((5, 6), name="features")
    y = layers.Dense(6, activation="gelu", name="dense_gelu")(x)
    y = layers.Activation("mish", name="mish")(y)
    y = layers.Activation("softsign", name="softsign")(y)
    y = layers.Activation("hard_sigmoid", name="hard_sigmoid")(y)
    y = layers.Activation("silu", name="silu")(y)
    y = layers.LeakyReLU(negative_slope=0.1, name="leaky")(y)
    y = layers.ReLU(max_value=4.0, negative_slope=0.2, threshold=0.5, name="relu_general")(y)
    y = layers.ELU(alpha=0.7, name="elu")(y)
    y = layers.PReLU(name="prelu")(y)
    y = layers.LayerNormalization(name="layer_norm")(y)
    y = layers.Softmax(axis=1, name="softmax_axis1")(y)
    return keras.Model(x, y, name="activations")


def _reshaping(keras):
    layers = keras.layers
    x = keras.Input((6, 7, 2), name="image")
    y = layers.Rescaling(1 / 127.5, offset=-1, name="rescale")(x)
    y = layers.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(y)
    y = layers.Cropping2D(((1, 0), (1, 1)), name="crop")(y)
    y = layers.UpSampling2D(2, interpolation="bilinear", name="upsample")(y)
    y = layers.Resizing(10, 9, name="resize")(y)
    y = layers.CenterCrop(8, 8, name="center_crop")(y)
    y = layers.Permute((2, 1, 3), name="permute")(y)
    y = layers.UnitNormalization(name="unit_norm")(y)
    return keras.Model(x, y, name="reshaping")


BUILT = {
    "conv-bn-fold": (_conv_bn_fold, 1),
    "separable": (_separable, 2),
    "transpose": (_transpose, 3),
    "pooling": (_pooling, 4),
    "merging": (_merging, 5),
    "activations": (_activations, 6),
    "reshaping": (_reshaping, 7),
}

#: (model, quantize) → sha256 of the converted files. Re-pinned for NATIVE_VERSION 3: activations
#: are fused into the convolution or matrix product before them (Graph.fuse_activations), and
#: PReLU slopes shared over a leading axis only are written out in full. penguin-profile:
#: the sliders' choice example, added (its preprocess.json holds the three StringLookups).
PINNED: dict[str, str] = {
    "activations none": "1a4a9b157191d1d38b4f3390cbe41284069739a057d91d37ff59d6f39d45cbac",
    "activations float16": "c2572373b5bb738fa0be1f4ef51f1b12507f26942c3f0b2aa335ec5f081ec517",
    "activations uint8": "a932b46f78672433e3925fc3ab271285161d39e93f5bbbf91007421641f91e0b",
    "conv-bn-fold none": "144d84176bbeb94fb3b6492eeba3f3c50e4e304a9b4a6cb5d846518346ccd800",
    "conv-bn-fold float16": "1dd468dcaff730485e7833778d917948934d4bc0d1c791073002433ecac612e3",
    "conv-bn-fold uint8": "53aa3b58bd081a70a68b033badf8e4e1a61d864b6093160ddc7323470ee17460",
    "digit-denoiser none": "3af4c50c15fdcd298d6b0b474ecd57ac96ca5c14c670245d4125561c367b6665",
    "digit-denoiser float16": "a71f74062f65543cbbcb114dde93e0fe3bab2a012f4ef3a8c9b359453678648c",
    "digit-denoiser uint8": "49b715b8adc6f67d4f98e150bce398b948213d1833aec93142e5963f68cd5aec",
    "digit-segmenter none": "0fc0775c4f28e54a523dd269672ca9f265fec2eea2ba8ec6ba5745d3cff9fe83",
    "digit-segmenter float16": "928322897773dbf3e2ac3a94fe8ef9d5a2507ee38ce7d02379d3b046d8a89608",
    "digit-segmenter uint8": "dfa56466458bf11f31c7fb960a2d8c50b7c31a8db3b8f43d9582b5bcff2b1a29",
    "digit-vae none": "fd27868487644efbde3ce0f2d33ff3c3293944cd53217adc9bad08760b8fc9f3",
    "digit-vae float16": "6f59c3461df20d39dd0d340388d677ca01c720d69ad7400c0f6b346404a955bd",
    "digit-vae uint8": "af7d3ca3c09cef3fb88e09a9e2b7466c29ccdfd424cfc6fdbabe26f68a9cd7b4",
    "digits none": "d5a143791d021c8fb6398c9bb48b33d72a37c76dde31e00c05985b15429a287c",
    "digits float16": "88db59d315a1d33ba1a37e07ba35b4872fcfcf338994c3e5ed65b3ae6c6fbdbd",
    "digits uint8": "e98b178a5548155121c87513b68c1ca88cd8bca344bde1c55e01329aeca68fe0",
    "emoji none": "ccedcab0b39f5f614d9236ffdb65ccf944bd96428b6c92d27773ce0f046c22bc",
    "emoji float16": "aeab9044bec7343a8b02fb5e3b2041b8cf980c527f0ffe6ae9d4fa70f6f99eca",
    "emoji uint8": "44df8825f99eeb9421eb10fc6bed598063ac4eada999ab2becd41211fd1e73ab",
    "merging none": "da8844cfcf33a22a7630d9ff3e4003aaea7a25c6b691a0826f7f38daa52cfe07",
    "merging float16": "fbf33b123ee050193eaff0ad79c463dd67844624e933d36187f5905648802335",
    "merging uint8": "54516cf49b45fbf53f06159fdfadd7a02e809042fa8cbcc117c8d7158b989339",
    "palette none": "58ee9a326a7e210be58ca4c92cf15448d3e435ecafc76924f66025c9a60482d0",
    "palette float16": "2ae0bafb6d792a189ed99e185d335902b6a38703503ed3ddd88866feb6de5288",
    "palette uint8": "eeaf7b72faaef607a4d086c16a0c6193e231cc337b505da7662c6b57e3ffebf1",
    "penguin-mass none": "5e34add44b1f9271a79a3d128aa64a74dc9c3b2de588940d5e58306d612964b5",
    "penguin-mass float16": "71dba646b6f9c0bb278374c01105613572b85d34095e0a8344582b070b0973fa",
    "penguin-mass uint8": "d89238b2a70acbebb8a6160cb4ddb6c987733611de1195d340924eca2e88463c",
    "penguin-profile none": "b8634e363c2e0a1d4c2cbb5bbd03c249c31de7189a1564c9d903355378405cfd",
    "penguin-profile float16": "193f05b66ac2d6c94eedc851c4684691c0a5fe02edd1c9718510057aa34775e9",
    "penguin-profile uint8": "f8fff6637589aa37ef35617f8330e59cdba892c712c4d5229d6dc2d8f6151313",
    "penguins none": "4c1b35cd1c1979e39eae7e4c57756db3d086909f7a6fdecdd2428d9a63573029",
    "penguins float16": "e74c52dbc92fa6e5df52e1c5ec0e17611771ada96e1eac7f4ad9a2e4bc13d059",
    "penguins uint8": "48ce833614ddbae3cc6d43e53dec54d038a3a9e32ab622e5eaacf3851545ddfc",
    "pooling none": "b936485426126382672bb60cfcae3966cc04e46e046bb223696d6938e8ac2569",
    "pooling float16": "b936485426126382672bb60cfcae3966cc04e46e046bb223696d6938e8ac2569",
    "pooling uint8": "b936485426126382672bb60cfcae3966cc04e46e046bb223696d6938e8ac2569",
    "reshaping none": "0693729df6cbe732224b9e02db5f555988516146a24a35fd58b13f57ac73d15f",
    "reshaping float16": "22645d7382f5e84d072938f17725c78ce9f130758ee8b694691480bffe0a504d",
    "reshaping uint8": "c8798c4a875cb228d44baff099f1e837ac348a156fa79f0cc9f4446c15cd3213",
    "separable none": "619cae8bf9f756d05bd6b3412a14f11623f757a70094630d214bc8d23420c296",
    "separable float16": "c7b2be044e403d9ec0542ae387531017c62c324973c874b9cca2af391261b971",
    "separable uint8": "a2e85b2ebabe15eaf1777638cb879693bd08da6906c8cf30d5a7324975b58c39",
    "spam none": "74503ee220aea3702826223be027762600da934bb7408fbbddc4de0e0db1888b",
    "spam float16": "fb8850a55780fd4459a035e823dffb9705ae122e5ee6aaeeb1e7bc65c66bc019",
    "spam uint8": "607895170baf4778d18f6ad6195380a7ef72cf6e35ff97cc63500bfd26b2067a",
    "sunspots none": "d15ffae49c22cd364ea4272b4cf4cead7f1f150ddd4286f09d12196ae10175b4",
    "sunspots float16": "bd4b39a882dcdbe2f3066b9d44b4aae45d0369e4afb1275a4b3bc3c1e9ee3ee9",
    "sunspots uint8": "5da8a90e57ba9650524a18e818d3581564174e025611ef0f21a33beac11e421f",
    "transpose none": "9618561d30430616d45b410fd053512041671b2c9a2e693595a1c7229c42b126",
    "transpose float16": "fc3839913c88609283b2690e0dab0d747fad02f73fa1198e92d2f0edf8ba788f",
    "transpose uint8": "a57cccf8c84241abb997547eddd19db22224d19c50a9295756920dde95b52229",
}


def _digest(folder: Path) -> str:
    """Return one sha256 over every file's relative path and bytes, in sorted order."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    """Every model to convert: the examples as shipped, the built ones saved as ``.keras``."""
    import keras

    found = {p.parent.name: p for p in EXAMPLES}
    folder = tmp_path_factory.mktemp("built")
    for name, (build, seed) in BUILT.items():
        path = folder / f"{name}.keras"
        # keras.ops nodes take counted names ("add_1"); a fresh session restarts the count.
        keras.backend.clear_session()
        _seeded(build(keras), seed).save(path)
        found[name] = path
    return found


def test_every_example_model_is_pinned():
    """A model added to ``models/`` is pinned too (run with PIN_CONVERTED_BYTES=1)."""
    names = {p.parent.name for p in EXAMPLES} | set(BUILT)
    keys = {f"{name} {q}" for name in names for q in QUANTIZE_CHOICES}
    if os.environ.get("PIN_CONVERTED_BYTES"):
        pytest.skip("pinning")
    assert keys == set(PINNED)


def test_converted_bytes_are_pinned(sources, tmp_path):
    """Same model, same options, same converter version: the very same bytes."""
    got = {}
    for name, source in sorted(sources.items()):
        for quantize in QUANTIZE_CHOICES:
            out = tmp_path / f"{name.replace('/', '-')}-{quantize}"
            convert_model(source, out, quantize, name, Choice("native"))
            got[f"{name} {quantize}"] = _digest(out)
    if os.environ.get("PIN_CONVERTED_BYTES"):
        print("PINNED = {")
        for key, value in got.items():
            print(f'    "{key}": "{value}",')
        print("}")
        pytest.skip("printed the digests to pin")
    changed = sorted(key for key in got if got[key] != PINNED.get(key))
    assert not changed, f"converted bytes changed for: {', '.join(changed)}"
