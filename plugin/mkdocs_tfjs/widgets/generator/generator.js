// Generator widget: a noise vector in; the output part that `show:` names
// (its module, from the configuration) draws what the model returns. The
// palette input is this widget too (palette.js), showing a palette by default.
import { registerWidget } from "./runtime.js";

export class GeneratorWidget {
  constructor(ctx) {
    this.ctx = ctx;
    this.button = ctx.el.querySelector(".tfjs-generate");
    this.last = null;
    // Clicks that arrive while a picture is being computed collapse into one more run.
    this.generate = ctx.coalesce(() => this.generateOnce());
    this.onGenerate = () => this.generate();
    this.button.addEventListener("click", this.onGenerate);
  }

  async prepare() {
    this.output = await this.ctx.outputPart();
    this.button.disabled = false;
    await this.generate();
  }

  readyText() {
    return this.output.readyText ? this.output.readyText() : "Press Generate for a new sample from the model.";
  }

  async generateOnce() {
    const { noiseSize, noise } = this.ctx.config;
    const [z, out] = await this.ctx.run((tf, call) => {
      const input = noise === "normal" ? tf.randomNormal([1, noiseSize]) : tf.randomUniform([1, noiseSize]);
      return [input, call([input])];
    });
    this.last = { noise: z[0], output: out[0] };
    this.ctx.status(this.output.show(out[0]));
  }

  // For tests and authors: the noise the model got and what it returned.
  inspect() {
    return this.last;
  }

  dispose() {
    this.button.removeEventListener("click", this.onGenerate);
    if (this.output && this.output.dispose) this.output.dispose();
  }
}

registerWidget("generator", GeneratorWidget);
