// Palette widget: the generator's noise and Generate button; its default output
// part (`show: palette`, swatches.js) draws the colours.
import { registerWidget } from "./runtime.js";
import { GeneratorWidget } from "./generator.js";

registerWidget("palette", GeneratorWidget);
