// The `mask` output part: a [1, H, W, C] class score map drawn as the colour
// of each pixel's most probable class, on a layer over the picture the model
// saw; a slider sets the layer's opacity, and the legend gives each class's share.

// The class of each pixel of nested [H][W][C] scores: the index of its highest
// score (the first, on a tie). Read in place: flattening a 256 x 256 x 21
// array first costs more than the argmax itself.
export function argmaxClasses(scores, height, width, classes) {
  const out = new Uint16Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = scores[y];
    for (let x = 0; x < width; x++) {
      const pixel = row[x];
      let best = 0, bestScore = pixel[0];
      for (let c = 1; c < classes; c++) {
        if (pixel[c] > bestScore) { best = c; bestScore = pixel[c]; }
      }
      out[y * width + x] = best;
    }
  }
  return out;
}

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export default class MaskOutput {
  constructor(el, config) {
    this.config = config;
    this.picture = el.querySelector(".tfjs-mask-picture");
    this.classes = el.querySelector(".tfjs-mask-classes");
    this.slider = el.querySelector(".tfjs-mask-opacity");
    this.shares = [...el.querySelectorAll(".tfjs-mask-share")];
    this.rgb = config.colours.map(hexToRgb);
    // Colours are set here, not in the template: the page's CSP allows no inline styles.
    el.querySelectorAll(".tfjs-mask-swatch").forEach((s) => { s.style.backgroundColor = config.colours[Number(s.dataset.class)]; });
    this.onOpacity = () => { this.classes.style.opacity = String(Number(this.slider.value) / 100); };
    this.slider.addEventListener("input", this.onOpacity);
    this.onOpacity();
  }

  // `output`: the model's scores for one example, nested [H][W][C]; `picture`:
  // {rgb} the model's input picture in 0-255, [H, W, 3]. Returns the status text.
  show(output, picture) {
    const { height, width, classes, labels } = this.config;
    const map = argmaxClasses(output, height, width, classes);
    const rgba = new Uint8ClampedArray(height * width * 4);
    const counts = new Array(classes).fill(0);
    for (let i = 0; i < height * width; i++) {
      const [r, g, b] = this.rgb[map[i]];
      rgba[4 * i] = r; rgba[4 * i + 1] = g; rgba[4 * i + 2] = b; rgba[4 * i + 3] = 255;
      counts[map[i]] += 1;
    }
    this.classes.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
    if (picture && picture.rgb) {
      const under = new Uint8ClampedArray(height * width * 4);
      for (let i = 0; i < height * width; i++) {
        for (let c = 0; c < 3; c++) under[4 * i + c] = Math.round(picture.rgb[3 * i + c]);
        under[4 * i + 3] = 255;
      }
      this.picture.getContext("2d").putImageData(new ImageData(under, width, height), 0, 0);
    }
    const total = height * width;
    this.shares.forEach((s, c) => { s.textContent = (100 * counts[c] / total).toFixed(0) + "%"; });
    const ranked = counts.map((n, c) => [n, c]).filter(([n]) => n > 0).sort((a, b) => b[0] - a[0]);
    return "Mask: " + ranked.map(([n, c]) => labels[c] + " " + (100 * n / total).toFixed(0) + "%").join(", ") + ".";
  }

  // No picture: nothing of the previous one's mask stays to pass for the new one's.
  clear() {
    for (const canvas of [this.picture, this.classes]) canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    this.shares.forEach((s) => { s.textContent = ""; });
  }

  dispose() {
    this.slider.removeEventListener("input", this.onOpacity);
  }
}
