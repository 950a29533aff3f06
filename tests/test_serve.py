"""`mkdocs serve`: what the live server watches, and that a change rebuilds the page."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.request

from .conftest import PALETTE_BLOCK, mkdocs_serve, place

MODEL_URL = re.compile(r"assets/tfjs/models/generator-[0-9a-f]{8}/model\.json")


def served_model_url(url: str) -> str | None:
    """Return the model.json URL the served page names, or None (no widget, or mid-rebuild)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            match = MODEL_URL.search(response.read().decode())
    except (urllib.error.URLError, ConnectionError):
        return None
    return match.group(0) if match else None


def wait_for_model_url(url: str, log_path, other_than: str | None, timeout: float = 120) -> str:
    """Poll the served page until it names a model.json other than ``other_than``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = served_model_url(url)
        if found is not None and found != other_than:
            return found
        time.sleep(0.2)  # a poll interval: the loop waits on the page, not on the clock
    raise AssertionError(f"the page still names {other_than} after {timeout} s; serve log:\n"
                         f"{log_path.read_text()[-3000:]}")


def test_a_model_named_by_a_block_added_while_serving_is_watched(project, variant_models):
    # Bug caught (issue 17, bug 2): the live server watched only the models of the first
    # build (on_serve), so after a page was edited to add a block, replacing that block's
    # model file rebuilt nothing and the page kept the old model.
    project.config()
    project.page("index.md", "# Home\n\nNo widget yet.\n")
    with mkdocs_serve(project.root) as (url, log_path):
        assert served_model_url(url) is None

        project.page("index.md", "# Home\n" + PALETTE_BLOCK)
        first = wait_for_model_url(url, log_path, None)
        place(project, variant_models["palette_b"], "models/palette/generator.keras")
        second = wait_for_model_url(url, log_path, first)
    assert first != second
    assert log_path.read_text().count("converted models/palette/generator.keras") == 2
