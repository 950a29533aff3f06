// Sliders widget: one native range input per numeric feature of a tabular
// model, and one native select per string feature (its choices from the
// vocabulary of the model's own lookup layer, which the runtime runs as Keras
// does: preprocess.js); any change runs the model on the newest values and
// shows its classes, or hands what it returns to the output part `show:` names
// (its module, from the configuration): named values, or a decoder's picture.
import { registerWidget } from "./runtime.js";
import { showTopK, toProbabilities } from "./topk.js";

// (value - mean) / std per feature, for models trained on standardised features.
export function normalizeInput(values, normalize) {
  if (!normalize) return values.slice();
  return values.map((v, i) => (v - normalize.mean[i]) / normalize.std[i]);
}

// What the model gets, one entry per input: a row of each input's controls'
// values ([batch, n]), or the one value itself ([batch]); the sliders'
// numbers normalised, the choices as they are (the runtime encodes them).
// Without `feeds` the model takes one [batch, n] vector of all the sliders.
export function modelInputs(values, controls, normalize, feeds) {
  const isSlider = controls.map((c) => !c.choices);
  const numbers = normalizeInput(values.filter((v, i) => isSlider[i]), normalize);
  let next = 0;
  const fed = values.map((v, i) => (isSlider[i] ? numbers[next++] : v));
  const layout = feeds || [{ controls: values.map((v, i) => i), rank: 2 }];
  return layout.map((feed) => {
    const row = feed.controls.map((i) => fed[i]);
    return [feed.rank === 1 ? row[0] : row];
  });
}

class SlidersWidget {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = ctx.el;
    // The sliders and the choices, in the order of the configuration's controls.
    this.inputs = [...this.el.querySelectorAll(".tfjs-slider-input, .tfjs-choice-input")];
    this.group = this.el.querySelector(".tfjs-sliders-inputs");
    this.last = null;
    // A run reads the sliders when it starts, so moves that arrive while the
    // model runs collapse into one more run with the newest values. The
    // widget's coalesce counts the run as busy, drops what waits once the
    // widget is disposed, and shows a failure in the status.
    this.update = ctx.coalesce(() => this.predictOnce());
    this.onInput = (event) => {
      const input = event.target.closest(".tfjs-slider-input, .tfjs-choice-input");
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
    const choices = this.ctx.config.sliders.filter((c) => c.choices).length;
    if (choices === this.ctx.config.sliders.length) {
      return "Pick a choice (or focus it and use the arrow keys); the model answers at once.";
    }
    if (choices) {
      return "Move a slider or pick a choice (or focus it and use the arrow keys); the model answers at once.";
    }
    return "Move a slider (or focus it and use the arrow keys); the model answers at once.";
  }

  showValue(input) {
    const slider = this.ctx.config.sliders[Number(input.dataset.index)];
    if (slider.choices) return;
    const text = Number(input.value).toFixed(slider.decimals);
    input.nextElementSibling.textContent = text;
  }

  async predictOnce() {
    const { labels, normalize, sliders, feeds } = this.ctx.config;
    // A choice's value is its entry of the vocabulary (a string, or an integer for an
    // IntegerLookup), not the option's text.
    const values = this.inputs.map((input) => {
      const control = sliders[Number(input.dataset.index)];
      return control.choices ? control.choices[Number(input.value)] : Number(input.value);
    });
    const inputs = modelInputs(values, sliders, normalize, feeds);
    // The sliders' vector as before for a model of one [batch, n] input; one per input otherwise.
    const input = feeds ? inputs : inputs[0][0];
    let output;
    try {
      output = feeds
        ? await this.ctx.predict(inputs.length === 1 ? inputs[0] : inputs)
        : await this.ctx.run((tf, call) => call([tf.tensor2d([input], [1, input.length])]));
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

  // For tests and authors: the controls' values, what the model got (before the
  // runtime encodes the choices), what it returned.
  inspect() {
    return this.last;
  }

  dispose() {
    this.group.removeEventListener("input", this.onInput);
    if (this.output && this.output.dispose) this.output.dispose();
  }
}

registerWidget("sliders", SlidersWidget);
