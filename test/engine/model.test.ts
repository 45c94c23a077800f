import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { Sequential } from '../../src/engine/model.js';
import { Conv1D } from '../../src/engine/layers/conv.js';
import { ReLU, Tanh } from '../../src/engine/layers/activation.js';
import { MaxPool1D } from '../../src/engine/layers/pool.js';
import { Flatten } from '../../src/engine/layers/reshape.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { BatchNorm } from '../../src/engine/layers/batchnorm.js';
import { softmaxCrossEntropy } from '../../src/engine/loss.js';
import { tensor } from '../../src/engine/tensor.js';
import { randomArray } from './gradcheck.js';

function smallModel(seed: number): Sequential {
  const rng = new Rng(seed);
  return new Sequential(
    [6, 2],
    [
      new Conv1D({ name: 'conv', inChannels: 2, filters: 3, kernelSize: 3, padding: 'same', rng }),
      new Tanh('tanh'),
      new MaxPool1D({ name: 'pool', poolSize: 2, padding: 'same' }),
      new Flatten({ name: 'flat' }),
      new Dense({ name: 'dense', inFeatures: 9, units: 4, rng }),
    ],
  );
}

test('Sequential: loss gradient through the whole chain matches finite differences (first layer params-only)', () => {
  const model = smallModel(3);
  const rng = new Rng(5);
  const x = tensor([3, 12], randomArray(rng, 36));
  const labels = [0, 3, 1];
  const ctx = { training: true, rng };
  const lossAt = (): number => softmaxCrossEntropy(model.forward(x, ctx), labels).loss;
  const { dlogits } = softmaxCrossEntropy(model.forward(x, ctx), labels);
  for (const p of model.params()) p.grad.fill(0);
  model.backward(dlogits);
  for (const p of model.params()) {
    for (let i = 0; i < p.value.length; i++) {
      const keep = p.value[i]!;
      p.value[i] = keep + 1e-3;
      const up = lossAt();
      p.value[i] = keep - 1e-3;
      const down = lossAt();
      p.value[i] = keep;
      const numeric = (up - down) / (Math.fround(keep + 1e-3) - Math.fround(keep - 1e-3));
      assert.ok(Math.abs(numeric - p.grad[i]!) <= 1e-3 + 2e-2 * Math.abs(numeric), `${p.name}[${i}]: ${p.grad[i]} vs ${numeric}`);
    }
  }
});

test('Sequential: names, counts, MACs, snapshot/restore, same seed same weights', () => {
  const a = smallModel(11);
  const b = smallModel(11);
  const c = smallModel(12);
  assert.deepEqual(
    a.params().map((p) => p.name),
    ['conv/kernel', 'conv/bias', 'dense/kernel', 'dense/bias'],
  );
  assert.equal(a.parameterCount(), 3 * 2 * 3 + 3 + 9 * 4 + 4);
  // conv + dense; the pool's 3 * 3 * 2 window taps are not MACs (docs/report-json.md, "MACs")
  assert.equal(a.macs(), 6 * 3 * 2 * 3 + 9 * 4);
  assert.deepEqual(a.snapshot(), b.snapshot());
  assert.notDeepEqual(a.snapshot(), c.snapshot());
  const snap = a.snapshot();
  a.params()[0]!.value.fill(7);
  a.restore(snap);
  assert.deepEqual(a.snapshot(), snap);
  // trainable flag is shared with the layer's own Param (frozen neurons are set through the model).
  a.params()[2]!.trainable = false;
  assert.equal((a.layers[4] as Dense).kernel.trainable, false);
  assert.throws(() => a.restore(snap.slice(1)), /snapshot has 3/);
});

test('Sequential: predictProbs equals batch-1 forward + softmax at any batch size; graph is well formed', () => {
  const m = smallModel(4);
  const rng = new Rng(8);
  const X = randomArray(rng, 5 * 12);
  const p5 = m.predictProbs(X, 5, 2);
  const p1 = m.predictProbs(X, 5, 1);
  for (let i = 0; i < p5.length; i++) assert.ok(Math.abs(p5[i]! - p1[i]!) < 1e-6);
  for (let s = 0; s < 5; s++) {
    const sum = p5.subarray(s * 4, s * 4 + 4).reduce((x, v) => x + v, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5);
  }
  const g = m.toGraph();
  assert.deepEqual(
    g.nodes.map((n) => n.spec.op),
    ['input', 'reshape', 'conv', 'tanh', 'maxpool', 'flatten', 'dense', 'softmax'],
  );
  assert.deepEqual(
    g.nodes.map((n) => n.shape),
    [
      [1, 12],
      [1, 6, 2],
      [1, 6, 3],
      [1, 6, 3],
      [1, 3, 3],
      [1, 9],
      [1, 4],
      [1, 4],
    ],
  );
  assert.equal(g.classes, 4);
  assert.equal(g.output, 'probs');
});

test('BatchNorm: Keras moving averages and inference affine', () => {
  const bn = new BatchNorm({ name: 'bn', channels: 2 });
  const x = tensor([4, 2], Float32Array.from([1, 10, 2, 20, 3, 30, 6, 40]));
  const rng = new Rng(1);
  const y = bn.forward(x, { training: true, rng });
  // channel 0: mean 3, biased var 3.5
  assert.ok(Math.abs(y.data[0]! - (1 - 3) / Math.sqrt(3.5 + 1e-3)) < 1e-5);
  assert.ok(Math.abs(bn.movingMean.value[0]! - 0.03) < 1e-6);
  assert.ok(Math.abs(bn.movingVar.value[0]! - (0.99 + 0.01 * 3.5)) < 1e-6);
  const inf = bn.forward(tensor([1, 2], Float32Array.from([1, 10])), { training: false, rng });
  const expected = (1 - 0.03) / Math.sqrt(bn.movingVar.value[0]! + 1e-3);
  assert.ok(Math.abs(inf.data[0]! - expected) < 1e-5);
  const m = new Sequential([2], [bn, new ReLU('r'), new Dense({ name: 'd', inFeatures: 2, units: 2, rng })]);
  const affine = m.toGraph().nodes.find((n) => n.spec.op === 'channel_affine');
  assert.ok(affine, 'batchnorm exports as channel_affine');
  assert.equal(m.params().filter((p) => !p.trainable).length, 2, 'moving statistics are non-trainable params');
});
