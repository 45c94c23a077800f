import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D } from '../../src/engine/layers/pool.js';
import { ReLU, Sigmoid, Tanh } from '../../src/engine/layers/activation.js';
import { Dropout } from '../../src/engine/layers/dropout.js';
import { Flatten, Reshape } from '../../src/engine/layers/reshape.js';
import { BatchNorm } from '../../src/engine/layers/batchnorm.js';
import { tensor } from '../../src/engine/tensor.js';
import { distinctArray, gradCheck, randomArray } from './gradcheck.js';

const rng = new Rng(1234);

test('Dense gradients (2-D and 3-D inputs)', () => {
  const d = new Dense({ name: 'd', inFeatures: 5, units: 4, rng });
  d.bias.value.set(randomArray(rng, 4));
  gradCheck(d, tensor([3, 5], randomArray(rng, 15)));
  gradCheck(d, tensor([2, 3, 5], randomArray(rng, 30)));
});

for (const padding of ['same', 'valid'] as const) {
  for (const stride of [1, 2, 3]) {
    test(`Conv1D gradients, kernel 3, stride ${stride}, ${padding}`, () => {
      const c = new Conv1D({ name: 'c', inChannels: 3, filters: 4, kernelSize: 3, stride, padding, rng });
      c.bias.value.set(randomArray(rng, 4));
      gradCheck(c, tensor([2, 8, 3], randomArray(rng, 48)));
    });
    test(`Conv2D gradients, kernel 3x2, stride ${stride}, ${padding}`, () => {
      const c = new Conv2D({ name: 'c', inChannels: 2, filters: 3, kernelSize: [3, 2], stride: [stride, 1], padding, rng });
      c.bias.value.set(randomArray(rng, 3));
      gradCheck(c, tensor([2, 7, 5, 2], randomArray(rng, 140)));
    });
  }
}

test('Conv1D even kernel with same padding (asymmetric pad) and kernel 1', () => {
  const c = new Conv1D({ name: 'c', inChannels: 2, filters: 3, kernelSize: 4, stride: 2, padding: 'same', rng });
  gradCheck(c, tensor([2, 9, 2], randomArray(rng, 36)));
  const one = new Conv1D({ name: 'one', inChannels: 3, filters: 2, kernelSize: 1, rng });
  gradCheck(one, tensor([2, 5, 3], randomArray(rng, 30)));
});

for (const padding of ['same', 'valid'] as const) {
  for (const [pool, stride] of [
    [2, 2],
    [3, 2],
    [2, 1],
    [3, 3],
  ] as const) {
    test(`MaxPool1D/AvgPool1D gradients pool ${pool} stride ${stride} ${padding}`, () => {
      // Spacing 0.05 > 2 * eps keeps every max unambiguous under the perturbation.
      gradCheck(new MaxPool1D({ name: 'm', poolSize: pool, stride, padding }), tensor([2, 9, 3], distinctArray(rng, 54, 0.05)));
      gradCheck(new AvgPool1D({ name: 'a', poolSize: pool, stride, padding }), tensor([2, 9, 3], randomArray(rng, 54)));
    });
    test(`MaxPool2D/AvgPool2D gradients pool ${pool} stride ${stride} ${padding}`, () => {
      gradCheck(new MaxPool2D({ name: 'm', poolSize: pool, stride, padding }), tensor([2, 7, 5, 2], distinctArray(rng, 140, 0.05)));
      gradCheck(new AvgPool2D({ name: 'a', poolSize: [pool, 2], stride: [stride, 1], padding }), tensor([2, 7, 5, 2], randomArray(rng, 140)));
    });
  }
}

test('activation gradients', () => {
  // ReLU inputs kept away from the kink at 0.
  const x = randomArray(rng, 40, 2).map((v) => (Math.abs(v) < 0.1 ? v + 0.3 * Math.sign(v || 1) : v));
  gradCheck(new ReLU('r'), tensor([4, 10], x));
  gradCheck(new Sigmoid('s'), tensor([4, 10], randomArray(rng, 40, 3)), { eps: 1e-3 });
  gradCheck(new Tanh('t'), tensor([4, 10], randomArray(rng, 40, 2)), { eps: 1e-3 });
});

test('Dropout gradient uses the forward mask; identity at inference', () => {
  const d = new Dropout({ name: 'drop', rate: 0.4 });
  gradCheck(d, tensor([4, 25], randomArray(rng, 100)));
  const x = tensor([2, 5], randomArray(rng, 10));
  const y = d.forward(x, { training: false, rng });
  assert.deepEqual(Array.from(y.data), Array.from(x.data));
  // Inverted dropout keeps the expectation: mean of a large all-ones input stays near 1.
  const ones = tensor([1, 20000], new Float32Array(20000).fill(1));
  const out = d.forward(ones, { training: true, rng });
  const mean = out.data.reduce((s, v) => s + v, 0) / 20000;
  assert.ok(Math.abs(mean - 1) < 0.03, `mean after dropout ${mean}`);
  const zeros = out.data.filter((v) => v === 0).length / 20000;
  assert.ok(Math.abs(zeros - 0.4) < 0.02, `dropped fraction ${zeros}`);
});

test('Reshape and Flatten gradients', () => {
  gradCheck(new Reshape({ name: 'r', shape: [3, 4] }), tensor([2, 12], randomArray(rng, 24)));
  gradCheck(new Flatten({ name: 'f' }), tensor([2, 3, 2, 2], randomArray(rng, 24)));
});

test('BatchNorm gradients (training mode) on [N, C] and [N, L, C]', () => {
  const bn = new BatchNorm({ name: 'bn', channels: 3 });
  bn.gamma.value.set([1.5, -0.7, 0.9]);
  bn.beta.value.set([0.1, 0.2, -0.3]);
  gradCheck(bn, tensor([6, 3], randomArray(rng, 18, 2)), { eps: 1e-3, atol: 2e-3 });
  gradCheck(bn, tensor([2, 4, 3], randomArray(rng, 24, 2)), { eps: 1e-3, atol: 2e-3 });
});
