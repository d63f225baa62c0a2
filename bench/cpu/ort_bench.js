#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU execution provider) peer for Tessera's CPU benchmarks,
// and a reference runner for the e2e harness (`run_e2e.py --runner ort`).
//
// Usage:
//   node bench/cpu/ort_bench.js MODEL.onnx --input NAME=FILE.npy [--input ...]
//        [--output-dir DIR] [--bench N] [--warmup W] [--threads T] [--ep cpu|cuda] [--json]
//   node bench/cpu/ort_bench.js --version
//
// Mirrors tessera-run's interface: each output is written to DIR/<name>.npy, with every char
// of the ONNX output name outside [A-Za-z0-9_.-] replaced by '_'. With --bench N it times N
// runs after W warm-up runs (default max(3, N/10)) and prints
//   ort: median X ms (min Y ms, mean Z ms, n=N, threads=T)
// and with --json one more line: a JSON object with the same figures.
// Session: intraOpNumThreads=T (default 1), interOpNumThreads=1, sequential execution,
// all graph optimisations. Install: `cd bench/cpu && ONNXRUNTIME_NODE_INSTALL=skip npm install`
// (the bundled CPU binaries are enough; `skip` avoids the optional CUDA download).
'use strict';

const fs = require('fs');
const path = require('path');

function die(msg, code) {
  process.stderr.write('ort_bench: ' + msg + '\n');
  process.exit(code === undefined ? 2 : code);
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    die('onnxruntime-node is not installed (cd bench/cpu && ONNXRUNTIME_NODE_INSTALL=skip ' +
        'npm install): ' + e.message, 3);
  }
}

function ortVersion() {
  try {
    let dir = path.dirname(require.resolve('onnxruntime-node'));
    for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
      const p = path.join(dir, 'package.json');
      if (fs.existsSync(p)) {
        const pkg = JSON.parse(fs.readFileSync(p, 'utf8'));
        if (pkg.name === 'onnxruntime-node') return pkg.version;
      }
    }
  } catch (e) { /* fall through */ }
  return 'unknown';
}

// ------------------------------------------------------------------------------------ .npy
const NPY_TYPES = {  // descr -> [ort type, typed array]
  '<f4': ['float32', Float32Array], '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array], '<i4': ['int32', Int32Array], '<i2': ['int16', Int16Array],
  '|i1': ['int8', Int8Array], '|u1': ['uint8', Uint8Array], '|b1': ['bool', Uint8Array],
  '<u8': ['uint64', BigUint64Array], '<u4': ['uint32', Uint32Array],
  '<u2': ['uint16', Uint16Array], '<f2': ['float16', Uint16Array],
};
const ORT_TO_DESCR = {};
for (const [d, [t]] of Object.entries(NPY_TYPES)) ORT_TO_DESCR[t] = d;

function readNpy(ort, file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') {
    die(file + ': not a .npy file');
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = (/'descr':\s*'([^']+)'/.exec(header) || [])[1];
  const fortran = (/'fortran_order':\s*(True|False)/.exec(header) || [])[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header) || [])[1];
  if (!descr || !NPY_TYPES[descr.replace('=', '<')]) die(file + ': unsupported dtype ' + descr);
  if (fortran === 'True') die(file + ': fortran_order arrays are not supported');
  const dims = shape.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const [type, Arr] = NPY_TYPES[descr.replace('=', '<')];
  const bytes = buf.subarray(hstart + hlen);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const data = new Arr(ab);
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) die(file + ': expected ' + n + ' elements, found ' + data.length);
  return new ort.Tensor(type, data, dims);
}

function writeNpy(file, tensor) {
  const descr = ORT_TO_DESCR[tensor.type];
  if (!descr) die('cannot write output of type ' + tensor.type);
  const dims = tensor.dims;
  const shape = dims.length === 1 ? '(' + dims[0] + ',)' : '(' + dims.join(', ') + ')';
  let header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ', }';
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre[0] = 0x93;
  pre.write('NUMPY', 1, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const d = tensor.data;
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'),
    Buffer.from(d.buffer, d.byteOffset, d.byteLength)]));
}

function sanitize(name) {
  let s = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (s === '' || s === '.' || s === '..') s = s.replace(/\./g, '_') || '_';
  return s;
}

// ------------------------------------------------------------------------------------ main
function parseArgs(argv) {
  const a = { inputs: [], bench: 0, warmup: -1, threads: 1, outDir: null, json: false, ep: 'cpu',
    model: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die('missing value after ' + k);
      return argv[++i];
    };
    if (k === '--input') {
      const v = next();
      const eq = v.indexOf('=');  // names never hold '=', paths might
      if (eq <= 0) die('--input wants NAME=FILE.npy, got ' + v);
      a.inputs.push([v.slice(0, eq), v.slice(eq + 1)]);
    } else if (k === '--output-dir') a.outDir = next();
    else if (k === '--bench') a.bench = parseInt(next(), 10);
    else if (k === '--warmup') a.warmup = parseInt(next(), 10);
    else if (k === '--threads') a.threads = parseInt(next(), 10);
    else if (k === '--ep') a.ep = next();
    else if (k === '--json') a.json = true;
    else if (k === '--version') {
      process.stdout.write(ortVersion() + '\n');
      process.exit(0);
    } else if (k.startsWith('--')) die('unknown option ' + k);
    else if (a.model === null) a.model = k;
    else die('unexpected argument ' + k);
  }
  if (!a.model) die('usage: ort_bench.js MODEL.onnx --input NAME=FILE.npy ... ' +
                    '[--output-dir DIR] [--bench N] [--warmup W] [--threads T] [--ep cpu|cuda] [--json]');
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: [a.ep],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = {};
  for (const [name, file] of a.inputs) feeds[name] = readNpy(ort, file);
  for (const name of session.inputNames) {
    if (!(name in feeds)) die('missing --input for model input ' + JSON.stringify(name));
  }
  let out = await session.run(feeds);
  if (a.outDir) {
    fs.mkdirSync(a.outDir, { recursive: true });
    for (const name of session.outputNames) {
      writeNpy(path.join(a.outDir, sanitize(name) + '.npy'), out[name]);
    }
  }
  if (a.bench > 0) {
    const warm = a.warmup >= 0 ? a.warmup : Math.max(3, Math.floor(a.bench / 10));
    for (let i = 0; i < warm; i++) out = await session.run(feeds);
    const times = [];
    for (let i = 0; i < a.bench; i++) {
      const s = process.hrtime.bigint();
      out = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    times.sort((x, y) => x - y);
    const n = times.length;
    const median = n % 2 ? times[(n - 1) / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
    const mean = times.reduce((x, y) => x + y, 0) / n;
    process.stdout.write('ort: median ' + median.toFixed(3) + ' ms (min ' +
      times[0].toFixed(3) + ' ms, mean ' + mean.toFixed(3) + ' ms, n=' + n + ', threads=' +
      a.threads + ')\n');
    if (a.json) {
      process.stdout.write(JSON.stringify({ median_ms: median, min_ms: times[0], mean_ms: mean,
        n, warmup: warm, threads: a.threads, load_ms: loadMs, ort_version: ortVersion() }) +
        '\n');
    }
  }
}

main().catch((e) => die(String(e && e.stack ? e.stack : e), 1));
