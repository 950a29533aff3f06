"""Checking a block's keys and resolving its model path."""

import os
import shutil
from pathlib import Path

import pytest

from mkdocs_tfjs.directive import find_blocks, read_block
from mkdocs_tfjs.errors import DirectiveError
from mkdocs_tfjs.spec import make_spec

from .conftest import PALETTE_MODEL


@pytest.fixture
def proj(tmp_path) -> Path:
    (tmp_path / "models" / "palette").mkdir(parents=True)
    shutil.copy(PALETTE_MODEL, tmp_path / "models" / "palette" / "generator.keras")
    return tmp_path


def spec_of(body: str, root: Path, page: str = "docs/page.md"):
    block = read_block(find_blocks("Intro\n\n```tfjs\n" + body + "\n```\n")[0], page)
    return make_spec(block, page, root, "float16", "graph", 1)


def error_of(body: str, root: Path) -> DirectiveError:
    with pytest.raises(DirectiveError) as err:
        spec_of(body, root)
    return err.value


def test_a_valid_block_gets_defaults_and_a_generated_id(proj):
    spec = spec_of("model: models/palette/generator.keras\nwidget: palette", proj)
    assert spec.model_path == proj / "models/palette/generator.keras"
    assert (spec.id, spec.quantize, spec.format) == ("tfjs-palette-1", "float16", "graph")
    assert spec.options == {"noise": "uniform", "sort": "none"}


def test_block_values_override_plugin_defaults(proj):
    spec = spec_of("model: models/palette/generator.keras\nwidget: palette\nquantize: none\n"
                   "noise: normal\nsort: lightness\nid: my-palette", proj)
    assert (spec.quantize, spec.id, spec.options["noise"], spec.options["sort"]) == (
        "none", "my-palette", "normal", "lightness")


def test_unknown_key_names_line_key_suggestion_and_valid_keys(proj):
    err = error_of("model: models/palette/generator.keras\nwidget: palette\nnosie: normal", proj)
    assert (err.page, err.line) == ("docs/page.md", 6)
    assert "unknown key `nosie`" in err.message and "did you mean `noise`" in err.message
    assert "valid keys: backend, browser_cache, caption, converter, format, id, load, model, noise, quantize, show, sort, title, widget" in err.message


def test_wrong_choice_lists_the_valid_choices(proj):
    err = error_of("model: models/palette/generator.keras\nwidget: palette\nquantize: int4", proj)
    assert err.line == 6 and "`quantize`" in err.message and "none, float16, uint8" in err.message


def test_wrong_type_says_what_was_expected(proj):
    err = error_of("model: models/palette/generator.keras\nwidget: palette\ntitle: [a, b]", proj)
    assert "`title`: expected text, found list" in err.message


def test_missing_model_and_unknown_widget(proj):
    assert "no `model` key" in error_of("widget: palette", proj).message
    err = error_of("model: models/palette/generator.keras\nwidget: pallete", proj)
    assert "unknown widget 'pallete'" in err.message and "did you mean `palette`" in err.message
    assert "choose one of: palette" in err.message


def test_misspelt_model_path_suggests_the_existing_file(proj):
    err = error_of("model: models/palete/generator.keras\nwidget: palette", proj)
    assert "does not exist" in err.message and "models/palette/generator.keras" in err.message


@pytest.mark.parametrize("path", ["../outside.keras", "models/../../outside.keras"])
def test_paths_that_leave_the_project_are_refused(proj, path):
    (proj.parent / "outside.keras").write_bytes(PALETTE_MODEL.read_bytes())
    assert "outside the project folder" in error_of(f"model: {path}\nwidget: palette", proj).message


def test_absolute_paths_are_refused(proj):
    err = error_of(f"model: {proj / 'models/palette/generator.keras'}\nwidget: palette", proj)
    assert "absolute path" in err.message and "relative to the folder that holds mkdocs.yml" in err.message


def test_a_symlink_that_points_out_of_the_project_is_refused(proj, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "model.keras"
    shutil.copy(PALETTE_MODEL, outside)
    os.symlink(outside, proj / "models" / "link.keras")
    assert "outside the project folder" in error_of("model: models/link.keras\nwidget: palette", proj).message


def test_a_folder_that_is_not_a_saved_model_is_refused(proj):
    (proj / "models" / "empty").mkdir()
    assert "not a SavedModel" in error_of("model: models/empty\nwidget: palette", proj).message


def test_bad_id_is_refused(proj):
    err = error_of("model: models/palette/generator.keras\nwidget: palette\nid: 9 lives", proj)
    assert "`id`" in err.message


def test_show_defaults_to_what_each_widget_showed_before(proj):
    # Bug caught: a `show:` default that changes what an existing block draws.
    model = "model: models/palette/generator.keras\n"
    assert spec_of(model + "widget: palette", proj).show == "palette"
    assert spec_of(model + "widget: palette\nshow: palette", proj).output.name == "palette"
    assert spec_of(model + "widget: handwriting", proj).show == "classes"
    assert spec_of(model + "widget: image\nshow: classes", proj).show == "classes"
    generator = spec_of(model + "widget: generator", proj)
    assert (generator.show, generator.output.name, generator.options["range"]) == ("image", "image", None)
    sliders = model + "widget: sliders\ninputs: [{name: a, min: 0, max: 1}]\n"
    assert spec_of(sliders, proj).show == "classes"
    assert spec_of(sliders + "kind: values", proj).show == "values"
    values = spec_of(sliders + "show: values", proj)
    assert (values.show, values.options["kind"]) == ("values", "values")


def test_show_that_disagrees_with_kind_fails_at_show(proj):
    err = error_of("model: models/palette/generator.keras\nwidget: sliders\n"
                   "inputs: [{name: a, min: 0, max: 1}]\nkind: classes\nshow: values", proj)
    assert (err.line, err.message) == (
        8, "`show: values` and `kind: classes` say different things; keep `show` alone")


def test_range_is_a_key_of_the_image_output_only(proj):
    err = error_of("model: models/palette/generator.keras\nwidget: palette\nrange: [0, 1]", proj)
    assert (err.line, err.message) == (
        6, "`range` applies to `show: image`, and this block shows `palette`; remove `range`, "
        "or show image")
