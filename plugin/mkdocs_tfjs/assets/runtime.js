// mkdocs-tfjs shared runtime: loads TensorFlow.js once per page, picks a
// backend, loads each widget's model when the widget nears the viewport,
// warms it up, and exposes window.tfjsWidgets for authors and tests.
//
// Widgets are ES modules that call registerWidget(name, Widget). This module
// knows no widget; widgets know only the small context object it hands them.

const CONFIG_SELECTOR = "script[data-tfjs-runtime]";
const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render/i;

const widgetTypes = new Map(); // widget name -> class
const instances = new Map(); // element id -> Instance
const scriptLoads = new Map(); // src -> Promise
let runtimeConfig = null;
let tfPromise = null;
let backendInfo = { name: null, reason: "", simd: false };
let observer = null;

// Read once, when this module first runs, with every URL made absolute: under
// Material's instant navigation the document (and its base URL) changes later.
function readRuntimeConfig() {
  if (!runtimeConfig) {
    const node = document.querySelector(CONFIG_SELECTOR);
    if (!node) throw new Error("the page has no " + CONFIG_SELECTOR + " element");
    const raw = JSON.parse(node.dataset.tfjsRuntime);
    const scripts = {};
    for (const [name, entry] of Object.entries(raw.scripts)) {
      scripts[name] = { ...entry, src: new URL(entry.src, document.baseURI).href };
    }
    runtimeConfig = { scripts, wasmPaths: new URL(raw.wasmPaths, document.baseURI).href };
  }
  return runtimeConfig;
}

// Widget modules live beside this one and load when a page first shows one.
const widgetModules = new Map(); // widget name -> Promise
function loadWidgetModule(name) {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) return Promise.reject(new Error("bad widget name " + name));
  if (!widgetModules.has(name)) {
    widgetModules.set(name, import(new URL(name + ".js", import.meta.url).href));
  }
  return widgetModules.get(name);
}

function loadScript(piece) {
  const entry = readRuntimeConfig().scripts[piece];
  if (!entry) return Promise.reject(new Error("runtime piece '" + piece + "' is not configured"));
  const src = entry.src;
  if (!scriptLoads.has(src)) {
    scriptLoads.set(src, new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.integrity = entry.integrity;
      script.crossOrigin = "anonymous";
      script.async = false;
      script.onload = () => resolve();
      script.onerror = () => reject(new Error("could not load " + src));
      document.head.appendChild(script);
    }));
  }
  return scriptLoads.get(src);
}

function webglProblem() {
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    if (!gl) return "WebGL is not available";
    const ext = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : "";
    const lose = gl.getExtension("WEBGL_lose_context");
    if (lose) lose.loseContext();
    const software = renderer.match(SOFTWARE_GL);
    if (software) return "WebGL is software-rendered (" + software[0] + ")";
    return null;
  } catch (err) {
    return "WebGL failed: " + err.message;
  }
}

async function tryBackend(tf, name) {
  if (name === "webgl") {
    const problem = webglProblem();
    if (problem) return problem;
  }
  if (name === "wasm" && typeof WebAssembly !== "object") return "WebAssembly is not available";
  try {
    await loadScript(name);
    if (name === "wasm") {
      tf.wasm.setWasmPaths(readRuntimeConfig().wasmPaths);
    }
    const ok = await tf.setBackend(name);
    if (!ok) return name + " failed to initialise";
    await tf.ready();
    return null;
  } catch (err) {
    return name + " failed: " + err.message;
  }
}

// Above this size a model is worth a (hardware) GPU; below it WebAssembly
// wins: measured on two cores, a 105k-parameter CNN ran in 0.3 ms on WASM and
// 9.3 ms on software WebGL, and WebGL's first call compiles shaders for seconds.
const LARGE_MODEL_BYTES = 4e6;

// What the widgets of the page ask for: an explicit backend, the largest model,
// and the backends whose kernels cover every op of every model (from the build).
function pageRequest() {
  let explicit = null, largest = 0, allowed = null;
  document.querySelectorAll(".tfjs-widget[data-config]").forEach((el) => {
    try {
      const config = JSON.parse(el.dataset.config);
      if (config.backend && config.backend !== "auto") explicit = explicit || config.backend;
      largest = Math.max(largest, config.shippedBytes || 0);
      if (Array.isArray(config.backends)) {
        allowed = allowed ? allowed.filter((b) => config.backends.includes(b)) : config.backends.slice();
      }
    } catch (err) { /* a broken widget reports itself */ }
  });
  return { explicit, largest, allowed };
}

async function chooseBackend(tf) {
  const { explicit, largest, allowed } = pageRequest();
  const large = largest >= LARGE_MODEL_BYTES;
  const auto = large ? ["webgl", "wasm", "cpu"] : ["wasm", "webgl", "cpu"];
  let order = explicit ? [explicit, ...auto.filter((b) => b !== explicit)] : auto;
  const skipped = [];
  if (allowed) {
    order.filter((b) => !allowed.includes(b)).forEach((b) => skipped.push(b + " lacks kernels for ops of the models here"));
    order = order.filter((b) => allowed.includes(b));
  }
  for (const name of order) {
    const problem = await tryBackend(tf, name);
    if (!problem) {
      let reason;
      if (skipped.length) reason = skipped.join("; ");
      else if (explicit) reason = "backend: " + explicit;
      else if (name === "webgl") reason = "a model over 4 MB, and a hardware GPU";
      else reason = "the models here are under 4 MB, where WebAssembly is fastest";
      let simd = false;
      if (name === "wasm") {
        try { simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"); } catch (err) { simd = false; }
      }
      backendInfo = { name, reason, simd };
      return;
    }
    skipped.push(problem);
  }
  throw new Error("no TensorFlow.js backend works here: " + skipped.join("; "));
}

export function loadTf() {
  if (!tfPromise) {
    tfPromise = (async () => {
      await loadScript("core");
      await loadScript("converter");
      const tf = window.tf;
      tf.enableProdMode();
      await chooseBackend(tf);
      return tf;
    })();
  }
  return tfPromise;
}

function explain(err) {
  const text = String(err && err.message || err);
  if (/404|Not Found/i.test(text)) return "The model file was not found on the server (" + text + ").";
  if (/could not load .*tf-/.test(text)) return "TensorFlow.js could not be loaded: " + text;
  return text;
}

class Instance {
  constructor(el, Widget) {
    this.el = el;
    this.config = JSON.parse(el.dataset.config);
    this.model = null;
    this.loading = null;
    this.disposed = false;
    this.lastMs = null;
    this.inferences = 0;
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => {});
    this.widget = new Widget(this.context());
  }

  context() {
    const self = this;
    return {
      el: this.el,
      config: this.config,
      get tf() { return window.tf; },
      status: (text) => self.setStatus(text),
      run: (fn) => self.run(fn),
      // For widgets of the author's own: the block's own keys, and the model on nested arrays.
      options: this.config.options || {},
      predict: (input) => self.predict(input),
      runtime: { loadScript },
    };
  }

  setStatus(text) {
    const node = this.el.querySelector(".tfjs-status");
    if (node) node.textContent = text;
  }

  setState(state) {
    this.el.dataset.state = state;
    this.el.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  }

  load() {
    if (!this.loading) {
      this.loading = (async () => {
        try {
          const tf = await loadTf();
          const url = new URL(this.config.model, document.baseURI).href;
          const model = await tf.loadGraphModel(url);
          if (this.disposed) { model.dispose(); return; }
          this.model = model;
          // Warm-up: the first inference compiles kernels; do it before a reader waits.
          await this.warmUp(tf);
          this.el.querySelector(".tfjs-card-backend").textContent =
            backendInfo.name + (backendInfo.simd ? " with SIMD" : "") + " (" + backendInfo.reason + ")";
          if (this.widget.prepare) await this.widget.prepare();
          this.setState("ready");
          this.setStatus(this.widget.readyText ? this.widget.readyText() : "Ready.");
          this.resolveReady(this);
        } catch (err) {
          this.fail(err);
        }
      })();
    }
    return this.readyPromise;
  }

  fail(err) {
    this.setState("error");
    const message = explain(err);
    this.setStatus("This widget could not start: " + message);
    this.el.querySelectorAll("button, input").forEach((control) => { control.disabled = true; });
    console.warn("tfjs widget " + this.el.id + ": " + message);
    this.rejectReady(new Error(message));
  }

  // Widgets build float32 tensors; a model may declare other input dtypes
  // (integer indices for an Embedding), and TF.js refuses a mismatch.
  execute(tf, inputs) {
    const cast = inputs.map((t, i) => (t.dtype === this.inputDtype(i) ? t : tf.cast(t, this.inputDtype(i))));
    return this.model.predict(cast.length === 1 ? cast[0] : cast);
  }

  inputDtype(index) {
    return (this.config.inputDtypes || [])[index] || "float32";
  }

  async warmUp(tf) {
    const zeros = this.config.inputs.map((s, i) => tf.zeros(s.map((d) => d ?? 1), this.inputDtype(i)));
    try {
      if (this.config.dynamic) tf.dispose(await this.model.executeAsync(zeros.length === 1 ? zeros[0] : zeros));
      else tf.tidy(() => { this.execute(tf, zeros); });
    } finally {
      tf.dispose(zeros);
    }
  }

  // A graph with control flow (a While loop, say) only runs through executeAsync,
  // which cannot run inside tf.tidy: run the widget's function once to collect the
  // inputs it builds, run the model on them, and hand its outputs to a second run.
  async runDynamic(tf, fn) {
    const stop = {};
    let captured = null;
    try {
      tf.tidy(() => fn(tf, (inputs) => {
        captured = inputs.map((t, i) => tf.keep(t.dtype === this.inputDtype(i) ? t.clone() : tf.cast(t, this.inputDtype(i))));
        throw stop;
      }));
    } catch (err) {
      if (err !== stop) throw err;
    }
    if (!captured) return tf.tidy(() => fn(tf, () => { throw new Error("the widget ran no model"); }));
    let outputs;
    try {
      outputs = await this.model.executeAsync(captured.length === 1 ? captured[0] : captured);
    } finally {
      tf.dispose(captured);
    }
    const list = Array.isArray(outputs) ? outputs : [outputs];
    try {
      return tf.tidy(() => fn(tf, () => {
        const copies = list.map((t) => t.clone());
        return copies.length === 1 ? copies[0] : copies;
      }));
    } finally {
      tf.dispose(list);
    }
  }

  // Run fn(tf, model-call) inside tf.tidy and time it; the result must be plain data.
  async run(fn) {
    const tf = window.tf;
    const started = performance.now();
    const tensors = this.config.dynamic
      ? await this.runDynamic(tf, fn)
      : tf.tidy(() => fn(tf, (inputs) => this.execute(tf, inputs)));
    const list = Array.isArray(tensors) ? tensors : [tensors];
    let values;
    try {
      values = await Promise.all(list.map((t) => t.array()));
    } finally {
      list.forEach((t) => t.dispose());
    }
    this.lastMs = performance.now() - started;
    this.inferences += 1;
    // The model card shows the last time; writing it at most once a frame keeps
    // DOM work off the inference path.
    if (!this.cardUpdate) {
      this.cardUpdate = requestAnimationFrame(() => {
        this.cardUpdate = 0;
        const time = this.el.querySelector(".tfjs-card-time");
        if (time) time.textContent = this.lastMs.toFixed(1) + " ms (" + backendInfo.name + ")";
      });
    }
    return Array.isArray(tensors) ? values : values[0];
  }

  async predict(input) {
    // A widget's own prepare() may predict: the model is there before the widget is ready.
    if (!this.model) await this.load();
    return this.run((tf, call) => {
      // Cast to the dtypes the model declares (integer indices for an Embedding).
      const given = this.config.inputs.length === 1 ? [input] : input;
      const inputs = given.map((x, i) => tf.tensor(x, undefined, this.inputDtype(i)));
      const out = call(inputs);
      return Array.isArray(out) ? out : out;
    });
  }

  dispose() {
    this.disposed = true;
    if (this.cardUpdate) cancelAnimationFrame(this.cardUpdate);
    if (this.widget.dispose) this.widget.dispose();
    if (this.model) this.model.dispose();
    this.model = null;
  }
}

function ensureObserver() {
  if (observer || typeof IntersectionObserver === "undefined") return observer;
  observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      const instance = instances.get(entry.target.id);
      if (instance) instance.load();
    }
  }, { rootMargin: "300px 0px" });
  return observer;
}

// Mount widgets that are new in the document and dispose those that left it
// (Material's instant navigation swaps page content without a reload).
export function scan() {
  for (const [id, instance] of instances) {
    if (!instance.el.isConnected) {
      instance.dispose();
      instances.delete(id);
    }
  }
  document.querySelectorAll(".tfjs-widget[data-widget]").forEach((el) => {
    const Widget = widgetTypes.get(el.dataset.widget);
    if (!Widget) {
      loadWidgetModule(el.dataset.widget).catch((err) => {
        el.dataset.state = "error";
        const status = el.querySelector(".tfjs-status");
        if (status) status.textContent = "This widget could not start: " + err.message;
      });
      return;
    }
    if (instances.has(el.id) && instances.get(el.id).el === el) return;
    let instance;
    try {
      instance = new Instance(el, Widget);
    } catch (err) {
      el.dataset.state = "error";
      const status = el.querySelector(".tfjs-status");
      if (status) status.textContent = "This widget could not start: " + err.message;
      return;
    }
    instances.set(el.id, instance);
    const io = ensureObserver();
    if (io) io.observe(el); else instance.load();
  });
}

// Wrap an async function so calls that arrive while it runs collapse into one
// more run, with the newest arguments: fast clicks or drops never pile up
// inferences, and the last request is the one answered.
export function coalesce(fn) {
  let running = null, pending = null;
  return (...args) => {
    if (running) { pending = args; return running; }
    running = (async () => {
      try {
        for (let next = args; next; next = pending) {
          pending = null;
          await fn(...next);
        }
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

export function registerWidget(name, Widget) {
  widgetTypes.set(name, Widget);
  scan();
}

function instanceOf(id) {
  const instance = instances.get(id);
  if (!instance) throw new Error("no tfjs widget with id '" + id + "' on this page");
  return instance;
}

readRuntimeConfig();

// The instance for an id, once its widget module has loaded.
// Resolves with the element once it is in the document (Material's instant
// navigation changes the URL before it swaps the content in).
function elementById(id, timeoutMs = 10000) {
  const found = document.getElementById(id);
  if (found) return Promise.resolve(found);
  return new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const el = document.getElementById(id);
      if (el) { observer.disconnect(); clearTimeout(timer); resolve(el); }
    });
    const timer = setTimeout(() => { observer.disconnect(); resolve(null); }, timeoutMs);
    observer.observe(document.documentElement, { childList: true, subtree: true });
  });
}

async function instanceWhenMounted(id) {
  if (!instances.has(id) || !instances.get(id).el.isConnected) {
    const el = await elementById(id);
    if (el && el.matches(".tfjs-widget[data-widget]")) {
      await loadWidgetModule(el.dataset.widget);
      scan();
    }
  }
  return instanceOf(id);
}

window.tfjsWidgets = {
  // Resolves when the widget's model is loaded and warm (loads it if needed).
  ready: async (id) => { await (await instanceWhenMounted(id)).load(); return true; },
  // The raw model output (nested arrays) for an input given as nested arrays.
  predict: async (id, input) => (await instanceWhenMounted(id)).predict(input),
  backend: () => ({ ...backendInfo }),
  // Widget-specific state for debugging and tests (e.g. what the model last saw).
  inspect: (id) => {
    const widget = instanceOf(id).widget;
    return widget.inspect ? widget.inspect() : null;
  },
  // How many inferences a widget ran and how long the last one took.
  stats: (id) => {
    const instance = instanceOf(id);
    return { inferences: instance.inferences, lastMs: instance.lastMs, state: instance.el.dataset.state };
  },
  // TF.js's memory counters, to check that nothing leaks.
  memory: () => (window.tf ? window.tf.memory() : null),
  ids: () => [...instances.keys()],
  scan,
};

if (window.document$ && typeof window.document$.subscribe === "function") {
  window.document$.subscribe(() => scan());
} else if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", scan);
} else {
  // Module scripts run after parsing: the document is already complete.
  scan();
}
