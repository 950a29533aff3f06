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

#: (model, quantize) → sha256 of the converted files. Re-pinned for NATIVE_VERSION 4, which
#: model.json's `convertedBy` names (the graphs are unchanged: the version moved for the
#: loops over free lengths and Keras's masks through attention and merges). NATIVE_VERSION 3
#: fused activations into the convolution or matrix product before them
#: (Graph.fuse_activations), and wrote PReLU slopes shared over a leading axis only in full. penguin-profile:
#: the sliders' choice example, added (its preprocess.json holds the three StringLookups).
PINNED: dict[str, str] = {
    "activations none": "0cdc9146c5a929edb56166b1a62f8bb1124574b0404ad5b836882221de64cb7d",
    "activations float16": "8dbf617e5f36a5b03158ae7857b0fd4dfaaee03db7b60c7dd94f193efe1a0f6a",
    "activations uint8": "130fb8cac04331fe739b0b7950ed56da54abe374c5263c8b3bcb5d8ae08f056d",
    "conv-bn-fold none": "ea8352986a86fefca098a38e8d8215efdc981747ea655b171fdbd69847f38991",
    "conv-bn-fold float16": "3c73237a4722a6d8efbf65d0bed98a20ff78d6abd8db52e802158cca35dcd831",
    "conv-bn-fold uint8": "519eefb02dea0711d84472af07031b41114bbe28ce8f6fe2751f93db08ff0650",
    "digit-denoiser none": "da9fff779de668f5b9b14fe5cb70c824d66661cc6df1102834c8d0972f3652cc",
    "digit-denoiser float16": "c2b8e34bca5c8609bd56bb1cd23693ef0c9e12a28e4b1fa8d7d53d79d9ad47aa",
    "digit-denoiser uint8": "d51c2de9de7c86b9a4a63c17998f708a296c26b8db7eb683e9d2d3f1086b094f",
    "digit-segmenter none": "92c3ccb029c4b3ee008758f831a552fc1b009e791e838bc926e66623be2a15d3",
    "digit-segmenter float16": "b1204f4bb07c325a5091d5097d9bc61d3cef768209d392f74fd61752b9f9b11b",
    "digit-segmenter uint8": "4038fddd205b2ed948699e72bb8d61920b879dc8ed4bbe3c26ca8bc99367c13e",
    "digit-vae none": "394d998be2fca4abba2cc7b6dae1111f91e65b582ed814f28def3fb2013d5bdd",
    "digit-vae float16": "0a813d321608752e1546fb0be5bfc7a2d77a7c15da1b6675dfc6cd316a2a7695",
    "digit-vae uint8": "56fec8130f012c033ad6b42d706e1419a6356b6d759447344968b2a2b490b54e",
    "digits none": "1d73713620c62f0c881c56c0c144258ff36013d3c489b7aa0c13d69a53614879",
    "digits float16": "ff5cb07d3f3e68d42ad696916cff2bfcc21dea574cb1db37ebce3fea905147b1",
    "digits uint8": "6771bd89d091811e6c417e1fd4fae7b7e8bb401d3ce75227538024398f2089e3",
    "emoji none": "2af11afb16b6e0bdafe5df4cd5422ae0245127c30f3b9a17b2d3163d5099f157",
    "emoji float16": "6f35eae2f7d087932236bdc3e1f0941d8865f7c25bc83454f12d1f7a792b50b2",
    "emoji uint8": "4f343906a981b9e8d2e79f05e323fcbb781b27f739e5f0294d8c57c24ed5aa44",
    "merging none": "253bc7160f3e03b7749ab61e99a19ba665a709be5f64b4b2e58c51d64c8bcf45",
    "merging float16": "1e73709dbb1b0472e415584b66f9c29fe12f153261ec7d260dc2799b98848535",
    "merging uint8": "488c3dd06441a60fb0ff4e4ae7f2b879cb92d89867cf9dd308ec791472f4d94f",
    "palette none": "7b0323f4c99b7c6dddaded66986e2b9eadaa6603c1719db58a0c75985816ebfe",
    "palette float16": "d252e77197104d7f044360ce6877af60733ed1b838151b5b355ae63b55956846",
    "palette uint8": "815b9460bab5f65e9cab31f192a0ac43e8a273a04d6a7539160f78e9696608de",
    "penguin-mass none": "ace999caea9f8d8e0f6e2098e4344679ca2a18a9a52a3990b40e3deb4b536003",
    "penguin-mass float16": "7237ad997418d6735f065e495a6e7d32250d3c530590e01f505eab89acc51cbf",
    "penguin-mass uint8": "10fb9d7f2429df095513f027ab6baf19d7f4ac598fcbe7b0fbc2e022698ce86e",
    "penguin-profile none": "3655d805137793414575eabf19c00056fa3f665017a7c3aaefd2add7b12d0936",
    "penguin-profile float16": "7e1cd471cdae8df78ebd74a32956eb5636141759ae3bba42bcd6a91c932d1b93",
    "penguin-profile uint8": "09afe99dfb807ebe06d9b5ade20e94796b8e1f0e33be55458aafaa3f6cc0c2e4",
    "penguins none": "be68a37fcb0e45b465e04e74bbc4f025b7b766e7de4b7b2b1fb2c8e9f36e38ef",
    "penguins float16": "d18bd67f87454edd9fc5ea9c7f58906ad478be9c6c61a980c1cde87a9d7305c4",
    "penguins uint8": "b1a9bd9b592f532f1e7beba4b37f7572d41454ec6479f602e2ceeddad1bd9431",
    "pooling none": "9d45a25784572ba7c96d20b191704dfd6c0a53a78faa9eacbe52d943b3f61ffd",
    "pooling float16": "9d45a25784572ba7c96d20b191704dfd6c0a53a78faa9eacbe52d943b3f61ffd",
    "pooling uint8": "9d45a25784572ba7c96d20b191704dfd6c0a53a78faa9eacbe52d943b3f61ffd",
    "reshaping none": "ee365a78deee28c2935dccd19232cc2cfbe0461a2113f5655f5f049288075ee8",
    "reshaping float16": "5347646544e34cbdc368c838edd42fd4aba9f8f6b3f706bc66bc4bf314d1fded",
    "reshaping uint8": "ee3bb6ae6131b90f15273d20f56a98c9486dd5ffd073110235144bb6441c080c",
    "separable none": "41a42be1f9641aded9c89ce577234acc4c36eb3de1f533204958ea43e58562e5",
    "separable float16": "f6c6b727965f3e9cc9a6483de7253ea63094202395627dac4c2452ae22cf8033",
    "separable uint8": "191f79ec5339b63d81243bbe5e5f18e8fa30a4eaf38e3ff24e63052a3d1138fa",
    "spam none": "7d46a6b77d56494ee06dc752962c3b70959ce66c402ed982fdea1e91d9168452",
    "spam float16": "0436c4b0772a0e4fee1c3f75bc8cedbe75bdcb8aac5f7578da7bae2526a7c38b",
    "spam uint8": "e4f0ca0dd4d9eacb7687ec560576693fe1e49e18de1aea5a2b964b84e1a52346",
    "sunspots none": "ecb4ed96e738af9516ea73762b2864e453399820b382ef748c7a1aea8f38ad3d",
    "sunspots float16": "943d7e30c2124144f4f30ec556a1f9296b6e53a7d5125aa014f09fc1c9377ad9",
    "sunspots uint8": "cd38540f65c8913190ee8de906618fb4c595db144705c77ec0e34f6ea0112180",
    "transpose none": "531d088a6171c148c0e0e31c94b7985b36d1330ddc4edfa872cee6c775aaabe7",
    "transpose float16": "2ad95b1d81042523e1af33e67e2d7e6081483780f5bf3ee366a2d6a2918ae42a",
    "transpose uint8": "82a38ca3f76d5787fdb545d0a37d152ae745ca75499d5f28236ffb4fc5e63087",
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
