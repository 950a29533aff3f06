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

#: (model, quantize) → sha256 of the converted files, recorded before the lowering's split.
PINNED: dict[str, str] = {
    "activations none": "d41ddfdc0f41158be34d62dd56a91f4e47ad05a367c0a208b583a91410317a2f",
    "activations float16": "a50071f0b9a867694710f444e9c1bfc5047bdb85afd27144735cd1bc126eddf6",
    "activations uint8": "4bcefd47fc14a6819dfca15ce859fc22e048a29265d9ac0823963c1be67c1674",
    "conv-bn-fold none": "4be48e962345707331ba5dcd93b94eacb54e9fef6364e37908db3348bb1f0785",
    "conv-bn-fold float16": "58d474e28e6350e87d77d4beff2917abfa5cf7d949501ee7d9c5f46dfcbf27e6",
    "conv-bn-fold uint8": "61cfcce0b8057aef6ae3a22512173e54c926f98e06b77001c05be2895014d9c8",
    "digit-denoiser none": "2d8272feb85294255b51deb74e9311a34006907eb5b58619d92db3f64b068167",
    "digit-denoiser float16": "a97a911b471634b6dedd52cd6bb4e378478796f3e3b637db28e5b62fe09c8876",
    "digit-denoiser uint8": "d826f6316a8c8b2c925a2694deeb1a7f7a1e9f4eb3f73cb8137c9f7ea2539735",
    "digit-segmenter none": "bea5974b23320e80c0ad9b89cd738209ce936c6994104bafba02e4609dfb5ae8",
    "digit-segmenter float16": "508a91497ea63a7d020927160c8a917491b5d7e1eed306a3e7ff47b30ff05ec4",
    "digit-segmenter uint8": "9131cf6724a67f48f5c895506333a25b8449a9f1cb32f1ea631cdf767ca4bb10",
    "digit-vae none": "c39c32562ac91e48c94aac2c2e986f31a583190c9c1de260c32dff8231a4b4ff",
    "digit-vae float16": "a95e13c3c862f52dafbad88aef2c68eec86dcc02f4806a99f307578b53903054",
    "digit-vae uint8": "959dae757ff1f0b714d93e936727d6ca17acac9aa344b9736fb96e4eec1e0cad",
    "digits none": "458aaf46fa2bf0eef10c53cbcf781fed4131f2439d807901f92cf1034e554999",
    "digits float16": "eb18779385fc42baa0d789321330b2665d14e8a2a6b7be80769c14bb56a1bbd8",
    "digits uint8": "2bbbcfd7864d7675f4fe3f068d9ca93120cc24e97ccf0f0fa86202d080dc3ae1",
    "emoji none": "9335a736367e22f775b6e408efc806b1ffb3ecc9b17cbbcbdb7069b4d1482a79",
    "emoji float16": "4a3acb8ef1a153a885ca8e24d7a5230c888c7e8d4a6b6cf7c3847326ba9af5c1",
    "emoji uint8": "a9cedc53a9a13c284936566b4d492d2155fff710464effef07ae98cf3f4f014e",
    "merging none": "ee702f38bf5decc81751dfdb4d3ef66ef476a8d453d6d92c3a96a403503253b4",
    "merging float16": "42fc54b26a8ec7be570db7cd6c49cdeeaaf51163a5c5d44199b93c783c57db0b",
    "merging uint8": "377cca8293965f3b80892b4c9d4bcae9f73d062e75ad9e8762e53f58e584d451",
    "palette none": "ab963ac6229228674b77a497edafb24e49246ac898b7009c79f95eadefdfa817",
    "palette float16": "d3a234c55467873ef3def8b01b165e78194fe19226dbc8f0f1ca90ae6fc338ce",
    "palette uint8": "182eb54b6b80fd42b359eaf4a7b4416903ae5691ad7f30b8f7e91a805365f3e6",
    "penguin-mass none": "35eaa65f631a95d2f306576c83552979eeff872cb36087a237bb9a2777843c10",
    "penguin-mass float16": "4bc1ab02d6cc098cf4de012ffee4891964204d67f2c0cbdfc38a5b6c8c8c5e8a",
    "penguin-mass uint8": "f58624cbad4f21f7237b2dbaac9dce3532ae778c2919a630869fe9f3f5b2c3cc",
    "penguins none": "aa87a6c73950446d27a9d3843963cb5dcc82ce033b71cbceede49e6a97eb98b9",
    "penguins float16": "0e4c0b5554a043c84d221e62cc9a9811ed746492ab6d746843c3fddf4916d1e7",
    "penguins uint8": "f085ca167a37b68ff4eecc5b4b042923af683caf97b2e89b2e5599eafd4e1dd7",
    "pooling none": "34b41915fb35765199e75eb956cec001bb807b1f59c933b95b340ea8be7d9b32",
    "pooling float16": "34b41915fb35765199e75eb956cec001bb807b1f59c933b95b340ea8be7d9b32",
    "pooling uint8": "34b41915fb35765199e75eb956cec001bb807b1f59c933b95b340ea8be7d9b32",
    "reshaping none": "7e754709daf225710fa6cf7e09b302632ab03fec560c18bc9635cbe5fd78b3d2",
    "reshaping float16": "f8fac73113f3d0600d59e78fc8397cb41eee81c1953d8470b2a85d540e8e7a58",
    "reshaping uint8": "17f118308c466daa7893a245e26785d3293bbab0034f408bf2f3662d728b2470",
    "separable none": "9b6cf0c26f97d687c3d19c7bc9f60b9fdfe23f8e594bda183252d48537eb8d70",
    "separable float16": "1b6419631c5961e32fdb4db520123b2e14c7ab2e849003790b27353853227275",
    "separable uint8": "15bb2f7c3f45adffdac3cbee111fa1d07072b6329895364e0345501c4f023f55",
    "sunspots none": "6818f68e3e14a7629d5af30ded0a939e1dfb26303b11684fab0f63441cfbe1f6",
    "sunspots float16": "7a938f8551530c3ad8f182b47912faec90ff24b3abb8ee24e34954986f9d02b1",
    "sunspots uint8": "9ac0122ccd7e3ae234a569f17aff397532d2fdd89c9fd9d503e39ac6dc5ebbea",
    "transpose none": "111268fb8d560b777d9504b561f7c0da40d9560ee5f936fe6aba5a7883cfa527",
    "transpose float16": "0285912e4eb234e373d61e764d7a00683b3be99087f2dd0ed577b0515d11564b",
    "transpose uint8": "b18700887c991b4b3ca44d3d13b10566ad1676243d1ccc9580fa7a8920afa392",
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
