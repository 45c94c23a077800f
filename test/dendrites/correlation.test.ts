import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Candidate, correlationObjective, trainCandidatesByCorrelation } from '../../src/dendrites/correlation.js';
import { dendriteSetCount } from '../../src/dendrites/apply.js';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Conv1D } from '../../src/engine/layers/conv.js';
import { Sequential } from '../../src/engine/model.js';
import { Adam } from '../../src/engine/optim.js';
import { softmaxCrossEntropy } from '../../src/engine/loss.js';
import { Rng } from '../../src/engine/rng.js';
import { testConfig } from '../helpers/config.js';

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

test('correlation objective: value is mean |Pearson r| (numpy-free oracle) and its gradient matches finite differences', () => {
  const rng = new Rng(1);
  const C = 3;
  const rows = 10;
  const d = randn(rng, rows * C);
  const e = randn(rng, rows * C);
  // Independent oracle: r computed column by column in float64 the textbook way.
  let expected = 0;
  for (let c = 0; c < C; c++) {
    const a = Array.from({ length: rows }, (_, r) => d[r * C + c]!);
    const b = Array.from({ length: rows }, (_, r) => e[r * C + c]!);
    const ma = a.reduce((s, v) => s + v, 0) / rows;
    const mb = b.reduce((s, v) => s + v, 0) / rows;
    const cov = a.reduce((s, v, i) => s + (v - ma) * (b[i]! - mb), 0);
    const va = a.reduce((s, v) => s + (v - ma) ** 2, 0);
    const vb = b.reduce((s, v) => s + (v - mb) ** 2, 0);
    expected += Math.abs(cov / Math.sqrt(va * vb)) / C;
  }
  const grad = new Float32Array(d.length);
  assert.ok(Math.abs(correlationObjective(d, e, C, grad) - expected) < 1e-6);
  const eps = 1e-3;
  for (let i = 0; i < d.length; i++) {
    const old = d[i]!;
    d[i] = old + eps;
    const up = correlationObjective(d, e, C);
    d[i] = old - eps;
    const down = correlationObjective(d, e, C);
    d[i] = old;
    const numeric = (up - down) / (2 * eps);
    assert.ok(Math.abs(numeric - grad[i]!) < 1e-3 + 1e-2 * Math.abs(numeric), `d[${i}]: numeric ${numeric}, analytic ${grad[i]}`);
  }
});

test('candidate gradient (branch weights and cascade weights, through the activation) matches finite differences', () => {
  const rng = new Rng(2);
  const base = new Conv1D({ name: 'c', inChannels: 2, filters: 3, kernelSize: 3, rng });
  const cand = new Candidate(base.sibling('cand', rng, 0.5), 'tanh', 2);
  for (const w of cand.cascade) w.value.set(randn(rng, 3, 0.5));
  const x = { data: randn(rng, 2 * 6 * 2), shape: [2, 6, 2] };
  const e = { data: randn(rng, 2 * 6 * 3), shape: [2, 6, 3] };
  const ds = [randn(rng, 36), randn(rng, 36)];
  for (const p of cand.params()) p.grad.fill(0);
  cand.objectiveAndGrad(x, e, ds);
  const analyticAll = cand.params().map((p) => p.grad.slice()); // before FD calls add more into the grads
  const eps = 1e-2;
  for (const [pi, p] of cand.params().entries()) {
    const analytic = analyticAll[pi]!;
    for (let i = 0; i < p.value.length; i++) {
      const old = p.value[i]!;
      p.value[i] = old + eps;
      const up = cand.objectiveAndGrad(x, e, ds);
      p.value[i] = old - eps;
      const down = cand.objectiveAndGrad(x, e, ds);
      p.value[i] = old;
      const numeric = -(up - down) / (2 * eps); // the grads are of -objective
      assert.ok(Math.abs(numeric - analytic[i]!) < 2e-3 + 3e-2 * Math.abs(numeric), `${p.name}[${i}]: numeric ${numeric}, analytic ${analytic[i]}`);
    }
  }
});

/** XOR on noisy corners of [-1, 1]^2: a single Dense 2->2 (a linear classifier) cannot exceed 75%. */
function xorData(n: number, rng: Rng): { x: Float32Array; labels: Int32Array } {
  const x = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i % 2;
    const b = (i >> 1) % 2;
    x[2 * i] = (a ? 1 : -1) + rng.normal() * 0.1;
    x[2 * i + 1] = (b ? 1 : -1) + rng.normal() * 0.1;
    labels[i] = a ^ b;
  }
  return { x, labels };
}

function trainAll(model: Sequential, x: Float32Array, labels: Int32Array, epochs: number, lr: number): number {
  const opt = new Adam(model.params(), { lr });
  const n = labels.length;
  let acc = 0;
  for (let e = 0; e < epochs; e++) {
    const logits = model.forward({ data: x, shape: [n, 2] }, { training: true, rng: new Rng(0) });
    const r = softmaxCrossEntropy(logits, labels);
    opt.zeroGrad();
    model.backward(r.dlogits);
    opt.step();
    acc = r.correct / n;
  }
  return acc;
}

function accuracy(model: Sequential, x: Float32Array, labels: Int32Array): number {
  const logits = model.forward({ data: x, shape: [labels.length, 2] }, { training: false, rng: new Rng(0) });
  return softmaxCrossEntropy(logits, labels).correct / labels.length;
}

test('XOR: a Dense 2->2 stalls at <= 75%; one correlation-trained set + neuron training reaches ~100%', () => {
  const rng = new Rng(7);
  const { x, labels } = xorData(64, rng);
  const model = new Sequential([2], [new Dense({ name: 'out', inFeatures: 2, units: 2, rng })]);
  trainAll(model, x, labels, 300, 0.05);
  const before = accuracy(model, x, labels);
  assert.ok(before <= 0.76, `a linear model cannot fit XOR, got ${before}`);
  const probe = model.forward({ data: x, shape: [64, 2] }, { training: false, rng }).data.slice();

  const batches = function* () {
    for (let s = 0; s < 64; s += 16) yield { x: { data: x.subarray(s * 2, (s + 16) * 2), shape: [16, 2] }, labels: labels.subarray(s, s + 16) };
  };
  const result = trainCandidatesByCorrelation(
    model,
    batches,
    testConfig({
      correlationEpochs: 60,
      correlationCandidates: 4,
      learningRate: 0.05,
      dendriteActivation: 'sigmoid',
      candidateWeightInit: 0.01,
      dendriteLayers: 'all',
    }),
    { rng },
  );
  assert.equal(dendriteSetCount(model), 1);
  assert.deepEqual(result.layers, ['out']);
  assert.ok(result.correlations[0]! > 0.4, `candidate correlates with the error: |r| = ${result.correlations[0]}`);
  // installed with v = 0: the function is unchanged and no grads leaked from the frozen phase
  assert.deepEqual(model.forward({ data: x, shape: [64, 2] }, { training: false, rng }).data, probe);
  assert.ok(model.params().every((p) => p.trainable && p.grad.every((g) => g === 0)));

  trainAll(model, x, labels, 300, 0.05);
  const after = accuracy(model, x, labels);
  assert.ok(after >= 0.98, `with a correlation-trained dendrite XOR is separable, got ${after}`);
});

test('correlation phase adds a set to layers that already have one (cascade weights from the earlier set)', () => {
  const rng = new Rng(9);
  const { x, labels } = xorData(32, rng);
  const h = new Dense({ name: 'h', inFeatures: 2, units: 3, rng });
  const model = new Sequential([2], [h, new Dense({ name: 'out', inFeatures: 3, units: 2, rng })]);
  const batches = () => [{ x: { data: x, shape: [32, 2] }, labels }];
  trainCandidatesByCorrelation(
    model,
    batches,
    testConfig({
      correlationEpochs: 3,
      correlationCandidates: 2,
      learningRate: 0.01,
      dendriteActivation: 'tanh',
      candidateWeightInit: 0.1,
      dendriteLayers: 'all',
    }),
    { rng },
  );
  const r = trainCandidatesByCorrelation(
    model,
    batches,
    testConfig({
      correlationEpochs: 3,
      correlationCandidates: 2,
      learningRate: 0.01,
      dendriteActivation: 'tanh',
      candidateWeightInit: 0.1,
      dendriteLayers: 'hidden',
    }),
    { rng },
  );
  assert.deepEqual(r.layers, ['h']);
  const hl = model.layers[0] as DendriticLayer;
  assert.equal(hl.setCount, 2);
  assert.ok(hl.params().some((p) => p.name === 'w1_0'));
});
