// Image widget: pick, drop, paste or click a sample; the picture is decoded,
// composited on white, cropped, area-resized and preprocessed exactly as
// mkdocs_tfjs/preprocess.py does it, and the model's top-k classes are shown.
import { registerWidget } from "./runtime.js";
import { showTopK, toProbabilities } from "./topk.js";
import { areaWeights } from "./resize.js";

// ---- Preprocessing: a port of the image part of mkdocs_tfjs/preprocess.py.

const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];
const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];

export function cropBox(height, width, targetH, targetW, resize) {
  if (resize === "stretch") return [0, 0, height, width];
  if (width * targetH > height * targetW) {
    const cropW = Math.max(1, Math.round(height * targetW / targetH));
    return [0, Math.floor((width - cropW) / 2), height, cropW];
  }
  const cropH = Math.max(1, Math.round(width * targetH / targetW));
  return [Math.floor((height - cropH) / 2), 0, cropH, width];
}

// RGBA bytes (not premultiplied) -> RGB in [0, 255], alpha over white, cropped and resized.
export function resizeOnWhite(rgba, width, height, targetH, targetW, resize) {
  const [top, left, cropH, cropW] = cropBox(height, width, targetH, targetW, resize);
  const rows = areaWeights(cropH, targetH), cols = areaWeights(cropW, targetW);
  const composite = (y, x, c) => {
    const i = 4 * ((top + y) * width + left + x);
    const a = rgba[i + 3] / 255;
    return rgba[i + c] * a + 255 * (1 - a);
  };
  const tmp = new Float64Array(cropH * targetW * 3); // resized along x
  for (let y = 0; y < cropH; y++) {
    for (let ox = 0; ox < targetW; ox++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (const [x, w] of cols[ox]) acc += w * composite(y, x, c);
        tmp[(y * targetW + ox) * 3 + c] = acc;
      }
    }
  }
  const out = new Float64Array(targetH * targetW * 3);
  for (let oy = 0; oy < targetH; oy++) {
    for (let ox = 0; ox < targetW; ox++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (const [y, w] of rows[oy]) acc += w * tmp[(y * targetW + ox) * 3 + c];
        out[(oy * targetW + ox) * 3 + c] = acc;
      }
    }
  }
  return out;
}

export function applyPreprocess(rgb, mode) {
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const x = rgb[i + c];
      let v;
      if (mode === "tf" || mode === "mobilenet") v = x / 127.5 - 1;
      else if (mode === "caffe" || mode === "vgg16") v = rgb[i + 2 - c] - CAFFE_MEAN_BGR[c];
      else if (mode === "torch") v = (x / 255 - TORCH_MEAN[c]) / TORCH_STD[c];
      else if (mode === "scale") v = x / 255;
      else v = x;
      out[i + c] = v;
    }
  }
  return out;
}

// Decoded pixels exactly as stored in the file (EXIF orientation applied).
// A 2D canvas keeps premultiplied alpha and would round translucent pixels,
// so read them back through a WebGL texture when WebGL exists. `use(bitmap)`
// draws the preview; the bitmap is closed whatever happens.
async function decode(blob, use) {
  const bitmap = await createImageBitmap(blob, {
    imageOrientation: "from-image", premultiplyAlpha: "none", colorSpaceConversion: "none",
  });
  try {
    const { width, height } = bitmap;
    let data = readWithWebGL(bitmap);
    if (!data) {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const g = canvas.getContext("2d", { willReadFrequently: true });
      g.drawImage(bitmap, 0, 0);
      data = g.getImageData(0, 0, width, height).data;
    }
    use(bitmap);
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}

function readWithWebGL(bitmap) {
  const canvas = document.createElement("canvas");
  const gl = canvas.getContext("webgl", { premultipliedAlpha: false });
  if (!gl) return null;
  try {
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return null;
    const out = new Uint8Array(bitmap.width * bitmap.height * 4);
    gl.readPixels(0, 0, bitmap.width, bitmap.height, gl.RGBA, gl.UNSIGNED_BYTE, out);
    return gl.getError() === gl.NO_ERROR ? out : null;
  } catch (err) {
    return null;
  } finally {
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
  }
}

// ---- The widget.

class ImageWidget {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = ctx.el;
    this.drop = this.el.querySelector(".tfjs-img-drop");
    this.preview = this.el.querySelector(".tfjs-img-preview");
    this.hint = this.el.querySelector(".tfjs-img-hint");
    this.results = this.el.querySelector(".tfjs-topk");
    this.time = this.el.querySelector(".tfjs-img-time");
    this.file = this.el.querySelector(".tfjs-file");
    this.last = null;
    // A picture chosen while another is classified replaces any still waiting.
    this.classify = ctx.coalesce((source, name) => this.classifyOnce(source, name));
    this.handlers = [
      [this.file, "change", () => this.file.files[0] && this.classify(this.file.files[0], this.file.files[0].name)],
      [this.drop, "dragover", (e) => { e.preventDefault(); this.drop.classList.add("tfjs-dragging"); }],
      [this.drop, "dragleave", () => this.drop.classList.remove("tfjs-dragging")],
      [this.drop, "drop", (e) => this.onDrop(e)],
      [this.drop, "paste", (e) => this.onPaste(e)],
      [this.el.querySelector(".tfjs-controls"), "click", (e) => this.onSample(e)],
    ];
    for (const [target, type, fn] of this.handlers) target.addEventListener(type, fn);
  }

  async prepare() {
    this.el.querySelectorAll(".tfjs-file, .tfjs-sample").forEach((c) => { c.disabled = false; });
  }

  readyText() {
    return "Choose, drop or paste a picture" + (this.ctx.config.samples.length ? ", or try a sample." : ".");
  }

  onDrop(event) {
    event.preventDefault();
    this.drop.classList.remove("tfjs-dragging");
    const file = [...(event.dataTransfer?.files || [])].find((f) => f.type.startsWith("image/"));
    if (file) this.classify(file, file.name);
    else this.ctx.status("That was not a picture; drop an image file.");
  }

  onPaste(event) {
    const item = [...(event.clipboardData?.items || [])].find((i) => i.type.startsWith("image/"));
    if (!item) return;
    event.preventDefault();
    this.classify(item.getAsFile(), "the pasted picture");
  }

  onSample(event) {
    const button = event.target.closest(".tfjs-sample");
    if (!button) return;
    const sample = this.ctx.config.samples[Number(button.dataset.index)];
    this.classify({ url: new URL(this.ctx.config.root + sample.url, document.baseURI).href }, sample.name);
  }

  // `source`: a Blob, or {url} of a sample.
  async classifyOnce(source, name) {
    let blob = source;
    if (source && source.url) {
      try {
        const response = await fetch(source.url);
        if (!response.ok) throw new Error(response.status + " " + response.statusText);
        blob = await response.blob();
      } catch (err) {
        this.ctx.status("Could not load the sample " + name + ": " + err.message);
        return;
      }
    }
    let decoded;
    try {
      decoded = await decode(blob, (bitmap) => this.showPreview(bitmap));
    } catch (err) {
      this.ctx.status("Could not read " + name + " as a picture (" + err.message + ").");
      return;
    }
    const { height, width, labels, preprocess, resize, outputs } = this.ctx.config;
    const rgb = resizeOnWhite(decoded.data, decoded.width, decoded.height, height, width, resize);
    const input = applyPreprocess(rgb, preprocess);
    const started = performance.now();
    const output = await this.ctx.run((tf, call) => call([tf.tensor4d(input, [1, height, width, 3])]));
    const ms = performance.now() - started;
    const probabilities = toProbabilities(output[0], outputs);
    const ranked = showTopK(this.results, probabilities, labels, this.ctx.config.topk);
    this.time.textContent = "Inference: " + ms.toFixed(1) + " ms";
    // Kept as they are (no copies); inspect() turns them into plain arrays on request.
    this.last = { name, decoded, rgb, input, probabilities };
    this.ctx.status(name + ": " + ranked.map(([p, i]) => labels[i] + " " + (100 * p).toFixed(1) + "%").join(", ") + ".");
  }

  showPreview(bitmap) {
    const side = 160;
    const scale = Math.min(side / bitmap.width, side / bitmap.height);
    this.preview.width = Math.max(1, Math.round(bitmap.width * scale));
    this.preview.height = Math.max(1, Math.round(bitmap.height * scale));
    const g = this.preview.getContext("2d");
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, this.preview.width, this.preview.height);
    g.drawImage(bitmap, 0, 0, this.preview.width, this.preview.height);
    this.preview.hidden = false;
    this.hint.hidden = true;
  }

  // For tests and authors: the last picture's decoded pixels, resized pixels,
  // model input and shown probabilities.
  inspect() {
    if (!this.last) return null;
    const { name, decoded, rgb, input, probabilities } = this.last;
    return {
      name, width: decoded.width, height: decoded.height, decoded: Array.from(decoded.data),
      rgb: Array.from(rgb), input: Array.from(input), probabilities: Array.from(probabilities),
    };
  }

  dispose() {
    for (const [target, type, fn] of this.handlers) target.removeEventListener(type, fn);
  }
}

registerWidget("image", ImageWidget);
