import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisPadding } from '../../src/engine/padding.js';
import { Rng } from '../../src/engine/rng.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { MaxPool1D, MaxPool2D } from '../../src/engine/layers/pool.js';

test("Keras 'same' padding: out = ceil(in / s), extra padding goes after", () => {
  // Values worked out by hand from TensorFlow's rule total = max((out-1)*s + k - in, 0), before = floor(total/2).
  assert.deepEqual(axisPadding(50, 2, 2, 'same'), { out: 25, before: 0, total: 0 });
  assert.deepEqual(axisPadding(25, 2, 2, 'same'), { out: 13, before: 0, total: 1 });
  assert.deepEqual(axisPadding(50, 3, 1, 'same'), { out: 50, before: 1, total: 2 });
  assert.deepEqual(axisPadding(10, 4, 1, 'same'), { out: 10, before: 1, total: 3 });
  assert.deepEqual(axisPadding(7, 3, 2, 'same'), { out: 4, before: 1, total: 2 });
  assert.deepEqual(axisPadding(8, 3, 2, 'same'), { out: 4, before: 0, total: 1 });
  assert.deepEqual(axisPadding(5, 1, 3, 'same'), { out: 2, before: 0, total: 0 });
  assert.deepEqual(axisPadding(7, 3, 2, 'valid'), { out: 3, before: 0, total: 0 });
  assert.deepEqual(axisPadding(8, 3, 3, 'valid'), { out: 2, before: 0, total: 0 });
});

test('layer output shapes follow the padding rule (the Edge Impulse KWS chain 50 -> 25 -> 13)', () => {
  const rng = new Rng(1);
  const c1 = new Conv1D({ name: 'c1', inChannels: 13, filters: 8, kernelSize: 3, padding: 'same', rng });
  assert.deepEqual(c1.outputShape([50, 13]), [50, 8]);
  const p = new MaxPool1D({ name: 'p', poolSize: 2, stride: 2, padding: 'same' });
  assert.deepEqual(p.outputShape([50, 8]), [25, 8]);
  assert.deepEqual(p.outputShape([25, 16]), [13, 16]);
  assert.deepEqual(new MaxPool1D({ name: 'v', poolSize: 2 }).outputShape([25, 16]), [12, 16]);
  const c2 = new Conv2D({ name: 'c2', inChannels: 1, filters: 8, kernelSize: 3, stride: 2, padding: 'same', rng });
  assert.deepEqual(c2.outputShape([96, 95, 1]), [48, 48, 8]);
  assert.deepEqual(new MaxPool2D({ name: 'm', poolSize: 2, padding: 'same' }).outputShape([5, 4, 3]), [3, 2, 3]);
  assert.throws(() => c1.outputShape([50, 12]), /13 input channels/);
});
