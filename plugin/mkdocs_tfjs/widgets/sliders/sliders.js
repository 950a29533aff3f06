// Sliders widget: one native range input per feature of a tabular model; any
// move runs the model on the newest values and shows its classes, or hands
// what it returns to the output part `show:` names (its module, from the
// configuration): named values, or a decoder's picture.
import { registerWidget } from "./runtime.js";
import { showTopK, toProbabilities } from "./topk.js";

// (value - mean) / std per feature, for models trained on standardised features.
export function normalizeInput(values, normalize) {
  if (!normalize) return values.slice();
  return values.map((v, i) => (v - normalize.mean[i]) / normalize.std[i]);
}

class SlidersWidget {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = ctx.el;
    this.inputs = [...this.el.querySelectorAll(".tfjs-slider-input")];
    this.group = this.el.querySelector(".tfjs-sliders-inputs");
    this.last = null;
    // A run reads the sliders when it starts, so moves that arrive while the
    // model runs collapse into one more run with the newest values. The
    // widget's coalesce counts the run as busy, drops what waits once the
    // widget is disposed, and shows a failure in the status.
    this.update = ctx.coalesce(() => this.predictOnce());
    this.onInput = (event) => {
      const input = event.target.closest(".tfjs-slider-input");
      if (!input) return;
      this.showValue(input);
      this.update();
    };
    this.group.addEventListener("input", this.onInput);
  }

  async prepare() {
    if (this.ctx.config.output) this.output = await this.ctx.outputPart();
    this.inputs.forEach((input) => {
      input.disabled = false;
      this.showValue(input);
    });
    await this.update();
  }

  readyText() {
    return "Move a slider (or focus it and use the arrow keys); the model answers at once.";
  }

  showValue(input) {
    const slider = this.ctx.config.sliders[Number(input.dataset.index)];
    const text = Number(input.value).toFixed(slider.decimals);
    input.nextElementSibling.textContent = text;
  }

  async predictOnce() {
    const { labels, normalize } = this.ctx.config;
    const values = this.inputs.map((input) => Number(input.value));
    const input = normalizeInput(values, normalize);
    let output;
    try {
      output = await this.ctx.run((tf, call) => call([tf.tensor2d([input], [1, input.length])]));
    } catch (err) {
      // What earlier positions gave would pass for the answer to these.
      this.last = null;
      if (!this.output) this.el.querySelector(".tfjs-topk").replaceChildren();
      else if (this.output.clear) this.output.clear();
      throw err;
    }
    this.last = { values, input, output: output[0] };
    if (this.output) {
      this.ctx.status(this.output.show(output[0]));
      return;
    }
    const list = this.el.querySelector(".tfjs-topk");
    const ranked = showTopK(list, toProbabilities(output[0], this.ctx.config.scores), labels, this.ctx.config.topk);
    this.ctx.status(ranked.map(([p, i]) => labels[i] + " " + (100 * p).toFixed(1) + "%").join(", ") + ".");
  }

  // For tests and authors: the slider values, what the model got, what it returned.
  inspect() {
    return this.last;
  }

  dispose() {
    this.group.removeEventListener("input", this.onInput);
    if (this.output && this.output.dispose) this.output.dispose();
  }
}

registerWidget("sliders", SlidersWidget);
