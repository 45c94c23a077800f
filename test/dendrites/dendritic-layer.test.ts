import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import type { Activation } from '../../src/engine/kernels.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { Sequential } from '../../src/engine/model.js';
import { Rng } from '../../src/engine/rng.js';
import { gradCheck as checkGradients } from '../engine/gradcheck.js';
import { sizeOf } from '../../src/engine/tensor.js';
import type { Layer, WrappableLayer } from '../../src/engine/layer.js';
import { exportOnnx } from '../../src/export/onnx/exporter.js';
import { runOnnx } from '../../src/export/onnx/runtime.js';
import { testConfig } from '../helpers/config.js';

const ctx = { training: true, rng: new Rng(99) };

function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** A layer with `sets` dendrite sets whose v, w and branch weights are all non-zero. */
function wrapped(base: WrappableLayer, sets: number, activation: Activation, seed = 1): DendriticLayer {
  const rng = new Rng(seed);
  const layer = new DendriticLayer(base);
  for (let i = 0; i < sets; i++) layer.addSet(rng, testConfig({ candidateWeightInit: 0.5, dendriteActivation: activation }));
  for (const p of layer.params()) if (/^(v\d|w\d)/.test(p.name)) p.value.set(randn(rng, p.value.length, 0.7));
  for (const p of layer.params()) if (p.name.endsWith('bias')) p.value.set(randn(rng, p.value.length, 0.3));
  return layer;
}

/** Every input and parameter gradient against central differences (test/engine/gradcheck.ts) at a random input. */
function gradCheck(layer: Layer, inShape: number[], seed: number): void {
  checkGradients(layer, { data: randn(new Rng(seed), sizeOf(inShape)), shape: inShape });
}

for (const activation of ['sigmoid', 'tanh', 'relu'] as const) {
  test(`dense, 3 sets, ${activation}: every gradient matches finite differences`, () => {
    const layer = wrapped(new Dense({ name: 'fc', inFeatures: 5, units: 4, rng: new Rng(3) }), 3, activation);
    gradCheck(layer, [6, 5], 11);
  });
}

test('conv2d, 2 sets: gradients through the cascade match finite differences', () => {
  const base = new Conv2D({ name: 'c2', inChannels: 2, filters: 3, kernelSize: 3, stride: 1, padding: 'same', rng: new Rng(4) });
  gradCheck(wrapped(base, 2, 'tanh'), [2, 4, 4, 2], 12);
});

test('conv1d (stride 2, valid), 2 sets: gradients match finite differences', () => {
  const base = new Conv1D({ name: 'c1', inChannels: 3, filters: 2, kernelSize: 3, stride: 2, padding: 'valid', rng: new Rng(5) });
  gradCheck(wrapped(base, 2, 'sigmoid'), [2, 9, 3], 13);
});

test('backwardParamsOnly accumulates the same param grads as backward', () => {
  const layer = wrapped(new Dense({ name: 'fc', inFeatures: 4, units: 3, rng: new Rng(3) }), 2, 'sigmoid');
  const rng = new Rng(8);
  const x = { data: randn(rng, 20), shape: [5, 4] };
  const dy = { data: randn(rng, 15), shape: [5, 3] };
  for (const p of layer.params()) p.grad.fill(0);
  layer.forward(x, ctx);
  layer.backward(dy);
  const full = layer.params().map((p) => p.grad.slice());
  for (const p of layer.params()) p.grad.fill(0);
  layer.forward(x, ctx);
  layer.backwardParamsOnly(dy);
  layer.params().forEach((p, i) => assert.deepEqual(p.grad, full[i], p.name));
});

test('adding a set leaves the outputs bit-for-bit unchanged; removing it restores the previous function', () => {
  const rng = new Rng(21);
  const layer = wrapped(new Conv2D({ name: 'c', inChannels: 2, filters: 3, kernelSize: 3, rng: new Rng(6) }), 1, 'sigmoid');
  const x = { data: randn(rng, 2 * 5 * 5 * 2), shape: [2, 5, 5, 2] };
  const before = layer.forward(x, ctx).data.slice();
  layer.addSet(rng, testConfig({ candidateWeightInit: 0.01, dendriteActivation: 'tanh' }));
  assert.equal(layer.setCount, 2);
  assert.deepEqual(layer.forward(x, ctx).data, before);
  // make the new set matter, then remove it
  for (const p of layer.params()) if (p.name === 'v1' || p.name === 'w1_0') p.value.fill(0.5);
  assert.notDeepEqual(layer.forward(x, ctx).data, before);
  layer.removeLastSet();
  assert.deepEqual(layer.forward(x, ctx).data, before);
  assert.throws(() => new DendriticLayer(new Dense({ name: 'd', inFeatures: 2, units: 2, rng })).removeLastSet());
});

test('parameter names are stable and freezing flips only the intended params', () => {
  const layer = wrapped(new Dense({ name: 'fc', inFeatures: 3, units: 2, rng: new Rng(1) }), 2, 'sigmoid');
  assert.deepEqual(
    layer.params().map((p) => p.name),
    ['kernel', 'bias', 'dendrite0/kernel', 'dendrite0/bias', 'v0', 'dendrite1/kernel', 'dendrite1/bias', 'v1', 'w1_0'],
  );
  const model = new Sequential([3], [layer]);
  assert.equal(model.params()[2]!.name, 'fc/dendrite0/kernel');
  layer.freezeBase(true);
  assert.deepEqual(
    layer.params().map((p) => p.trainable),
    [false, false, true, true, true, true, true, true, true],
  );
  layer.freezeBase(false);
  layer.freezeDendrites(true);
  assert.deepEqual(
    layer.params().map((p) => p.trainable),
    [true, true, false, false, false, false, false, false, false],
  );
  // parameter count: base 3*2+2, each branch 8, v 2 per set, one cascade vector of 2
  assert.equal(model.parameterCount(), 8 + (8 + 2) + (8 + 2 + 2));
  // base + each branch; v ⊙ d and the cascade are element-wise, not MACs (docs/report-json.md, "MACs")
  assert.equal(layer.macs([3]), 6 + 6 + 6);
});

test('a bad activation throws a UserError naming the parameter', () => {
  const layer = new DendriticLayer(new Dense({ name: 'fc', inFeatures: 3, units: 2, rng: new Rng(1) }));
  assert.throws(() => layer.addSet(new Rng(1), testConfig({ candidateWeightInit: 0.01, dendriteActivation: 'gelu' as never })), /dendrite-activation/);
});

test('toGraph run by onnxruntime equals the engine forward (dense and conv2d, cascades, every activation)', async () => {
  const rng = new Rng(31);
  const conv = wrapped(new Conv2D({ name: 'conv', inChannels: 1, filters: 3, kernelSize: 3, stride: 2, padding: 'same', rng }), 2, 'relu', 2);
  const { Flatten } = await import('../../src/engine/layers/reshape.js');
  const dense = wrapped(new Dense({ name: 'out', inFeatures: 3 * 3 * 3, units: 4, rng }), 3, 'sigmoid', 3);
  const hidden = wrapped(new Dense({ name: 'h', inFeatures: 27, units: 27, rng }), 1, 'tanh', 4);
  const model = new Sequential([6, 6, 1], [conv, new Flatten({ name: 'flat' }), hidden, dense]);
  const n = 5;
  const x = randn(rng, n * 36);
  const engine = model.predictProbs(x, n);
  const onnx = await runOnnx(exportOnnx(model.toGraph()), x, n, 36);
  for (let i = 0; i < engine.length; i++) assert.ok(Math.abs(engine[i]! - onnx[i]!) < 1e-5, `prob ${i}: engine ${engine[i]} onnx ${onnx[i]}`);
});
