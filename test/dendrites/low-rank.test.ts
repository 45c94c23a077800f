/**
 * Low-rank dendrite branches (src/dendrites/low-rank.ts): exact gradients through the two stages and
 * the cascade, outputs unchanged when a set is added, parameter accounting, and export parity with
 * onnxruntime and the TFLite interpreter (float) for dense, conv1d and conv2d bases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import type { Activation } from '../../src/engine/kernels.js';
import { LowRankBranch, lowRankParameterCount } from '../../src/dendrites/low-rank.js';
import { addDendriteSet, countParameters, parametersPerNextSet } from '../../src/dendrites/apply.js';
import { trainCandidatesByCorrelation } from '../../src/dendrites/correlation.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { ReLU } from '../../src/engine/layers/activation.js';
import { MaxPool1D } from '../../src/engine/layers/pool.js';
import { Flatten } from '../../src/engine/layers/reshape.js';
import { Sequential } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import { gradCheck as checkGradients } from '../engine/gradcheck.js';
import { sizeOf } from '../../src/engine/tensor.js';
import type { Layer, WrappableLayer } from '../../src/engine/layer.js';
import { buildModel } from '../../src/models/select.js';
import { exportOnnx } from '../../src/export/onnx/exporter.js';
import { runOnnx } from '../../src/export/onnx/runtime.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { runTflite } from '../../src/export/tflite/runtime.js';
import { testConfig } from '../helpers/config.js';
import { correlationProblem, randn } from '../helpers/correlation-problem.js';

const ctx = { training: true, rng: new Rng(99) };

/** A layer with `sets` low-rank sets whose v, w and biases are all non-zero. */
function wrapped(base: WrappableLayer, sets: number, rank: number, activation: Activation, seed = 1): DendriticLayer {
  const rng = new Rng(seed);
  const layer = new DendriticLayer(base);
  for (let i = 0; i < sets; i++) layer.addSet(rng, testConfig({ candidateWeightInit: 0.01, dendriteActivation: activation, dendriteRank: rank }));
  for (const p of layer.params()) if (/^(v\d|w\d)/.test(p.name)) p.value.set(randn(rng, p.value.length, 0.7));
  for (const p of layer.params()) if (p.name.endsWith('bias')) p.value.set(randn(rng, p.value.length, 0.3));
  return layer;
}

/** Every input and parameter gradient against central differences (test/engine/gradcheck.ts) at a random input. */
function gradCheck(layer: Layer, inShape: number[], seed: number): void {
  checkGradients(layer, { data: randn(new Rng(seed), sizeOf(inShape)), shape: inShape });
}

test('a LowRankBranch alone: gradients of both stages and the input match finite differences', () => {
  const base = new Conv1D({ name: 'c', inChannels: 3, filters: 5, kernelSize: 3, stride: 2, padding: 'same', rng: new Rng(2) });
  const branch = new LowRankBranch(base, 'b', 2, new Rng(3));
  assert.equal(branch.outChannels, 5);
  assert.deepEqual(
    branch.params().map((p) => p.name),
    ['down/kernel', 'down/bias', 'up/kernel', 'up/bias'],
  );
  for (const p of branch.params()) if (p.name.endsWith('bias')) p.value.set(randn(new Rng(4), p.value.length, 0.3));
  gradCheck(branch, [2, 9, 3], 5);
});

for (const activation of ['sigmoid', 'tanh', 'relu'] as const) {
  test(`dense, 3 low-rank sets (rank 2), ${activation}: every gradient matches finite differences`, () => {
    const layer = wrapped(new Dense({ name: 'fc', inFeatures: 6, units: 4, rng: new Rng(3) }), 3, 2, activation);
    gradCheck(layer, [5, 6], 11);
  });
}

test('conv1d and conv2d, 2 low-rank sets: gradients through both stages and the cascade match finite differences', () => {
  const c1 = new Conv1D({ name: 'c1', inChannels: 3, filters: 4, kernelSize: 3, stride: 2, padding: 'valid', rng: new Rng(5) });
  gradCheck(wrapped(c1, 2, 1, 'sigmoid'), [2, 9, 3], 13);
  const c2 = new Conv2D({ name: 'c2', inChannels: 2, filters: 3, kernelSize: 3, stride: 1, padding: 'same', rng: new Rng(4) });
  gradCheck(wrapped(c2, 2, 2, 'tanh'), [2, 4, 4, 2], 12);
});

test('backwardParamsOnly accumulates the same param grads as backward (low-rank sets)', () => {
  const layer = wrapped(new Conv1D({ name: 'c', inChannels: 3, filters: 4, kernelSize: 3, rng: new Rng(3) }), 2, 2, 'sigmoid');
  const rng = new Rng(8);
  const x = { data: randn(rng, 2 * 7 * 3), shape: [2, 7, 3] };
  const dy = { data: randn(rng, 2 * 7 * 4), shape: [2, 7, 4] };
  for (const p of layer.params()) p.grad.fill(0);
  layer.forward(x, ctx);
  layer.backward(dy);
  const full = layer.params().map((p) => p.grad.slice());
  for (const p of layer.params()) p.grad.fill(0);
  layer.forward(x, ctx);
  layer.backwardParamsOnly(dy);
  layer.params().forEach((p, i) => assert.deepEqual(p.grad, full[i], p.name));
});

test('adding a low-rank set leaves the outputs bit-for-bit unchanged; the branch itself is not constant', () => {
  const rng = new Rng(21);
  const layer = wrapped(new Conv2D({ name: 'c', inChannels: 2, filters: 3, kernelSize: 3, rng: new Rng(6) }), 1, 1, 'sigmoid');
  const x = { data: randn(rng, 2 * 5 * 5 * 2), shape: [2, 5, 5, 2] };
  const before = layer.forward(x, ctx).data.slice();
  layer.addSet(rng, testConfig({ candidateWeightInit: 0.01, dendriteActivation: 'tanh', dendriteRank: 2 }));
  assert.equal(layer.setCount, 2);
  assert.deepEqual(layer.forward(x, ctx).data, before);
  // LeCun-initialised stages: the new dendrite varies with the input (v's first gradient is informative).
  const d = layer.dendriteOutput(1);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.ok(hi - lo > 0.1, `new dendrite output range ${lo}..${hi}`);
  layer.removeLastSet();
  assert.deepEqual(layer.forward(x, ctx).data, before);
});

test('parameter accounting: names, countParameters and parametersPerNextSet agree with the built sets', () => {
  const model = buildModel({ kind: 'ei-kws', features: 650, classes: 10, width: 1, dropout: 0.25, seed: 1 });
  const plain = countParameters(model).total;
  for (const which of ['output', 'hidden', 'all'] as const) {
    const m = buildModel({ kind: 'ei-kws', features: 650, classes: 10, width: 1, dropout: 0.25, seed: 1 });
    const rng = new Rng(1);
    for (let s = 0; s < 2; s++) {
      const before = countParameters(m).total;
      const predicted = parametersPerNextSet(m, testConfig({ dendriteLayers: which, dendriteRank: 2 }));
      addDendriteSet(m, testConfig({ dendriteLayers: which, candidateWeightInit: 0.01, dendriteActivation: 'sigmoid', dendriteRank: 2 }), rng);
      assert.equal(countParameters(m).total - before, predicted, `${which}, set ${s + 1}`);
    }
    assert.equal(countParameters(m).total - countParameters(m).dendrite, plain);
  }
  const out = new Dense({ name: 'dense', inFeatures: 208, units: 10, rng: new Rng(1) });
  // down 208x2 + 2, up 2x10 + 10
  assert.equal(lowRankParameterCount(out, 2), 416 + 2 + 20 + 10);
  const layer = wrapped(new Dense({ name: 'fc', inFeatures: 3, units: 2, rng: new Rng(1) }), 2, 1, 'sigmoid');
  assert.deepEqual(
    layer.params().map((p) => p.name),
    [
      'kernel',
      'bias',
      'dendrite0/down/kernel',
      'dendrite0/down/bias',
      'dendrite0/up/kernel',
      'dendrite0/up/bias',
      'v0',
      'dendrite1/down/kernel',
      'dendrite1/down/bias',
      'dendrite1/up/kernel',
      'dendrite1/up/bias',
      'v1',
      'w1_0',
    ],
  );
});

test('correlation training installs low-rank candidates: one set, function unchanged, |r| > 0', () => {
  const rng = new Rng(3);
  const { model, x, labels, n } = correlationProblem(rng);
  const before = model.forward({ data: x, shape: [n, 8] }, ctx).data.slice();
  const r = trainCandidatesByCorrelation(
    model,
    () => [{ x: { data: x, shape: [n, 8] }, labels }],
    testConfig({
      correlationEpochs: 5,
      correlationCandidates: 2,
      learningRate: 0.01,
      dendriteActivation: 'sigmoid',
      candidateWeightInit: 0.01,
      dendriteLayers: 'all',
      dendriteRank: 2,
    }),
    { rng },
  );
  assert.equal(r.correlations.length, 2);
  for (const c of r.correlations) assert.ok(c > 0, `|r| ${c}`);
  const layers = model.layers.filter((l): l is DendriticLayer => l instanceof DendriticLayer);
  for (const l of layers) assert.ok(l.branchOf(0) instanceof LowRankBranch);
  assert.deepEqual(model.forward({ data: x, shape: [n, 8] }, ctx).data, before);
});

async function exportParity(name: string, model: Sequential, rng: Rng): Promise<void> {
  // Non-zero v and cascade weights so every dendrite path reaches the output.
  for (const p of model.params()) if (/\/(v\d|w\d)/.test(p.name) || p.name.endsWith('bias')) p.value.set(randn(rng, p.value.length, 0.5));
  const n = 16;
  const x = randn(rng, n * model.features);
  const engine = model.predictProbs(x, n);
  const graph = model.toGraph();
  const onnx = await runOnnx(exportOnnx(graph), x, n, model.features);
  const tflite = await runTflite(exportTfliteFloat(graph), x, n, model.features);
  let moved = 0;
  for (let i = 0; i < engine.length; i++) {
    assert.ok(Math.abs(engine[i]! - onnx[i]!) < 1e-5, `${name} prob ${i}: engine ${engine[i]} onnx ${onnx[i]}`);
    assert.ok(Math.abs(engine[i]! - tflite[i]!) < 1e-5, `${name} prob ${i}: engine ${engine[i]} tflite ${tflite[i]}`);
    moved = Math.max(moved, engine[i]!);
  }
  assert.ok(moved > 0, name);
  const ops = new Set(graph.nodes.map((nd) => nd.spec.op));
  for (const op of ops)
    assert.ok(
      ['input', 'reshape', 'conv', 'dense', 'maxpool', 'relu', 'sigmoid', 'tanh', 'softmax', 'add', 'channel_affine', 'flatten'].includes(op),
      `${name}: op ${op}`,
    );
}

test('export parity: low-rank sets on conv1d, conv2d and dense layers (onnxruntime and TFLite float equal the engine)', async () => {
  const rng = new Rng(41);
  const conv1d: Layer[] = [
    wrapped(new Conv1D({ name: 'c1', inChannels: 13, filters: 6, kernelSize: 3, stride: 2, padding: 'same', rng }), 2, 2, 'sigmoid', 2),
    new ReLU('r1'),
    new MaxPool1D({ name: 'p1', poolSize: 2, stride: 2, padding: 'same' }),
    wrapped(new Conv1D({ name: 'c2', inChannels: 6, filters: 8, kernelSize: 3, padding: 'valid', rng }), 1, 1, 'tanh', 3),
    new ReLU('r2'),
    new Flatten({ name: 'f' }),
    wrapped(new Dense({ name: 'out', inFeatures: 6 * 8, units: 4, rng }), 2, 2, 'sigmoid', 4),
  ];
  await exportParity('conv1d', new Sequential([31, 13], conv1d), rng);
  const conv2d: Layer[] = [
    wrapped(new Conv2D({ name: 'c1', inChannels: 1, filters: 4, kernelSize: 3, stride: 2, padding: 'same', rng }), 2, 1, 'relu', 5),
    new ReLU('r1'),
    new Flatten({ name: 'f' }),
    wrapped(new Dense({ name: 'out', inFeatures: 3 * 3 * 4, units: 3, rng }), 1, 3, 'sigmoid', 6),
  ];
  await exportParity('conv2d', new Sequential([6, 6, 1], conv2d), rng);
  for (const kind of ['ei-kws', 'dense', 'conv2d'] as const) {
    const features = kind === 'conv2d' ? 16 * 16 : kind === 'dense' ? 33 : 650;
    const model = buildModel({ kind, features, ...(kind === 'conv2d' ? { inputShape: [16, 16, 1] } : {}), classes: 4, width: 1, dropout: 0.25, seed: 2 });
    addDendriteSet(model, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.01, dendriteActivation: 'sigmoid', dendriteRank: 2 }), rng);
    addDendriteSet(model, testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.01, dendriteActivation: 'sigmoid', dendriteRank: 2 }), rng);
    await exportParity(`${kind} + 2 low-rank sets`, model, rng);
  }
});
