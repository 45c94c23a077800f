import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { AvgPool1D, MaxPool1D, MaxPool2D } from '../../src/engine/layers/pool.js';
import { Adam } from '../../src/engine/optim.js';
import { tensor } from '../../src/engine/tensor.js';
import type { Layer, Param } from '../../src/engine/layer.js';
import { randomArray } from './gradcheck.js';
import { runTorch } from './torch-oracle.js';
import { needs } from '../helpers/prerequisites.js';

const skip = needs('torch');
const rng = new Rng(42);
const ctx = { training: true, rng };

function close(what: string, got: ArrayLike<number>, want: number[], tol = 1e-4): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)), `${what}[${i}]: ${got[i]} vs torch ${want[i]}`);
  }
}

interface ConvCase {
  layer: Layer & { kernel: Param; bias: Param };
  xshape: number[];
  oracle: object;
}

test('Conv1D/Conv2D forward and all gradients match PyTorch (same/valid, strides)', { skip }, () => {
  const cases: ConvCase[] = [];
  for (const padding of ['same', 'valid'] as const) {
    for (const stride of [1, 2]) {
      for (const k of [3, 4]) {
        cases.push({
          layer: new Conv1D({ name: 'c', inChannels: 13, filters: 8, kernelSize: k, stride, padding, rng }),
          xshape: [3, 11, 13],
          oracle: { op: 'conv1d', stride, padding },
        });
        cases.push({
          layer: new Conv2D({ name: 'c', inChannels: 3, filters: 5, kernelSize: k, stride: [stride, 1], padding, rng }),
          xshape: [2, 9, 7, 3],
          oracle: { op: 'conv2d', stride: [stride, 1], padding },
        });
      }
    }
  }
  const inputs = cases.map((c) => {
    c.layer.bias.value.set(randomArray(rng, c.layer.bias.value.length));
    const n = c.xshape.reduce((a, b) => a * b, 1);
    return tensor(c.xshape, randomArray(rng, n));
  });
  const projections: Float32Array[] = [];
  const results = cases.map((c, i) => {
    const y = c.layer.forward(inputs[i]!, ctx);
    const r = randomArray(rng, y.data.length);
    projections.push(r);
    c.layer.kernel.grad.fill(0);
    c.layer.bias.grad.fill(0);
    const dx = c.layer.backward({ data: r, shape: y.shape });
    return { y: y.data.slice(), shape: y.shape, dx: dx.data.slice() };
  });
  const want = runTorch<{ y: number[]; dx: number[]; dw: number[]; db: number[]; shape: number[] }>(
    cases.map((c, i) => ({
      ...c.oracle,
      x: Array.from(inputs[i]!.data),
      xshape: c.xshape,
      w: Array.from(c.layer.kernel.value),
      wshape: c.layer.kernel.shape,
      b: Array.from(c.layer.bias.value),
      r: Array.from(projections[i]!),
    })),
  );
  cases.forEach((c, i) => {
    const tag = `${c.layer.kind} ${JSON.stringify(c.oracle)} k=${c.layer.kernel.shape[0]}`;
    assert.deepEqual(results[i]!.shape, want[i]!.shape, `${tag}: output shape`);
    close(`${tag} y`, results[i]!.y, want[i]!.y);
    close(`${tag} dx`, results[i]!.dx, want[i]!.dx);
    close(`${tag} dkernel`, c.layer.kernel.grad, want[i]!.dw, 1e-3);
    close(`${tag} dbias`, c.layer.bias.grad, want[i]!.db, 1e-3);
  });
});

test('MaxPool1D/AvgPool1D/MaxPool2D forward match PyTorch with Keras same padding', { skip }, () => {
  const cases: { layer: Layer; xshape: number[]; oracle: object }[] = [];
  for (const padding of ['same', 'valid'] as const) {
    for (const [pool, stride] of [
      [2, 2],
      [3, 2],
      [3, 1],
    ] as const) {
      cases.push({
        layer: new MaxPool1D({ name: 'm', poolSize: pool, stride, padding }),
        xshape: [2, 25, 4],
        oracle: { op: 'maxpool1d', pool, stride, padding },
      });
      cases.push({
        layer: new AvgPool1D({ name: 'a', poolSize: pool, stride, padding }),
        xshape: [2, 25, 4],
        oracle: { op: 'avgpool1d', pool, stride, padding },
      });
      cases.push({
        layer: new MaxPool2D({ name: 'm', poolSize: pool, stride, padding }),
        xshape: [2, 7, 9, 3],
        oracle: { op: 'maxpool2d', pool, stride, padding },
      });
    }
  }
  const inputs = cases.map((c) =>
    tensor(
      c.xshape,
      randomArray(
        rng,
        c.xshape.reduce((a, b) => a * b, 1),
      ),
    ),
  );
  const got = cases.map((c, i) => {
    const y = c.layer.forward(inputs[i]!, ctx);
    return { y: y.data.slice(), shape: y.shape };
  });
  const want = runTorch<{ y: number[]; shape: number[] }>(cases.map((c, i) => ({ ...c.oracle, x: Array.from(inputs[i]!.data), xshape: c.xshape })));
  cases.forEach((c, i) => {
    const tag = `${c.layer.kind} ${JSON.stringify(c.oracle)}`;
    assert.deepEqual(got[i]!.shape, want[i]!.shape, `${tag}: shape`);
    close(tag, got[i]!.y, want[i]!.y, 1e-6);
  });
});

test('Adam matches torch.optim.Adam (eps 1e-7) over five steps', { skip }, () => {
  const p0 = Array.from(randomArray(rng, 6));
  const grads = Array.from({ length: 5 }, () => Array.from(randomArray(rng, 6, 3)));
  const param: Param = { name: 'p', shape: [6], value: Float32Array.from(p0), grad: new Float32Array(6), trainable: true };
  const adam = new Adam([param], { lr: 0.01 });
  for (const g of grads) {
    param.grad.set(g);
    adam.step();
  }
  const [want] = runTorch<{ p: number[] }>([{ op: 'adam', p: p0, lr: 0.01, grads, x: [], xshape: [0] }]);
  close('adam', param.value, want!.p, 1e-5);
});
