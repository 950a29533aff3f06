"""What the build knows about a converted model, read from its ``model.json``.

The converted graph model's ``model.json`` carries the serving signature
(input and output names, dtypes and shapes), so a cached model can be
checked against its widget without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a model; ``None`` in ``shape`` is a free size."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def describe(self) -> str:
        """Return the shape as authors read it, e.g. ``[batch, 28, 28, 1]``."""
        dims = [
            "batch" if i == 0 and d is None else ("?" if d is None else str(d))
            for i, d in enumerate(self.shape)
        ]
        return "[" + ", ".join(dims) + "]"


@dataclass
class ModelInfo:
    """A converted model: its signature, sizes and files."""

    source: str
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    params: int
    source_bytes: int
    shipped_bytes: int
    quantize: str
    format: str
    files: dict[str, str] = field(default_factory=dict)
    content_hash: str = ""
    convert_seconds: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)
    #: Which converter wrote the model (``native`` or ``tensorflow``), and why when not native.
    converter: str = "native"
    converter_reason: str = ""
    #: The graph's ops, the TF.js backends that register kernels for all of them
    #: (in the order webgl, wasm, cpu), and whether it needs ``executeAsync``.
    ops: list[str] = field(default_factory=list)
    backends: list[str] = field(default_factory=list)
    dynamic: bool = False
    #: Multiply-adds per example, where the converter counted them (the native one does).
    macs: int | None = None
    #: The activation that ends the model (``softmax``, ``sigmoid``, ``linear``...), read
    #: from its Keras architecture at conversion time; None for a SavedModel.
    output_activation: str | None = None
    #: What float16 and uint8 weights move the outputs by, measured at conversion
    #: (``convert/measure.py``); None where TensorFlow's converter wrote the model.
    quantization_cost: dict[str, Any] | None = None
    #: Per input, where the page runs the model's own text or lookup layer before the
    #: graph (``preprocess.json``): ``{layer, dtype, shape}`` of the raw input, else None;
    #: a StringLookup or IntegerLookup adds its ``vocabulary``. Empty when no input has one.
    preprocess: list[dict[str, Any] | None] = field(default_factory=list)

    def raw_input(self, index: int) -> dict[str, Any] | None:
        """Return ``{layer, dtype, shape}`` of input ``index`` where the page preprocesses it."""
        return self.preprocess[index] if index < len(self.preprocess) else None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the cache's ``info.json``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelInfo:
        """Rebuild from :meth:`to_json`'s output."""
        data = dict(data)
        data["inputs"] = [
            TensorInfo(t["name"], t["dtype"], tuple(t["shape"])) for t in data["inputs"]
        ]
        data["outputs"] = [
            TensorInfo(t["name"], t["dtype"], tuple(t["shape"])) for t in data["outputs"]
        ]
        return cls(**data)

    def describe_input(self, index: int) -> str:
        """Return input ``index`` as authors read it: its shape, or the raw text it takes."""
        raw = self.raw_input(index)
        if raw is None:
            return self.inputs[index].describe()
        shape = TensorInfo("", raw["dtype"], tuple(raw["shape"])).describe()
        kind = "strings" if raw["dtype"] == "string" else "integers"
        return f"{kind} {shape} (through its {raw['layer']})"

    def describe_io(self) -> str:
        """Return e.g. ``takes [batch, 5] and returns [batch, 15]``."""
        ins = ", ".join(self.describe_input(i) for i in range(len(self.inputs))) or "no inputs"
        outs = ", ".join(t.describe() for t in self.outputs) or "no outputs"
        return f"takes {ins} and returns {outs}"


def read_signature(data: dict[str, Any]) -> tuple[list[TensorInfo], list[TensorInfo]]:
    """Return the inputs and outputs recorded in a graph model's ``model.json`` data."""
    signature = data.get("signature") or data.get("userDefinedMetadata", {}).get("signature", {})

    def tensors(group: dict[str, Any]) -> list[TensorInfo]:
        out = []
        for key, value in sorted(group.items()):
            dims = value.get("tensorShape", {}).get("dim", [])
            shape = tuple(None if int(d.get("size", -1)) < 0 else int(d["size"]) for d in dims)
            out.append(TensorInfo(value.get("name", key), value.get("dtype", "DT_FLOAT"), shape))
        return out

    return tensors(signature.get("inputs", {})), tensors(signature.get("outputs", {}))


def count_weights(data: dict[str, Any]) -> int:
    """Return the number of weight values stored in a model's weight manifest."""
    total = 0
    for group in data.get("weightsManifest", []):
        for weight in group.get("weights", []):
            size = 1
            for dim in weight.get("shape", []):
                size *= int(dim)
            total += size
    return total
