"""Widgets of the author's own, and template overrides.

The demo site's "Write your own widget" page is the reference example: it is
built by the docs site itself, and driven here in Chromium against Keras.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from .conftest import PALETTE_BLOCK, ROOT

MODULE = ROOT / "docs" / "widgets" / "body-mass.js"
BLOCK = """
```tfjs
model: models/palette/generator.keras
widget: shout
title: Mine
loud: true
words: [a, b]
```
"""


def custom_project(project, widgets: dict, extra_options: dict | None = None):
    shutil.copy(MODULE, project.root / "shout.js")
    project.config({"widgets": widgets, **(extra_options or {})})
    return project


def test_custom_widget_module_ships_beside_the_runtime_with_its_keys(project):
    custom_project(project, {"shout": "shout.js"})
    project.page("index.md", BLOCK)
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    html = (project.site / "index.html").read_text()
    assert 'data-widget="shout"' in html and '<div class="tfjs-custom"></div>' in html
    config = re.search(r"data-config='([^']*)'", html).group(1)
    assert '"options":{"loud":true,"words":["a","b"]}' in config.replace("&#34;", '"')
    (folder,) = (project.site / "assets/tfjs").glob("widgets-*")
    assert (folder / "shout.js").read_bytes() == MODULE.read_bytes()

    # A changed module gets a new content-hashed folder, so no reader keeps a stale copy.
    (project.root / "shout.js").write_text(MODULE.read_text() + "\n// changed\n")
    assert project.build().returncode == 0
    (changed,) = (project.site / "assets/tfjs").glob("widgets-*")
    assert changed.name != folder.name


@pytest.mark.parametrize(("widgets", "message"), [
    ({"shout": "../outside.js"}, "mkdocs.yml: tfjs: widgets: `shout: ../outside.js` points outside the project folder"),
    ({"shout": "missing.js"}, "mkdocs.yml: tfjs: widgets: `shout: missing.js` does not exist"),
    ({"palette": "shout.js"}, "`palette` is taken by a built-in module; choose another name"),
    ({"Shout": "shout.js"}, "a widget name is lower-case letters, digits and '-'"),
    ({"shout": "shout.txt"}, "give the path of an ES module (.js)"),
])
def test_bad_widget_modules_are_refused_by_name(project, widgets, message):
    custom_project(project, widgets)
    (project.root / "shout.txt").write_text("x")
    project.page("index.md", "# nothing\n")
    result = project.build()
    assert result.returncode != 0
    assert message in result.output, result.output
    assert "Traceback" not in result.output


def test_extra_keys_must_be_plain_data_and_unknown_widgets_point_to_the_option(project):
    custom_project(project, {"shout": "shout.js"})
    project.page("index.md", BLOCK.replace("words: [a, b]", "when: 2024-05-01"))
    result = project.build()
    assert result.returncode != 0
    assert ("docs/index.md:6: `when`: date datetime.date(2024, 5, 1) is not text, a number, true/false, "
            "a list or a mapping") in result.output, result.output

    project.page("index.md", BLOCK.replace("widget: shout", "widget: shuot"))
    result = project.build()
    assert "docs/index.md:3: unknown widget 'shuot' (did you mean `shout`?)" in result.output
    assert "add your own under `widgets:` in mkdocs.yml" in result.output


def test_templates_dir_overrides_a_template_and_keeps_autoescaping(project):
    overrides = project.root / "overrides"
    overrides.mkdir()
    # The palette input's frame is the generator's (palette.html extends it): override it whole.
    original = (ROOT / "plugin/mkdocs_tfjs/widgets/generator/generator.html").read_text()
    (overrides / "palette.html").write_text(original.replace("Generate", "Another one"))
    project.config({"templates_dir": "overrides"})
    project.page("index.md", PALETTE_BLOCK.replace("title: Palette generator", 'title: "<script>alert(1)</script>"'))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    html = (project.site / "index.html").read_text()
    assert "Another one</button>" in html and ">Generate<" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


@pytest.mark.browser
def test_write_your_own_widget_page_runs_its_example(demo_url, open_page):
    import keras

    page, log = open_page(demo_url + "custom-widgets/", wait_ready="tfjs-body-mass-1")
    widget = page.locator("#tfjs-body-mass-1")
    result = widget.locator("output.tfjs-custom-result")
    model = keras.models.load_model(ROOT / "models/penguin-mass/body_mass.keras", compile=False)

    def expected(flipper: float, bill: float) -> int:
        return int(round(float(model.predict(np.array([[flipper, bill]], "float32"), verbose=0)[0, 0])))

    page.wait_for_function("el => el.value.endsWith(' g')", arg=result.element_handle())
    shown = int(result.inner_text().replace(",", "").split()[0])
    assert abs(shown - expected(200, 44)) <= 1  # float32 in two runtimes; rounding to whole grams
    flipper = widget.get_by_label("Flipper length (mm)")
    before = result.inner_text()
    flipper.fill("221")
    page.wait_for_function("([el, old]) => el.value !== old", arg=[result.element_handle(), before])
    shown = int(result.inner_text().replace(",", "").split()[0])
    assert abs(shown - expected(221, 44)) <= 1
    assert expected(221, 44) - expected(200, 44) > 200, "the example must visibly respond"
    assert not log.page_errors and not log.console_errors


# A module that registers another name than its `widgets:` key, and one cut short (a syntax error).
MISNAMED = 'import { registerWidget } from "./runtime.js";\nclass Mine {}\nregisterWidget("other", Mine);\n'
CUT_SHORT = 'import { registerWidget } from "./runtime.js";\nclass Broken {\n  constructor(ctx) {\n'


@pytest.mark.browser
def test_a_misnamed_or_broken_widget_module_says_which_file_and_why(project, serve, open_page):
    # Bugs caught: a module that registers `other` under the key `mine` left its widget at
    # "Loading the model…" forever with nothing in the console; a module with a syntax error
    # said "Unexpected end of input" without naming the file. Both must end in the widget's
    # error state, name the module and its `widgets:` key, say it in the console, and leave
    # the page's other widgets working.
    (project.root / "mine.js").write_text(MISNAMED)
    (project.root / "broken.js").write_text(CUT_SHORT)
    project.config({"widgets": {"mine": "mine.js", "broken": "broken.js"}})
    blocks = [PALETTE_BLOCK.replace("title: Palette generator", "id: fine")]
    for name in ("mine", "broken"):
        blocks.append(f"```tfjs\nmodel: models/palette/generator.keras\nwidget: {name}\nid: {name}\n```\n")
    project.page("index.md", "\n".join(blocks))
    result = project.build("--strict")
    assert result.returncode == 0, result.output
    page, log = open_page(serve(project.site), wait_ready="fine")
    expected = {
        "mine": "the widget module mine.js (`mine` under `widgets:` in mkdocs.yml) registered the "
                "widget 'other' instead of 'mine': call registerWidget(\"mine\", ...) in it, or use "
                "its name under `widgets:` and in `widget:`",
        "broken": "the widget module broken.js (`broken` under `widgets:` in mkdocs.yml) could not "
                  "run: SyntaxError: Unexpected end of input",
    }
    for name, message in expected.items():
        outcome = page.evaluate(
            "id => window.tfjsWidgets.ready(id).then(() => 'ready', e => e.message)", name)
        assert outcome == message
        assert page.locator(f"#{name}").get_attribute("data-state") == "error"
        status = page.locator(f"#{name} .tfjs-status").text_content()
        assert status == "This widget could not start: " + message
        # Once in the console, however often the page is scanned.
        assert log.console_warnings.count(f"tfjs widget {name}: {message}") == 1, log.console_warnings
    page.evaluate("window.tfjsWidgets.scan()")
    assert page.locator("#fine .tfjs-swatch").count() == 5
    assert len(log.console_warnings) == 2, log.console_warnings
    assert not log.page_errors, log.page_errors
