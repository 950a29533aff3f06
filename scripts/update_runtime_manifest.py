"""Write runtime.json and the vendored runtime from the npm packages in node_modules.

Run after changing a front-end version in package.json and `npm ci`:
    .venv/bin/python scripts/update_runtime_manifest.py
It writes, under plugin/mkdocs_tfjs/:
- runtime.json: each piece's package, version, file and SRI hash. The hashes
  are of the files npm installed, which jsDelivr serves unchanged under
  https://cdn.jsdelivr.net/npm/<package>@<version>/<file>.
- vendor/<package>@<version>/: those files, byte for byte, with the package's
  licence (TF.js's npm packages ship none: their Apache-2.0 text comes from
  Debian's /usr/share/common-licenses), so `runtime: local` needs no npm.
`--output DIR` writes into DIR instead (the test that checks the committed
files are exactly what this script makes from the lock file).
"""

import argparse
import json
import shutil
from pathlib import Path

from mkdocs_tfjs.runtime import sri

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "plugin" / "mkdocs_tfjs"
PIECES = {
    "core": ("@tensorflow/tfjs-core", "dist/tf-core.min.js", []),
    "converter": ("@tensorflow/tfjs-converter", "dist/tf-converter.min.js", []),
    "cpu": ("@tensorflow/tfjs-backend-cpu", "dist/tf-backend-cpu.min.js", []),
    "webgl": ("@tensorflow/tfjs-backend-webgl", "dist/tf-backend-webgl.min.js", []),
    # Loaded only where WebGPU may run (`backend: webgpu`, or `auto` on a hardware adapter).
    "webgpu": ("@tensorflow/tfjs-backend-webgpu", "dist/tf-backend-webgpu.min.js", []),
    "wasm": (
        "@tensorflow/tfjs-backend-wasm",
        "dist/tf-backend-wasm.min.js",
        ["dist/tfjs-backend-wasm.wasm", "dist/tfjs-backend-wasm-simd.wasm",
         "dist/tfjs-backend-wasm-threaded-simd.wasm"],
    ),
    "fabric": ("fabric", "dist/index.min.js", []),
}
LICENCE_TEXTS = {"Apache-2.0": Path("/usr/share/common-licenses/Apache-2.0")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=PACKAGE)
    parser.add_argument("--node-modules", type=Path, default=ROOT / "node_modules")
    args = parser.parse_args(argv)
    vendor = args.output / "vendor"
    # vendor/lean is scripts/build_lean_runtime.py's: leave it alone.
    for old in vendor.glob("*"):
        if old.name != "lean":
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    pieces, notices = {}, []
    for name, (package, file, assets) in PIECES.items():
        folder = args.node_modules / package
        meta = json.loads((folder / "package.json").read_text())
        version, licence = meta["version"], meta.get("license", "")
        pieces[name] = {
            "package": package,
            "version": version,
            "file": file,
            "integrity": sri((folder / file).read_bytes()),
            "assets": assets,
            # The page fetches these itself, with the hash (TF.js would not check them).
            "asset_integrity": {asset: sri((folder / asset).read_bytes()) for asset in assets},
        }
        target = vendor / f"{package}@{version}"
        for rel in (file, *assets):
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / rel, target / rel)
        shipped = folder / "LICENSE"
        text = shipped if shipped.is_file() else LICENCE_TEXTS[licence]
        shutil.copyfile(text, target / "LICENSE")
        notices.append(f"| `{package}` | {version} | {licence} | `{package}@{version}/LICENSE` |")
    manifest = {"cdn": "https://cdn.jsdelivr.net/npm/", "pieces": pieces}
    (args.output / "runtime.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (vendor / "README.md").write_text(
        "# Vendored front-end runtime\n\nCopied byte for byte from the npm packages pinned by "
        "package-lock.json by `scripts/update_runtime_manifest.py`; do not edit.\n\n"
        "| package | version | licence | text |\n| --- | --- | --- | --- |\n" + "\n".join(notices) + "\n"
    )
    print(f"wrote {args.output / 'runtime.json'} and {vendor}")


if __name__ == "__main__":
    main()
