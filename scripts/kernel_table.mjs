// Derives, from the installed TF.js packages, which kernels each graph-model
// op needs and which kernels each backend registers; prints JSON on stdout.
// scripts/make_kernel_table.py runs this and writes the committed table; its
// docstring explains the method and its limits. Nothing here knows MkDocs.
import {readFileSync, readdirSync, existsSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import * as acorn from 'acorn';

const NODE_MODULES = path.resolve(process.argv[2] || 'node_modules');
const TFJS = path.join(NODE_MODULES, '@tensorflow');
const CONVERTER = path.join(TFJS, 'tfjs-converter', 'dist');
const BACKENDS = ['cpu', 'wasm', 'webgl', 'webgpu'];
const PACKAGES = [
  'tfjs-core', 'tfjs-converter', 'tfjs-backend-cpu', 'tfjs-backend-wasm',
  'tfjs-backend-webgl', 'tfjs-backend-webgpu',
];

// Executors whose executeOp is async: the graph executor refuses them in
// model.execute() ("returned a promise"), as it refuses the op names in its
// CONTROL_FLOW_OPS, DYNAMIC_SHAPE_OPS and HASH_TABLE_OPS sets.
const ASYNC_SETS = ['CONTROL_FLOW_OPS', 'DYNAMIC_SHAPE_OPS', 'HASH_TABLE_OPS'];
// Names under which tfjs-core defines the backward pass of an op inline
// (customGrad in the fused ops and log_softmax): never run by inference.
const GRADIENT_NAMES = new Set(['grad', 'gradFunc']);

// ---------------------------------------------------------------- modules --

const modules = new Map();

function resolveSpecifier(fromFile, spec) {
  let base;
  if (spec.startsWith('.')) {
    base = path.resolve(path.dirname(fromFile), spec);
  } else {
    const match = spec.match(/^(@[^/]+\/[^/]+|[^/@][^/]*)(\/.*)?$/);
    const pkgDir = path.join(NODE_MODULES, match[1]);
    if (match[2]) {
      base = path.join(pkgDir, match[2]);
    } else {
      const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json')));
      return path.join(pkgDir, pkg.module || pkg.main);
    }
  }
  for (const candidate of [base, `${base}.js`, path.join(base, 'index.js')]) {
    if (existsSync(candidate) && candidate.endsWith('.js')) return candidate;
  }
  return null;  // A type-only or missing module: nothing to follow.
}

function loadModule(file) {
  if (modules.has(file)) return modules.get(file);
  const ast = acorn.parse(readFileSync(file, 'utf8'),
                          {ecmaVersion: 'latest', sourceType: 'module'});
  const mod = {file, ast, imports: new Map(), locals: new Map(),
               exports: new Map(), stars: []};
  modules.set(file, mod);
  const declare = (decl) => {
    if (decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') {
      mod.locals.set(decl.id.name, decl);
      return [decl.id.name];
    }
    if (decl.type === 'VariableDeclaration') {
      const names = [];
      for (const d of decl.declarations) {
        if (d.id.type === 'Identifier') {
          mod.locals.set(d.id.name, d);
          names.push(d.id.name);
        }
      }
      return names;
    }
    return [];
  };
  for (const node of ast.body) {
    if (node.type === 'ImportDeclaration') {
      const source = resolveSpecifier(file, node.source.value);
      for (const s of node.specifiers) {
        const imported = s.type === 'ImportSpecifier' ? s.imported.name :
            s.type === 'ImportNamespaceSpecifier' ? '*' : 'default';
        mod.imports.set(s.local.name, {source, imported});
      }
    } else if (node.type === 'ExportNamedDeclaration') {
      if (node.declaration) {
        for (const name of declare(node.declaration)) {
          mod.exports.set(name, {local: name});
        }
      }
      const source = node.source ? resolveSpecifier(file, node.source.value) : null;
      for (const s of node.specifiers) {
        mod.exports.set(s.exported.name, source ?
            {source, imported: s.local.name} : {local: s.local.name});
      }
    } else if (node.type === 'ExportAllDeclaration') {
      const source = resolveSpecifier(file, node.source.value);
      if (node.exported) {
        mod.exports.set(node.exported.name, {source, imported: '*'});
      } else if (source) {
        mod.stars.push(source);
      }
    } else {
      declare(node);
    }
  }
  return mod;
}

// A binding is {file, name} for a module-level declaration, or {ns: file}
// for a namespace import.
function resolveExport(file, name, seen = new Set()) {
  if (!file || seen.has(file)) return null;
  seen.add(file);
  const mod = loadModule(file);
  const entry = mod.exports.get(name);
  if (entry) {
    if (entry.local !== undefined) return resolveLocal(mod, entry.local);
    if (entry.imported === '*') return {ns: entry.source};
    return resolveExport(entry.source, entry.imported, new Set());
  }
  for (const star of mod.stars) {
    const found = resolveExport(star, name, seen);
    if (found) return found;
  }
  return null;
}

function resolveLocal(mod, name) {
  if (mod.locals.has(name)) return {file: mod.file, name};
  const imp = mod.imports.get(name);
  if (!imp || !imp.source) return null;
  if (imp.imported === '*') return {ns: imp.source};
  return resolveExport(imp.source, imp.imported);
}

// ---------------------------------------------------------------- analysis --

const memo = new Map();

function emptyResult() {
  return {kernels: new Set(), coreOps: new Set()};
}

function merge(into, from) {
  for (const k of from.kernels) into.kernels.add(k);
  for (const o of from.coreOps) into.coreOps.add(o);
}

// Only functions and `op({...})` wrappers are followed: classes such as the
// Engine, and values built at load time, are not the op's own work.
function isFollowed(binding) {
  if (!binding || !binding.file) return false;
  const decl = loadModule(binding.file).locals.get(binding.name);
  if (!decl) return false;
  if (decl.type === 'FunctionDeclaration') return true;
  if (decl.type !== 'VariableDeclarator' || !decl.init) return false;
  const init = decl.init;
  return init.type === 'ArrowFunctionExpression' || init.type === 'FunctionExpression' ||
      init.type === 'Identifier' ||
      (init.type === 'CallExpression' && init.callee.name === 'op');
}

// Everything a module-level declaration can run: the kernels it passes to
// ENGINE.runKernel and, transitively, those of every function it references.
function analyzeBinding(binding) {
  if (!isFollowed(binding)) return emptyResult();
  const key = `${binding.file}#${binding.name}`;
  if (memo.has(key)) return memo.get(key);
  const result = emptyResult();
  memo.set(key, result);  // Cycles end here with what is known so far.
  const mod = loadModule(binding.file);
  const opName = publicOpName(binding);
  if (opName && opName !== 'op') result.coreOps.add(opName);
  walk(mod.locals.get(binding.name), mod, result, new Map());
  return result;
}

// The name under which tfjs-core exports a binding as an op (`conv2d`,
// `fused.conv2d`, `image.resizeBilinear`), or null for helpers.
const CORE_OPS = path.join(TFJS, 'tfjs-core', 'dist', 'ops');
let publicOps = null;
function publicOpName(binding) {
  if (publicOps === null) {
    publicOps = new Map();
    const opsModule = loadModule(path.join(CORE_OPS, 'ops.js'));
    const add = (name, found) => {
      if (found && found.file) publicOps.set(`${found.file}#${found.name}`, name);
    };
    for (const [name, decl] of opsModule.locals) {
      if (decl.type === 'VariableDeclarator' && decl.init && decl.init.type === 'ObjectExpression') {
        for (const p of decl.init.properties) {
          if (p.type === 'Property' && p.value.type === 'Identifier') {
            add(`${name}.${p.key.name}`, resolveLocal(opsModule, p.value.name));
          }
        }
      }
    }
    const fused = loadModule(path.join(CORE_OPS, 'fused_ops.js'));
    for (const name of fused.exports.keys()) add(`fused.${name}`, resolveExport(fused.file, name));
    const names = [...opsModule.exports.keys()];
    for (const star of opsModule.stars) names.push(...loadModule(star).exports.keys());
    for (const name of names) add(name, resolveExport(opsModule.file, name));
  }
  return publicOps.get(`${binding.file}#${binding.name}`) || null;
}

// A lookup function for the members of `expr` when it names a module
// namespace (`tfOps`, `ops` aliasing it, `tfOps.fused`) or a module-level
// object of ops (`image`, `sparse`, `string`, `linalg` in tfjs-core), else null.
function scopeOf(expr, mod, aliases) {
  let binding = null;
  if (expr.type === 'Identifier') {
    binding = resolveLocal(mod, aliases.get(expr.name) || expr.name);
  } else if (expr.type === 'MemberExpression' && !expr.computed) {
    const outer = scopeOf(expr.object, mod, aliases);
    binding = outer ? outer(expr.property.name) : null;
  }
  if (!binding) return null;
  if (binding.ns) return (name) => resolveExport(binding.ns, name);
  const owner = loadModule(binding.file);
  const decl = owner.locals.get(binding.name);
  if (decl && decl.type === 'VariableDeclarator' && decl.init &&
      decl.init.type === 'ObjectExpression') {
    return (name) => {
      const prop = decl.init.properties.find(
          (p) => p.type === 'Property' && !p.computed && p.key.name === name);
      return prop && prop.value.type === 'Identifier' ?
          resolveLocal(owner, prop.value.name) : null;
    };
  }
  return null;
}

function stringConstant(binding) {
  if (!binding || !binding.file) return null;
  const decl = loadModule(binding.file).locals.get(binding.name);
  if (decl && decl.type === 'VariableDeclarator' && decl.init &&
      decl.init.type === 'Literal' && typeof decl.init.value === 'string') {
    return decl.init.value;
  }
  return null;
}

// Which branch of a condition inference runs, or null to follow both:
// `shouldFuse(ENGINE.state.gradientDepth, activation) === false` holds only
// while a gradient is recorded; `x.dtype === 'complex64'` only for complex
// tensors, which no Keras model feeds (the complex ops themselves, Complex,
// Real, Imag, FFT..., are still charged with their kernels).
function branchTakenInInference(test) {
  if (test.type !== 'BinaryExpression' || !['===', '!==', '==', '!='].includes(test.operator)) {
    return null;
  }
  const negated = test.operator.startsWith('!');
  const {left, right} = test;
  if (left.type === 'CallExpression' && left.callee.name === 'shouldFuse' &&
      right.type === 'Literal' && right.value === false) {
    return negated;
  }
  if ([left, right].some((side) => side.type === 'Literal' && side.value === 'complex64')) {
    return negated;
  }
  return null;
}

// Adds to `result` the kernels `node` can run in inference; `aliases` maps
// local names to the module-level names they stand for.
function walk(node, mod, result, aliases) {
  if (!node || typeof node.type !== 'string') return;
  switch (node.type) {
    case 'VariableDeclarator':
      if (node.id.type === 'Identifier' && GRADIENT_NAMES.has(node.id.name)) return;
      walk(node.init, mod, result, aliases);
      return;
    case 'Property':
      if (!node.computed && node.key.type === 'Identifier' &&
          GRADIENT_NAMES.has(node.key.name)) {
        return;
      }
      if (node.computed) walk(node.key, mod, result, aliases);
      walk(node.value, mod, result, aliases);
      return;
    case 'IfStatement':
    case 'ConditionalExpression': {
      const taken = branchTakenInInference(node.test);
      if (taken === null) break;
      walk(node.test, mod, result, aliases);
      walk(taken ? node.consequent : node.alternate, mod, result, aliases);
      return;
    }
    case 'CallExpression': {
      const callee = node.callee;
      // `tensor.clone()` is the clone op, which runs Identity.
      if (callee.type === 'MemberExpression' && !callee.computed &&
          callee.property.name === 'clone' && node.arguments.length === 0) {
        result.kernels.add('Identity');
      }
      if (callee.type === 'MemberExpression' && !callee.computed &&
          callee.property.name === 'runKernel') {
        const arg = node.arguments[0];
        const name = arg.type === 'Literal' ? arg.value :
            stringConstant(resolveLocal(mod, arg.name));
        if (typeof name !== 'string') {
          throw new Error(`${mod.file}: runKernel with an unknown kernel name`);
        }
        result.kernels.add(name);
      }
      break;
    }
    case 'MethodDefinition':
    case 'PropertyDefinition':
      if (node.computed) walk(node.key, mod, result, aliases);
      walk(node.value, mod, result, aliases);
      return;
    case 'AssignmentPattern':
      // `ops = tfOps` in an executor's parameters: `ops.add` is tfOps.add.
      if (node.left.type === 'Identifier' && node.right.type === 'Identifier') {
        aliases.set(node.left.name, node.right.name);
      }
      walk(node.right, mod, result, aliases);
      return;
    case 'MemberExpression': {
      const scope = node.computed ? null : scopeOf(node.object, mod, aliases);
      if (scope) {
        merge(result, analyzeBinding(scope(node.property.name)));
        return;
      }
      walk(node.object, mod, result, aliases);
      if (node.computed) walk(node.property, mod, result, aliases);
      return;
    }
    case 'Identifier': {
      const binding = resolveLocal(mod, aliases.get(node.name) || node.name);
      if (binding && binding.file) merge(result, analyzeBinding(binding));
      return;
    }
    default:
      break;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' || key === 'start' || key === 'end') continue;
    if (Array.isArray(value)) {
      for (const child of value) walk(child, mod, result, aliases);
    } else if (value && typeof value.type === 'string') {
      walk(value, mod, result, aliases);
    }
  }
}

// ---------------------------------------------------------------- converter --

function evaluateOpList(file) {
  const source = readFileSync(file, 'utf8').replace('export const json', 'json');
  const sandbox = {json: null};
  vm.runInNewContext(source, sandbox);
  return sandbox.json;
}

function opListFiles() {
  // The op lists the OperationMapper merges, in its import order.
  const mapper = loadModule(path.join(CONVERTER, 'operations', 'operation_mapper.js'));
  return [...mapper.imports.values()]
      .filter((imp) => imp.imported === '*' && imp.source.includes(`${path.sep}op_list${path.sep}`))
      .map((imp) => imp.source);
}

function executorFiles() {
  const dispatcher = loadModule(path.join(CONVERTER, 'operations', 'operation_executor.js'));
  const byCategory = new Map();
  for (const imp of dispatcher.imports.values()) {
    if (imp.imported !== '*' || !imp.source.includes(`${path.sep}executors${path.sep}`)) continue;
    const category = stringConstant(resolveExport(imp.source, 'CATEGORY'));
    byCategory.set(category, imp.source);
  }
  return byCategory;
}

// The statements that run for each `case 'Op':` of `switch (node.op)`,
// following fall-through to the first non-empty case body.
function caseBodies(file) {
  const mod = loadModule(file);
  const bodies = new Map();
  const aliases = new Map();
  let isAsync = false;
  const visit = (node) => {
    if (!node || typeof node.type !== 'string') return;
    if (node.type === 'VariableDeclarator' && node.id.name === 'executeOp') {
      isAsync = Boolean(node.init.async);
      for (const param of node.init.params) walk(param, mod, emptyResult(), aliases);
    }
    if (node.type === 'SwitchStatement' && node.discriminant.type === 'MemberExpression' &&
        node.discriminant.property.name === 'op') {
      const pending = [];
      for (const c of node.cases) {
        if (c.test) pending.push(c.test.value);
        if (c.consequent.length > 0) {
          for (const op of pending) bodies.set(op, c.consequent);
          pending.length = 0;
        }
      }
    }
    for (const [key, value] of Object.entries(node)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value.type === 'string' && key !== 'type') visit(value);
    }
  };
  visit(mod.ast);
  return {mod, bodies, aliases, isAsync};
}

function asyncOpNames() {
  const analysis = loadModule(path.join(CONVERTER, 'executor', 'model_analysis.js'));
  const names = new Set();
  for (const setName of ASYNC_SETS) {
    const decl = analysis.locals.get(setName);
    for (const el of decl.init.arguments[0].elements) names.add(el.value);
  }
  return names;
}

// Methods of the converter's TensorArray and TensorList run behind the
// TensorArray*/TensorList* ops, called on objects the executor looks up at
// run time: charge each such op with every kernel those classes can use.
function tensorContainerKernels() {
  const result = emptyResult();
  for (const name of ['tensor_array.js', 'tensor_list.js']) {
    const mod = loadModule(path.join(CONVERTER, 'executor', name));
    for (const decl of mod.locals.values()) walk(decl, mod, result, new Map());
  }
  return result;
}

// ---------------------------------------------------------------- backends --

function registeredKernels() {
  const require = createRequire(path.join(NODE_MODULES, 'package.json'));
  const tf = require('@tensorflow/tfjs-core');
  for (const name of BACKENDS) require(`@tensorflow/tfjs-backend-${name}`);
  const table = {};
  for (const name of BACKENDS) {
    table[name] = [...new Set(tf.getKernelsForBackend(name).map((k) => k.kernelName))].sort();
  }
  return table;
}

// ---------------------------------------------------------------- main --

function main() {
  const executors = executorFiles();
  const asyncNames = asyncOpNames();
  const containers = tensorContainerKernels();
  const kernelsByBackend = registeredKernels();
  const parsed = new Map();
  const ops = {};
  for (const file of opListFiles()) {
    for (const def of evaluateOpList(file)) {
      const category = def.category;
      const executorFile = executors.get(category);
      if (!parsed.has(executorFile)) parsed.set(executorFile, caseBodies(executorFile));
      const {mod, bodies, aliases, isAsync} = parsed.get(executorFile);
      const body = bodies.get(def.tfOpName);
      const result = emptyResult();
      if (body) {
        for (const statement of body) walk(statement, mod, result, new Map(aliases));
      }
      if (/^Tensor(Array|List)/.test(def.tfOpName)) merge(result, containers);
      const kernels = [...result.kernels].sort();
      ops[def.tfOpName] = {
        async: isAsync || asyncNames.has(def.tfOpName),
        category,
        core_ops: [...result.coreOps].sort(),
        executor: Boolean(body),
        kernels,
      };
    }
  }
  const versions = {};
  for (const pkg of PACKAGES) {
    versions[`@tensorflow/${pkg}`] =
        JSON.parse(readFileSync(path.join(TFJS, pkg, 'package.json'))).version;
  }
  versions.acorn = JSON.parse(readFileSync(path.join(NODE_MODULES, 'acorn', 'package.json'))).version;
  process.stdout.write(JSON.stringify({backends: kernelsByBackend, ops, versions}));
}

main();
