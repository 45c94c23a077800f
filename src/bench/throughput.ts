/**
 * Training throughput of the engine on Edge Impulse's KWS network (650 features, 12 classes, batch 32,
 * synthetic data) at widths 1, 2, 4, next to PyTorch running the same network and loop when
 * /usr/bin/python3 has torch. One JSON line per width; `kernels` names the engine's kernels
 * (native ISA or js; DENDRITIC_KERNELS=js forces the pure-JS ones).
 * Usage: node dist/bench/throughput.js [secondsPerWidth=3] [widths=1,2,4] [rounds=1] [--dendrites=N]
 * With rounds > 1 the engine and PyTorch are timed alternately that many times and the best of each is
 * kept (robust against other processes on a shared machine). --dendrites=N also times the engine with
 * N dendrite sets on every layer (no PyTorch counterpart).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildEiKws } from '../models/ei-kws.js';
import { Rng } from '../engine/rng.js';
import { Adam } from '../engine/optim.js';
import { softmaxCrossEntropy } from '../engine/loss.js';
import type { ForwardContext } from '../engine/layer.js';
import { kernels, nativeIsa } from '../engine/kernels.js';
import { addDendriteSet } from '../dendrites/apply.js';

const FEATURES = 650;
const CLASSES = 12;
const BATCH = 32;
const SAMPLES = 2048;
const PYTHON = '/usr/bin/python3';

/**
 * Samples per second of the full training step (forward, loss, backward, Adam) for `seconds`, optionally
 * with `dendriteSets` dendrite sets (sigmoid, init 0.01) on every dense/conv layer.
 */
export function engineSamplesPerSecond(width: number, seconds: number, dendriteSets = 0): number {
  const rng = new Rng(0);
  const X = new Float32Array(SAMPLES * FEATURES);
  for (let i = 0; i < X.length; i++) X[i] = rng.normal();
  const Y = Int32Array.from({ length: SAMPLES }, () => rng.int(CLASSES));
  const model = buildEiKws({ features: FEATURES, classes: CLASSES, width, dropout: 0.25, seed: 0 });
  for (let i = 0; i < dendriteSets; i++)
    addDendriteSet(
      model,
      { dendriteLayers: 'all', candidateWeightInit: 0.01, dendriteActivation: 'sigmoid', dendriteRank: 0, dendriteForm: 'gated' },
      rng,
    );
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
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const flag = process.argv.find((a) => a.startsWith('--dendrites='));
  const seconds = Number(args[0] ?? 3);
  const widths = (args[1] ?? '1,2,4').split(',').map(Number);
  const rounds = Math.max(1, Number(args[2] ?? 1));
  const dendrites = flag === undefined ? 0 : Number(flag.split('=')[1]);
  const backend = kernels.name === 'native' ? `native-${nativeIsa}` : 'js';
  for (const width of widths) {
    let ours = 0;
    let torch: number | null = null;
    for (let r = 0; r < rounds; r++) {
      ours = Math.max(ours, engineSamplesPerSecond(width, seconds));
      const t = torchSamplesPerSecond(width, seconds);
      if (t !== null) torch = Math.max(torch ?? 0, t);
    }
    const line = {
      model: 'ei-kws',
      width,
      samples_per_s: Math.round(ours),
      torch_samples_per_s: torch === null ? null : Math.round(torch),
      ratio: torch === null ? null : Number((ours / torch).toFixed(2)),
      kernels: backend,
    };
    console.log(JSON.stringify(line));
    if (dendrites > 0) {
      let d = 0;
      for (let r = 0; r < rounds; r++) d = Math.max(d, engineSamplesPerSecond(width, seconds, dendrites));
      console.log(JSON.stringify({ model: 'ei-kws', width, dendrite_sets: dendrites, samples_per_s: Math.round(d), kernels: backend }));
    }
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
