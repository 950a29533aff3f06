// Handwriting widget: draw on a fabric.js canvas; shortly after the pen stops,
// the drawing is preprocessed as mkdocs_tfjs/preprocess.py does it and the
// model's top-k candidates are shown as bars, or what it returns is handed to
// the output part that `show:` names (its module, from the configuration),
// with the drawing the model saw (sketch to picture).
import { registerWidget } from "./runtime.js";
import { showTopK, toProbabilities } from "./topk.js";
import { areaWeights } from "./resize.js";

// ---- Preprocessing: a port of mkdocs_tfjs/preprocess.py (tests compare the two).

const INK_THRESHOLD = 0.05;

export function inkFromRgba(data, width, height) {
  const ink = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const grey = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
    const alpha = data[4 * i + 3] / 255;
    ink[i] = (255 - (grey * alpha + 255 * (1 - alpha))) / 255;
  }
  return ink;
}

export function preprocessDrawing(ink, width, height, size, border, invert) {
  const out = new Float32Array(size * size);
  let top = height, bottom = -1, left = width, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > INK_THRESHOLD) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  if (bottom >= 0) {
    const h = bottom - top + 1, w = right - left + 1, side = Math.max(h, w);
    const offY = Math.floor((side - h) / 2), offX = Math.floor((side - w) / 2);
    const inner = size - 2 * border;
    const weights = areaWeights(side, inner);
    // Rows of the square are the crop shifted by (offY, offX), zero elsewhere.
    const at = (sy, sx) => {
      const y = sy - offY, x = sx - offX;
      return y >= 0 && y < h && x >= 0 && x < w ? ink[(top + y) * width + left + x] : 0;
    };
    const tmp = new Float64Array(side * inner); // square resized along x
    for (let sy = 0; sy < side; sy++) {
      if (sy < offY || sy >= offY + h) continue;
      for (let ox = 0; ox < inner; ox++) {
        let acc = 0;
        for (const [sx, wt] of weights[ox]) acc += wt * at(sy, sx);
        tmp[sy * inner + ox] = acc;
      }
    }
    for (let oy = 0; oy < inner; oy++) {
      for (let ox = 0; ox < inner; ox++) {
        let acc = 0;
        for (const [sy, wt] of weights[oy]) acc += wt * tmp[sy * inner + ox];
        out[(oy + border) * size + ox + border] = Math.min(1, Math.max(0, acc));
      }
    }
  }
  if (!invert) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
  return out;
}

// ---- The widget.

class HandwritingWidget {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = ctx.el;
    this.pad = this.el.querySelector(".tfjs-hw-pad");
    this.clearButton = this.el.querySelector(".tfjs-clear");
    this.results = this.el.querySelector(".tfjs-topk");
    this.answer = this.el.querySelector(".tfjs-hw-answer");
    this.inset = this.el.querySelector(".tfjs-hw-inset");
    this.timer = null;
    this.recognised = false;
    // A recognition asked for while one runs collapses into one more run.
    this.recognise = ctx.coalesce(() => this.recogniseOnce());
    this.lastInput = null;
    const touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    this.delay = ctx.config.delay ?? (touch ? 400 : 800);
    this.onClear = () => this.clear("Cleared. Draw a character.");
    this.onKey = (event) => {
      if (["Escape", "Delete", "Backspace"].includes(event.key)) {
        event.preventDefault();
        this.onClear();
      }
    };
    this.clearButton.addEventListener("click", this.onClear);
    this.pad.addEventListener("keydown", this.onKey);
  }

  async prepare() {
    const { output } = this.ctx.config;
    if (output) {
      this.output = await this.ctx.outputPart();
    }
    await this.ctx.runtime.loadScript("fabric");
    const fabric = window.fabric;
    const element = this.el.querySelector(".tfjs-hw-canvas");
    const side = Math.max(160, Math.min(280, Math.floor(this.pad.clientWidth || 280)));
    // enableRetinaScaling: the backing store has devicePixelRatio pixels per CSS pixel.
    this.canvas = new fabric.Canvas(element, {
      isDrawingMode: true, backgroundColor: "#ffffff", width: side, height: side,
      enableRetinaScaling: true,
    });
    // fabric 6 no longer creates a brush by default: set one explicitly.
    const brush = new fabric.PencilBrush(this.canvas);
    brush.color = "#000000";
    brush.width = this.ctx.config.stroke;
    this.canvas.freeDrawingBrush = brush;
    this.canvas.on("mouse:down", () => {
      clearTimeout(this.timer);
      this.timer = null;
      // A new stroke after a prediction starts a new character.
      if (this.recognised) this.clear(null);
    });
    this.canvas.on("mouse:up", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => { this.timer = null; this.recognise(); }, this.delay);
    });
    this.clearButton.disabled = false;
  }

  readyText() {
    return "Draw a character; it is recognised " + this.delay + " ms after you stop.";
  }

  // A recognition is scheduled (the pen stopped less than `delay` ago).
  pending() {
    return this.timer !== null;
  }

  clear(message) {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.canvas) {
      this.canvas.clear();
      this.canvas.backgroundColor = "#ffffff";
      this.canvas.renderAll();
    }
    this.recognised = false;
    if (this.results) this.results.replaceChildren();
    if (this.answer) this.answer.textContent = "?";
    if (this.output && this.output.clear) this.output.clear();
    this.lastOutput = null;
    const g = this.inset.getContext("2d");
    g.clearRect(0, 0, this.inset.width, this.inset.height);
    if (message) this.ctx.status(message);
  }

  // The drawing's pixels, read from a copy: fabric's own canvas is made for
  // drawing (Chromium keeps it on the GPU and warns at every second read),
  // the copy for reading back (willReadFrequently keeps it in memory). The
  // drawing is opaque (on white), so copying it changes no pixel.
  pixels() {
    const lower = this.canvas.lowerCanvasEl;
    if (!this.readback) {
      this.readback = document.createElement("canvas");
      this.readbackContext = this.readback.getContext("2d", { willReadFrequently: true });
    }
    const { width, height } = lower;
    if (this.readback.width !== width) this.readback.width = width;
    if (this.readback.height !== height) this.readback.height = height;
    const g = this.readbackContext;
    g.clearRect(0, 0, width, height);
    g.drawImage(lower, 0, 0);
    return { width, height, data: g.getImageData(0, 0, width, height).data };
  }

  modelInput() {
    const { width, height, data } = this.pixels();
    const { size, border, invert } = this.ctx.config;
    return preprocessDrawing(inkFromRgba(data, width, height), width, height, size, border, invert);
  }

  async recogniseOnce() {
    const input = this.modelInput();
    if (!input.some((v) => (this.ctx.config.invert ? v > 0 : v < 1))) return;
    this.lastInput = input;
    const size = this.ctx.config.size;
    const output = await this.ctx.run((tf, call) => call([tf.tensor4d(input, [1, size, size, 1])]));
    if (this.output) {
      // The drawing as a grey picture in 0-255, [H, W, 3]: what a mask is drawn over.
      const rgb = new Float32Array(3 * size * size);
      for (let i = 0; i < size * size; i++) rgb.fill(255 * input[i], 3 * i, 3 * i + 3);
      this.lastOutput = output[0];
      this.ctx.status(this.output.show(output[0], { rgb, height: size, width: size }));
    } else {
      this.show(toProbabilities(output[0], this.ctx.config.outputs));
    }
    this.drawInset(input);
    this.recognised = true;
  }

  show(probabilities) {
    const { labels, topk } = this.ctx.config;
    const ranked = showTopK(this.results, probabilities, labels, topk);
    this.answer.textContent = labels[ranked[0][1]];
    this.ctx.status("Recognised " + labels[ranked[0][1]] + " (" + (100 * ranked[0][0]).toFixed(1) + "%); then "
      + ranked.slice(1).map(([p, i]) => labels[i] + " " + (100 * p).toFixed(1) + "%").join(", ") + ".");
  }

  drawInset(input) {
    const size = this.ctx.config.size;
    const g = this.inset.getContext("2d");
    const image = g.createImageData(size, size);
    for (let i = 0; i < size * size; i++) {
      const v = Math.round(255 * input[i]);
      image.data.set([v, v, v, 255], 4 * i);
    }
    g.putImageData(image, 0, 0);
  }

  // For tests and authors: the canvas pixels, what the model last saw and, with
  // an output part, what it returned.
  inspect() {
    const { width, height, data } = this.pixels();
    return { width, height, rgba: Array.from(data), input: this.lastInput ? Array.from(this.lastInput) : null,
             dpr: window.devicePixelRatio, ...(this.output ? { output: this.lastOutput } : {}) };
  }

  dispose() {
    clearTimeout(this.timer);
    this.timer = null;
    this.clearButton.removeEventListener("click", this.onClear);
    this.pad.removeEventListener("keydown", this.onKey);
    if (this.canvas) this.canvas.dispose();
    if (this.output && this.output.dispose) this.output.dispose();
  }
}

registerWidget("handwriting", HandwritingWidget);
