/**
 * Training throughput of the engine on Edge Impulse's KWS network (650 features, 12 classes, batch 32,
 * synthetic data) at widths 1, 2, 4, next to PyTorch running the same network and loop when
 * /usr/bin/python3 has torch. One JSON line per width.
 * Usage: node dist/bench/throughput.js [secondsPerWidth=3] [widths=1,2,4]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildEiKws } from '../models/ei-kws.js';
import { Rng } from '../engine/rng.js';
import { Adam } from '../engine/optim.js';
import { softmaxCrossEntropy } from '../engine/loss.js';
import type { ForwardContext } from '../engine/layer.js';

const FEATURES = 650;
const CLASSES = 12;
const BATCH = 32;
const SAMPLES = 2048;
const PYTHON = '/usr/bin/python3';

/** Samples per second of the full training step (forward, loss, backward, Adam) for `seconds`. */
export function engineSamplesPerSecond(width: number, seconds: number): number {
  const rng = new Rng(0);
  const X = new Float32Array(SAMPLES * FEATURES);
  for (let i = 0; i < X.length; i++) X[i] = rng.normal();
  const Y = Int32Array.from({ length: SAMPLES }, () => rng.int(CLASSES));
  const model = buildEiKws({ features: FEATURES, classes: CLASSES, width, dropout: 0.25, seed: 0 });
  const opt = new Adam(model.params(), { lr: 0.005 });
  const ctx: ForwardContext = { training: true, rng };
  const order = Int32Array.from({ length: SAMPLES }, (_, i) => i);
  const xb = new Float32Array(BATCH * FEATURES);
  const yb = new Int32Array(BATCH);
  let dl: Float32Array | undefined;

  const run = (limit: number): number => {
    let done = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < limit * 1000) {
      rng.shuffle(order);
      for (let s = 0; s + BATCH <= SAMPLES; s += BATCH) {
        for (let b = 0; b < BATCH; b++) {
          const i = order[s + b]!;
          xb.set(X.subarray(i * FEATURES, (i + 1) * FEATURES), b * FEATURES);
          yb[b] = Y[i]!;
        }
        opt.zeroGrad();
        const logits = model.forward({ data: xb, shape: [BATCH, FEATURES] }, ctx);
        const { dlogits } = softmaxCrossEntropy(logits, yb, dl);
        dl = dlogits.data;
        model.backward(dlogits);
        opt.step();
        done += BATCH;
      }
    }
    return done / ((performance.now() - t0) / 1000);
  };
  run(Math.min(1, seconds / 3)); // warm-up: let V8 optimise the kernels
  return run(seconds);
}

/** PyTorch's figure from bench/torch_kws_bench.py, or null when torch (or the script) is unavailable. */
export function torchSamplesPerSecond(width: number, seconds: number): number | null {
  const script = fileURLToPath(new URL('../../bench/torch_kws_bench.py', import.meta.url));
  if (!existsSync(script)) return null;
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const r = spawnSync(PYTHON, [script, String(width), String(seconds), String(FEATURES), String(CLASSES)], {
    encoding: 'utf8',
    env: { ...process.env, THREADS: process.env.THREADS ?? '2' },
  });
  if (r.status !== 0) {
    process.stderr.write(`torch benchmark failed: ${r.stderr}\n`);
    return null;
  }
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { samples_per_s: number }).samples_per_s;
}

function main(): void {
  const seconds = Number(process.argv[2] ?? 3);
  const widths = (process.argv[3] ?? '1,2,4').split(',').map(Number);
  for (const width of widths) {
    const ours = engineSamplesPerSecond(width, seconds);
    const torch = torchSamplesPerSecond(width, seconds);
    const line = {
      model: 'ei-kws',
      width,
      samples_per_s: Math.round(ours),
      torch_samples_per_s: torch === null ? null : Math.round(torch),
      ratio: torch === null ? null : Number((ours / torch).toFixed(2)),
    };
    console.log(JSON.stringify(line));
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
