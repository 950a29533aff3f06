// The Node.js side of benchmarks/any_length.py: time converted graph models with the real
// TF.js from npm, each on the backends and sequence lengths the caller names.
//
// Usage: node any_length.cjs spec.json  (prints the results as JSON)
// spec.json: {"backends": [...], "rounds": n, "runs": [{"dir", "steps", "features", "async"}]}
// Each run: 5 inferences of batch 1 to warm up, then `rounds` timed ones (from a ready input
// to the output read back), and the change of TF.js's tensor count over one more.
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs-core");
require("@tensorflow/tfjs-backend-cpu");
require("@tensorflow/tfjs-backend-wasm");
const converter = require("@tensorflow/tfjs-converter");

async function load(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const data = Buffer.concat(buffers);
  return converter.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology, format: json.format, signature: json.signature,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    }),
  });
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const results = [];
  for (const backend of spec.backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const run of spec.runs) {
      const model = await load(run.dir);
      const x = tf.randomUniform([1, run.steps, run.features], 0.1, 1);
      const once = async () => {
        const y = run.async ? await model.executeAsync(x) : model.execute(x);
        await y.data();
        y.dispose();
      };
      for (let i = 0; i < 5; i++) await once();
      const times = [];
      for (let i = 0; i < spec.rounds; i++) {
        const t = performance.now();
        await once();
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const before = tf.memory().numTensors;
      await once();
      results.push({ ...run, backend, median_ms: times[times.length >> 1], leaked: tf.memory().numTensors - before });
      x.dispose();
      model.dispose();
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => { console.error(err); process.exit(1); });
