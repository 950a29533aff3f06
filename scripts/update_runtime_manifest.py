"""Write plugin/mkdocs_tfjs/runtime.json from the npm packages in node_modules.

Run after changing a front-end version in package.json and `npm install`:
    .venv/bin/python scripts/update_runtime_manifest.py
The SRI hashes are of the files npm installed, which jsDelivr serves unchanged
under https://cdn.jsdelivr.net/npm/<package>@<version>/<file>.
"""

import base64
import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIECES = {
    "core": ("@tensorflow/tfjs-core", "dist/tf-core.min.js", []),
    "converter": ("@tensorflow/tfjs-converter", "dist/tf-converter.min.js", []),
    "cpu": ("@tensorflow/tfjs-backend-cpu", "dist/tf-backend-cpu.min.js", []),
    "webgl": ("@tensorflow/tfjs-backend-webgl", "dist/tf-backend-webgl.min.js", []),
    "wasm": (
        "@tensorflow/tfjs-backend-wasm",
        "dist/tf-backend-wasm.min.js",
        ["dist/tfjs-backend-wasm.wasm", "dist/tfjs-backend-wasm-simd.wasm",
         "dist/tfjs-backend-wasm-threaded-simd.wasm"],
    ),
    "fabric": ("fabric", "dist/index.min.js", []),
}


def sri(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


def main() -> None:
    pieces = {}
    for name, (package, file, assets) in PIECES.items():
        folder = ROOT / "node_modules" / package
        version = json.loads((folder / "package.json").read_text())["version"]
        pieces[name] = {
            "package": package,
            "version": version,
            "file": file,
            "integrity": sri(folder / file),
            "assets": assets,
            # The page fetches these itself, with the hash (TF.js would not check them).
            "asset_integrity": {asset: sri(folder / asset) for asset in assets},
        }
    out = ROOT / "plugin" / "mkdocs_tfjs" / "runtime.json"
    manifest = {"cdn": "https://cdn.jsdelivr.net/npm/", "pieces": pieces}
    out.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
