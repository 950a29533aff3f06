"""The browser runtime: which TF.js and fabric.js files a page loads, and from where.

Only what graph models need is shipped: tfjs-core, tfjs-converter and the
backends, never the full ``tf.min.js`` bundle (tfjs-layers and tfjs-data are
dead weight for graph models). The versions and Subresource Integrity hashes
live in ``runtime.json``, generated from the npm lock file by
``scripts/update_runtime_manifest.py``; a test checks them against the files
npm installed, which are the bytes the CDN serves. The same script copies
those files, with their licences, into ``vendor/`` inside the package, so
``runtime: local`` works from a plain ``pip install``; ``runtime_dir`` points
at a ``node_modules`` folder of the author's own instead.

Leaner still, ``vendor/lean/`` holds one file per backend made by
``scripts/build_lean_runtime.py`` from the same pinned packages: tfjs-core, the
graph-model part of tfjs-converter, the backend and only the kernels of the ops
the native converter writes (``lean.json`` lists them). A widget whose model
uses only those ops is marked lean, and a page whose widgets all are loads that
one file instead of the pieces. No CDN serves it, so it is always copied into
the site, with ``runtime: cdn`` too; the full pieces stay on the CDN there.

Nothing here imports MkDocs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import RuntimeFilesError

MANIFEST = Path(__file__).with_name("runtime.json")
#: The pinned files shipped inside the package, as ``<package>@<version>/<file>``.
VENDORED = Path(__file__).with_name("vendor")
#: Folder of the site that holds the local runtime (``runtime: local``).
VENDOR_DIR = "assets/tfjs/vendor"
#: The lean files and their manifest, inside the package.
LEAN = VENDORED / "lean"


def sri(data: bytes) -> str:
    """Return the ``integrity`` value (SHA-384) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@dataclass(frozen=True)
class Piece:
    """One script of the runtime, with the files that travel with it."""

    name: str
    package: str
    version: str
    file: str
    integrity: str
    assets: tuple[str, ...] = ()
    #: SRI hashes of the assets, by path in the package (``dist/x.wasm``).
    asset_integrity: tuple[tuple[str, str], ...] = ()

    @property
    def npm_spec(self) -> str:
        """Return ``package@version`` as npm writes it."""
        return f"{self.package}@{self.version}"

    @property
    def vendor_path(self) -> str:
        """Return where ``runtime: local`` puts the script, relative to the site root."""
        return f"{VENDOR_DIR}/{self.npm_spec}/{self.file}"


@cache
def pieces() -> dict[str, Piece]:
    """Return the runtime pieces of ``runtime.json`` by name."""
    data = json.loads(MANIFEST.read_text())
    return {
        name: Piece(
            name,
            p["package"],
            p["version"],
            p["file"],
            p["integrity"],
            tuple(p.get("assets", ())),
            tuple(sorted(p.get("asset_integrity", {}).items())),
        )
        for name, p in data["pieces"].items()
    }


def cdn_base() -> str:
    """Return the CDN prefix that ``package@version/file`` is appended to."""
    return json.loads(MANIFEST.read_text())["cdn"]


#: Pieces every page with a widget may need: the backends load on demand (webgpu
#: only where a page asks for it or ``auto`` finds a hardware WebGPU adapter).
TFJS_PIECES = ("core", "converter", "webgl", "wasm", "cpu", "webgpu")


def cdn_config(names: tuple[str, ...]) -> dict:
    """Return the runtime configuration for ``runtime: cdn``."""
    base = cdn_base()
    scripts = {
        n: {"src": f"{base}{p.npm_spec}/{p.file}", "integrity": p.integrity}
        for n, p in pieces().items()
        if n in names
    }
    wasm = pieces()["wasm"]
    return {
        "scripts": scripts,
        "wasmPaths": f"{base}{wasm.npm_spec}/dist/",
        "wasmIntegrity": wasm_integrity(dict(wasm.asset_integrity)),
    }


def wasm_integrity(by_asset: dict[str, str]) -> dict[str, str]:
    """Return ``{file name: SRI hash}`` of the WebAssembly binaries, as the page looks them up."""
    return {
        asset.rsplit("/", 1)[-1]: digest
        for asset, digest in by_asset.items()
        if asset.endswith(".wasm")
    }


def source_file(runtime_dir: Path | None, piece: Piece, rel: str) -> Path:
    """Return where ``runtime: local`` reads a file of ``piece`` from.

    ``None`` is the copy inside the package; otherwise ``runtime_dir`` is a
    ``node_modules`` folder.
    """
    if runtime_dir is None:
        return VENDORED / piece.npm_spec / rel
    return runtime_dir / piece.package / rel


def check_local(runtime_dir: Path | None, names: tuple[str, ...]) -> None:
    """Raise :class:`RuntimeFilesError` listing every missing or wrong-version file at once."""
    problems, specs = [], []
    for name in names:
        piece = pieces()[name]
        missing = [
            source_file(runtime_dir, piece, rel)
            for rel in (piece.file, *piece.assets)
            if not source_file(runtime_dir, piece, rel).is_file()
        ]
        problems += [f"{path} is missing" for path in missing]
        if not missing and runtime_dir is not None:
            installed = json.loads((runtime_dir / piece.package / "package.json").read_text())
            if installed.get("version") != piece.version:
                problems.append(
                    f"{runtime_dir / piece.package} holds version {installed.get('version')}, "
                    f"not {piece.version}"
                )
                missing.append(runtime_dir / piece.package)
        if missing:
            specs.append(piece.npm_spec)
    if not problems:
        return
    if runtime_dir is None:
        raise RuntimeFilesError(
            "runtime: local: the package's own copy of the runtime is incomplete ("
            + "; ".join(problems)
            + "); reinstall it with pip install --force-reinstall mkdocs-tfjs"
        )
    raise RuntimeFilesError(
        f"runtime: local with runtime_dir {runtime_dir} lacks what the pages need: "
        + "; ".join(problems)
        + f". Install them all with `npm install {' '.join(specs)}` in {runtime_dir.parent}, "
        "or remove runtime_dir to use the copy shipped inside the plugin"
    )


def copy_local(runtime_dir: Path | None, site_dir: Path, names: tuple[str, ...]) -> None:
    """Copy the pieces (and their WebAssembly binaries) into the site."""
    check_local(runtime_dir, names)
    for name in names:
        piece = pieces()[name]
        for rel in (piece.file, *piece.assets):
            target = site_dir / VENDOR_DIR / piece.npm_spec / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_file(runtime_dir, piece, rel), target)


@cache
def lean_manifest() -> dict:
    """Return ``vendor/lean/lean.json``: per backend, the lean file, its SRI hash and its ops."""
    return json.loads((LEAN / "lean.json").read_text())


def lean_runs(ops: list[str], backends: list[str]) -> bool:
    """Tell whether the lean file of each of ``backends`` runs every op of ``ops``.

    ``backends`` are those the build found able to run the model at all; the
    page may fall back to any of them, so every one must be covered.
    """
    files = lean_manifest()["backends"]
    return bool(backends) and all(
        b in files and set(ops) <= set(files[b]["ops"]) for b in backends
    )


@cache
def lean_site_dir() -> str:
    """Return the site folder of the lean files, named after their hashes (new files, new URL)."""
    digest = hashlib.sha256((LEAN / "lean.json").read_bytes()).hexdigest()[:8]
    return f"{VENDOR_DIR}/tfjs-lean-{digest}"


def lean_scripts(root: str) -> dict[str, dict[str, str]]:
    """Return the runtime configuration's entries of the lean files, as ``lean-<backend>``."""
    folder = lean_site_dir()
    return {
        f"lean-{backend}": {
            "src": f"{root}{folder}/{entry['file']}",
            "integrity": entry["integrity"],
        }
        for backend, entry in sorted(lean_manifest()["backends"].items())
    }


def copy_lean(site_dir: Path) -> None:
    """Copy the lean files into the site (whatever ``runtime`` says: no CDN serves them)."""
    target = site_dir / lean_site_dir()
    target.mkdir(parents=True, exist_ok=True)
    for entry in lean_manifest()["backends"].values():
        source = LEAN / entry["file"]
        if not source.is_file():
            raise RuntimeFilesError(
                f"the package's lean runtime is incomplete ({source} is missing); reinstall it "
                "with pip install --force-reinstall mkdocs-tfjs"
            )
        shutil.copyfile(source, target / entry["file"])
    shutil.copyfile(LEAN / "LICENSE", target / "LICENSE")
