import { test } from 'node:test';
import assert from 'node:assert/strict';
import { softmax, softmaxCrossEntropy } from '../../src/engine/loss.js';
import { Adam, SGD } from '../../src/engine/optim.js';
import { ReduceLROnPlateau } from '../../src/engine/schedule.js';
import { tensor } from '../../src/engine/tensor.js';
import type { Param } from '../../src/engine/layer.js';

function param(name: string, v: number[], trainable = true): Param {
  return { name, shape: [v.length], value: Float32Array.from(v), grad: new Float32Array(v.length), trainable };
}

test('softmax cross-entropy: value, finite-difference gradient, accuracy count', () => {
  const z = [1.2, -0.3, 0.5, 2.0, 0.1, -1.0, 0.0, 0.4, 0.4];
  const labels = [2, 0, 1];
  const r = softmaxCrossEntropy(tensor([3, 3], Float32Array.from(z)), labels);
  const lossAt = (zz: number[]): number => {
    let s = 0;
    for (let i = 0; i < 3; i++) {
      const row = zz.slice(i * 3, i * 3 + 3);
      s += Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[labels[i]!]!;
    }
    return s / 3;
  };
  assert.ok(Math.abs(r.loss - lossAt(z)) < 1e-6);
  for (let i = 0; i < z.length; i++) {
    const up = [...z];
    const down = [...z];
    up[i]! += 1e-4;
    down[i]! -= 1e-4;
    const numeric = (lossAt(up) - lossAt(down)) / 2e-4;
    assert.ok(Math.abs(numeric - r.dlogits.data[i]!) < 1e-5, `dlogits[${i}] ${r.dlogits.data[i]} vs ${numeric}`);
  }
  // Row 0 argmax 0 (label 2): wrong. Row 1 argmax 0: right. Row 2 ties at 1 and 2, the first wins: right.
  assert.equal(r.correct, 2);
});

test('softmax cross-entropy is stable for huge logits', () => {
  const r = softmaxCrossEntropy(tensor([1, 3], Float32Array.from([1000, -1000, 0])), [1]);
  assert.ok(Number.isFinite(r.loss) && Math.abs(r.loss - 2000) < 1e-3);
  const p = softmax(tensor([1, 3], Float32Array.from([1000, 999, -1e30])));
  assert.ok(Math.abs(p[0]! - 1 / (1 + Math.exp(-1))) < 1e-6 && p[2] === 0);
});

test('Adam: two steps by hand (bias-corrected, eps 1e-7); frozen params untouched', () => {
  const p = param('w', [1, -2]);
  const frozen = param('f', [5], false);
  const adam = new Adam([p, frozen], { lr: 0.1 });
  const g1 = [0.5, -1];
  const g2 = [0.1, 2];
  const m = [0, 0];
  const v = [0, 0];
  const expected = [1, -2];
  for (const [t, g] of [g1, g2].entries()) {
    for (let i = 0; i < 2; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!;
      const mhat = m[i]! / (1 - 0.9 ** (t + 1));
      const vhat = v[i]! / (1 - 0.999 ** (t + 1));
      expected[i] = expected[i]! - (0.1 * mhat) / (Math.sqrt(vhat) + 1e-7);
    }
    p.grad.set(g);
    frozen.grad.set([3]);
    adam.step();
  }
  // First step moves each weight by exactly lr against the gradient sign.
  assert.ok(Math.abs(expected[0]! - p.value[0]!) < 1e-6 && Math.abs(expected[1]! - p.value[1]!) < 1e-6, `${p.value} vs ${expected}`);
  assert.equal(frozen.value[0], 5);
  adam.zeroGrad();
  assert.deepEqual(Array.from(p.grad), [0, 0]);
});

test('Adam state round-trips through JSON and continues identically', () => {
  const a = param('w', [0.3, 0.7]);
  const b = param('w', [0.3, 0.7]);
  const oa = new Adam([a], { lr: 0.05 });
  a.grad.set([1, -1]);
  oa.step();
  const saved = JSON.parse(JSON.stringify(oa.getState()));
  b.value.set(a.value);
  const ob = new Adam([b], { lr: 1 });
  ob.setState(saved);
  assert.equal(ob.lr, 0.05);
  a.grad.set([0.2, 0.4]);
  b.grad.set([0.2, 0.4]);
  oa.step();
  ob.step();
  assert.deepEqual(Array.from(b.value), Array.from(a.value));
});

test('SGD with momentum: v = mu v + g; p -= lr v', () => {
  const p = param('w', [1]);
  const sgd = new SGD([p], { lr: 0.1, momentum: 0.9 });
  p.grad.set([1]);
  sgd.step(); // v = 1, p = 0.9
  sgd.step(); // v = 1.9, p = 0.71
  assert.ok(Math.abs(p.value[0]! - 0.71) < 1e-6);
});

test('ReduceLROnPlateau halves after `patience` flat epochs, respects minLr, restores state', () => {
  const opt = new Adam([param('w', [0])], { lr: 0.008 });
  const s = new ReduceLROnPlateau({ patience: 2, minLr: 0.003 });
  assert.equal(s.step(0.5, opt), false);
  assert.equal(s.step(0.6, opt), false);
  assert.equal(s.step(0.6, opt), false);
  assert.equal(s.step(0.55, opt), true);
  assert.equal(opt.lr, 0.004);
  const state = JSON.parse(JSON.stringify(s.getState()));
  s.step(0.5, opt);
  assert.equal(s.step(0.5, opt), true);
  assert.equal(opt.lr, 0.003);
  assert.equal(s.step(0.1, opt), false);
  s.step(0.1, opt);
  assert.equal(opt.lr, 0.003, 'never below minLr');
  const t = new ReduceLROnPlateau({ patience: 2 });
  t.setState(state);
  assert.deepEqual(t.getState(), state);
  assert.deepEqual(new ReduceLROnPlateau({ patience: 1 }).getState().best, null);
});
