"""Run `mkdocs build`, holding the conversion at a barrier right after its first weight shard.

Two builds run this at once: each announces itself in the folder named by
TFJS_TEST_BARRIER, waits (at most a minute) for the other, records which
conversion work folders of the cache it sees at that moment, waits until the
other has recorded too, and goes on. So
both conversions are in flight at the same time by construction: native
conversion takes milliseconds, too short to overlap by chance.
"""

import os
import sys
import time
from pathlib import Path

_write_bytes = Path.write_bytes
_held = False


def _write_then_wait(self: Path, data: bytes) -> int:
    global _held
    written = _write_bytes(self, data)
    if self.name.startswith("group1-shard") and not _held:
        _held = True
        barrier = Path(os.environ["TFJS_TEST_BARRIER"])
        _write_bytes(barrier / f"{os.getpid()}.arrived", b"")
        _wait_for(barrier, "*.arrived")
        cache = self.parents[2]  # <cache>/.tmp-<pid>-<random>/model/<shard>
        seen = sorted(p.name.split("-")[1] for p in cache.glob(".tmp-*"))
        _write_bytes(barrier / f"{os.getpid()}.seen", " ".join(seen).encode())
        # Neither goes on (and finishes) before both have looked.
        _wait_for(barrier, "*.seen")
    return written


def _wait_for(barrier: Path, pattern: str) -> None:
    deadline = time.monotonic() + 60
    while len(list(barrier.glob(pattern))) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)


Path.write_bytes = _write_then_wait  # type: ignore[method-assign]

from mkdocs.__main__ import cli  # noqa: E402

cli.main(args=sys.argv[1:], prog_name="mkdocs")
