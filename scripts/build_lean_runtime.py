"""Build the lean TF.js runtime: one script per backend with only what the converter's models need.

Run after `npm ci` (or after changing a TF.js version, the converter's
lowering, or the kernel table):
    .venv/bin/python scripts/build_lean_runtime.py
It bundles, with the esbuild pinned in package-lock.json, from the TF.js
packages pinned there and TF.js's modular imports (`@tensorflow/tfjs-core/dist/base`,
`@tensorflow/tfjs-backend-<name>/dist/base`, `dist/kernels/<Kernel>` configs
registered with `registerKernel`, as TF.js's "custom bundles" do), one file
per backend into plugin/mkdocs_tfjs/vendor/lean/:
- tfjs-lean-<backend>.min.js: tfjs-core, the graph-model loader and executor of
  tfjs-converter, the backend, and the kernels of the lean ops; it sets
  `window.tf` to the few functions runtime.js and the built-in widgets call.
- lean.json: the ops each file runs (the build ships a page the lean file only
  when every op of its models is listed for every backend), the versions, and
  the files' SRI hashes.
- README.md and LICENSE (TF.js is Apache-2.0; its npm packages ship no text).

The lean ops are not a hand-kept list: they are the TF.js op names (the keys of
convert/kernels.json) that the native converter's lowering (every module of
convert/layers/, and convert/graph.py) spells out, and each op's kernels come
from the kernel table (`ops[op].kernels`). An op the lowering computes at run time would be missed:
a model using it then gets the full runtime, never a missing kernel.
`--output DIR` writes into DIR instead (the test that checks the committed
files are exactly what this script makes from the lock file).
"""

import argparse
import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

from mkdocs_tfjs.runtime import sri

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "plugin" / "mkdocs_tfjs"
#: The lowering's source: one module per domain under convert/layers/, and the graph writer.
LOWERING = [
    *sorted((PACKAGE / "convert" / "layers").glob("*.py")),
    PACKAGE / "convert" / "graph.py",
]
BACKENDS = ("cpu", "wasm", "webgl", "webgpu")
#: Kernels runtime.js runs itself, outside any model: tf.cast of an input of
#: another dtype, and tensor.clone() (Identity) when it keeps inputs.
RUNTIME_KERNELS = ("Cast", "Identity")
#: The browser code whose `tf.<name>` calls `window.tf` must answer: the shared
#: runtime and every widget part's module (widgets of authors always get the full
#: runtime: see build.py).
BROWSER_CODE = (PACKAGE / "assets", *sorted((PACKAGE / "widgets").glob("*/")))
LICENCE = Path("/usr/share/common-licenses/Apache-2.0")
TFJS = "@tensorflow"


def core_exports() -> list[str]:
    """Return what `window.tf` holds: every `tf.<name>` runtime.js and the built-in widgets call."""
    names = set()
    for source in sorted(p for folder in BROWSER_CODE for p in folder.glob("*.js")):
        # Comments name TensorFlow's own functions (preprocess.js: `tf.strings.lower`), not calls.
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", source.read_text(), flags=re.S)
        names |= set(re.findall(r"\btf\.([A-Za-z_][A-Za-z0-9_]*)", code))
    # tf.wasm is the backend's namespace (the wasm file only); loadGraphModel is the converter's.
    return sorted(names - {"wasm", "loadGraphModel"})


def lean_ops(table: dict) -> list[str]:
    """Return the TF.js ops the lowering can write: its string constants that name one."""
    found = set()
    for source in LOWERING:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in table["ops"]:
                    found.add(node.value)
    return sorted(found)


def ops_for_converter(table: dict, ops: list[str], node_modules: Path) -> str:
    """Return the stand-in for tfjs-core's ops_for_converter: only the core ops of ``ops``.

    The converter's executors take that module as one object, so a bundler
    keeps all of it; the stand-in exports only what the lean ops call.
    Namespaced ops (``fused.matMul``, ``image.resizeBilinear``) become small
    objects of just those members.
    """
    core_ops = sorted({c for op in ops for c in table["ops"][op]["core_ops"]})
    index = (node_modules / TFJS / "tfjs-core/dist/ops/ops.js").read_text()
    where = {name: rel for name, rel in re.findall(r"import \{ (\w+) \} from '\./([^']+)'", index)}
    lines, spaces = [], {}
    base = f"{TFJS}/tfjs-core/dist/ops/"
    for name in core_ops:
        if "." in name:
            space, member = name.split(".")
            spaces.setdefault(space, []).append(member)
        else:
            lines.append(f"export {{ {name} }} from '{base}ops';")
    for space, members in sorted(spaces.items()):
        parts = []
        for member in members:
            alias = f"{space}_{member}"
            source = "fused_ops" if space == "fused" else where[member]
            lines.append(f"import {{ {member} as {alias} }} from '{base}{source}';")
            parts.append(f"{member}: {alias}")
        lines.append(f"export const {space} = {{ {', '.join(parts)} }};")
    return "\n".join(lines) + "\n"


def kernel_config(node_modules: Path, backend: str, kernel: str) -> str:
    """Return the exported name of a kernel's config in ``tfjs-backend-<b>/dist/kernels/<K>.js``."""
    rel = f"tfjs-backend-{backend}/dist/kernels/{kernel}.js"
    text = (node_modules / TFJS / rel).read_text()
    names = re.findall(r"^export const (\w+Config) =", text, re.M)
    if len(names) != 1:
        raise SystemExit(f"{rel}: expected one kernel config, found {names}")
    return names[0]


def entry(table: dict, ops: list[str], backend: str, node_modules: Path) -> tuple[str, list[str]]:
    """Return the entry module of one backend's bundle and the ops it runs."""
    runs = [op for op in ops if backend in table["ops"][op]["backends"]]
    kernels = sorted({k for op in runs for k in table["ops"][op]["kernels"]} | set(RUNTIME_KERNELS))
    lines = [
        "import '@tensorflow/tfjs-core/dist/base_side_effects';",
        "import { registerKernel } from '@tensorflow/tfjs-core/dist/base';",
        f"export {{ {', '.join(core_exports())} }} from '@tensorflow/tfjs-core/dist/base';",
        "export { loadGraphModel, version_converter } from '@tensorflow/tfjs-converter';",
    ]
    if backend == "wasm":
        lines.append(
            "import { setWasmPaths, getThreadsCount } from '@tensorflow/tfjs-backend-wasm/dist/base';"
        )
        lines.append("export const wasm = { setWasmPaths, getThreadsCount };")
    else:
        lines.append(f"import '@tensorflow/tfjs-backend-{backend}/dist/base';")
    for kernel in kernels:
        name = kernel_config(node_modules, backend, kernel)
        source = f"@tensorflow/tfjs-backend-{backend}/dist/kernels/{kernel}"
        lines.append(f"import {{ {name} }} from '{source}';")
        lines.append(f"registerKernel({name});")
    return "\n".join(lines) + "\n", runs


def main(argv: list[str] | None = None) -> None:
    """Write vendor/lean/ (or ``--output``/vendor/lean/)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PACKAGE)
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    args = parser.parse_args(argv)
    node_modules = args.node_modules.resolve()
    table = json.loads((PACKAGE / "convert" / "kernels.json").read_text())
    ops = lean_ops(table)
    target = args.output / "vendor" / "lean"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    entries, outputs, runs = {}, {}, {}
    for backend in BACKENDS:
        entries[backend], runs[backend] = entry(table, ops, backend, node_modules)
        outputs[backend] = str((target / f"tfjs-lean-{backend}.min.js").resolve())
    spec = {
        "root": str(node_modules.parent),
        "core": "import '@tensorflow/tfjs-core/dist/base_side_effects';\n"
        "export * from '@tensorflow/tfjs-core/dist/base';\n",
        "opsForConverter": ops_for_converter(table, ops, node_modules),
        "entries": entries,
        "outputs": outputs,
    }
    subprocess.run(
        ["node", str(ROOT / "scripts" / "lean_runtime.mjs")],
        input=json.dumps(spec), text=True, check=True, cwd=node_modules.parent,
    )
    versions = {
        name: json.loads((node_modules / name / "package.json").read_text())["version"]
        for name in ["esbuild", *(f"{TFJS}/tfjs-{p}" for p in ("core", "converter")),
                     *(f"{TFJS}/tfjs-backend-{b}" for b in BACKENDS)]
    }
    files = {
        backend: {
            "file": f"tfjs-lean-{backend}.min.js",
            "integrity": sri((target / f"tfjs-lean-{backend}.min.js").read_bytes()),
            "ops": runs[backend],
        }
        for backend in BACKENDS
    }
    manifest = {
        "generated_by": "scripts/build_lean_runtime.py", "versions": versions, "backends": files,
    }
    (target / "lean.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(LICENCE, target / "LICENSE")
    rows = "\n".join(f"| `{name}` | {version} |" for name, version in versions.items())
    (target / "README.md").write_text(
        "# Lean TF.js runtime\n\n"
        "Made by `scripts/build_lean_runtime.py` with esbuild from the npm packages pinned by "
        "package-lock.json; do not edit. One file per backend holds tfjs-core, the graph-model "
        "part of tfjs-converter, the backend and the kernels of the ops the native converter "
        f"writes ({len(ops)} ops; `lean.json` lists them per backend). TF.js is Apache-2.0 "
        "(`LICENSE`); its licence headers are kept at the end of each file.\n\n"
        "| package | version |\n| --- | --- |\n" + rows + "\n"
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
