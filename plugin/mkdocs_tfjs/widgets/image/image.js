// Image widget: pick, drop, paste or click a sample, or (with `camera: true`)
// point the camera; the picture is decoded, composited on white, cropped,
// area-resized and preprocessed exactly as mkdocs_tfjs/preprocess.py does it,
// and the model's top-k classes are shown, or what it returns is handed to
// the output part that `show:` names (its module, from the configuration),
// with the picture the model saw.
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

// ---- The camera.

// The back camera where there are two (a phone pointed at a thing), any camera otherwise.
const CAMERA_CONSTRAINTS = { video: { facingMode: { ideal: "environment" } }, audio: false };

// Why this page cannot use a camera at all, or null. Browsers offer
// navigator.mediaDevices on secure pages only (HTTPS, or localhost).
function cameraUnavailable() {
  if (!window.isSecureContext) return "The camera needs this page served over HTTPS.";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "This browser gives pages no camera.";
  return null;
}

function cameraProblem(err) {
  const still = "; choosing a picture still works.";
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "The camera was not allowed (the browser's site settings can allow it)" + still;
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") return "No camera was found" + still;
  if (name === "NotReadableError") return "The camera could not start (another program may be using it)" + still;
  return "The camera could not start (" + (err && err.message || err) + ")" + still;
}

// The current picture of a playing video as RGBA bytes. Camera pictures are
// opaque, so the 2D canvas's premultiplied alpha changes nothing here.
function grabFrame(video, canvas) {
  const width = video.videoWidth, height = video.videoHeight;
  if (!width || !height) return null;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const g = canvas.getContext("2d", { willReadFrequently: true });
  g.drawImage(video, 0, 0, width, height);
  return { width, height, data: g.getImageData(0, 0, width, height).data };
}

// A camera stream shown in a video element, and a loop that hands each new
// frame to `onFrame` once the previous one is done: at most one frame in
// work, and always the newest. Nothing here knows the widget.
class CameraFeed {
  constructor(video, onFrame) {
    this.video = video;
    this.onFrame = onFrame;
    this.stream = null;
    this.session = 0; // bumped by stop(): a start or a loop of an older session gives up
    this.cancelFrame = null;
  }

  // Resolves true once frames flow, false when stopped meanwhile; throws getUserMedia's error.
  async start() {
    const session = ++this.session;
    const stream = await navigator.mediaDevices.getUserMedia(CAMERA_CONSTRAINTS);
    if (session !== this.session) {
      stream.getTracks().forEach((track) => track.stop());
      return false;
    }
    this.stream = stream;
    this.video.srcObject = stream;
    try {
      await this.video.play();
    } catch (err) {
      if (session !== this.session) return false;
      this.stop();
      throw err;
    }
    if (session !== this.session) return false;
    this.loop(session);
    return true;
  }

  async loop(session) {
    while (session === this.session) {
      await this.nextFrame();
      if (session !== this.session) return;
      await this.onFrame(this.video);
    }
  }

  // Resolves on the video's next new frame, or at once when stop() is called.
  nextFrame() {
    return new Promise((resolve) => {
      const video = this.video;
      if (video.requestVideoFrameCallback) {
        const handle = video.requestVideoFrameCallback(() => resolve());
        this.cancelFrame = () => { video.cancelVideoFrameCallback(handle); resolve(); };
      } else {
        const handle = requestAnimationFrame(() => resolve());
        this.cancelFrame = () => { cancelAnimationFrame(handle); resolve(); };
      }
    });
  }

  // Release the camera: every track stopped (the browser's camera light goes
  // off), the video emptied, the loop ended, a pending start abandoned.
  stop() {
    this.session += 1;
    if (this.cancelFrame) this.cancelFrame();
    this.cancelFrame = null;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.pause();
    this.video.srcObject = null;
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
    // A picture chosen while another is classified replaces any still waiting;
    // camera frames go through the same queue, so a file never races a frame.
    this.classifyQueued = ctx.coalesce((source, name) => this.classifyOnce(source, name));
    this.handlers = [
      [this.file, "change", () => this.file.files[0] && this.classify(this.file.files[0], this.file.files[0].name)],
      [this.drop, "dragover", (e) => { e.preventDefault(); this.drop.classList.add("tfjs-dragging"); }],
      [this.drop, "dragleave", () => this.drop.classList.remove("tfjs-dragging")],
      [this.drop, "drop", (e) => this.onDrop(e)],
      [this.drop, "paste", (e) => this.onPaste(e)],
      [this.el.querySelector(".tfjs-controls"), "click", (e) => this.onSample(e)],
    ];
    this.setUpCamera();
    for (const [target, type, fn] of this.handlers) target.addEventListener(type, fn);
  }

  setUpCamera() {
    this.cameraButton = this.el.querySelector(".tfjs-camera");
    if (!this.cameraButton) return;
    this.video = this.el.querySelector(".tfjs-img-video");
    this.frameCanvas = document.createElement("canvas");
    this.feed = new CameraFeed(this.video, (video) => this.classifyQueued({ video }, "the camera picture"));
    this.viewWatch = null;
    this.onVisibility = () => { if (document.hidden) this.stopCamera("Camera off: the page was hidden."); };
    this.handlers.push([this.cameraButton, "click", () => this.toggleCamera()]);
    const unavailable = cameraUnavailable();
    this.setCamera(unavailable ? "unavailable" : "off");
    if (unavailable) this.showCameraNote(unavailable);
  }

  async prepare() {
    const { output } = this.ctx.config;
    if (output) {
      this.output = await this.ctx.outputPart();
    }
    this.el.querySelectorAll(".tfjs-file, .tfjs-sample").forEach((c) => { c.disabled = false; });
    if (this.cameraButton) this.cameraButton.disabled = this.el.dataset.camera === "unavailable";
  }

  // A file, a drop, a paste or a sample: the camera stops so its next frame does not replace the picture.
  classify(source, name) {
    if (this.cameraOn()) this.stopCamera(null);
    return this.classifyQueued(source, name);
  }

  // data-camera: off, starting, on, failed (the status says why) or unavailable (the note says why).
  setCamera(state) {
    this.el.dataset.camera = state;
    const live = state === "starting" || state === "on";
    this.cameraButton.setAttribute("aria-pressed", String(live));
    this.cameraButton.textContent = live ? "Stop camera" : "Use camera";
  }

  cameraOn() {
    return Boolean(this.cameraButton) && ["starting", "on"].includes(this.el.dataset.camera);
  }

  showCameraNote(text) {
    const note = this.el.querySelector(".tfjs-camera-note");
    note.textContent = text;
    note.hidden = false;
  }

  toggleCamera() {
    if (this.cameraOn()) this.stopCamera("Camera off.");
    else this.startCamera();
  }

  async startCamera() {
    this.setCamera("starting");
    this.ctx.status("Asking for the camera…");
    // Watched from the start: the reader may go to another tab while the browser asks.
    document.addEventListener("visibilitychange", this.onVisibility);
    let started;
    try {
      started = await this.feed.start();
    } catch (err) {
      document.removeEventListener("visibilitychange", this.onVisibility);
      this.setCamera("failed");
      this.ctx.status(cameraProblem(err));
      return;
    }
    if (!started) return; // stopped while the browser asked the reader
    this.watchCamera();
    this.video.hidden = false;
    this.preview.hidden = true;
    this.hint.hidden = true;
    this.setCamera("on");
    // Said once: announcing every frame's classes would flood a screen reader.
    this.ctx.status("Camera on: the classes follow the live picture.");
  }

  // The camera stops when the widget leaves the screen, or (see startCamera)
  // the page is hidden (another tab, a minimised window): nobody looks, and
  // the light should go off.
  watchCamera() {
    if (typeof IntersectionObserver === "undefined") return;
    this.viewWatch = new IntersectionObserver((entries) => {
      if (!entries[entries.length - 1].isIntersecting) this.stopCamera("Camera off: the widget left the screen.");
    });
    this.viewWatch.observe(this.el);
  }

  // `message`: what the status says, or null to leave it.
  stopCamera(message) {
    if (!this.feed) return;
    this.feed.stop();
    document.removeEventListener("visibilitychange", this.onVisibility);
    if (this.viewWatch) this.viewWatch.disconnect();
    this.viewWatch = null;
    const wasLive = !this.video.hidden;
    this.video.hidden = true;
    // The last frame classified stays in view, beside its classes.
    if (wasLive && this.last && this.last.camera) this.showPreview(this.frameCanvas);
    if (this.el.dataset.camera !== "unavailable") this.setCamera("off");
    if (message) this.ctx.status(message);
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

  // `source`: a Blob, {url} of a sample, or {video} of the camera.
  async classifyOnce(source, name) {
    if (source.video) {
      const decoded = grabFrame(source.video, this.frameCanvas);
      if (decoded) await this.classifyPixels(decoded, name, { camera: true });
      return;
    }
    let blob = source;
    if (source && source.url) {
      try {
        const response = await fetch(source.url);
        if (!response.ok) throw new Error(response.status + " " + response.statusText);
        blob = await response.blob();
      } catch (err) {
        this.forgetPicture();
        this.ctx.status("Could not load the sample " + name + ": " + err.message);
        return;
      }
    }
    let decoded;
    try {
      decoded = await decode(blob, (bitmap) => this.showPreview(bitmap));
    } catch (err) {
      this.forgetPicture();
      this.ctx.status("Could not read " + name + " as a picture (" + err.message + ").");
      return;
    }
    await this.classifyPixels(decoded, name, { camera: false });
  }

  // Classify decoded RGBA pixels and show the classes; a camera frame updates
  // the bars and the time but not the status (it would be read out every frame).
  async classifyPixels(decoded, name, { camera }) {
    const { height, width, labels, preprocess, resize, outputs } = this.ctx.config;
    const rgb = resizeOnWhite(decoded.data, decoded.width, decoded.height, height, width, resize);
    const input = applyPreprocess(rgb, preprocess);
    const started = performance.now();
    const output = await this.ctx.run((tf, call) => call([tf.tensor4d(input, [1, height, width, 3])]));
    const ms = performance.now() - started;
    if (this.output) {
      const said = this.output.show(output[0], { rgb, height, width });
      this.time.textContent = "Inference: " + ms.toFixed(1) + " ms";
      this.last = { name, decoded, rgb, input, output: output[0], camera };
      if (!camera) this.ctx.status(name + ": " + said);
      return;
    }
    const probabilities = toProbabilities(output[0], outputs);
    const ranked = showTopK(this.results, probabilities, labels, this.ctx.config.topk);
    this.time.textContent = "Inference: " + ms.toFixed(1) + " ms";
    // Kept as they are (no copies); inspect() turns them into plain arrays on request.
    this.last = { name, decoded, rgb, input, probabilities, camera };
    if (camera) return;
    this.ctx.status(name + ": " + ranked.map(([p, i]) => labels[i] + " " + (100 * p).toFixed(1) + "%").join(", ") + ".");
  }

  // A picture that failed: the previous picture and its classes would pass for its own.
  forgetPicture() {
    this.preview.hidden = true;
    this.hint.hidden = false;
    if (this.results) this.results.replaceChildren();
    if (this.output && this.output.clear) this.output.clear();
    this.time.textContent = "";
    this.last = null;
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

  // For tests and authors: the last picture's decoded pixels (a camera frame's
  // as drawn from the video), resized pixels, model input and shown probabilities.
  inspect() {
    if (!this.last) return null;
    const { name, decoded, rgb, input, probabilities, output, camera } = this.last;
    return {
      name, camera, width: decoded.width, height: decoded.height, decoded: Array.from(decoded.data),
      rgb: Array.from(rgb), input: Array.from(input),
      ...(output ? { output } : { probabilities: Array.from(probabilities) }),
    };
  }

  dispose() {
    this.stopCamera(null);
    if (this.output && this.output.dispose) this.output.dispose();
    for (const [target, type, fn] of this.handlers) target.removeEventListener(type, fn);
  }
}

registerWidget("image", ImageWidget);
