"""The lowering: one small function per Keras layer class, looked up in :data:`LAYERS`.

Each function takes a :class:`Call` (the layer's config, its input tensors,
its weights) and adds TF.js graph ops to the graph, with Keras's exact
semantics (padding, strides, dilation, defaults), and returns its output
tensor(s). Where TF.js has no single op (swish, softsign, mish, gelu), the
function composes one from ops it has. Only ``channels_last`` is lowered.

A layer class missing from the table is unsupported: the converter reports
it by name and never guesses.

The functions live in one module per domain, named after the Keras package
that defines the class (``keras/src/layers/<domain>/``): ``core``,
``activations``, ``attention``, ``convolutional``, ``pooling``, ``normalization``,
``reshaping``, ``merging``, ``preprocessing``, ``regularization``,
``recurrent``; keras.ops
nodes are in ``ops``, keras.applications' own small layers in
``applications``. A new layer is one function in its domain's module,
registered with ``@layer("ClassName", folds=...)``: ``folds`` says how a
BatchNormalization after it folds into its weights (leave it out where none
may). ``registry`` holds the table, ``_common`` the helpers the domains
share, ``_fused`` the kernel, bias and fused activation of Dense and the
convolutions. Importing this package imports every domain, which fills
the table.
"""

from __future__ import annotations

# Each domain registers its functions in LAYERS and FOLDS when imported.
from . import (
    activations,
    applications,
    attention,
    convolutional,
    core,
    merging,
    normalization,
    ops,
    pooling,
    preprocessing,
    recurrent,
    regularization,
    reshaping,
)
from .normalization import batchnorm_affine
from .registry import FOLDS, LAYERS, Call, Fold, Unsupported, layer

__all__ = [
    "FOLDS",
    "LAYERS",
    "Call",
    "Fold",
    "Unsupported",
    "batchnorm_affine",
    "layer",
    "activations",
    "applications",
    "attention",
    "convolutional",
    "core",
    "merging",
    "normalization",
    "ops",
    "pooling",
    "preprocessing",
    "recurrent",
    "regularization",
    "reshaping",
]
