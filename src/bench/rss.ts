/**
 * Peak resident memory of `dendritic train` on a large synthetic Edge Impulse data directory
 * (default 200,000 x 650 float32 training rows, about 520 MB, plus a 5,000-row validation split).
 * The data is written in chunks to a temporary directory (never held in memory here), the real CLI runs
 * in a child process (data loading, training, export and verification), and the child's peak RSS
 * (process.resourceUsage().maxRSS, all threads) is compared with the limit:
 *   2 x the float32 size of X (train + validation) + 150 MB.
 * Prints one JSON line; exits 1 when over the limit. The temporary directory is removed afterwards.
 *
 * Usage: node dist/bench/rss.js [--rows 200000] [--features 650] [--val-rows 5000] [--dtype f4|f8]
 *                               [--epochs 1] [--max-training-seconds 60] [--phase train|load]
 * --dtype f8 writes X as float64 (twice the file size): the reader converts chunk by chunk, so the
 * peak must stay the same. --phase load only loads the directory (the .npy reader and its checks).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeNpy } from '../data/npy.js';
import { Rng } from '../engine/rng.js';

const MB = 1024 * 1024;
const HERE = dirname(fileURLToPath(import.meta.url));
const CLI = join(HERE, '..', 'cli.js');

interface Options {
  rows: number;
  features: number;
  valRows: number;
  dtype: 'f4' | 'f8';
  epochs: number;
  maxTrainingSeconds: number;
  phase: 'train' | 'load';
  classes: number;
}

function parse(argv: string[]): Options {
  const o: Options = { rows: 200_000, features: 650, valRows: 5000, dtype: 'f4', epochs: 1, maxTrainingSeconds: 60, phase: 'train', classes: 4 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    if (value === undefined) throw new Error(`${flag}: expected a value`);
    switch (flag) {
      case '--rows':
        o.rows = Number(value);
        break;
      case '--features':
        o.features = Number(value);
        break;
      case '--val-rows':
        o.valRows = Number(value);
        break;
      case '--epochs':
        o.epochs = Number(value);
        break;
      case '--max-training-seconds':
        o.maxTrainingSeconds = Number(value);
        break;
      case '--dtype':
        if (value !== 'f4' && value !== 'f8') throw new Error(`--dtype: expected f4 or f8, got ${value}`);
        o.dtype = value;
        break;
      case '--phase':
        if (value !== 'train' && value !== 'load') throw new Error(`--phase: expected train or load, got ${value}`);
        o.phase = value;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}

/** Writes an (rows, features) X .npy of the given dtype in chunks of rows, and returns the labels. */
function writeLargeX(path: string, rows: number, features: number, classes: number, dtype: 'f4' | 'f8', rng: Rng): Int32Array {
  const itemSize = dtype === 'f4' ? 4 : 8;
  let dict = `{'descr': '<${dtype}', 'fortran_order': False, 'shape': (${rows}, ${features}), }`;
  dict += ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n';
  const header = Buffer.alloc(10 + dict.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(header);
  header.writeUInt16LE(dict.length, 8);
  header.write(dict, 10, 'latin1');
  const labels = new Int32Array(rows);
  const chunkRows = Math.max(1, Math.floor((4 * MB) / (features * itemSize)));
  const buf = Buffer.alloc(chunkRows * features * itemSize);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    for (let start = 0; start < rows; start += chunkRows) {
      const n = Math.min(chunkRows, rows - start);
      for (let r = 0; r < n; r++) {
        const c = rng.int(classes);
        labels[start + r] = c;
        for (let f = 0; f < features; f++) {
          const v = (f % classes === c ? 0.5 : 0) + rng.uniform(-1, 1);
          const at = (r * features + f) * itemSize;
          if (dtype === 'f4') buf.writeFloatLE(v, at);
          else buf.writeDoubleLE(v, at);
        }
      }
      writeSync(fd, buf, 0, n * features * itemSize);
    }
  } finally {
    closeSync(fd);
  }
  return labels;
}

function main(): number {
  const o = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'dendritic-rss-'));
  try {
    const data = join(dir, 'data');
    const out = join(dir, 'out');
    const t0 = performance.now();
    const rng = new Rng(7);
    mkdirSync(data);
    const yTrain = writeLargeX(join(data, 'X_split_train.npy'), o.rows, o.features, o.classes, o.dtype, rng);
    const yVal = writeLargeX(join(data, 'X_split_test.npy'), o.valRows, o.features, o.classes, o.dtype, rng);
    writeNpy(join(data, 'Y_split_train.npy'), yTrain, [o.rows], 'int32');
    writeNpy(join(data, 'Y_split_test.npy'), yVal, [o.valRows], 'int32');
    const generateSeconds = (performance.now() - t0) / 1000;

    // A preload that records the child's peak RSS (every thread) when it exits.
    const rssFile = join(dir, 'maxrss.json');
    const probe = join(dir, 'rss-probe.mjs');
    writeFileSync(
      probe,
      `import { writeFileSync } from 'node:fs';\n` +
        `process.on('exit', (code) => writeFileSync(${JSON.stringify(rssFile)}, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, code })));\n`,
    );
    const childArgs =
      o.phase === 'train'
        ? [
            CLI,
            'train',
            '--data-directory',
            data,
            '--out-directory',
            out,
            '--epochs',
            String(o.epochs),
            '--max-training-seconds',
            String(o.maxTrainingSeconds),
            '--quiet',
          ]
        : [
            '--input-type=module',
            '-e',
            `import(${JSON.stringify(pathToFileURL(join(HERE, '..', 'data', 'ei-directory.js')).href)}).then((m) => { const d = m.loadEiDirectory(${JSON.stringify(data)}); console.log(d.summary); })`,
          ];
    const t1 = performance.now();
    const child = spawnSync(process.execPath, ['--import', pathToFileURL(probe).href, ...childArgs], { encoding: 'utf8', maxBuffer: 64 * MB });
    const runSeconds = (performance.now() - t1) / 1000;
    if (child.status !== 0) {
      process.stderr.write(child.stdout + child.stderr);
      throw new Error(`the child exited with ${child.status ?? child.signal}`);
    }
    const { maxRssKb } = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRssKb: number };
    const xFloat32Bytes = (o.rows + o.valRows) * o.features * 4;
    const limitBytes = 2 * xFloat32Bytes + 150 * MB;
    const peak = maxRssKb * 1024;
    const result = {
      benchmark: 'peak-rss',
      command: o.phase === 'train' ? `dendritic train --epochs ${o.epochs} --max-training-seconds ${o.maxTrainingSeconds}` : 'loadEiDirectory',
      rows: o.rows,
      val_rows: o.valRows,
      features: o.features,
      x_dtype: o.dtype === 'f4' ? 'float32' : 'float64',
      x_float32_mb: +(xFloat32Bytes / MB).toFixed(1),
      peak_rss_mb: +(peak / MB).toFixed(1),
      limit_mb: +(limitBytes / MB).toFixed(1),
      peak_over_x: +(peak / xFloat32Bytes).toFixed(3),
      ok: peak <= limitBytes,
      generate_seconds: +generateSeconds.toFixed(1),
      run_seconds: +runSeconds.toFixed(1),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.ok ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
