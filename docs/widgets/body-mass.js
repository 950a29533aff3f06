// A widget of our own: estimate a penguin's body mass from two measurements.
// mkdocs.yml names this module under `widgets:`; the plugin copies it beside
// its runtime, so it imports the runtime's helpers from "./runtime.js".
import { registerWidget } from "./runtime.js";

class BodyMass {
  // ctx.el: the widget's element; ctx.options: the block's own keys;
  // ctx.predict(input): the model on nested arrays, resolving to nested arrays.
  constructor(ctx) {
    this.ctx = ctx;
    const { unit = "g", fields } = ctx.options;
    this.unit = unit;
    const box = ctx.el.querySelector(".tfjs-custom");
    this.form = document.createElement("form");
    this.inputs = fields.map((field, i) => {
      const label = document.createElement("label");
      label.textContent = field.label + " ";
      const input = document.createElement("input");
      Object.assign(input, { type: "number", name: "f" + i, min: field.min, max: field.max, step: 1, value: field.value });
      label.append(input);
      this.form.append(label, " ");
      return input;
    });
    this.output = document.createElement("output");
    this.output.className = "tfjs-custom-result";
    this.form.append(this.output);
    box.append(this.form);
    // Typing fast runs the model once more with the newest values, never a queue;
    // ctx.coalesce also drops what is still queued when the widget leaves the page.
    this.estimate = ctx.coalesce(() => this.estimateOnce());
    this.onInput = () => this.estimate();
    this.form.addEventListener("input", this.onInput);
    this.form.addEventListener("submit", (event) => event.preventDefault());
  }

  async prepare() {
    await this.estimate();
  }

  readyText() {
    return "Change a measurement to see the estimate.";
  }

  async estimateOnce() {
    const values = this.inputs.map((input) => Number(input.value));
    if (values.some((v) => !Number.isFinite(v))) return;
    const [[grams]] = await this.ctx.predict([values]);
    this.output.value = Math.round(grams).toLocaleString("en") + " " + this.unit;
  }

  dispose() {
    this.form.removeEventListener("input", this.onInput);
  }
}

registerWidget("body-mass", BodyMass);
