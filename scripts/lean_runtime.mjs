// Bundles the lean TF.js runtime with the pinned esbuild; run by
// scripts/build_lean_runtime.py, which writes the entry modules (which
// kernels each backend registers, which core ops the converter may call)
// and hands them over as JSON on stdin. Prints nothing on success.
import {readFileSync} from 'node:fs';
import path from 'node:path';
import * as esbuild from 'esbuild';

const spec = JSON.parse(readFileSync(0, 'utf8'));
const root = path.resolve(spec.root);
// Virtual modules: the entries and the two stand-ins below, never on disk.
const VIRTUAL = {
  // What the converter and the backends import as '@tensorflow/tfjs-core':
  // the core without the full index's optimizers.
  '@tensorflow/tfjs-core': spec.core,
  // The ops the converter's executors may call: only those the lean ops need.
  '@tensorflow/tfjs-core/dist/ops/ops_for_converter': spec.opsForConverter,
};

const lean = {
  name: 'lean',
  setup(build) {
    build.onResolve({filter: /^lean-entry:/}, (args) => ({path: args.path, namespace: 'lean'}));
    build.onResolve({filter: /^@tensorflow\/tfjs-core(\/dist\/ops\/ops_for_converter)?$/},
                    (args) => ({path: args.path, namespace: 'lean'}));
    build.onLoad({filter: /.*/, namespace: 'lean'}, (args) => ({
      contents: args.path.startsWith('lean-entry:') ? spec.entries[args.path.slice(11)] : VIRTUAL[args.path],
      resolveDir: root,
      loader: 'js',
    }));
  },
};

for (const [name, file] of Object.entries(spec.outputs)) {
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['lean-entry:' + name],
    bundle: true,
    minify: true,
    format: 'iife',
    globalName: 'tf',
    platform: 'browser',
    target: 'es2017',
    legalComments: 'eof',
    logLevel: 'error',
    // The stand-ins import the real files by their dist paths, which this plugin leaves alone.
    plugins: [lean],
    outfile: file,
  });
}
