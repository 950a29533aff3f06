// The `image` output part: the model's [1, H, W, 1 | 3] output drawn on a
// canvas, one pixel per value; `range` ([low, high]) maps to black and white.

// RGBA bytes of a picture from its values in [H, W, C] order.
export function toRgba(values, height, width, channels, [low, high]) {
  const rgba = new Uint8ClampedArray(height * width * 4);
  const scale = 255 / (high - low);
  for (let i = 0; i < height * width; i++) {
    for (let c = 0; c < 3; c++) {
      // Uint8ClampedArray clamps to 0-255; Math.round gives the nearest grey level.
      rgba[4 * i + c] = Math.round((values[i * channels + (channels === 1 ? 0 : c)] - low) * scale);
    }
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

export default class PictureOutput {
  constructor(el, config) {
    this.canvas = el.querySelector(".tfjs-picture-canvas");
    this.config = config;
  }

  // `output`: the model's output for one example, nested [H][W][C]. Returns the status text.
  show(output) {
    const { height, width, channels, range } = this.config;
    const rgba = toRgba(output.flat(2), height, width, channels, range);
    this.canvas.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
    return "New picture, " + width + " × " + height + (channels === 1 ? " grey." : " colour.");
  }

  // No input (a cleared drawing): the previous picture would pass for the new input's.
  clear() {
    this.canvas.getContext("2d").clearRect(0, 0, this.canvas.width, this.canvas.height);
  }
}
