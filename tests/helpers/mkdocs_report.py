"""Run the mkdocs CLI, then report whether TensorFlow was imported.

Used by the tests as `python mkdocs_report.py build ...`: it behaves like
`mkdocs build ...` (same exit code) and prints one `MKDOCS_REPORT {...}` line.
"""

import json
import sys

from mkdocs.__main__ import cli

code = 0
try:
    cli.main(args=sys.argv[1:], prog_name="mkdocs", standalone_mode=False)
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
except Exception as exc:  # noqa: BLE001 - click raises its own errors on bad input.
    print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
    code = 1
print("MKDOCS_REPORT " + json.dumps({"tensorflow": "tensorflow" in sys.modules}), flush=True)
sys.exit(code)
