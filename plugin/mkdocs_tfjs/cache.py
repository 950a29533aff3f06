"""Converted models on disk, keyed by a hash of everything that shapes them.

The key covers the model's bytes, the options that change the output, the
converter asked for and the versions of the converters that may run, so an
unchanged model is converted once, across builds and ``mkdocs serve``
rebuilds. Reading the key needs no TensorFlow.

Entries are written into a private temporary folder and renamed into place
only when complete (``info.json`` last), so a build killed mid-conversion
leaves nothing a later build would trust. Each entry records the SHA-256 of
its files: an entry whose files were truncated or edited is discarded and
converted again.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .convert import Choice, convert_model, converter_versions, kernels
from .errors import ConversionError
from .modelinfo import ModelInfo, count_weights, read_signature

#: Bump when the conversion recipe changes, so old entries are not reused. 4: info.json
#: holds each lookup input's vocabulary (the sliders widget's choices).
SCHEME = "4"
INFO = "info.json"
_TMP_PREFIX = ".tmp-"


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hash_source(path: Path) -> str:
    """Hash a model file, or every file of a SavedModel folder with its name."""
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            digest.update(sha256_file(file).encode())
    else:
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def source_size(path: Path) -> int:
    """Return the size in bytes of a model file or folder."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


class ModelCache:
    """A folder of converted models, one sub-folder per cache key.

    ``warn`` receives messages about entries that were found broken.
    """

    def __init__(self, root: Path, warn: Callable[[str], None]) -> None:
        self.root = root
        self.warn = warn
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned_temporaries()

    def key(self, source: Path, quantize: str, fmt: str, converter: str) -> str:
        """Return the cache key of a model with these options."""
        parts = {
            "scheme": SCHEME,
            "source": hash_source(source),
            "quantize": quantize,
            "format": fmt,
            "converter": converter,
            "versions": converter_versions(converter),
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]

    def lookup(self, key: str, label: str) -> ModelInfo | None:
        """Return the entry for ``key`` if it exists and is intact."""
        entry = self.root / key
        if not entry.is_dir():
            return None
        problem = self._check(entry)
        if problem is None:
            info = ModelInfo.from_json(json.loads((entry / INFO).read_text()))
            # Which backends run the ops is the kernel table's word now, not when the entry was
            # written: a table that gained a backend (webgpu) must reach cached models too.
            info.backends = kernels.runnable_backends(info.ops)
            return info
        self.warn(
            f"the cached conversion of {label} in {entry} is damaged ({problem}); "
            "discarding it and converting the model again"
        )
        shutil.rmtree(entry, ignore_errors=True)
        return None

    def convert(
        self, key: str, source: Path, label: str, quantize: str, fmt: str, choice: Choice
    ) -> ModelInfo:
        """Convert ``source`` into a new entry for ``key`` and return its info."""
        work = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=self.root))
        try:
            out = work / "model"
            result = convert_model(source, out, quantize, label, choice)
            model_json = out / "model.json"
            if not model_json.exists():
                raise ConversionError(f"{label}: the converter wrote no model.json")
            data = json.loads(model_json.read_text())
            # One canonical form, whichever converter wrote it: tensorflowjs's attribute
            # order varies between runs, and content-hashed URLs must not.
            model_json.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")))
            files = {p.name: sha256_file(p) for p in sorted(out.iterdir()) if p.is_file()}
            inputs, outputs = read_signature(data)
            ops = sorted(kernels.graph_ops(data))
            info = ModelInfo(
                source=label,
                inputs=inputs,
                outputs=outputs,
                params=result["params"] if result["params"] is not None else count_weights(data),
                source_bytes=source_size(source),
                shipped_bytes=sum((out / name).stat().st_size for name in files),
                quantize=quantize,
                format=fmt,
                files=files,
                content_hash=hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest(),
                convert_seconds=round(result["seconds"], 3),
                versions=converter_versions(result["converter"]),
                converter=result["converter"],
                converter_reason=result["reason"],
                ops=ops,
                backends=kernels.runnable_backends(ops),
                dynamic=kernels.needs_async(ops),
                macs=data.get("userDefinedMetadata", {}).get("macs"),
                output_activation=result["output_activation"],
                quantization_cost=result.get("quantization_cost"),
                preprocess=result.get("preprocess") or [],
            )
            # info.json is written last: an entry without it is never trusted.
            (out / INFO).write_text(json.dumps(info.to_json(), indent=1))
            target = self.root / key
            try:
                os.rename(out, target)
            except OSError:
                # Another build finished the same conversion first; use its entry.
                existing = self.lookup(key, label)
                if existing is None:
                    raise
                return existing
            return info
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def files(self, key: str) -> Path:
        """Return the folder that holds the converted files of ``key``."""
        return self.root / key

    def _check(self, entry: Path) -> str | None:
        info_path = entry / INFO
        if not info_path.exists():
            return "no info.json"
        try:
            info = json.loads(info_path.read_text())
            expected = info["files"]
        except (ValueError, KeyError, TypeError):
            return "unreadable info.json"
        for name, digest in expected.items():
            file = entry / name
            if not file.is_file():
                return f"{name} is missing"
            if sha256_file(file) != digest:
                return f"{name} does not match its recorded SHA-256"
        return None

    def _remove_abandoned_temporaries(self) -> None:
        """Delete work folders of builds that died (their process is gone)."""
        for work in self.root.glob(f"{_TMP_PREFIX}*"):
            try:
                pid = int(work.name[len(_TMP_PREFIX) :].split("-", 1)[0])
            except ValueError:
                continue
            if not _process_alive(pid):
                shutil.rmtree(work, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def publish(source_dir: Path, files: dict[str, str], target: Path) -> None:
    """Copy a model's files into the site at ``target``, atomically.

    ``target`` is content-addressed, so an existing folder already holds the
    same files and is kept.
    """
    if target.is_dir() and all((target / name).is_file() for name in files):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # Not mkdtemp: its folder is 0700, and renamed into the site it stays so; a web
    # server running as another user (nginx, a container, an rsync -a deploy) then
    # answers 404 for model.json. mkdir gives 0777 less the umask, like every other
    # folder of the site, and the pid and random part keep the name unique.
    work = target.parent / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
    work.mkdir()
    try:
        for name in files:
            # copyfile, not copy2: the cache's modes (another umask, another user) stay there.
            shutil.copyfile(source_dir / name, work / name)
        if target.exists():
            shutil.rmtree(target)
        os.rename(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
