// The browser side of benchmarks/peers.py: on a page the plugin built (its
// widget already running on the lean TF.js with the WebAssembly backend), load
// the same model on plain TF.js, ONNX Runtime Web and LiteRT.js, each from its
// npm package, and time them in the same page, interleaved by the caller.
//
// Every runtime is a {prepare(Float32Array) -> input, run(input) -> output}
// pair: prepare is outside the timed region and does what a caller does once
// (the widget's API takes nested arrays, so they are built once, as a widget
// would keep them); run is what every inference costs, from a ready input to
// the output read back into JavaScript.

const runtimes = {};

function nested(flat, shape) {
  if (shape.length === 1) return Array.from(flat);
  const step = flat.length / shape[0];
  const out = [];
  for (let i = 0; i < shape[0]; i++) out.push(nested(flat.subarray(i * step, (i + 1) * step), shape.slice(1)));
  return out;
}

function flatten(value) {
  return Array.isArray(value) ? value.flat(Infinity) : Array.from(value);
}

async function timed(fn) {
  const t = performance.now();
  const value = await fn();
  return [performance.now() - t, value];
}

// Each setup returns {init, load} in ms: the runtime's own start (script and
// WebAssembly) and loading the model until it can run.
const SETUP = {
  async widget({ widgetId, shape }) {
    runtimes.widget = {
      prepare: (x) => nested(x, shape),
      run: (input) => window.tfjsWidgets.predict(widgetId, input),
    };
    return { init: 0, load: 0 };
  },

  async tfjs({ tfjsModel, shape }) {
    const tf = window.tf;
    const [load, model] = await timed(() => tf.loadGraphModel(tfjsModel));
    runtimes.tfjs = {
      prepare: (x) => x,
      run: async (x) => {
        const input = tf.tensor(x, shape);
        const output = model.predict(input);
        const values = await output.data();
        input.dispose();
        output.dispose();
        return values;
      },
      model,
    };
    return { init: 0, load };
  },

  async onnx({ onnxModel, shape, base }) {
    const [init, ort] = await timed(async () => {
      const ort = await import(base + "ort/ort.wasm.min.mjs");
      // Single-threaded, as the page is not cross-origin isolated (no SharedArrayBuffer).
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.wasmPaths = base + "ort/";
      return ort;
    });
    const [load, session] = await timed(() =>
      ort.InferenceSession.create(onnxModel, { executionProviders: ["wasm"], graphOptimizationLevel: "all" }));
    const [inputName] = session.inputNames;
    const [outputName] = session.outputNames;
    runtimes.onnx = {
      prepare: (x) => x,
      run: async (x) => {
        const results = await session.run({ [inputName]: new ort.Tensor("float32", x, shape) });
        const values = results[outputName].data;
        for (const tensor of Object.values(results)) tensor.dispose();
        return values;
      },
    };
    return { init, load };
  },

  async litert({ tfliteModel, shape, base }) {
    const [init, litert] = await timed(async () => {
      const litert = await import(base + "litert/core/index.js");
      await litert.loadLiteRt(base + "litert/wasm/", { threads: false });
      return litert;
    });
    const [load, model] = await timed(() => litert.loadAndCompile(tfliteModel, { accelerator: "wasm" }));
    runtimes.litert = {
      prepare: (x) => x,
      run: async (x) => {
        const input = new litert.Tensor(x, shape);
        const outputs = await model.run(input);
        const values = outputs[0].toTypedArray().slice();
        input.delete();
        for (const tensor of outputs) tensor.delete();
        return values;
      },
    };
    return { init, load };
  },
};

// Set every runtime up in turn; return its start times and its first inference.
export async function setup(spec) {
  const report = { crossOriginIsolated: window.crossOriginIsolated };
  const x = new Float32Array(spec.input);
  for (const name of spec.runtimes) {
    try {
      const times = await SETUP[name](spec);
      const input = runtimes[name].prepare(x);
      const [first] = await timed(() => runtimes[name].run(input));
      report[name] = { ...times, first };
    } catch (err) {
      report[name] = { error: String(err && err.stack ? err.stack : err) };
      delete runtimes[name];
    }
  }
  return report;
}

// Each runtime's output for one input, flat, to compare with Keras's.
export async function outputs(input) {
  const x = new Float32Array(input);
  const out = {};
  for (const [name, runtime] of Object.entries(runtimes)) out[name] = flatten(await runtime.run(runtime.prepare(x)));
  return out;
}

// One round: `n` samples of each runtime, in the order given. A sample is the
// mean ms of `group` back-to-back inferences: Chromium rounds performance.now()
// to 0.1 ms on a page that is not cross-origin isolated, too coarse alone for
// the smallest models.
export async function round(order, n, group, input) {
  const x = new Float32Array(input);
  const times = {};
  for (const name of order) {
    const runtime = runtimes[name];
    if (!runtime) continue;
    const prepared = runtime.prepare(x);
    times[name] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      for (let j = 0; j < group; j++) await runtime.run(prepared);
      times[name].push((performance.now() - t) / group);
    }
  }
  return times;
}

// Plain TF.js's kernels on one inference, with tf.profile (WebAssembly kernels
// run synchronously, so each kernel's time is its wall time). The lean file
// exports only what the widgets call: this runs on the full TF.js pieces,
// whose kernels are the same, to the bit (tests/test_lean_runtime.py).
export async function profile(input, shape, repeats) {
  const tf = window.tf;
  const model = runtimes.tfjs.model;
  const x = tf.tensor(new Float32Array(input), shape);
  const runs = [];
  for (let r = 0; r < repeats; r++) {
    const info = await tf.profile(() => model.predict(x));
    runs.push(info.kernels.map((k) => ({
      name: k.name, ms: k.kernelTimeMs, inputs: k.inputShapes, output: k.outputShapes,
    })));
    tf.dispose(info.result);
  }
  x.dispose();
  return runs;
}
