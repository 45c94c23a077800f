import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distillationLoss, softmaxCrossEntropy } from '../../src/engine/loss.js';
import { tensor } from '../../src/engine/tensor.js';

const z = [1.2, -0.3, 0.5, 2.0, 0.1, -1.0, 0.0, 0.4, 0.4, -2.5, 3.1, 0.7];
const t = [0.2, 1.3, -0.5, 1.0, 0.9, -2.0, 0.3, -0.4, 1.4, 0.0, 2.1, 2.2];
const labels = [2, 0, 1, 1];
const [N, K] = [4, 3];

/** The definition written out in float64: (1 - a) CE + a T^2 KL(p_t || p_s), mean over rows. */
function reference(zz: number[], temperature: number, alpha: number): number {
  let ce = 0;
  let kl = 0;
  for (let i = 0; i < N; i++) {
    const s = zz.slice(i * K, i * K + K);
    const tt = t.slice(i * K, i * K + K);
    const lse = (v: number[]): number => Math.log(v.reduce((a, x) => a + Math.exp(x), 0));
    ce += lse(s) - s[labels[i]!]!;
    const ls = s.map((x) => x / temperature - lse(s.map((y) => y / temperature)));
    const lt = tt.map((x) => x / temperature - lse(tt.map((y) => y / temperature)));
    for (let j = 0; j < K; j++) kl += Math.exp(lt[j]!) * (lt[j]! - ls[j]!);
  }
  return ((1 - alpha) * ce + alpha * temperature * temperature * kl) / N;
}

for (const [temperature, alpha] of [
  [1, 0.5],
  [4, 0.5],
  [2.5, 0.9],
  [4, 1],
] as const) {
  test(`distillation loss T=${temperature} alpha=${alpha}: value and finite-difference gradient`, () => {
    const r = distillationLoss(tensor([N, K], Float32Array.from(z)), labels, tensor([N, K], Float32Array.from(t)), temperature, alpha);
    assert.ok(Math.abs(r.loss - reference(z, temperature, alpha)) < 1e-6, `${r.loss} vs ${reference(z, temperature, alpha)}`);
    for (let i = 0; i < z.length; i++) {
      const up = [...z];
      const down = [...z];
      up[i]! += 1e-4;
      down[i]! -= 1e-4;
      const numeric = (reference(up, temperature, alpha) - reference(down, temperature, alpha)) / 2e-4;
      assert.ok(Math.abs(numeric - r.dlogits.data[i]!) < 1e-5, `dlogits[${i}] ${r.dlogits.data[i]} vs ${numeric}`);
    }
  });
}

test('distillation loss: alpha 0 is the cross-entropy; a student equal to its teacher at alpha 1 has zero loss and gradient', () => {
  const zt = tensor([N, K], Float32Array.from(z));
  const ce = softmaxCrossEntropy(zt, labels);
  const d0 = distillationLoss(zt, labels, tensor([N, K], Float32Array.from(t)), 3, 0);
  assert.ok(Math.abs(d0.loss - ce.loss) < 1e-9);
  assert.deepEqual(Array.from(d0.dlogits.data), Array.from(ce.dlogits.data));
  assert.equal(d0.correct, 3); // rows 1, 2 (tie: the first maximum) and 3
  const same = distillationLoss(zt, labels, tensor([N, K], Float32Array.from(z)), 3, 1);
  assert.ok(Math.abs(same.loss) < 1e-9);
  for (const g of same.dlogits.data) assert.ok(Math.abs(g) < 1e-9);
  assert.throws(() => distillationLoss(zt, labels, tensor([N, 2], new Float32Array(8)), 3, 0.5), /teacher logits/);
  assert.throws(() => distillationLoss(zt, labels, zt, 0, 0.5), /temperature/);
});
