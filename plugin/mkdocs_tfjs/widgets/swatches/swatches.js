// The `palette` output part: the model's [1, 3·k] output as k colour swatches
// (red, green, blue in [0, 1]); a click on a swatch copies its hex code.

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

export default class PaletteOutput {
  // `status` shows a line in the widget's status (what a copy did).
  constructor(el, config, status) {
    this.swatches = el.querySelector(".tfjs-palette-swatches");
    this.config = config;
    this.status = status;
    this.onCopy = (event) => {
      const swatch = event.target.closest(".tfjs-swatch");
      if (swatch) this.copy(swatch.dataset.hex);
    };
    this.swatches.addEventListener("click", this.onCopy);
  }

  readyText() {
    return "Press Generate for a new palette; select a swatch to copy its hex code.";
  }

  // `output`: the model's output for one example, 3·k numbers. Returns the status text.
  show(output) {
    const { colours, sort } = this.config;
    let rgbs = [];
    for (let i = 0; i < colours; i++) rgbs.push(output.slice(3 * i, 3 * i + 3));
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
    return "New palette: " + rgbs.map(toHex).join(", ") + ".";
  }

  clear() {
    this.swatches.replaceChildren();
  }

  async copy(hex) {
    try {
      await navigator.clipboard.writeText(hex);
      this.status("Copied " + hex + " to the clipboard.");
    } catch (err) {
      this.status("Copy " + hex + " by hand: the browser refused clipboard access.");
    }
  }

  dispose() {
    this.swatches.removeEventListener("click", this.onCopy);
  }
}
