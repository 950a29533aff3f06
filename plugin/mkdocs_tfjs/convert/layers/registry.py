"""The table of lowerings: :data:`LAYERS`, :data:`FOLDS`, the :func:`layer` decorator.

Also what every lowering function receives (:class:`Call`) and may raise
(:class:`Unsupported`). Nothing here lowers a layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import Graph, Tensor

#: Keras layer class (or ``ops.<Class>`` for keras.ops nodes) → lowering function.
LAYERS: dict[str, Callable[[Call], Tensor | list[Tensor]]] = {}


class Unsupported(Exception):
    """A layer option this converter does not lower (the message says which)."""


@dataclass
class Call:
    """One call of a layer in the model's graph.

    ``masks`` holds the Keras mask of each input (None where it has none),
    as a float32 ``[batch, steps, 1]`` tensor of ones (step kept) and zeros
    (step masked). A lowering that makes masks (Embedding with ``mask_zero``,
    Masking, the recurrent layers) sets ``out_masks``, one per output; the
    walker passes the others on where Keras does (see ``native``).
    """

    graph: Graph
    name: str
    config: dict[str, Any]
    inputs: list[Tensor]
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    load_weights: Callable[[], list[np.ndarray]] = lambda: []
    legacy: bool = False
    masks: list[Tensor | None] = field(default_factory=list)
    out_masks: list[Tensor | None] | None = None
    #: The weights of the layer's own sublayers by name (MultiHeadAttention's ``query``...).
    load_parts: Callable[[], dict[str, list[np.ndarray]]] = lambda: {}

    def tensor(self, value: Any) -> Tensor | None:
        """Return the input tensor an argument of the call stands for (None if it is none).

        ``args`` and ``kwargs`` hold ``(layer, node, index)`` references where
        Keras passed a tensor; ``inputs`` holds those tensors in the same order.
        """
        refs = _refs_in([self.args, self.kwargs])
        if not isinstance(value, tuple) or value not in refs:
            return None
        return self.inputs[refs.index(value)]

    def parts(self) -> dict[str, list[np.ndarray]]:
        """Return the sublayers' weights, float32, by sublayer name."""
        return {
            name: [np.asarray(w, dtype=np.float32) for w in weights]
            for name, weights in self.load_parts().items()
        }

    @property
    def x(self) -> Tensor:
        """Return the single input."""
        return self.inputs[0]

    @property
    def mask(self) -> Tensor | None:
        """Return the first input's mask (None without one)."""
        return self.masks[0] if self.masks else None

    def mask_of(self, tensor: Tensor | None) -> Tensor | None:
        """Return the Keras mask of the input ``tensor`` (None without one, or for no tensor)."""
        if tensor is None:
            return None
        for given, mask in zip(self.inputs, self.masks, strict=False):
            if given.name == tensor.name:
                return mask
        return None

    def weights(self) -> list[np.ndarray]:
        """Return the layer's weights, float32, in Keras's variable order."""
        return [np.asarray(w, dtype=np.float32) for w in self.load_weights()]

    def get(self, key: str, default: Any = None) -> Any:
        """Return a config value, or ``default`` when absent or null."""
        value = self.config.get(key)
        return default if value is None else value

    def hint(self, suffix: str = "") -> str:
        """Return a node name hint under this layer's name."""
        return f"{self.name}/{suffix}" if suffix else self.name

    def const(self, suffix: str, value: Any, dtype: str = "float32") -> Tensor:
        """Add a constant named after this layer."""
        return self.graph.const(self.hint(suffix), value, dtype)


def _refs_in(value: Any) -> list[tuple]:
    """Return the tensor references in nested args, in the walker's order."""
    if isinstance(value, tuple):
        return [value]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _refs_in(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs_in(v)]
    return []


@dataclass(frozen=True)
class Fold:
    """How a BatchNormalization after a layer folds into the layer's own weights.

    ``kernel`` is the index, among the layer's weights, of the kernel that
    makes the output channels (its bias follows it); ``channels`` are that
    kernel's axes holding the output channels, in output order
    (DepthwiseConv2D's input channel then multiplier: channel ``c * m + j``).
    """

    kernel: int = 0
    channels: tuple[int, ...] = (-1,)

    def apply(
        self, weights: list[np.ndarray], scale: np.ndarray, offset: np.ndarray, has_bias: bool
    ) -> list[np.ndarray]:
        """Return the weights, with a bias, of the layer followed by ``x * scale + offset``."""
        kernel = weights[self.kernel]
        shape = [1] * kernel.ndim
        for axis in self.channels:
            shape[axis] = kernel.shape[axis]
        bias = weights[self.kernel + 1] if has_bias else np.zeros_like(offset)
        return [
            *weights[: self.kernel],
            (kernel * scale.reshape(shape)).astype(np.float32),
            (bias * scale + offset).astype(np.float32),
        ]


#: Keras layer class → how a BatchNormalization after it folds into its weights.
FOLDS: dict[str, Fold] = {}


def layer(
    *names: str, folds: Fold | None = None
) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    """Register a lowering function for one or more Keras class names.

    ``folds`` says how a BatchNormalization after the layer folds into the
    weights the function reads; the walker folds it and lowers a biased layer.
    """

    def register(fn: Callable[[Call], Any]) -> Callable[[Call], Any]:
        for name in names:
            LAYERS[name] = fn
            if folds is not None:
                FOLDS[name] = folds
        return fn

    return register
