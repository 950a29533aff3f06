"""String and lookup preprocessing at a model's input, taken out of the graph.

TF.js has no string tensors. A ``TextVectorization``, ``StringLookup``,
``IntegerLookup`` or ``Hashing`` layer that takes a model input directly is
therefore not lowered: the graph starts at the layer after it (its input
becomes a Placeholder of the layer's output shape and dtype), and what the
layer does (standardisation, splitting, n-grams, the vocabulary, the idf
weights, the hash) is written to ``preprocess.json`` beside ``model.json``,
which the page's ``preprocess.js`` runs in JavaScript with Keras's exact
semantics. One reading function per layer class, in :data:`STRING_LAYERS`.
Nothing here imports TensorFlow or MkDocs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import PREPROCESS_FILE
from .layers import Unsupported

__all__ = ["FORMAT", "PREPROCESS_FILE", "STRING_LAYERS", "Front", "LayerFiles"]

#: What ``preprocess.json`` holds is versioned apart from the graph: bump when its meaning changes.
FORMAT = 1


@dataclass
class LayerFiles:
    """How a reading function gets a layer's saved state: an asset's text, a variable."""

    asset: Callable[[str], str | None]
    variable: Callable[[str], np.ndarray | None]


@dataclass
class Front:
    """A preprocessing layer at a model input: what the page runs, and what the graph takes."""

    settings: dict[str, Any]
    shape: tuple[int | None, ...]
    dtype: str


Reader = Callable[[dict[str, Any], tuple, LayerFiles], Front]
STRING_LAYERS: dict[str, Reader] = {}


def _reader(name: str) -> Callable[[Reader], Reader]:
    def register(fn: Reader) -> Reader:
        STRING_LAYERS[name] = fn
        return fn

    return register


def _refuse_options(config: dict[str, Any], cls: str) -> None:
    if config.get("sparse"):
        raise Unsupported(f"{cls} with sparse=True (TF.js has no sparse tensors)")
    if config.get("ragged"):
        raise Unsupported(f"{cls} with ragged=True (TF.js has no ragged tensors)")
    encoding = str(config.get("encoding") or "utf-8").lower().replace("_", "-")
    if encoding not in ("utf-8", "utf8"):
        raise Unsupported(f"{cls} with encoding={config.get('encoding')!r} (the page reads UTF-8)")


def _read_vocabulary(config: dict[str, Any], files: LayerFiles, integer: bool) -> list[Any]:
    """Return the vocabulary as Keras loads it: from the config, else the saved asset."""
    vocabulary = config.get("vocabulary")
    if isinstance(vocabulary, str):
        raise Unsupported(
            f"a vocabulary read from the file {vocabulary!r} at load time; pass the tokens "
            "themselves (a list) or adapt() the layer before saving"
        )
    if vocabulary is None:
        text = files.asset("vocabulary.txt")
        if text is None:
            raise Unsupported("a layer saved without its vocabulary (adapt() it before saving)")
        vocabulary = _vocabulary_lines(text, config.get("vocabulary_size"))
    return [int(v) for v in vocabulary] if integer else [str(v) for v in vocabulary]


def _vocabulary_lines(text: str, size: int | None) -> list[str]:
    r"""Return the tokens of a saved ``vocabulary.txt``, as the layer had them when saved.

    Keras writes ``"\n".join(vocabulary)`` and reads it back with
    ``str.splitlines``, which also breaks at U+0085, U+2028, \x1c-\x1e and
    \r, all of which a token may hold (whitespace splitting keeps them): the
    reloaded layer then looks tokens up at other indices than the trained one,
    or refuses to load. Splitting at "\n" alone gives the trained vocabulary;
    the one token that holds "\n" (a character split's "\n") is an empty
    line between two others, told apart by the vocabulary size in the config.
    """
    lines = text.split("\n")
    if size is None or len(lines) == int(size):
        return lines
    merged, i = lines[:1], 1
    while i < len(lines):
        if lines[i] == "" and i + 1 < len(lines) and lines[i + 1] == "":
            merged.append("\n")
            i += 2
        else:
            merged.append(lines[i])
            i += 1
    if len(merged) != int(size):
        raise Unsupported(
            f"a vocabulary file of {len(lines)} lines for {size} tokens: tokens holding line "
            "breaks cannot be told apart; pass the vocabulary as a list instead"
        )
    return merged


def _lookup(config: dict[str, Any], files: LayerFiles, integer: bool, cls: str) -> dict[str, Any]:
    """Return the lookup table of an IndexLookup (StringLookup, IntegerLookup, TextVectorization).

    As Keras's ``IndexLookup``: the mask token maps to 0 in ``int`` mode (and
    is dropped otherwise), a token of the vocabulary to its place after the
    special tokens, any other to an OOV index.
    """
    if config.get("invert"):
        raise Unsupported(f"{cls} with invert=True")
    mode = config.get("output_mode", "int")
    mode = "tf_idf" if mode == "tf-idf" else mode
    mask = config.get("mask_token")
    oov_indices = int(config.get("num_oov_indices", 1))
    oov_start = 1 if mask is not None and mode == "int" else 0
    token_start = oov_start + oov_indices
    vocabulary = _read_vocabulary(config, files, integer)
    special = [mask] * oov_start + [config.get("oov_token")] * oov_indices
    tokens = vocabulary[token_start:] if vocabulary[:token_start] == special else vocabulary
    size = token_start + len(tokens)
    method = config.get("oov_method", "floormod")
    salt = config.get("salt")
    if oov_indices > 1 and (method == "farmhash" or not integer):
        oov_hash = "siphash" if salt is not None else "farmhash"
    else:
        oov_hash = "floormod"
    max_tokens = config.get("max_tokens")
    depth = int(max_tokens) if config.get("pad_to_max_tokens") and max_tokens else size
    settings: dict[str, Any] = {
        "tokens": tokens,
        "integer": integer,
        "mask": mask,
        "oovIndices": oov_indices,
        "oovStart": oov_start,
        "tokenStart": token_start,
        "oovHash": oov_hash,
        "salt": _salt(salt) if oov_hash == "siphash" else None,
        "outputMode": mode,
        "depth": depth,
        "idf": None,
    }
    if mode == "tf_idf":
        idf = files.variable("idf_weights")
        if idf is None:
            raise Unsupported(f"{cls} in tf_idf mode saved without its idf weights")
        settings["idf"] = [float(v) for v in np.asarray(idf, np.float32).reshape(-1)]
        if len(settings["idf"]) != depth:
            raise Unsupported(f"{cls} whose idf weights do not match its vocabulary")
    return settings


def _salt(salt: Any) -> list[str]:
    """Return a salt as Keras's SipHash key: two unsigned 64-bit integers, as decimal strings."""
    pair = [salt, salt] if isinstance(salt, int) else list(salt)
    return [str(int(v) % (1 << 64)) for v in pair]


def _encoded_shape(
    raw: tuple, mode: str, depth: int, cls: str
) -> tuple[tuple[int | None, ...], str]:
    """Return the shape and dtype an IndexLookup or Hashing gives for a ``raw`` input shape."""
    if mode == "int":
        return raw, "int32"
    if mode == "one_hot":
        base = raw[:-1] if raw and raw[-1] == 1 else raw
        return (*base, depth), "float32"
    if len(raw) != 2:
        raise Unsupported(f"{cls} in {mode} mode on an input of rank {len(raw)} (only [batch, n])")
    return (raw[0], depth), "float32"


@_reader("TextVectorization")
def text_vectorization(config: dict[str, Any], raw: tuple, files: LayerFiles) -> Front:
    """``TextVectorization``: standardize, split, n-grams, then the lookup."""
    _refuse_options(config, "TextVectorization")
    standardize, split = config.get("standardize"), config.get("split")
    if standardize not in (None, "lower_and_strip_punctuation", "lower", "strip_punctuation"):
        raise Unsupported("TextVectorization with a custom standardize function")
    if split not in (None, "whitespace", "character"):
        raise Unsupported("TextVectorization with a custom split function")
    if split is not None and len(raw) > 1 and raw[-1] != 1:
        raise Unsupported("TextVectorization splitting an input whose last axis is not 1")
    ngrams = config.get("ngrams")
    widths = list(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
    lookup = _lookup(
        {**config, "mask_token": "", "oov_token": "[UNK]"}, files, False, "TextVectorization"
    )
    mode = lookup["outputMode"]
    if mode == "int":
        length = config.get("output_sequence_length")
        batch = raw[0] if raw else None
        shape: tuple[int | None, ...] = (batch, None if length is None else int(length))
        dtype = "int32"
    else:
        shape, dtype = (raw[0] if raw else None, lookup["depth"]), "float32"
    settings = {
        "layer": "TextVectorization",
        "standardize": standardize,
        "split": split,
        "ngrams": widths,
        "sequenceLength": config.get("output_sequence_length"),
        **lookup,
    }
    return Front(settings, shape, dtype)


def _lookup_front(config: dict[str, Any], raw: tuple, files: LayerFiles, cls: str) -> Front:
    _refuse_options(config, cls)
    lookup = _lookup(config, files, cls == "IntegerLookup", cls)
    shape, dtype = _encoded_shape(raw, lookup["outputMode"], lookup["depth"], cls)
    return Front({"layer": cls, **lookup}, shape, dtype)


@_reader("StringLookup")
def string_lookup(config: dict[str, Any], raw: tuple, files: LayerFiles) -> Front:
    """``StringLookup``: each string to its vocabulary index (or encoded)."""
    return _lookup_front(config, raw, files, "StringLookup")


@_reader("IntegerLookup")
def integer_lookup(config: dict[str, Any], raw: tuple, files: LayerFiles) -> Front:
    """``IntegerLookup``: each integer to its vocabulary index (or encoded)."""
    return _lookup_front(config, raw, files, "IntegerLookup")


@_reader("Hashing")
def hashing(config: dict[str, Any], raw: tuple, files: LayerFiles) -> Front:
    """``Hashing``: FarmHash Fingerprint64 (or SipHash with a salt) modulo ``num_bins``."""
    _refuse_options(config, "Hashing")
    bins = int(config["num_bins"])
    mode = config.get("output_mode", "int")
    salt = config.get("salt")
    shape, dtype = _encoded_shape(raw, mode, bins, "Hashing")
    settings = {
        "layer": "Hashing",
        "bins": bins,
        "mask": config.get("mask_value"),
        "salt": None if salt is None else _salt(salt),
        "outputMode": mode,
        "depth": bins,
    }
    return Front(settings, shape, dtype)
