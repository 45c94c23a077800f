/**
 * dendrite-form linear (src/dendrites/dendritic-layer.ts foldedWeights, apply.ts foldLinearSets): sets
 * without any non-linearity, out = L(x) + sum_i v_i ⊙ D_i(x), fold into the layer's own weights, so the
 * deployed network is the plain configured one. Checked: exact gradients (finite differences), the folded
 * layer computes what the wrapped one does (engine), the export is the plain network's graph (same
 * operators, same MACs, same file size) and agrees with the engine forward under onnxruntime and the
 * TFLite interpreter (float and int8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import { addDendriteSet, countParameters, dendriteSetCount, foldLinearSets, parametersPerNextSet } from '../../src/dendrites/apply.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { Rng } from '../../src/engine/rng.js';
import { gradCheck as checkGradients } from '../engine/gradcheck.js';
import { sizeOf } from '../../src/engine/tensor.js';
import type { Layer, WrappableLayer } from '../../src/engine/layer.js';
import { buildModel } from '../../src/models/select.js';
import type { Sequential } from '../../src/engine/model.js';
import { exportOnnx } from '../../src/export/onnx/exporter.js';
import { runOnnx } from '../../src/export/onnx/runtime.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { runTflite } from '../../src/export/tflite/runtime.js';
import { tfliteDeviceCost } from '../../src/export/tflite/device-cost.js';
import { testConfig } from '../helpers/config.js';
import { randn } from '../helpers/correlation-problem.js';

const ctx = { training: false, rng: new Rng(99) };
const linear = (rank: number, extra = {}) =>
  testConfig({ candidateWeightInit: 0.5, dendriteActivation: 'tanh', dendriteRank: rank, dendriteForm: 'linear', ...extra });

/** A layer with `sets` linear sets whose v and biases are all non-zero. */
function wrapped(base: WrappableLayer, sets: number, rank: number, seed = 1): DendriticLayer {
  const rng = new Rng(seed);
  const layer = new DendriticLayer(base);
  for (let i = 0; i < sets; i++) layer.addSet(rng, linear(rank));
  for (const p of layer.params()) if (/^v\d/.test(p.name)) p.value.set(randn(rng, p.value.length, 0.7));
  for (const p of layer.params()) if (p.name.endsWith('bias')) p.value.set(randn(rng, p.value.length, 0.3));
  return layer;
}

function gradCheck(layer: Layer, inShape: number[], seed: number): void {
  checkGradients(layer, { data: randn(new Rng(seed), sizeOf(inShape)), shape: inShape });
}

const bases = (): Array<[WrappableLayer, number[]]> => [
  [new Dense({ name: 'fc', inFeatures: 6, units: 4, rng: new Rng(3) }), [5, 6]],
  [new Conv1D({ name: 'c1', inChannels: 3, filters: 4, kernelSize: 3, stride: 2, padding: 'same', rng: new Rng(5) }), [2, 9, 3]],
  [new Conv2D({ name: 'c2', inChannels: 2, filters: 3, kernelSize: 3, stride: 1, padding: 'same', rng: new Rng(4) }), [2, 4, 4, 2]],
];

for (const rank of [0, 2]) {
  test(`linear sets (rank ${rank}), dense/conv1d/conv2d, 1 and 3 sets: every gradient matches finite differences`, () => {
    for (const sets of [1, 3]) for (const [base, shape] of bases()) gradCheck(wrapped(base, sets, rank), shape, 11 + sets);
  });

  test(`linear sets (rank ${rank}) fold: one layer of the base's geometry computes the wrapped layer's output`, () => {
    for (const [base, shape] of bases()) {
      const layer = wrapped(base, 3, rank);
      const x = { data: randn(new Rng(7), sizeOf(shape)), shape };
      const want = layer.forward(x, ctx).data.slice();
      const baseOnly = base.forward(x, ctx).data.slice();
      const model = { layers: [layer] as Layer[] };
      assert.equal(foldLinearSets(model), 3);
      assert.equal(model.layers[0], base, 'the plain layer is back in place');
      const got = base.forward(x, ctx).data;
      let worst = 0;
      let moved = 0;
      for (let i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
        moved = Math.max(moved, Math.abs(baseOnly[i]! - want[i]!));
      }
      assert.ok(worst < 1e-5, `${base.name}: folded differs by ${worst}`);
      assert.ok(moved > 0.05, `${base.name}: the sets change the output (by ${moved}), so the check is not vacuous`);
    }
  });
}

test('linear sets: no cascade weights, installation leaves outputs unchanged, parametersPerNextSet agrees, forms do not mix', () => {
  const m = buildModel({ kind: 'ei-kws', features: 650, classes: 10, width: 1, dropout: 0.25, seed: 1 });
  const x = { data: randn(new Rng(2), 650 * 3), shape: [3, 650] };
  const before = m.forward(x, ctx).data.slice();
  for (let s = 0; s < 2; s++) {
    const n0 = countParameters(m).total;
    const predicted = parametersPerNextSet(m, linear(2, { dendriteLayers: 'hidden' }));
    addDendriteSet(m, linear(2, { dendriteLayers: 'hidden', candidateWeightInit: 0.01 }), new Rng(s));
    assert.equal(countParameters(m).total - n0, predicted);
  }
  assert.deepEqual(m.forward(x, ctx).data, before);
  const l = m.layers.find((q): q is DendriticLayer => q instanceof DendriticLayer)!;
  assert.ok(!l.params().some((p) => /^w\d/.test(p.name)), 'no cascade weights');
  assert.throws(() => l.addSet(new Rng(3), testConfig({ dendriteForm: 'gated' })), /cannot join linear sets/);
});

/** An ei-kws model with two linear sets on every layer, gates and biases non-zero (the function moved). */
function trainedLikeModel(): Sequential {
  const m = buildModel({ kind: 'ei-kws', features: 13 * 12, classes: 5, width: 1, dropout: 0.25, seed: 4 });
  const rng = new Rng(5);
  for (let s = 0; s < 2; s++) addDendriteSet(m, linear(s === 0 ? 2 : 0, { dendriteLayers: 'all' }), rng);
  for (const layer of m.layers) {
    if (!(layer instanceof DendriticLayer)) continue;
    for (const p of layer.dendriteParams()) if (/^v\d/.test(p.name) || p.name.endsWith('bias')) p.value.set(randn(rng, p.value.length, 0.4));
  }
  return m;
}

test('export of linear sets is the plain network: same operators, MACs and file size; onnxruntime and TFLite agree with the engine', async () => {
  const m = trainedLikeModel();
  const plain = buildModel({ kind: 'ei-kws', features: 13 * 12, classes: 5, width: 1, dropout: 0.25, seed: 4 });
  const n = 16;
  const x = randn(new Rng(9), n * 13 * 12);
  const engine = m.predictProbs(x, n);
  assert.equal(m.macs(), plain.macs(), 'MACs of the deployed network');
  const onnx = await runOnnx(exportOnnx(m.toGraph()), x, n, 13 * 12);
  const float = await runTflite(exportTfliteFloat(m.toGraph()), x, n, 13 * 12);
  for (const [what, got] of [
    ['onnxruntime', onnx],
    ['tflite float', float],
  ] as const) {
    let worst = 0;
    for (let i = 0; i < engine.length; i++) worst = Math.max(worst, Math.abs(got[i]! - engine[i]!));
    assert.ok(worst < 1e-4, `${what}: max |p - engine| ${worst}`);
  }
  const int8 = exportTfliteInt8(m.toGraph(), x, n).bytes;
  const plainInt8 = exportTfliteInt8(plain.toGraph(), x, n).bytes;
  const a = tfliteDeviceCost(int8);
  const b = tfliteDeviceCost(plainInt8);
  assert.equal(a.operators, b.operators);
  assert.equal(a.macs, b.macs);
  assert.equal(a.ramBytes, b.ramBytes);
  assert.equal(int8.length, plainInt8.length, 'same file size');
  const q = await runTflite(int8, x, n, 13 * 12);
  let agree = 0;
  for (let r = 0; r < n; r++) {
    const arg = (p: ArrayLike<number>) => [0, 1, 2, 3, 4].reduce((bi, c) => (p[r * 5 + c]! > p[r * 5 + bi]! ? c : bi), 0);
    if (arg(q) === arg(engine)) agree++;
  }
  assert.ok(agree >= n - 2, `int8 agrees with the engine on ${agree} of ${n}`);
  // Folding in place gives the same model the export describes.
  assert.equal(foldLinearSets(m), 2 * 3);
  assert.equal(dendriteSetCount(m), 0);
  assert.equal(countParameters(m).total, countParameters(plain).total);
  const folded = m.predictProbs(x, n);
  for (let i = 0; i < engine.length; i++) assert.ok(Math.abs(folded[i]! - engine[i]!) < 1e-5);
});
