"""Run `mkdocs build` and die by SIGKILL right after the converter writes its first weight shard.

A crash at the worst moment, made deterministic: native conversion takes
milliseconds, too short a window to hit from outside by polling.
"""

import os
import signal
import sys
from pathlib import Path

_write_bytes = Path.write_bytes


def _write_then_die(self: Path, data: bytes) -> int:
    written = _write_bytes(self, data)
    if self.name.startswith("group1-shard"):
        os.kill(os.getpid(), signal.SIGKILL)
    return written


Path.write_bytes = _write_then_die  # type: ignore[method-assign]

from mkdocs.__main__ import cli  # noqa: E402

cli.main(args=sys.argv[1:], prog_name="mkdocs")
