"""The ``palette`` input: the generator's noise and Generate button, showing a palette."""

from __future__ import annotations

from ..generator.part import GeneratorWidget, noise_option


class PaletteWidget(GeneratorWidget):
    """The generator with uniform noise, whose output is shown as colour swatches by default."""

    name = "palette"
    order = 10
    default_show = "palette"
    options = (noise_option("uniform"),)


PART = PaletteWidget()
