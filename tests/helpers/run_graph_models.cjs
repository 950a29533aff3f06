// Run converted TF.js graph models with the real TF.js (npm) in Node.js, many per process.
//
// Usage: node run_graph_models.cjs cases.json results.json [backend]
// cases.json: [{"dir": "<model folder>", "inputs": [{"dtype": "float32" | "int32" | "bool", "shape": [...], "file": "<raw little-endian bytes>"}]}]
// results.json: [{"outputs": [{"shape": [...], "file": "<raw float32 bytes>"}]} | {"error": "..."}]
// Each case runs through loadGraphModel and executeAsync, as the browser runtime does.
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs-core");
require("@tensorflow/tfjs-backend-cpu");
const converter = require("@tensorflow/tfjs-converter");

function handler(dir) {
  return {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
      const buffers = [];
      for (const group of json.weightsManifest) {
        for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
      }
      const data = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      };
    },
  };
}

function readInput(spec) {
  const bytes = fs.readFileSync(spec.file);
  // bool inputs come as int32 0/1
  const ctor = spec.dtype === "float32" ? Float32Array : Int32Array;
  const values = new ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return tf.tensor(values, spec.shape, spec.dtype);
}

async function main() {
  const [casesFile, resultsFile, backend = "cpu"] = process.argv.slice(2);
  if (backend === "wasm") {
    require("@tensorflow/tfjs-backend-wasm");
  }
  await tf.setBackend(backend);
  await tf.ready();
  const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
  const results = [];
  for (const [i, c] of cases.entries()) {
    try {
      const model = await converter.loadGraphModel(handler(c.dir));
      const inputs = c.inputs.map(readInput);
      let out = await model.executeAsync(inputs.length === 1 ? inputs[0] : inputs);
      out = Array.isArray(out) ? out : [out];
      const outputs = [];
      for (const [j, t] of out.entries()) {
        const file = path.join(path.dirname(resultsFile), `out-${i}-${j}.bin`);
        const values = await t.data();
        fs.writeFileSync(file, Buffer.from(new Float32Array(values).buffer));
        outputs.push({ shape: t.shape, file });
      }
      tf.dispose([...inputs, ...out]);
      model.dispose();
      results.push({ outputs });
    } catch (err) {
      results.push({ error: String(err && err.message || err) });
    }
  }
  fs.writeFileSync(resultsFile, JSON.stringify(results));
}

main().catch((err) => { console.error(err); process.exit(1); });
