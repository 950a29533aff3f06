// mkdocs-tfjs: a model's own text and lookup preprocessing, run in the page.
//
// TF.js has no string tensors, so the build takes a TextVectorization,
// StringLookup, IntegerLookup or Hashing layer that takes a model input out
// of the graph and writes what it does to preprocess.json (convert/strings.py).
// This module runs it with Keras's exact semantics (Keras 3's layers on
// TensorFlow's string ops):
// - tf.strings.lower without an encoding lowercases ASCII letters only
//   ("ÉCOLE" gives "École");
// - the punctuation Keras strips is the 32 ASCII punctuation characters;
// - tf.strings.split splits on the six ASCII whitespace characters only,
//   not on a no-break space or an ideographic space;
// - tf.strings.unicode_split gives code points (an emoji is one token);
// - tf.strings.to_hash_bucket_fast is FarmHash's Fingerprint64 modulo the
//   bins, and to_hash_bucket_strong (a salt) SipHash-2-4: both on BigInt.
// The runtime imports this module only for a model that needs it.

const PUNCTUATION = /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/g;
const ASCII_UPPER = /[A-Z]+/g;
const ASCII_SPACE = /[ \t\n\v\f\r]+/;

export function standardize(text, mode) {
  let out = text;
  if (mode === "lower" || mode === "lower_and_strip_punctuation") {
    out = out.replace(ASCII_UPPER, (m) => m.toLowerCase());
  }
  if (mode === "strip_punctuation" || mode === "lower_and_strip_punctuation") {
    out = out.replace(PUNCTUATION, "");
  }
  return out;
}

export function split(text, mode) {
  if (mode === "whitespace") return text.split(ASCII_SPACE).filter((t) => t !== "");
  if (mode === "character") return Array.from(text);
  return [text];
}

// tf.strings.ngrams(tokens, widths, separator=" "): every width in order, then every position.
export function ngrams(tokens, widths) {
  if (!widths) return tokens;
  const out = [];
  for (const width of widths) {
    for (let i = 0; i + width <= tokens.length; i += 1) out.push(tokens.slice(i, i + width).join(" "));
  }
  return out;
}

// ---- 64-bit hashes on BigInt ----

const M64 = (1n << 64n) - 1n;
const K0 = 0xc3a5c85c97cb3127n;
const K1 = 0xb492b66fbe98f273n;
const K2 = 0x9ae16a3b2f90404fn;
const encoder = new TextEncoder();

function fetch64(s, i) {
  let v = 0n;
  for (let j = 7; j >= 0; j -= 1) v = (v << 8n) | BigInt(s[i + j]);
  return v;
}

function fetch32(s, i) {
  return BigInt((s[i] | (s[i + 1] << 8) | (s[i + 2] << 16) | (s[i + 3] << 24)) >>> 0);
}

const mul64 = (a, b) => (a * b) & M64;
const add64 = (...xs) => xs.reduce((a, b) => (a + b) & M64, 0n);
const rotr = (v, n) => ((v >> BigInt(n)) | (v << BigInt(64 - n))) & M64;
const rotl = (v, n) => ((v << BigInt(n)) | (v >> BigInt(64 - n))) & M64;
const shiftMix = (v) => v ^ (v >> 47n);

function hashLen16(u, v, mul) {
  let a = mul64(u ^ v, mul);
  a ^= a >> 47n;
  let b = mul64(v ^ a, mul);
  b ^= b >> 47n;
  return mul64(b, mul);
}

function hashLen0to16(s) {
  const len = s.length;
  if (len >= 8) {
    const mul = add64(K2, BigInt(len * 2));
    const a = add64(fetch64(s, 0), K2);
    const b = fetch64(s, len - 8);
    const c = add64(mul64(rotr(b, 37), mul), a);
    const d = mul64(add64(rotr(a, 25), b), mul);
    return hashLen16(c, d, mul);
  }
  if (len >= 4) {
    const mul = add64(K2, BigInt(len * 2));
    const a = fetch32(s, 0);
    return hashLen16(add64(BigInt(len), a << 3n), fetch32(s, len - 4), mul);
  }
  if (len > 0) {
    const y = BigInt(s[0] + (s[len >> 1] << 8));
    const z = BigInt(len + (s[len - 1] << 2));
    return mul64(shiftMix(mul64(y, K2) ^ mul64(z, K0)), K2);
  }
  return K2;
}

function hashLen17to32(s) {
  const len = s.length;
  const mul = add64(K2, BigInt(len * 2));
  const a = mul64(fetch64(s, 0), K1);
  const b = fetch64(s, 8);
  const c = mul64(fetch64(s, len - 8), mul);
  const d = mul64(fetch64(s, len - 16), K2);
  return hashLen16(add64(rotr(add64(a, b), 43), rotr(c, 30), d), add64(a, rotr(add64(b, K2), 18), c), mul);
}

function hashLen33to64(s) {
  const len = s.length;
  const mul = add64(K2, BigInt(len * 2));
  const a = mul64(fetch64(s, 0), K2);
  const b = fetch64(s, 8);
  const c = mul64(fetch64(s, len - 8), mul);
  const d = mul64(fetch64(s, len - 16), K2);
  const y = add64(rotr(add64(a, b), 43), rotr(c, 30), d);
  const z = hashLen16(y, add64(a, rotr(add64(b, K2), 18), c), mul);
  const e = mul64(fetch64(s, 16), mul);
  const f = fetch64(s, 24);
  const g = mul64(add64(y, fetch64(s, len - 32)), mul);
  const h = mul64(add64(z, fetch64(s, len - 24)), mul);
  return hashLen16(add64(rotr(add64(e, f), 43), rotr(g, 30), h), add64(e, rotr(add64(f, a), 18), g), mul);
}

function weakHashLen32WithSeeds(s, i, a0, b0) {
  const w = fetch64(s, i), x = fetch64(s, i + 8), y = fetch64(s, i + 16), z = fetch64(s, i + 24);
  let a = add64(a0, w);
  let b = rotr(add64(b0, a, z), 21);
  const c = a;
  a = add64(a, x, y);
  b = add64(b, rotr(a, 44));
  return [add64(a, z), add64(b, c)];
}

// FarmHash's Fingerprint64 (farmhashna::Hash64) of a byte array.
export function fingerprint64(s) {
  const len = s.length;
  if (len <= 16) return hashLen0to16(s);
  if (len <= 32) return hashLen17to32(s);
  if (len <= 64) return hashLen33to64(s);
  const seed = 81n;
  let x = seed;
  let y = add64(mul64(seed, K1), 113n);
  let z = mul64(shiftMix(add64(mul64(y, K2), 113n)), K2);
  let v = [0n, 0n], w = [0n, 0n];
  x = add64(mul64(x, K2), fetch64(s, 0));
  const end = Math.floor((len - 1) / 64) * 64;
  const last64 = end + ((len - 1) & 63) - 63;
  let i = 0;
  do {
    x = mul64(rotr(add64(x, y, v[0], fetch64(s, i + 8)), 37), K1);
    y = mul64(rotr(add64(y, v[1], fetch64(s, i + 48)), 42), K1);
    x ^= w[1];
    y = add64(y, v[0], fetch64(s, i + 40));
    z = mul64(rotr(add64(z, w[0]), 33), K1);
    v = weakHashLen32WithSeeds(s, i, mul64(v[1], K1), add64(x, w[0]));
    w = weakHashLen32WithSeeds(s, i + 32, add64(z, w[1]), add64(y, fetch64(s, i + 16)));
    [z, x] = [x, z];
    i += 64;
  } while (i !== end);
  const mul = add64(K1, (z & 0xffn) << 1n);
  i = last64;
  w[0] = add64(w[0], BigInt((len - 1) & 63));
  v[0] = add64(v[0], w[0]);
  w[0] = add64(w[0], v[0]);
  x = mul64(rotr(add64(x, y, v[0], fetch64(s, i + 8)), 37), mul);
  y = mul64(rotr(add64(y, v[1], fetch64(s, i + 48)), 42), mul);
  x ^= mul64(w[1], 9n);
  y = add64(y, mul64(v[0], 9n), fetch64(s, i + 40));
  z = mul64(rotr(add64(z, w[0]), 33), mul);
  v = weakHashLen32WithSeeds(s, i, mul64(v[1], mul), add64(x, w[0]));
  w = weakHashLen32WithSeeds(s, i + 32, add64(z, w[1]), add64(y, fetch64(s, i + 16)));
  [z, x] = [x, z];
  return hashLen16(add64(hashLen16(v[0], w[0], mul), mul64(shiftMix(y), K0), z),
    add64(hashLen16(v[1], w[1], mul), x), mul);
}

// SipHash-2-4 keyed by two unsigned 64-bit integers (TensorFlow's StrongKeyedHash).
export function siphash24(key, s) {
  const k0 = BigInt(key[0]) & M64, k1 = BigInt(key[1]) & M64;
  let v0 = k0 ^ 0x736f6d6570736575n, v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n, v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = add64(v0, v1); v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 = add64(v2, v3); v3 = rotl(v3, 16); v3 ^= v2;
    v0 = add64(v0, v3); v3 = rotl(v3, 21); v3 ^= v0;
    v2 = add64(v2, v1); v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  };
  const whole = s.length - (s.length % 8);
  for (let i = 0; i < whole; i += 8) {
    const m = fetch64(s, i);
    v3 ^= m; round(); round(); v0 ^= m;
  }
  let b = BigInt(s.length & 0xff) << 56n;
  for (let j = 0; j < s.length % 8; j += 1) b |= BigInt(s[whole + j]) << BigInt(8 * j);
  v3 ^= b; round(); round(); v0 ^= b;
  v2 ^= 0xffn;
  round(); round(); round(); round();
  return v0 ^ v1 ^ v2 ^ v3;
}

function bucket(text, bins, salt) {
  const bytes = encoder.encode(text);
  const hash = salt ? siphash24(salt, bytes) : fingerprint64(bytes);
  return Number(hash % BigInt(bins));
}

// tf.as_string of an int64 (a float is first cast to int64, as Keras's Hashing does).
function valueText(value) {
  if (typeof value === "string") return value;
  return String(Math.trunc(Number(value)));
}

// ---- the layers ----

// An IndexLookup (StringLookup, IntegerLookup, the lookup inside TextVectorization):
// a value to its index, or null for the mask token outside `int` mode (dropped).
function makeLookup(s) {
  const table = new Map();
  s.tokens.forEach((token, i) => table.set(s.integer ? String(token) : token, s.tokenStart + i));
  const key = (value) => (s.integer ? String(Math.trunc(Number(value))) : String(value));
  const mask = s.mask === null || s.mask === undefined ? null : key(s.mask);
  return (value) => {
    const k = key(value);
    if (mask !== null && k === mask) return s.outputMode === "int" ? 0 : null;
    const found = table.get(k);
    if (found !== undefined) return found;
    if (s.oovIndices === 0) {
      throw new Error("the value " + JSON.stringify(value) + " is not in the model's vocabulary, "
        + "and its lookup layer has no out-of-vocabulary index (num_oov_indices=0)");
    }
    if (s.oovIndices === 1) return s.oovStart;
    if (s.oovHash === "floormod") {
      const n = s.oovIndices;
      return s.oovStart + (((Math.trunc(Number(value)) % n) + n) % n);
    }
    return s.oovStart + bucket(k, s.oovIndices, s.oovHash === "siphash" ? s.salt : null);
  };
}

function makeHashing(s) {
  const bins = s.mask !== null && s.mask !== undefined && s.bins > 1 ? s.bins - 1 : s.bins;
  return (value) => {
    if (bins !== s.bins && (typeof value === "string" ? value === s.mask : Number(value) === Number(s.mask))) return 0;
    const index = bucket(valueText(value), bins, s.salt);
    return bins !== s.bins ? index + 1 : index;
  };
}

// multi_hot, count, tf_idf: one row of `depth` numbers from a list of indices.
function bag(indices, s) {
  const out = new Array(s.depth).fill(0);
  for (const i of indices) {
    if (i === null || i < 0 || i >= s.depth) continue;
    out[i] = s.outputMode === "multi_hot" ? 1 : out[i] + 1;
  }
  if (s.outputMode === "tf_idf") return out.map((c, i) => c * s.idf[i]);
  return out;
}

function oneHot(index, depth) {
  const out = new Array(depth).fill(0);
  if (index !== null && index >= 0 && index < depth) out[index] = 1;
  return out;
}

// The strings of a row of a [batch, 1] (or [batch]) text input.
function rowText(row) {
  const value = Array.isArray(row) ? row[0] : row;
  if (typeof value !== "string") throw new Error("the model takes text, and got " + JSON.stringify(value));
  return value;
}

function flatValues(row) {
  return Array.isArray(row) ? row.flat(Infinity) : [row];
}

function mapNested(row, fn) {
  return Array.isArray(row) ? row.map((v) => mapNested(v, fn)) : fn(row);
}

// One model input's preprocessing: encode(rows) gives what the graph takes, for a
// batch of raw rows; tokens(row) what a reader may see: [{token, index}].
export function makePreprocessor(s) {
  if (s.layer === "TextVectorization") {
    const lookup = makeLookup(s);
    const tokens = (row) => ngrams(split(standardize(rowText(row), s.standardize), s.split), s.ngrams);
    return {
      layer: s.layer,
      sequenceLength: s.outputMode === "int" ? s.sequenceLength : null,
      isOov: (index) => index !== null && index >= s.oovStart && index < s.tokenStart,
      tokens: (row) => tokens(row).map((token) => ({ token, index: lookup(token) })),
      encode(rows) {
        const indexed = rows.map((row) => tokens(row).map(lookup));
        if (s.outputMode !== "int") return indexed.map((indices) => bag(indices, s));
        const length = s.sequenceLength ?? Math.max(0, ...indexed.map((r) => r.length));
        return indexed.map((r) => r.slice(0, length).concat(new Array(Math.max(0, length - r.length)).fill(0)));
      },
    };
  }
  const index = s.layer === "Hashing" ? makeHashing(s) : makeLookup(s);
  return {
    layer: s.layer,
    sequenceLength: null,
    isOov: (i) => s.layer !== "Hashing" && i !== null && i >= s.oovStart && i < s.tokenStart,
    tokens: (row) => flatValues(row).map((value) => ({ token: String(value), index: index(value) })),
    encode(rows) {
      if (s.outputMode === "int") return rows.map((row) => mapNested(row, index));
      if (s.outputMode === "one_hot") {
        return rows.map((row) => (Array.isArray(row) && row.length !== 1
          ? row.map((v) => oneHot(index(v), s.depth))
          : oneHot(index(flatValues(row)[0]), s.depth)));
      }
      return rows.map((row) => bag(flatValues(row).map(index), s));
    },
  };
}

// The preprocessors of a model's inputs, in order (null for an input the graph
// takes as it is), from preprocess.json.
export function makePreprocessors(data) {
  return data.inputs.map((settings) => (settings ? makePreprocessor(settings) : null));
}
