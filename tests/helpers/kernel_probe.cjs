// Runs tiny graph models on the real TF.js cpu and wasm backends in Node.
// Reads from stdin {"models": {name: {modelTopology, weightSpecs, weightData
// (base64), signature, inputs: {name: {shape, dtype, values}}}}} and prints
// {backend: {name: {"outcome": "ok" | error message, "kernels": [...]}}}, the
// kernels being those tf.profile saw run (customGrad wrappers left out). Only model.execute() is used, so a
// model with a dynamic op reports the "Please use model.executeAsync()" error.
'use strict';
const path = require('node:path');
const {createRequire} = require('node:module');

const root = path.resolve(process.argv[2] || '.');
const requireFromRoot = createRequire(path.join(root, 'node_modules', 'package.json'));
const tf = requireFromRoot('@tensorflow/tfjs-core');
requireFromRoot('@tensorflow/tfjs-backend-cpu');
const wasm = requireFromRoot('@tensorflow/tfjs-backend-wasm');
requireFromRoot('@tensorflow/tfjs-converter');
const {loadGraphModel} = requireFromRoot('@tensorflow/tfjs-converter');

async function runAll(models, backend) {
  const results = {};
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    throw new Error(`backend ${backend} did not start`);
  }
  for (const [name, spec] of Object.entries(models)) {
    try {
      const weightData = Buffer.from(spec.weightData, 'base64');
      const model = await loadGraphModel({
        load: async () => ({
          modelTopology: spec.modelTopology,
          weightSpecs: spec.weightSpecs,
          weightData: weightData.buffer.slice(
              weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
          format: 'graph-model',
          signature: spec.signature,
        }),
      });
      const feeds = {};
      for (const [input, t] of Object.entries(spec.inputs)) {
        feeds[input] = tf.tensor(t.values, t.shape, t.dtype);
      }
      const profile = await tf.profile(async () => {
        const outputs = [].concat(model.execute(feeds));
        for (const output of outputs) {
          await output.data();
          output.dispose();
        }
      });
      Object.values(feeds).forEach((t) => t.dispose());
      model.dispose();
      // Names ending in __op are the customGrad wrappers of fused ops and
      // logSoftmax, recorded by the profiler beside the kernels they run.
      const ran = profile.kernelNames.filter((k) => !k.endsWith('__op'));
      results[name] = {outcome: 'ok', kernels: [...new Set(ran)].sort()};
    } catch (error) {
      results[name] = {outcome: String(error && error.message || error), kernels: []};
    }
  }
  return results;
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const {models} = JSON.parse(input);
  // Single-threaded wasm from the package's own files: Node has no worker
  // set-up for the threaded build and no network.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setWasmPaths(path.join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + path.sep);
  const report = {};
  for (const backend of ['cpu', 'wasm']) report[backend] = await runAll(models, backend);
  process.stdout.write(JSON.stringify(report));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
