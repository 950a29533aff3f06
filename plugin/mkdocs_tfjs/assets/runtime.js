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
let backendInfo = { name: null, reason: "", simd: false, threads: 1, runtime: null };
// Which TF.js this visit loaded: "lean" (one file per backend, see loadBackendScripts) or "full".
let loadedRuntime = null;
let observer = null;
// The inference clock, read through a reference: the global `performance` is a getter
// of the window that costs some 160 ns a read in Chromium (performance.now() 240 ns,
// clock.now() 80 ns), and every inference reads the clock twice.
const clock = performance;

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
    runtimeConfig = {
      scripts,
      wasmPaths: new URL(raw.wasmPaths, document.baseURI).href,
      wasmIntegrity: raw.wasmIntegrity || {},
      threads: raw.threads === true,
      isolation: raw.isolation ? new URL(raw.isolation, document.baseURI).href : null,
    };
  }
  return runtimeConfig;
}

// Widget modules live beside this one and load when a page first shows one.
// The module for widget `name` is `name.js` (an author's is copied there from
// `widgets:` in mkdocs.yml) and must call registerWidget(name, ...) as it runs.
const widgetModules = new Map(); // widget name -> Promise
const registeredBy = new Map(); // widget name -> URL of the module that registered it
function loadWidgetModule(el) {
  const name = el.dataset.widget;
  if (!/^[a-z][a-z0-9-]*$/.test(name)) return Promise.reject(new Error("bad widget name " + name));
  if (!widgetModules.has(name)) {
    const file = name + ".js";
    // The browser's own messages (a SyntaxError's "Unexpected end of input") name no file.
    const where = "the widget module " + file
      + (authorsWidget(el) ? " (`" + name + "` under `widgets:` in mkdocs.yml)" : "");
    const url = new URL(file, import.meta.url).href;
    widgetModules.set(name, import(url).then(() => {
      if (widgetTypes.has(name)) return;
      // What this module registered instead (not what a module it imports registered, nor
      // another module loading at the same time: palette.js imports generator.js).
      const others = [...registeredBy].filter(([, by]) => by === url).map(([other]) => other);
      throw new Error(where + (others.length
        ? " registered the widget " + others.map((other) => "'" + other + "'").join(", ")
          + " instead of '" + name + "': call registerWidget(\"" + name + "\", ...) in it,"
          + " or use its name under `widgets:` and in `widget:`"
        : " registered no widget: end it with registerWidget(\"" + name + "\", YourWidget)"));
    }, (err) => {
      const what = (err && err.name ? err.name + ": " : "") + (err && err.message || err);
      throw new Error(where + " could not run: " + what);
    }));
  }
  return widgetModules.get(name);
}

// The output part `show:` names (`config.output`), built for the widget's element: a
// built-in part's module exports its class as `default`; an author's module (named
// under `widgets:` in mkdocs.yml and in `show:`) calls registerOutput(name, Output).
// Either class takes (el, config, status) and has show(output, picture), which draws
// the model's output and returns the status text; status(text) shows a line of its
// own (what a click on the output did); clear(), readyText() and dispose() are optional.
const outputTypes = new Map(); // author's output name -> class
async function loadOutputPart(el, output, status) {
  const author = output.author;
  const where = "the output module " + output.module
    + (author ? " (`" + author + "` under `widgets:` in mkdocs.yml, named in `show:`)" : "");
  try {
    const module = await import(new URL(output.module, import.meta.url).href);
    const Output = author ? outputTypes.get(author) : module.default;
    if (typeof Output !== "function") {
      throw new Error(author ? "it registered no output: end it with registerOutput(\"" + author + "\", YourOutput)"
        : "it exports no default class");
    }
    const part = new Output(el, output, status);
    if (typeof part.show !== "function") {
      throw new Error("its output has no show(output, picture) method to draw the model's output");
    }
    return part;
  } catch (err) {
    throw new Error(where + ": " + (err && err.name && err.name !== "Error" ? err.name + ": " : "")
      + (err && err.message || err));
  }
}

// The build hands the block's own keys (`options`) to widgets of the author's own only.
function authorsWidget(el) {
  try {
    return "options" in JSON.parse(el.dataset.config);
  } catch (err) {
    return false;
  }
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

// Adapters that are software, whatever their vendor says: SwiftShader (Chromium's
// fallback, vendor "google", architecture "swiftshader"), Mesa's lavapipe/llvmpipe,
// Windows' WARP ("Microsoft Basic Render Driver").
const SOFTWARE_GPU = /swiftshader|lavapipe|llvmpipe|softpipe|software|basic render|warp/i;

// Why WebGPU is no use here, or null for a hardware adapter; asked once per visit.
// Browsers hide an adapter's details to different degrees: isFallbackAdapter sits
// on the adapter (older Chromium) or on adapter.info (newer), and adapter.info
// replaced requestAdapterInfo().
let webgpuChecked = null;
function webgpuProblem() {
  if (!webgpuChecked) {
    webgpuChecked = (async () => {
      if (!navigator.gpu) return "WebGPU is not available in this browser";
      let adapter;
      try {
        // The adapter TF.js's webgpu backend asks for (WEBGPU_USE_LOW_POWER_GPU off).
        adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
      } catch (err) {
        return "WebGPU gave no adapter (" + (err && err.message || err) + ")";
      }
      if (!adapter) return "WebGPU has no adapter here";
      let info = adapter.info;
      if (!info && typeof adapter.requestAdapterInfo === "function") {
        try { info = await adapter.requestAdapterInfo(); } catch (err) { info = null; }
      }
      info = info || {};
      const described = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ");
      const software = described.match(SOFTWARE_GPU);
      if (adapter.isFallbackAdapter || info.isFallbackAdapter || software) {
        return "WebGPU's adapter is software (" + (software ? software[0] : "a fallback adapter") + ")";
      }
      return null;
    })();
  }
  return webgpuChecked;
}

// Where webgpu goes in the order of backends to try. Asked for (`backend: webgpu`),
// it comes first and WebAssembly next. Under `auto`, only for a page whose largest
// counted model needs WEBGPU_MIN_MACS multiply-adds or more, and only on a hardware
// adapter; otherwise it is not tried at all (its script is never fetched). After it
// failed its first inference (request.webgpuFailed), never again this visit.
async function placeWebgpu(order, request, skipped) {
  const rest = order.filter((b) => b !== "webgpu" && b !== "wasm");
  if (request.webgpuFailed) {
    skipped.push(request.webgpuFailed);
    return ["wasm", ...rest];
  }
  if (request.explicit === "webgpu") return ["webgpu", "wasm", ...rest];
  if (request.explicit || request.gpuMacs < WEBGPU_MIN_MACS) return order.filter((b) => b !== "webgpu");
  if (request.allowed && !request.allowed.includes("webgpu")) return order;
  const problem = await webgpuProblem();
  if (problem) {
    skipped.push(problem);
    return order.filter((b) => b !== "webgpu");
  }
  return ["webgpu", "wasm", ...rest];
}

// WebGPU reports a failing kernel late: a shader the driver refuses, or a
// dispatch it rejects, is a GPU error that throws nowhere. So the first
// inference on webgpu runs inside error scopes and its outputs are read back;
// any error moves the page to WebAssembly, and this widget's model (and any
// other model already loaded on webgpu) is loaded again there.
async function warmUpOnWebgpu(instance, tf) {
  const device = tf.backend().device;
  const scopes = ["validation", "internal", "out-of-memory"];
  scopes.forEach((scope) => device.pushErrorScope(scope));
  let failure = null;
  const zeros = instance.config.inputs.map((s, i) => tf.zeros(s.map((d) => d ?? 1), instance.inputDtype(i)));
  try {
    const given = zeros.length === 1 ? zeros[0] : zeros;
    const outputs = instance.config.dynamic ? await instance.model.executeAsync(given) : instance.execute(tf, zeros);
    const list = Array.isArray(outputs) ? outputs : [outputs];
    try {
      await Promise.all(list.map((t) => t.data()));
    } finally {
      tf.dispose(list);
    }
  } catch (err) {
    failure = err && err.message || String(err);
  } finally {
    tf.dispose(zeros);
  }
  const errors = (await Promise.all(scopes.map(() => device.popErrorScope()))).filter(Boolean);
  if (!failure && errors.length) failure = errors.map((e) => e.message.split("\n")[0]).join("; ");
  if (!failure) return;
  const wasmTf = await fallBackFromWebgpu("webgpu failed at its first inference: " + failure);
  // A model loaded while another widget's fall back was under way is not among those it reloaded.
  if (!reloadedModels.has(instance.model)) await reloadModel(instance, wasmTf);
  await instance.warmUp(wasmTf);
}

// Models loaded again by the fall back from webgpu.
const reloadedModels = new WeakSet();
async function reloadModel(instance, tf) {
  const old = instance.model;
  instance.model = await tf.loadGraphModel(new URL(instance.config.model, document.baseURI).href);
  reloadedModels.add(instance.model);
  if (old) old.dispose();
}

// Once per visit: the page's backend becomes WebAssembly (or what follows it),
// and every model loaded on webgpu is loaded again on it.
let webgpuFallback = null;
let webgpuFailure = null; // why, for pages reached later by instant navigation
function fallBackFromWebgpu(reason) {
  if (!webgpuFallback) {
    webgpuFailure = reason;
    webgpuFallback = (async () => {
      const request = pageRequest();
      if (loadedRuntime === "full") request.lean = false;
      const tf = await chooseBackend({ ...request, webgpuFailed: reason });
      const reloads = [...instances.values()].filter((instance) => instance.model).map(async (instance) => {
        await reloadModel(instance, tf);
        const card = instance.el.querySelector(".tfjs-card-backend");
        if (card && instance.el.dataset.state === "ready") card.textContent = describeBackend();
      });
      await Promise.all(reloads);
      return tf;
    })();
    // Widgets that load later get the new backend.
    if (backendChoice) backendChoice = { key: backendChoice.key, promise: webgpuFallback };
  }
  return webgpuFallback;
}

// What the model card says of the backend.
function describeBackend() {
  const threads = backendInfo.threads > 1 ? ", " + backendInfo.threads + " threads" : "";
  return backendInfo.name + (backendInfo.simd ? " with SIMD" : "") + threads + " (" + backendInfo.reason + ")";
}

// `threads: true`: TF.js's WebAssembly backend runs threads on a cross-origin-isolated
// page only. Where the host sends no isolation headers, the service worker the build
// wrote at the site's root (assets/isolation.js) adds them to the pages it serves: the
// first page reloads once, as it comes under it. A browser the worker cannot isolate
// (no COEP credentialless) is not reloaded again in the same tab, and runs one thread.
const ISOLATION_TRIED = "tfjs-isolation-reloaded";
let isolation = null;
function isolate() {
  if (!isolation) {
    isolation = (async () => {
      const { threads, isolation: worker } = readRuntimeConfig();
      if (!threads || !worker) return "off";
      if (window.crossOriginIsolated) {
        sessionStorage.removeItem(ISOLATION_TRIED);
        return "isolated";
      }
      // Service workers need a secure context: https, or localhost.
      if (!window.isSecureContext || !navigator.serviceWorker) return "not isolated: no service workers here";
      await navigator.serviceWorker.register(worker, { scope: new URL("./", worker).href });
      await navigator.serviceWorker.ready;
      if (sessionStorage.getItem(ISOLATION_TRIED)) return "not isolated: this browser does not isolate pages through a service worker";
      sessionStorage.setItem(ISOLATION_TRIED, "1");
      window.location.reload();
      return new Promise(() => {});
    })().catch((err) => "not isolated: " + (err && err.message || err));
  }
  return isolation;
}

// The WebAssembly binary, fetched with its Subresource Integrity hash and
// handed to TF.js as verified bytes: TF.js itself fetches it without a check.
let wasmPrepared = null;
function prepareWasm(tf) {
  if (!wasmPrepared) {
    wasmPrepared = (async () => {
      const { wasmPaths, wasmIntegrity } = readRuntimeConfig();
      // Threads only where the author asked for them: a page isolated by its host for
      // another reason keeps the single-threaded binary.
      if (!readRuntimeConfig().threads) tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
      const [simd, threads] = await Promise.all([
        tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"), tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"),
      ]);
      // The same choice TF.js makes (getPathToWasmBinary in tfjs-backend-wasm).
      const file = simd && threads ? "tfjs-backend-wasm-threaded-simd.wasm"
        : simd ? "tfjs-backend-wasm-simd.wasm" : "tfjs-backend-wasm.wasm";
      const url = wasmPaths + file;
      let response;
      try {
        response = await fetch(url, { integrity: wasmIntegrity[file] || "", credentials: "same-origin" });
      } catch (err) {
        // fetch() rejects alike when the bytes fail their hash and when nothing
        // came: fetching them again without the hash tells the two apart.
        let reachable = false;
        try {
          reachable = (await fetch(url, { credentials: "same-origin", cache: "no-store" })).ok;
        } catch (again) {
          reachable = false;
        }
        throw new Error(reachable
          ? file + " was refused (it does not match its integrity hash: " + wasmPaths
            + " serves other bytes than the pinned release)"
          : file + " could not be fetched from " + wasmPaths + " (" + (err && err.message || err)
            + "): the network or that server is down, or it does not allow this site (CORS)");
      }
      if (!response.ok) throw new Error(file + " answered " + response.status);
      const bytes = await response.arrayBuffer();
      const platform = tf.env().platform;
      const platformFetch = platform.fetch.bind(platform);
      platform.fetch = (path, init) => (path === url
        ? Promise.resolve(new Response(bytes.slice(0), { headers: { "Content-Type": "application/wasm" } }))
        : platformFetch(path, init));
      tf.wasm.setWasmPaths(wasmPaths, true);
    })();
  }
  return wasmPrepared;
}

// The TF.js scripts of one backend. Lean: one file (vendor/lean in the package)
// holding tfjs-core, the graph-model part of tfjs-converter, the backend and the
// kernels of the ops the native converter writes; each sets window.tf, and all
// copies share TF.js's engine and kernel registry (kept on the global object),
// so falling back to another backend's lean file works. Full: the pinned npm
// builds of core and converter, then the backend's script.
async function loadBackendScripts(name, lean) {
  if (lean) {
    await loadScript("lean-" + name);
    loadedRuntime = "lean";
    window.tf.enableProdMode();
    return window.tf;
  }
  const tf = await loadTfScripts();
  await loadScript(name);
  return tf;
}

// The TF.js that runs, or why the backend does not. `forced`: the page asked for it.
async function tryBackend(name, forced, lean) {
  if (name === "webgl") {
    const problem = webglProblem();
    // A page that asks for webgl gets it even when software-rendered; the model card says so.
    if (problem && !(forced && /software-rendered/.test(problem))) return problem;
  }
  if (name === "wasm" && typeof WebAssembly !== "object") return "WebAssembly is not available";
  if (name === "webgpu") {
    // Checked before its script loads: a browser without an adapter fetches nothing of WebGPU's.
    const problem = await webgpuProblem();
    // A page that asks for webgpu gets it even on a software adapter; the model card says so.
    if (problem && !(forced && /software/.test(problem))) return problem;
  }
  try {
    const tf = await loadBackendScripts(name, lean);
    if (name === "wasm") await prepareWasm(tf);
    const ok = await tf.setBackend(name);
    if (!ok) return name + " failed to initialise";
    await tf.ready();
    return { tf };
  } catch (err) {
    return name + " failed: " + (err && err.message || err);
  }
}

// Above this size a model is worth a (hardware) GPU; below it WebAssembly
// wins: measured on two cores, a 105k-parameter CNN ran in 0.3 ms on WASM and
// 9.3 ms on software WebGL, and WebGL's first call compiles shaders for seconds.
const LARGE_MODEL_BYTES = 4e6;
// At or below this many multiply-adds per inference (counted by the build) the
// plain CPU backend answers in about 2 ms or less, and skipping WebAssembly
// saves fetching and compiling its 137 KB (gzipped) binary: measured on two
// cores, 0.3-1.4 ms up to 50k (the palette model: 23.5k), 1.8-3.3 ms at
// 140-200k, 5.6-6 ms at 500k (benchmarks/backends.md).
const SMALL_MODEL_MACS = 200000;
// At or above this many multiply-adds per inference `auto` tries WebGPU, on a
// hardware adapter only. Not measured on a real GPU (none was at hand: see the
// Performance page); derived from what was measured: single-threaded WebAssembly
// runs about 7 million multiply-adds per millisecond here (29.4 M in 4 ms,
// benchmarks/backends.md), and a GPU answer costs a few milliseconds whatever the
// model (submitting the dispatches, then reading the result back to the page),
// so below some 30 M WebAssembly answers about as fast as a GPU round trip can.
const WEBGPU_MIN_MACS = 30e6;

// What the widgets of the page ask for: an explicit backend, the largest model,
// and the backends whose kernels cover every op of every model (from the build).
function pageRequest() {
  let explicit = null, largest = 0, allowed = null, macs = 0, lean = true, gpuMacs = 0;
  document.querySelectorAll(".tfjs-widget[data-config]").forEach((el) => {
    try {
      const config = JSON.parse(el.dataset.config);
      // The build marks a widget lean when the lean files run every op of its model.
      lean = lean && config.lean === true;
      if (config.backend && config.backend !== "auto") explicit = explicit || config.backend;
      largest = Math.max(largest, config.shippedBytes || 0);
      // A model the build could not count (TensorFlow's converter) is not known to be small.
      macs = Math.max(macs, typeof config.macs === "number" ? config.macs : Infinity);
      // Nor is it known to be large enough for WebGPU.
      gpuMacs = Math.max(gpuMacs, typeof config.macs === "number" ? config.macs : 0);
      if (Array.isArray(config.backends)) {
        allowed = allowed ? allowed.filter((b) => config.backends.includes(b)) : config.backends.slice();
      }
    } catch (err) { /* a broken widget reports itself */ }
  });
  return { explicit, large: largest >= LARGE_MODEL_BYTES, small: macs <= SMALL_MODEL_MACS ? macs : null, allowed, lean, gpuMacs };
}

async function chooseBackend(request) {
  const { explicit, large, small, allowed, lean } = request;
  const auto = large ? ["webgl", "wasm", "cpu"] : small !== null ? ["cpu", "wasm", "webgl"] : ["wasm", "webgl", "cpu"];
  let order = explicit ? [explicit, ...auto.filter((b) => b !== explicit)] : auto;
  const skipped = [];
  order = await placeWebgpu(order, request, skipped);
  if (allowed) {
    order.filter((b) => !allowed.includes(b)).forEach((b) => skipped.push(b + " lacks kernels for ops of the models here"));
    order = order.filter((b) => allowed.includes(b));
  }
  for (const name of order) {
    const outcome = await tryBackend(name, name === explicit, lean);
    if (typeof outcome !== "string") {
      const tf = outcome.tf;
      let reason;
      if (explicit === "webgpu" && name !== "webgpu") reason = "backend: webgpu fell back to " + name + ": " + skipped.join("; ");
      else if (skipped.length) reason = skipped.join("; ");
      else if (name === "webgpu" && explicit) {
        const note = await webgpuProblem();
        reason = "backend: webgpu" + (note ? "; " + note : "");
      }
      else if (name === "webgpu") {
        reason = "a model of " + request.gpuMacs.toLocaleString("en-US") + " multiply-adds per inference, and a hardware GPU";
      }
      else if (explicit && name === "webgl" && webglProblem()) reason = "backend: webgl; " + webglProblem();
      else if (explicit) reason = "backend: " + explicit;
      else if (name === "webgl") reason = "a model over 4 MB, and a hardware GPU";
      else if (name === "cpu" && small !== null) {
        reason = "the models here need at most " + small.toLocaleString("en-US") + " multiply-adds per inference: "
          + "small enough for the CPU backend, with no WebAssembly to download";
      }
      else reason = "the models here are under 4 MB, where WebAssembly is fastest";
      let simd = false, threads = 1;
      if (name === "wasm") {
        try { simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"); } catch (err) { simd = false; }
        threads = tf.wasm.getThreadsCount();
        const isolated = await isolate();
        if (isolated !== "off" && threads === 1) {
          reason += "; one thread (" + (isolated === "isolated"
            ? "the browser reports " + navigator.hardwareConcurrency + " logical cores" : isolated) + ")";
        }
      }
      backendInfo = { name, reason, simd, threads, runtime: lean ? "lean" : "full" };
      return tf;
    }
    skipped.push(outcome);
  }
  throw new Error("no TensorFlow.js backend works here: " + skipped.join("; "));
}

// TF.js itself loads once per visit.
function loadTfScripts() {
  if (!tfPromise) {
    tfPromise = (async () => {
      loadedRuntime = "full";
      await loadScript("core");
      await loadScript("converter");
      window.tf.enableProdMode();
      return window.tf;
    })();
  }
  return tfPromise;
}

// The backend is chosen per page: a page reached by Material's instant
// navigation may ask for another backend than the page before it, whose
// widgets (and their tensors) are disposed by then.
let backendChoice = null; // {key, promise}
export async function loadTf() {
  // A page that reloads to come under the isolating service worker loads nothing first.
  await isolate();
  const request = pageRequest();
  // WebGPU that failed once on this visit is not tried again on the next page.
  if (webgpuFailure) request.webgpuFailed = webgpuFailure;
  // Once the full TF.js is loaded it serves lean pages too (it is a superset).
  if (loadedRuntime === "full") request.lean = false;
  if (loadedRuntime === "lean" && !request.lean) {
    // Reached by instant navigation from a lean page: this page's models need
    // kernels the lean files lack, and a second TF.js core cannot be loaded
    // over the first, so the page loads afresh and gets the full pieces.
    window.location.reload();
    return new Promise(() => {});
  }
  const key = (request.explicit || (request.large ? "auto-large" : request.small !== null ? "auto-small" : "auto"))
    + "|" + (request.allowed || []).join(",") + "|" + (request.lean ? "lean" : "full")
    + (request.gpuMacs >= WEBGPU_MIN_MACS ? "|gpu" : "");
  if (!backendChoice || backendChoice.key !== key) {
    const previous = backendChoice ? backendChoice.promise.catch(() => {}) : Promise.resolve();
    backendChoice = { key, promise: previous.then(() => chooseBackend(request)) };
  }
  return backendChoice.promise;
}

function explain(err) {
  const text = String(err && err.message || err);
  if (/404|Not Found/i.test(text)) return "The model file was not found on the server (" + text + ").";
  if (/could not load .*(tf-|tfjs-lean-)/.test(text)) return "TensorFlow.js could not be loaded: " + text;
  return text;
}

class Instance {
  constructor(el, Widget) {
    this.el = el;
    this.config = JSON.parse(el.dataset.config);
    this.model = null;
    this.loading = null;
    this.disposed = false;
    this.settled = false;
    this.lastMs = null;
    this.inferences = 0;
    this.observations = 0; // IntersectionObserver entries seen for the element
    this.busy = 0; // coalesced functions running (see coalesce)
    this.preprocessors = null; // the model's own text or lookup layers (see loadPreprocessing)
    this.idleWaiters = [];
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = (value) => { this.settled = true; resolve(value); };
      this.rejectReady = (err) => { this.settled = true; reject(err); };
    });
    this.readyPromise.catch(() => {});
    this.card = el.querySelector(".tfjs-card");
    if (this.card) this.card.addEventListener("toggle", () => { if (this.card.open) this.showTime(); });
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
      coalesce: (fn) => self.coalesce(fn),
      // For widgets of the author's own: the block's own keys, and the model on nested
      // arrays, typed arrays or tensors.
      options: this.config.options || {},
      predict: (input) => self.predict(input),
      // A model input's own preprocessing (text to token indices), or null: see preprocess.js.
      preprocessor: (index = 0) => (self.preprocessors ? self.preprocessors[index] : null),
      runtime: { loadScript },
      // For inputs that hand the model's output on: the output part `show:` names.
      outputPart: () => loadOutputPart(self.el, self.config.output, (text) => self.setStatus(text)),
    };
  }

  // coalesce() bound to this widget: it counts as busy while it runs, drops
  // what is still queued when the widget is disposed, and reports failures in
  // the widget's status instead of leaving a rejected promise.
  coalesce(fn) {
    return coalesce(fn, {
      onBusy: () => { this.busy += 1; },
      onIdle: () => {
        this.busy -= 1;
        if (!this.busy) this.idleWaiters.splice(0).forEach((resolve) => resolve());
      },
      stopped: () => this.disposed,
      onError: (err) => {
        if (this.disposed) return;
        this.setStatus("Something went wrong: " + explain(err));
        console.warn("tfjs widget " + this.el.id + ": " + explain(err));
      },
    });
  }

  // Resolves once no coalesced work runs or waits.
  idle() {
    return this.busy ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
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
    if (!this.loading && !this.disposed) {
      this.loading = (async () => {
        let model = null;
        try {
          const tf = await loadTf();
          if (this.disposed) return;
          model = await loadModel(tf, this.el, this.config);
          if (this.disposed) { model.dispose(); return; }
          this.model = model;
          if (this.config.preprocessing) await this.loadPreprocessing();
          if (this.disposed) return;
          // Warm-up: the first inference compiles kernels; do it before a reader waits.
          await this.warmUp(tf);
          this.el.querySelector(".tfjs-card-backend").textContent = describeBackend();
          if (this.widget.prepare) await this.widget.prepare();
          if (this.disposed) return;
          this.setState("ready");
          this.setStatus(this.widget.readyText ? this.widget.readyText() : "Ready.");
          loadFinished(this.el);
          this.resolveReady(this);
        } catch (err) {
          if (!this.disposed) this.fail(err);
        }
      })();
    }
    return this.readyPromise;
  }

  // The model's own text or lookup layers, which the build took out of the graph
  // (preprocess.json); preprocess.js runs them, and loads only for such a model.
  async loadPreprocessing() {
    const url = new URL(this.config.preprocessing, document.baseURI).href;
    const [module, data] = await Promise.all([
      import(new URL("preprocess.js", import.meta.url).href),
      fetch(url, { credentials: "same-origin" }).then((response) => {
        if (!response.ok) throw new Error("the model's preprocessing (" + url + ") answered " + response.status);
        return response.json();
      }),
    ]);
    this.preprocessors = module.makePreprocessors(data);
  }

  // What the graph takes for the raw inputs (text, say) a model with its own
  // preprocessing gets: nested arrays, one per input.
  encode(inputs) {
    if (!this.preprocessors) return inputs;
    return inputs.map((x, i) => (this.preprocessors[i] ? this.preprocessors[i].encode(x) : x));
  }

  fail(err) {
    this.setState("error");
    const message = explain(err);
    this.setStatus("This widget could not start: " + message);
    this.el.querySelectorAll("button, input, select").forEach((control) => { control.disabled = true; });
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
    if (backendInfo.name === "webgpu") return warmUpOnWebgpu(this, tf);
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
    if (this.disposed || !this.model) throw new Error("the widget was removed from the page");
    const tf = window.tf;
    const started = clock.now();
    const tensors = this.config.dynamic
      ? await this.runDynamic(tf, fn)
      : tf.tidy(() => fn(tf, (inputs) => this.execute(tf, inputs)));
    return this.answer(tensors, started);
  }

  // The model's outputs as nested arrays (the tensors disposed), the inference counted and timed.
  async answer(tensors, started) {
    let values;
    if (Array.isArray(tensors)) {
      try {
        values = await Promise.all(tensors.map((t) => t.array()));
      } finally {
        tensors.forEach((t) => t.dispose());
      }
    } else {
      try {
        values = await tensors.array();
      } finally {
        tensors.dispose();
      }
    }
    this.lastMs = clock.now() - started;
    this.inferences += 1;
    // The model card shows the last time while it is open, written at most once a frame;
    // opening it writes it (see showTime). A text change costs the page a style and layout
    // pass: written on every frame it took 8-10 % of the main thread's time next to the
    // emoji model's inferences (benchmarks/speed.py).
    if (!this.cardUpdate && this.card && this.card.open) {
      this.cardUpdate = requestAnimationFrame(() => {
        this.cardUpdate = 0;
        this.showTime();
      });
    }
    return values;
  }

  showTime() {
    const time = this.el.querySelector(".tfjs-card-time");
    if (time && this.lastMs !== null) time.textContent = this.lastMs.toFixed(1) + " ms (" + backendInfo.name + ")";
  }

  // `input`: for each of the model's inputs (one, or a list for a model with several),
  // nested arrays, a typed array of its values (row-major; the batch size follows from the
  // length) or a tf.Tensor, which stays the caller's: it is neither disposed nor kept.
  predict(input) {
    // A widget's own prepare() may predict: the model is there before the widget is ready.
    if (!this.model) return this.load().then(() => this.predictLoaded(input));
    return this.predictLoaded(input);
  }

  // A graph with control flow goes through run (executeAsync, outside tf.tidy). A static
  // one skips run's tf.tidy and closures: model.predict tidies its own intermediate tensors,
  // and the tensors made here (from the input, or a cast of the caller's) are disposed here.
  // On the small demo models (40-150 µs an inference) those were most of the API's few µs
  // per call over plain TF.js (benchmarks/speed.py). No async frame of its own: answer's
  // promise is the result, and a bad input is a rejected promise, as from run.
  predictLoaded(input) {
    if (this.config.dynamic) return this.run((tf, call) => call(this.inputTensors(tf, input, [])));
    if (this.disposed || !this.model) return Promise.reject(new Error("the widget was removed from the page"));
    const started = clock.now();
    const made = [];
    let outputs;
    try {
      const inputs = this.inputTensors(window.tf, input, made);
      outputs = this.model.predict(inputs.length === 1 ? inputs[0] : inputs);
    } catch (err) {
      for (const tensor of made) tensor.dispose();
      return Promise.reject(err);
    }
    // An input that the graph hands back as an output (no op between them) is answer's to dispose.
    for (const tensor of made) {
      if (tensor !== outputs && !(Array.isArray(outputs) && outputs.includes(tensor))) tensor.dispose();
    }
    return this.answer(outputs, started);
  }

  // The model's inputs as tensors of the dtypes it declares; those made here go into `made`.
  inputTensors(tf, input, made) {
    const plans = this.inputPlans();
    // One input, no text to encode (the common case): no lists to build.
    if (plans.length === 1 && !this.preprocessors) return [this.inputTensor(tf, input, plans[0], made)];
    const raw = plans.length === 1 ? [input] : input;
    if (!Array.isArray(raw) || raw.length !== plans.length) {
      throw new Error("predict: the model takes " + plans.length + " inputs: give a list of " + plans.length
        + " (nested arrays, typed arrays or tensors), one per input");
    }
    // Text for an input the page preprocesses (the model's own TextVectorization) becomes
    // what the graph takes; other inputs pass as they are.
    const given = this.preprocessors ? this.encode(raw) : raw;
    const tensors = new Array(given.length);
    for (let i = 0; i < given.length; i++) tensors[i] = this.inputTensor(tf, given[i], plans[i], made);
    return tensors;
  }

  // What each input takes, worked out once: predict checks every call against it.
  inputPlans() {
    if (!this.plans) {
      this.plans = this.config.inputs.map((expected, index) => {
        const free = expected.filter((d) => d === null).length;
        return {
          index, expected, free, dtype: this.inputDtype(index),
          known: expected.reduce((n, d) => n * (d === null ? 1 : d), 1),
          shape: free ? null : expected.slice(),
        };
      });
    }
    return this.plans;
  }

  // One input as a tensor of the dtype the model declares (integer indices for an
  // Embedding), or an error that says what the model takes. A tensor made here (from
  // nested arrays or a typed array, or a cast of the caller's) goes into `made` at once,
  // so that it is disposed even when a check after it fails.
  inputTensor(tf, x, plan, made) {
    const { expected, dtype, known, free } = plan;
    let tensor;
    // A typed array first: the form of the callers that care for speed.
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      if (x instanceof BigInt64Array || x instanceof BigUint64Array) {
        throw new Error(whereInput(plan) + "is a " + x.constructor.name + ": give a Float32Array or an Int32Array"
          + takes(plan));
      }
      if (free > 1 || (free === 0 && x.length !== known) || x.length % known !== 0 || x.length === 0) {
        throw new Error(whereInput(plan) + "is a " + x.constructor.name + " of " + x.length + " values, "
          + (free > 1 ? "and the model's input has " + free + " sizes of any length: give a tensor or nested arrays"
            : "which is no whole number of examples of " + known + " values") + takes(plan));
      }
      // tf.tensor takes these four and converts them as it converts nested arrays' numbers;
      // others (a Float64Array) are converted the same way here.
      const values = x instanceof Float32Array || x instanceof Int32Array || x instanceof Uint8Array
        || x instanceof Uint8ClampedArray ? x : new (dtype === "int32" ? Int32Array : Float32Array)(x);
      tensor = tf.tensor(values, plan.shape || expected.map((d) => (d === null ? x.length / known : d)), dtype);
      made.push(tensor);
      return tensor;
    } else if (isTensor(x)) {
      if (x.isDisposed) throw new Error(whereInput(plan) + "is a disposed tensor");
      if (x.dtype !== "float32" && x.dtype !== "int32") {
        throw new Error(whereInput(plan) + "is a " + x.dtype + " tensor: give float32 or int32" + takes(plan));
      }
      tensor = x;
    } else if (Array.isArray(x)) {
      tensor = tf.tensor(x, undefined, dtype);
      made.push(tensor);
    } else {
      const what = x === null ? "null" : typeof x === "object" ? "an object" : "a " + typeof x;
      throw new Error(whereInput(plan) + "is " + what + ": give nested arrays, a typed array or a tf.Tensor" + takes(plan));
    }
    const shape = tensor.shape;
    if (shape.length !== expected.length || shape.some((d, i) => expected[i] !== null && expected[i] !== d)) {
      throw new Error(whereInput(plan) + "has shape [" + shape.join(", ") + "]" + takes(plan));
    }
    if (tensor.dtype === dtype) return tensor;
    // A caller's tensor of the other dtype (float32 values for an Embedding's indices).
    const cast = tf.cast(tensor, dtype);
    made.push(cast);
    return cast;
  }

  stats() {
    return {
      inferences: this.inferences, lastMs: this.lastMs, state: this.el.dataset.state,
      // Busy: an inference runs, waits, or is scheduled (the handwriting delay).
      busy: this.busy > 0 || Boolean(this.widget.pending && this.widget.pending()),
      observations: this.observations,
    };
  }

  dispose() {
    if (this.disposed) return;
    this.disposed = true;
    if (observer) observer.unobserve(this.el);
    if (!this.settled) this.rejectReady(new Error("the widget left the page before its model loaded"));
    if (this.cardUpdate) cancelAnimationFrame(this.cardUpdate);
    if (this.widget.dispose) this.widget.dispose();
    if (this.model) this.model.dispose();
    this.model = null;
  }
}

// The start of predict's errors about one input, and what that input takes.
function whereInput(plan) {
  return "predict: input " + plan.index + " ";
}

function takes(plan) {
  return " (the model takes [" + plan.expected.map((d) => (d === null ? "any" : d)).join(", ") + "], "
    + plan.dtype + ")";
}

// Told by its members: the lean TF.js files do not export the Tensor class, and a tensor
// of another TF.js copy (an author's bundle) is a tensor too.
function isTensor(x) {
  return Boolean(x) && typeof x === "object" && Array.isArray(x.shape) && typeof x.dtype === "string"
    && x.dataId !== undefined;
}

// ---- Loading a model: when (`load:`), with progress, and kept in the browser ----

// `load: visible` (and `auto` under the build's load_threshold): as the widget nears
// the viewport. `load: click`: nothing is fetched, TF.js included, until the reader
// presses Load model (an author's base.html without the button loads as `visible`).
function scheduleLoad(instance) {
  const button = instance.el.querySelector(".tfjs-load-button");
  if (instance.config.load === "click" && button) {
    button.addEventListener("click", () => {
      const bar = instance.el.querySelector(".tfjs-progress");
      instance.setState("loading");
      instance.setStatus("Loading the model…");
      showProgress(instance.el, 0, instance.config.shippedBytes);
      // The button goes; focus stays in the widget, on the bar that replaces it.
      const focused = document.activeElement === button;
      button.hidden = true;
      if (focused && bar) bar.focus();
      instance.load();
    }, { once: true });
    return;
  }
  const io = ensureObserver();
  if (io) io.observe(instance.el); else instance.load();
}

// "3.1 of 7.0 MB", both in the total's unit (build.py's progress_text says the same).
function sizeText(done, total) {
  const [unit, scale] = total >= 1e6 ? ["MB", 1e6] : ["KB", 1e3];
  return (done / scale).toFixed(1) + " of " + (total / scale).toFixed(1) + " " + unit;
}

function showProgress(el, done, total) {
  const shown = Math.min(done, total);
  const bar = el.querySelector(".tfjs-progress");
  if (bar) {
    bar.hidden = false;
    bar.setAttribute("aria-valuenow", String(shown));
    bar.setAttribute("aria-valuetext", sizeText(shown, total));
    bar.style.setProperty("--tfjs-progress", (total ? (100 * shown) / total : 100).toFixed(1) + "%");
  }
  const text = el.querySelector(".tfjs-progress-text");
  if (text) {
    text.hidden = false;
    text.textContent = sizeText(shown, total);
  }
}

// The model is there: the bar goes, and focus that was on it moves to the widget's first control.
function loadFinished(el) {
  const bar = el.querySelector(".tfjs-progress");
  const hadFocus = bar && document.activeElement === bar;
  const loader = el.querySelector(".tfjs-load");
  if (loader) loader.hidden = true;
  if (hadFocus) {
    const control = el.querySelector(".tfjs-body button:not(:disabled), .tfjs-body input:not(:disabled)");
    (control || el.querySelector(".tfjs-card summary") || document.body).focus();
  }
}

// Models live in one Cache Storage cache per origin, each file under its own URL, which is
// content-addressed (the folder name holds the model's hash): a URL found there is the
// right bytes. Headers stored with each file say which model (`browserCache.name`, the
// block's model and quantization) and which hash it belongs to, its size and when it came.
const MODEL_CACHE = "mkdocs-tfjs-models";

function browserCacheProblem(settings) {
  if (!settings || !settings.on) return "no: the author turned it off (browser_cache: false)";
  // Cache Storage exists only in secure contexts: https, and http on localhost or 127.0.0.1.
  if (!window.isSecureContext || typeof caches === "undefined") {
    return "no: this page is served over plain HTTP, where browsers offer no Cache Storage";
  }
  return null;
}

// TF.js's loader takes a fetch of our own: it answers from the browser's copy where there
// is one, and otherwise reads the network response chunk by chunk, so the bar moves within
// a file too. `kept()` stores what came from the network once the whole model has loaded.
function modelFetcher(el, config) {
  const total = config.shippedBytes || 0;
  const settings = config.browserCache;
  const problem = browserCacheProblem(settings);
  const opened = problem ? Promise.resolve(null) : caches.open(MODEL_CACHE).catch(() => null);
  const fetched = [];
  let done = 0, fromCopy = 0;
  const count = (bytes) => { done += bytes; showProgress(el, done, total); };
  const fetchFunc = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), document.baseURI).href;
    const cache = await opened;
    const copy = cache ? await cache.match(url).catch(() => null) : null;
    if (copy) {
      const body = await copy.arrayBuffer();
      fromCopy += 1;
      count(body.byteLength);
      return new Response(body, { status: 200, headers: { "Content-Type": copy.headers.get("Content-Type") || "" } });
    }
    const response = await fetch(input, init);
    if (!response.ok || !response.body) return response;
    const reader = response.body.getReader();
    const chunks = [];
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      chunks.push(value);
      count(value.byteLength);
    }
    const body = await new Blob(chunks).arrayBuffer();
    const type = response.headers.get("Content-Type") || "";
    fetched.push({ url, body, type });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: { "Content-Type": type } });
  };
  const kept = async () => {
    if (problem) return problem;
    const cache = await opened;
    if (!cache) return "no: this browser refused to open Cache Storage";
    if (!fetched.length) return "yes: loaded from this browser's copy, nothing downloaded";
    try {
      return await keepModel(cache, settings, fetched, fromCopy);
    } catch (err) {
      return "no: this browser refused to store it (" + (err && err.message || err) + ")";
    }
  };
  return { fetchFunc, kept };
}

// Store a loaded model's files; drop the files of the same model under another hash
// (the model changed), then the oldest models until the site's models fit capBytes.
async function keepModel(cache, settings, files, fromCopy) {
  const stored = new Map(); // hash -> {model, bytes, time, requests}
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    if (!response) continue;
    const hash = response.headers.get("X-Tfjs-Hash") || "";
    const entry = stored.get(hash) || { model: response.headers.get("X-Tfjs-Model"), bytes: 0, time: Infinity, requests: [] };
    entry.bytes += Number(response.headers.get("X-Tfjs-Bytes") || 0);
    entry.time = Math.min(entry.time, Number(response.headers.get("X-Tfjs-Stored") || 0));
    entry.requests.push(request);
    stored.set(hash, entry);
  }
  const drop = async (entry) => { for (const request of entry.requests) await cache.delete(request); };
  for (const [hash, entry] of stored) {
    if (hash !== settings.hash && entry.model === settings.name) {
      await drop(entry);
      stored.delete(hash);
    }
  }
  const mine = stored.get(settings.hash);
  const bytes = files.reduce((sum, f) => sum + f.body.byteLength, 0) + (mine ? mine.bytes : 0);
  if (bytes > settings.capBytes) {
    return "no: larger than the browser_cache_size of " + sizeText(settings.capBytes, settings.capBytes).split(" of ")[1];
  }
  let used = [...stored.values()].reduce((sum, e) => sum + e.bytes, 0) + bytes - (mine ? mine.bytes : 0);
  const oldest = [...stored.entries()].filter(([hash]) => hash !== settings.hash).sort((a, b) => a[1].time - b[1].time);
  for (const [, entry] of oldest) {
    if (used <= settings.capBytes) break;
    await drop(entry);
    used -= entry.bytes;
  }
  const time = String(Date.now());
  for (const file of files) {
    await cache.put(file.url, new Response(file.body, { headers: {
      "Content-Type": file.type, "X-Tfjs-Model": settings.name, "X-Tfjs-Hash": settings.hash,
      "X-Tfjs-Bytes": String(file.body.byteLength), "X-Tfjs-Stored": time,
    } }));
  }
  return "yes: kept in this browser for later visits and offline use"
    + (fromCopy ? " (part of it was there already)" : "");
}

// Load the widget's model through modelFetcher and say on the model card whether it is kept.
async function loadModel(tf, el, config) {
  const fetcher = modelFetcher(el, config);
  // Asked for before its button was pressed (tfjsWidgets.ready, predict): the button goes.
  const button = el.querySelector(".tfjs-load-button");
  if (button) button.hidden = true;
  if (el.dataset.state === "waiting") {
    el.dataset.state = "loading";
    el.setAttribute("aria-busy", "true");
  }
  showProgress(el, 0, config.shippedBytes || 0);
  const url = new URL(config.model, document.baseURI).href;
  const model = await tf.loadGraphModel(url, { fetchFunc: fetcher.fetchFunc });
  const kept = el.querySelector(".tfjs-card-kept");
  const text = await fetcher.kept();
  if (kept) kept.textContent = text;
  return model;
}

function ensureObserver() {
  if (observer || typeof IntersectionObserver === "undefined") return observer;
  observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      const instance = instances.get(entry.target.id);
      if (!instance || instance.el !== entry.target) continue;
      instance.observations += 1;
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      instance.load();
    }
  }, { rootMargin: "300px 0px" });
  return observer;
}

// Elements that could not become widgets (module or configuration failed), with why.
const failures = new WeakMap();

function failMount(el, err) {
  if (failures.has(el)) return; // a later scan reports the same module again
  failures.set(el, err instanceof Error ? err : new Error(String(err)));
  el.dataset.state = "error";
  el.setAttribute("aria-busy", "false");
  const status = el.querySelector(".tfjs-status");
  if (status) status.textContent = "This widget could not start: " + explain(err);
  console.warn("tfjs widget " + el.id + ": " + explain(err));
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
  if (!instances.size && observer) {
    observer.disconnect();
    observer = null;
  }
  document.querySelectorAll(".tfjs-widget[data-widget]").forEach((el) => {
    if (failures.has(el)) return;
    const Widget = widgetTypes.get(el.dataset.widget);
    if (!Widget) {
      loadWidgetModule(el).catch((err) => failMount(el, err));
      return;
    }
    if (instances.has(el.id) && instances.get(el.id).el === el) return;
    let instance;
    try {
      instance = new Instance(el, Widget);
    } catch (err) {
      failMount(el, err);
      return;
    }
    instances.set(el.id, instance);
    scheduleLoad(instance);
  });
  scans += 1;
  scanWaiters.splice(0).forEach((resolve) => resolve());
}

// Wrap an async function so calls that arrive while it runs collapse into one
// more run, with the newest arguments: fast clicks or drops never pile up
// inferences, and the last request is the one answered. Hooks: onBusy/onIdle
// around each burst, stopped() drops what waits, onError receives failures.
export function coalesce(fn, hooks = {}) {
  const { onBusy = () => {}, onIdle = () => {}, stopped = () => false, onError = null } = hooks;
  let running = null, pending = null;
  return (...args) => {
    if (stopped()) return Promise.resolve();
    if (running) { pending = args; return running; }
    onBusy();
    running = (async () => {
      try {
        for (let next = args; next && !stopped(); next = pending) {
          pending = null;
          try {
            await fn(...next);
          } catch (err) {
            if (!onError) throw err;
            onError(err);
          }
        }
      } finally {
        pending = null;
        running = null;
        onIdle();
      }
    })();
    return running;
  };
}

// An author's output part: `name` is its name under `widgets:` in mkdocs.yml, as in `show:`.
export function registerOutput(name, Output) {
  outputTypes.set(name, Output);
}

export function registerWidget(name, Widget) {
  widgetTypes.set(name, Widget);
  registeredBy.set(name, callingModule());
  scan();
}

// The URL of the module that called registerWidget: the first script on the stack that
// is not this one (null where the stack names none).
function callingModule() {
  const urls = String(new Error().stack || "").match(/\b(?:https?|file):\/\/[^\s)]+?\.m?js\b/g) || [];
  return urls.find((url) => url !== import.meta.url) || null;
}

readRuntimeConfig();
isolate();

let scans = 0;
const scanWaiters = [];
function nextScan() {
  return new Promise((resolve) => scanWaiters.push(resolve));
}

// The element with this id, once the page that should hold it is in place.
// A page still loading, or (under Material's instant navigation) a page whose
// content is being swapped in, is waited for; a complete page without the
// element gives null.
async function elementById(id) {
  for (;;) {
    if (!navigationPending()) {
      const el = document.getElementById(id);
      if (el) return el;
      if (document.readyState === "complete") {
        // Code that calls ready() and then inserts the widget, in one task, is in time.
        await new Promise((resolve) => setTimeout(resolve, 0));
        return document.getElementById(id);
      }
    }
    let watch, onLoad;
    await Promise.race([nextScan(), new Promise((resolve) => {
      watch = new MutationObserver(() => { if (document.getElementById(id)) resolve(); });
      watch.observe(document.documentElement, { childList: true, subtree: true });
      onLoad = resolve;
      window.addEventListener("load", onLoad);
    })]);
    watch.disconnect();
    window.removeEventListener("load", onLoad);
  }
}

// Material changes the URL before it swaps the new content in; until the next
// scan, the page that will hold the widget is not there yet.
// document.URL is the same URL as location.href, read in some 35 ns against 520 ns:
// predict asks on every call.
let scannedUrl = document.URL;
function navigationPending() {
  const url = document.URL;
  return url !== scannedUrl && url.split("#")[0] !== scannedUrl.split("#")[0];
}

async function instanceFor(id) {
  const el = await elementById(id);
  if (!el) throw new Error("no tfjs widget with id '" + id + "' on this page");
  if (!el.matches(".tfjs-widget[data-widget]")) throw new Error("#" + id + " is not a tfjs widget");
  const current = () => (instances.has(id) && instances.get(id).el === el ? instances.get(id) : null);
  if (!current() && !failures.has(el)) {
    try {
      await loadWidgetModule(el);
    } catch (err) {
      failMount(el, err);
    }
    scan();
  }
  if (failures.has(el)) throw new Error(explain(failures.get(el)));
  if (!current()) throw new Error("no tfjs widget with id '" + id + "' on this page");
  return current();
}

function instanceOf(id) {
  const instance = instances.get(id);
  if (!instance) throw new Error("no tfjs widget with id '" + id + "' on this page");
  return instance;
}

window.tfjsWidgets = {
  // Settles when the widget's model is loaded and warm (loads it if needed),
  // or with the reason it cannot start; waits for a widget still to come.
  ready: async (id) => { await (await instanceFor(id)).load(); return true; },
  // The raw model output (nested arrays) for an input given as nested arrays, a typed
  // array or a tf.Tensor (see Instance.predict).
  predict: (id, input) => {
    // A widget in place on a settled page (every call but the first) skips the lookup's waits.
    const mounted = instances.get(id);
    if (mounted && mounted.el.isConnected && !navigationPending()) return mounted.predict(input);
    return instanceFor(id).then((instance) => instance.predict(input));
  },
  // What the graph takes for raw inputs (a model's own text preprocessing applied), one per input.
  encode: async (id, inputs) => { const instance = await instanceFor(id); await instance.load(); return instance.encode(inputs); },
  backend: () => ({ ...backendInfo }),
  // Widget-specific state for debugging and tests (e.g. what the model last saw).
  inspect: (id) => {
    const widget = instanceOf(id).widget;
    return widget.inspect ? widget.inspect() : null;
  },
  // How many inferences a widget ran, how long the last took, its state,
  // whether it is busy, and how many visibility reports it has had.
  stats: (id) => instanceOf(id).stats(),
  // Resolves with stats() once the widget has no work running or queued.
  // The widget is looked up at once: a widget removed right after the call is still waited for.
  idle: (id) => {
    const mounted = instances.get(id);
    const found = mounted && mounted.el.isConnected ? Promise.resolve(mounted) : instanceFor(id);
    return found.then(async (instance) => { await instance.idle(); return instance.stats(); });
  },
  // TF.js's memory counters, to check that nothing leaks.
  memory: () => (window.tf ? window.tf.memory() : null),
  ids: () => [...instances.keys()],
  scan,
};

function scanPage() {
  scannedUrl = document.URL;
  scan();
}

if (window.document$ && typeof window.document$.subscribe === "function") {
  window.document$.subscribe(() => scanPage());
} else if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", scanPage);
} else {
  // Module scripts run after parsing: the document is already complete.
  scanPage();
}
