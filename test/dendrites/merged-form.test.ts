/**
 * dendrite-form merged (src/dendrites/low-rank.ts RankSpaceBranch, DendriticLayer.mergedToGraph): the
 * activation sits in the branch's rank space, out = L(x) + sum_i v_i ⊙ up_i(f(down_i(x))), so v folds
 * into up and every set of a layer merges at export into one down (k·r outputs), one activation, one up
 * and one ADD. Checked: exact gradients (finite differences), installation leaves the function unchanged,
 * parameter accounting, correlation candidates, and export parity (onnxruntime, TFLite float, int8) with
 * the operator count per layer independent of the number of sets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DendriticLayer } from '../../src/dendrites/dendritic-layer.js';
import type { Activation } from '../../src/engine/kernels.js';
import { RankSpaceBranch } from '../../src/dendrites/low-rank.js';
import { addDendriteSet, countParameters, parametersPerNextSet } from '../../src/dendrites/apply.js';
import { trainCandidatesByCorrelation } from '../../src/dendrites/correlation.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { Rng } from '../../src/engine/rng.js';
import { gradCheck as checkGradients } from '../engine/gradcheck.js';
import { sizeOf } from '../../src/engine/tensor.js';
import type { Layer, WrappableLayer } from '../../src/engine/layer.js';
import { buildModel } from '../../src/models/select.js';
import { exportOnnx } from '../../src/export/onnx/exporter.js';
import { runOnnx } from '../../src/export/onnx/runtime.js';
import { exportTfliteFloat } from '../../src/export/tflite/exporter.js';
import { exportTfliteInt8 } from '../../src/export/tflite/quantize.js';
import { runTflite } from '../../src/export/tflite/runtime.js';
import { BuiltinOperator, readTfliteGraph } from '../../src/export/tflite/schema.js';
import { testConfig } from '../helpers/config.js';
import { correlationProblem, randn } from '../helpers/correlation-problem.js';

const ctx = { training: true, rng: new Rng(99) };

/** A layer with `sets` merged-form sets whose v and biases are all non-zero. */
function wrapped(base: WrappableLayer, sets: number, rank: number, activation: Activation, seed = 1): DendriticLayer {
  const rng = new Rng(seed);
  const layer = new DendriticLayer(base);
  for (let i = 0; i < sets; i++)
    layer.addSet(rng, testConfig({ candidateWeightInit: 0.5, dendriteActivation: activation, dendriteRank: rank, dendriteForm: 'merged' }));
  for (const p of layer.params()) if (/^v\d/.test(p.name)) p.value.set(randn(rng, p.value.length, 0.7));
  for (const p of layer.params()) if (p.name.endsWith('bias')) p.value.set(randn(rng, p.value.length, 0.3));
  return layer;
}

/** eps: relu's kink must not sit within eps of a pre-activation (with input seed 11, one is 6e-7 from it at rank 0). */
function gradCheck(layer: Layer, inShape: number[], seed: number, eps?: number): void {
  checkGradients(layer, { data: randn(new Rng(seed), sizeOf(inShape)), shape: inShape }, eps ? { eps } : {});
}

test('a RankSpaceBranch alone (rank 2 and rank 0): gradients of both stages, through f, and the input match finite differences', () => {
  const base = new Conv1D({ name: 'c', inChannels: 3, filters: 5, kernelSize: 3, stride: 2, padding: 'same', rng: new Rng(2) });
  const branch = new RankSpaceBranch(base, 'b', 2, 'tanh', new Rng(3), 0.5);
  assert.equal(branch.outChannels, 5);
  assert.equal(branch.innerChannels, 2);
  assert.deepEqual(
    branch.params().map((p) => p.name),
    ['down/kernel', 'down/bias', 'up/kernel', 'up/bias'],
  );
  for (const p of branch.params()) if (p.name.endsWith('bias')) p.value.set(randn(new Rng(4), p.value.length, 0.3));
  gradCheck(branch, [2, 9, 3], 5);
  const full = new RankSpaceBranch(base, 'b0', 0, 'sigmoid', new Rng(3), 0.5);
  assert.equal(full.innerChannels, 5);
  assert.deepEqual(
    full.params().map((p) => p.name),
    ['down/kernel', 'down/bias'],
  );
  gradCheck(full, [2, 9, 3], 6);
});

for (const activation of ['sigmoid', 'tanh', 'relu'] as const) {
  for (const rank of [2, 0]) {
    test(`dense, 3 merged sets (rank ${rank}), ${activation}: every gradient matches finite differences`, () => {
      const layer = wrapped(new Dense({ name: 'fc', inFeatures: 6, units: 4, rng: new Rng(3) }), 3, rank, activation);
      gradCheck(layer, [5, 6], activation === 'relu' ? 12 : 11, activation === 'relu' ? 1e-3 : undefined);
    });
  }
}

test('conv1d and conv2d, 1 and 3 merged sets: gradients match finite differences', () => {
  for (const sets of [1, 3]) {
    const c1 = new Conv1D({ name: 'c1', inChannels: 3, filters: 4, kernelSize: 3, stride: 2, padding: 'valid', rng: new Rng(5) });
    gradCheck(wrapped(c1, sets, 1, 'sigmoid'), [2, 9, 3], 13);
    const c2 = new Conv2D({ name: 'c2', inChannels: 2, filters: 3, kernelSize: 3, stride: 1, padding: 'same', rng: new Rng(4) });
    gradCheck(wrapped(c2, sets, 2, 'tanh'), [2, 4, 4, 2], 12);
    const c0 = new Conv2D({ name: 'c0', inChannels: 2, filters: 3, kernelSize: 3, stride: 2, padding: 'same', rng: new Rng(4) });
    gradCheck(wrapped(c0, sets, 0, 'tanh'), [2, 5, 5, 2], 14);
  }
});

test('backwardParamsOnly accumulates the same param grads as backward (merged sets)', () => {
  for (const rank of [2, 0]) {
    const layer = wrapped(new Conv1D({ name: 'c', inChannels: 3, filters: 4, kernelSize: 3, rng: new Rng(3) }), 2, rank, 'sigmoid');
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
    layer.params().forEach((p, i) => assert.deepEqual(p.grad, full[i], `rank ${rank} ${p.name}`));
  }
});

test('adding a merged set leaves the outputs bit-for-bit unchanged; v gets a gradient, the branch varies with the input', () => {
  const rng = new Rng(21);
  const layer = wrapped(new Conv2D({ name: 'c', inChannels: 2, filters: 3, kernelSize: 3, rng: new Rng(6) }), 1, 2, 'tanh');
  const x = { data: randn(rng, 2 * 5 * 5 * 2), shape: [2, 5, 5, 2] };
  const before = layer.forward(x, ctx).data.slice();
  layer.addSet(rng, testConfig({ candidateWeightInit: 0.01, dendriteActivation: 'tanh', dendriteRank: 2, dendriteForm: 'merged' }));
  assert.equal(layer.setCount, 2);
  assert.equal(layer.form, 'merged');
  const y = layer.forward(x, ctx);
  assert.deepEqual(y.data, before);
  const d = layer.dendriteOutput(1);
  assert.ok(Math.max(...d) - Math.min(...d) > 0.1, 'the new branch is not constant');
  for (const p of layer.params()) p.grad.fill(0);
  layer.backward({ data: randn(rng, y.data.length), shape: y.shape });
  const v1 = layer.params().find((p) => p.name === 'v1')!;
  assert.ok(
    v1.grad.some((g) => Math.abs(g) > 1e-4),
    'v of the new set has a gradient at v = 0',
  );
  layer.removeLastSet();
  assert.deepEqual(layer.forward(x, ctx).data, before);
});

test('forms do not mix within a layer; an unknown form is a user error naming dendrite-form', () => {
  const layer = wrapped(new Dense({ name: 'fc', inFeatures: 3, units: 2, rng: new Rng(1) }), 1, 1, 'tanh');
  assert.throws(
    () => layer.addSet(new Rng(2), testConfig({ candidateWeightInit: 0.5, dendriteActivation: 'tanh', dendriteRank: 1, dendriteForm: 'gated' })),
    /cannot join merged sets/,
  );
  assert.throws(
    () => layer.addSet(new Rng(2), testConfig({ candidateWeightInit: 0.5, dendriteActivation: 'tanh', dendriteRank: 1, dendriteForm: 'folded' as never })),
    /dendrite-form/,
  );
});

test('parameter accounting: names, no cascade weights, parametersPerNextSet agrees with the built sets', () => {
  for (const rank of [2, 0]) {
    for (const which of ['hidden', 'all'] as const) {
      const m = buildModel({ kind: 'ei-kws', features: 650, classes: 10, width: 1, dropout: 0.25, seed: 1 });
      const plain = countParameters(m).total;
      const rng = new Rng(1);
      for (let s = 0; s < 3; s++) {
        const before = countParameters(m).total;
        const predicted = parametersPerNextSet(m, testConfig({ dendriteLayers: which, dendriteRank: rank, dendriteForm: 'merged' }));
        addDendriteSet(
          m,
          testConfig({ dendriteLayers: which, candidateWeightInit: 0.01, dendriteActivation: 'tanh', dendriteRank: rank, dendriteForm: 'merged' }),
          rng,
        );
        assert.equal(countParameters(m).total - before, predicted, `rank ${rank} ${which}, set ${s + 1}`);
      }
      assert.equal(countParameters(m).total - countParameters(m).dendrite, plain);
    }
  }
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
    ],
  );
});

test('correlation training with merged candidates: one merged set per layer, function unchanged, |r| > 0', () => {
  const rng = new Rng(3);
  const { model, x, labels, n } = correlationProblem(rng);
  const before = model.forward({ data: x, shape: [n, 8] }, ctx).data.slice();
  for (let round = 0; round < 2; round++) {
    const r = trainCandidatesByCorrelation(
      model,
      () => [{ x: { data: x, shape: [n, 8] }, labels }],
      testConfig({
        correlationEpochs: 5,
        correlationCandidates: 2,
        learningRate: 0.01,
        dendriteActivation: 'tanh',
        candidateWeightInit: 0.01,
        dendriteLayers: 'all',
        dendriteRank: 2,
        dendriteForm: 'merged',
      }),
      { rng },
    );
    for (const c of r.correlations) assert.ok(c > 0, `|r| ${c}`);
  }
  const layers = model.layers.filter((l): l is DendriticLayer => l instanceof DendriticLayer);
  for (const l of layers) {
    assert.equal(l.setCount, 2);
    assert.equal(l.form, 'merged');
    assert.ok(l.branchOf(1) instanceof RankSpaceBranch);
    assert.ok(!l.params().some((p) => /^w\d/.test(p.name)), 'no cascade weights');
  }
  assert.deepEqual(model.forward({ data: x, shape: [n, 8] }, ctx).data, before);
});

/** TFLite operators of a float export, by name. */
function opNames(bytes: Uint8Array): string[] {
  return readTfliteGraph(bytes).operators.map((op) => BuiltinOperator[op.code]!);
}

for (const kind of ['ei-kws', 'dense', 'conv2d'] as const) {
  for (const rank of [2, 0]) {
    test(`${kind}, merged sets (rank ${rank}): 1 and 3 sets export to the same operators; onnxruntime and TFLite equal the engine`, async () => {
      const rng = new Rng(41 + rank);
      const features = kind === 'conv2d' ? 12 * 12 : kind === 'dense' ? 33 : 650;
      const opsBySets: number[] = [];
      let dendritic = 0;
      for (const sets of [0, 1, 3]) {
        const model = buildModel({
          kind,
          features,
          ...(kind === 'conv2d' ? { inputShape: [12, 12, 1] } : {}),
          classes: 4,
          width: 1,
          dropout: 0.25,
          seed: 2,
        });
        for (const p of model.params()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.3;
        for (let s = 0; s < sets; s++)
          addDendriteSet(
            model,
            testConfig({ dendriteLayers: 'all', candidateWeightInit: 0.5, dendriteActivation: 'tanh', dendriteRank: rank, dendriteForm: 'merged' }),
            rng,
          );
        for (const p of model.params()) if (/\/v\d/.test(p.name) || p.name.endsWith('bias')) p.value.set(randn(rng, p.value.length, 0.5));
        const n = 32;
        const x = randn(rng, n * model.features);
        const engine = model.predictProbs(x, n);
        const graph = model.toGraph();
        const onnx = await runOnnx(exportOnnx(graph), x, n, model.features);
        const float = exportTfliteFloat(graph);
        const tflite = await runTflite(float, x, n, model.features);
        for (let i = 0; i < engine.length; i++) {
          assert.ok(Math.abs(engine[i]! - onnx[i]!) < 1e-5, `${kind} ${sets} sets prob ${i}: engine ${engine[i]} onnx ${onnx[i]}`);
          assert.ok(Math.abs(engine[i]! - tflite[i]!) < 1e-5, `${kind} ${sets} sets prob ${i}: engine ${engine[i]} tflite ${tflite[i]}`);
        }
        const int8 = await runTflite(exportTfliteInt8(graph, x, n).bytes, x, n, model.features);
        let agree = 0;
        for (let r = 0; r < n; r++) {
          const am = (p: Float32Array): number => Array.from(p.subarray(r * 4, r * 4 + 4)).reduce((b, v, c, a) => (v > a[b]! ? c : b), 0);
          if (am(int8) === am(engine)) agree++;
        }
        assert.ok(agree / n >= 0.85, `${kind} ${sets} sets int8 argmax agreement ${agree}/${n}`);
        const ops = opNames(float);
        opsBySets.push(ops.length);
        const layers = model.layers.filter((l) => l instanceof DendriticLayer).length;
        if (sets > 0) {
          dendritic = layers;
          // Per dendritic layer: down, f, up, ADD (the layer's relu fused into the ADD).
          assert.equal(ops.filter((o) => o === 'TANH').length, layers, ops.join(' '));
          assert.equal(ops.filter((o) => o === 'ADD').length, layers, ops.join(' '));
          assert.ok(!ops.includes('MUL') && !ops.includes('RELU'), ops.join(' '));
        }
      }
      assert.equal(opsBySets[1]! - opsBySets[0]!, 4 * dendritic, `${kind}: 4 operators per dendritic layer for one set`);
      assert.equal(opsBySets[2], opsBySets[1], `${kind}: 3 sets export to as many operators as 1`);
    });
  }
}
