// Palette widget: a generator model turns a noise vector into k colours.
// Generate asks for a new palette; a click on a swatch copies its hex code.
import { registerWidget } from "./runtime.js";

function toHex(rgb) {
  return "#" + rgb.map((v) => {
    const byte = Math.round(Math.min(1, Math.max(0, v)) * 255);
    return byte.toString(16).padStart(2, "0");
  }).join("");
}

// Relative luminance (sRGB), used to order swatches from dark to light.
function luminance([r, g, b]) {
  const lin = (c) => (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

class PaletteWidget {
  constructor(ctx) {
    this.ctx = ctx;
    this.swatches = ctx.el.querySelector(".tfjs-palette-swatches");
    this.button = ctx.el.querySelector(".tfjs-generate");
    // Clicks that arrive while a palette is being computed collapse into one more run.
    this.generate = ctx.coalesce(() => this.generateOnce());
    this.onGenerate = () => this.generate();
    this.onCopy = (event) => {
      const swatch = event.target.closest(".tfjs-swatch");
      if (swatch) this.copy(swatch.dataset.hex);
    };
    this.button.addEventListener("click", this.onGenerate);
    this.swatches.addEventListener("click", this.onCopy);
  }

  async prepare() {
    this.button.disabled = false;
    await this.generate();
  }

  readyText() {
    return "Press Generate for a new palette; select a swatch to copy its hex code.";
  }

  async generateOnce() {
    const { noiseSize, noise } = this.ctx.config;
    const values = await this.ctx.run((tf, call) => {
      const z = noise === "normal" ? tf.randomNormal([1, noiseSize]) : tf.randomUniform([1, noiseSize]);
      return call([z]);
    });
    this.show(values[0]);
  }

  show(flat) {
    const { colours, sort } = this.ctx.config;
    let rgbs = [];
    for (let i = 0; i < colours; i++) rgbs.push(flat.slice(3 * i, 3 * i + 3));
    if (sort === "lightness") rgbs = rgbs.sort((a, b) => luminance(a) - luminance(b));
    const items = rgbs.map((rgb) => {
      const hex = toHex(rgb);
      const item = document.createElement("button");
      item.type = "button";
      item.className = "tfjs-swatch";
      item.setAttribute("role", "listitem");
      item.dataset.hex = hex;
      item.title = "Copy " + hex;
      item.setAttribute("aria-label", "Colour " + hex + ", select to copy");
      const chip = document.createElement("span");
      chip.className = "tfjs-swatch-colour";
      chip.style.backgroundColor = hex;
      const code = document.createElement("code");
      code.className = "tfjs-swatch-hex";
      code.textContent = hex;
      item.append(chip, code);
      return item;
    });
    this.swatches.replaceChildren(...items);
    this.ctx.status("New palette: " + rgbs.map(toHex).join(", ") + ".");
  }

  async copy(hex) {
    try {
      await navigator.clipboard.writeText(hex);
      this.ctx.status("Copied " + hex + " to the clipboard.");
    } catch (err) {
      this.ctx.status("Copy " + hex + " by hand: the browser refused clipboard access.");
    }
  }

  dispose() {
    this.button.removeEventListener("click", this.onGenerate);
    this.swatches.removeEventListener("click", this.onCopy);
  }
}

registerWidget("palette", PaletteWidget);
