"""Write the table of TF.js kernels each graph-model op needs, per backend.

Run from the repository root after ``npm ci``::

    python scripts/make_kernel_table.py [--output PATH] [--node-modules DIR]

It writes ``plugin/mkdocs_tfjs/convert/kernels.json``, which
``mkdocs_tfjs.convert.kernels`` reads at build time to refuse a model whose
graph some backend cannot run. The file is committed; a test regenerates it
and compares bytes, so it must change only when the pinned npm packages do.

How the table is derived (``scripts/kernel_table.mjs``, run under Node):

* **Ops.** Every ``tfOpName`` in the op lists that tfjs-converter's
  ``OperationMapper`` imports (``dist/operations/op_list/*.js``); an op name
  not listed there fails at load time in the reader's browser. (4.22.0 ships
  ``op_list/ragged.js`` but does not import it, so the Ragged* ops are absent,
  as they are for TF.js.)
* **Op to core ops.** The op's ``category`` picks the executor, as
  ``operation_executor.js`` does; the statements under its ``case 'Op':`` in
  ``switch (node.op)`` (following fall-through) are parsed with acorn, and
  every function they reference is followed: ``ops.add``, ``tfOps.fused.matMul``,
  ``tfc.clone``, ``ops.image.resizeBilinear`` and the executor's own helpers.
* **Core ops to kernels.** Inside tfjs-core the same walk follows every op and
  helper an op references, collecting the first argument of each
  ``ENGINE.runKernel(...)`` (a ``kernel_names.js`` constant) and ``Identity``
  for ``tensor.clone()``. So ``AddV2`` and ``BiasAdd`` need ``Add``,
  ``MatMul`` needs ``BatchMatMul``, ``_FusedMatMul`` needs ``_FusedMatMul``,
  ``FusedDepthwiseConv2dNative`` needs ``FusedDepthwiseConv2D``; a composite
  op (``LogSoftmax``, ``MatrixBandPart``, ``RFFT``) collects the kernels of
  all the ops it is made of.
* **Kernels per backend.** Node loads tfjs-core and the cpu, wasm, webgl and
  webgpu backends (registering kernels needs no GPU, WebGPU adapter or
  WebAssembly instance: the webgpu package registers its kernels even where
  it cannot register the backend itself, as in Node) and asks
  ``tf.getKernelsForBackend(name)``: the real registry, not a reading of it.
* **Async.** An op needs ``executeAsync`` when its executor is ``async``
  (control, dynamic and hash-table ops: the sync executor rejects the promise)
  or when it is in the converter's ``CONTROL_FLOW_OPS``, ``DYNAMIC_SHAPE_OPS``
  or ``HASH_TABLE_OPS`` (``model_analysis.js``).

Limits, each an over- or under-approximation to keep in mind:

* Both sides of a branch are followed (over-approximation: an op may be
  charged with a kernel only an unusual input reaches), except two branches
  inference never takes: the unfused path of the fused ops, guarded by
  ``shouldFuse(ENGINE.state.gradientDepth, ...) === false``, and the
  ``dtype === 'complex64'`` paths (``Abs``, ``Transpose``, ``Zeros``, ``Ones``
  would otherwise need ``ComplexAbs``/``Complex``, which wasm lacks).
  Inline gradients (``grad``/``gradFunc`` in ``customGrad``) are skipped.
* Methods called on objects found at run time are not followed (under-
  approximation): the TensorArray*/TensorList* ops are therefore charged with
  every kernel the converter's TensorArray and TensorList classes can run.
  Sub-graphs of ``While``/``If`` are separate functions in the model; their
  ops are checked as ops of the model.
* A kernel being registered does not mean every attribute or dtype works on
  that backend (for example fused activations, or string tensors on webgl);
  such failures only show when the model runs. The tests run real graphs on
  cpu and wasm to check the table where it matters most.
* acorn comes from ``node_modules`` as a dependency of jsdom, not pinned by
  us; its version is recorded in the table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "plugin" / "mkdocs_tfjs" / "convert" / "kernels.json"
NODE_SCRIPT = Path(__file__).with_name("kernel_table.mjs")

# Fixed order, the order of preference of the runtime for large models
# (assets/runtime.js): GPU first, then WebAssembly, then plain JavaScript;
# webgpu comes last, as the suggestion of last resort in the build's messages:
# only browsers with WebGPU run it, and `auto` takes it only on a hardware
# adapter for models with many multiply-adds.
BACKEND_ORDER = ("webgl", "wasm", "cpu", "webgpu")


def derive(node_modules: Path, node: str = "node") -> dict:
    """Run the Node derivation and return the table as a JSON-ready dict."""
    completed = subprocess.run(
        [node, str(NODE_SCRIPT), str(node_modules)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    raw = json.loads(completed.stdout)
    registered = {name: set(kernels) for name, kernels in raw["backends"].items()}
    ops = {}
    for name, op in raw["ops"].items():
        kernels = op["kernels"]
        ops[name] = {
            "async": op["async"],
            # Backends whose registry holds every kernel the op may run.
            "backends": [
                backend
                for backend in BACKEND_ORDER
                if op["executor"] and registered[backend].issuperset(kernels)
            ],
            "category": op["category"],
            # Run by the converter alone (Const, Placeholder, NoOp, Shape,
            # While, If...): no kernel, so any backend.
            "converter_only": op["executor"] and not kernels,
            "core_ops": op["core_ops"],
            "kernels": kernels,
        }
    return {
        "backend_order": list(BACKEND_ORDER),
        "backends": raw["backends"],
        "generated_by": "scripts/make_kernel_table.py",
        "ops": ops,
        "versions": raw["versions"],
    }


def render(table: dict) -> bytes:
    """Serialise the table deterministically: sorted keys, one entry a line."""
    return (json.dumps(table, sort_keys=True, indent=1, ensure_ascii=True) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    """Derive the table and write it to ``--output``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    parser.add_argument("--node", default="node", help="the Node.js executable")
    args = parser.parse_args(argv)
    data = render(derive(args.node_modules, args.node))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
