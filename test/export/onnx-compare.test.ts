/** compareProbabilities (format-neutral, used for ONNX and TFLite verification) and runOnnx input checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareProbabilities, argmax } from '../../src/export/compare.js';
import { runOnnx } from '../../src/export/onnx/runtime.js';
import { UserError } from '../../src/errors.js';

test('compareProbabilities: max difference, argmax agreement and accuracies on a worked example', () => {
  // Row argmaxes: reference 0, 1, 2; candidate 0, 0, 2. Labels 0, 1, 1.
  const reference = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4]);
  const candidate = Float32Array.from([0.6, 0.3, 0.1, 0.5, 0.4, 0.1, 0.3, 0.3, 0.4]);
  const r = compareProbabilities(reference, candidate, 3, 3, Int32Array.from([0, 1, 1]));
  assert.ok(Math.abs(r.maxAbsDiff - 0.4) < 1e-6, String(r.maxAbsDiff));
  assert.equal(r.disagreements, 1);
  assert.ok(Math.abs(r.argmaxAgreement - 2 / 3) < 1e-12);
  assert.ok(Math.abs(r.accuracyReference! - 2 / 3) < 1e-12);
  assert.ok(Math.abs(r.accuracyCandidate! - 1 / 3) < 1e-12);

  const noLabels = compareProbabilities(reference, reference, 3, 3);
  assert.deepEqual(noLabels, { maxAbsDiff: 0, argmaxAgreement: 1, disagreements: 0, accuracyReference: null, accuracyCandidate: null });
});

test('compareProbabilities: a NaN output counts as an infinite difference; ties pick the first class', () => {
  const r = compareProbabilities(Float32Array.from([0.5, 0.5]), Float32Array.from([NaN, 0.5]), 1, 2);
  assert.equal(r.maxAbsDiff, Infinity);
  assert.equal(argmax(Float32Array.from([0.2, 0.4, 0.4]), 0, 3), 1);
});

test('compareProbabilities and runOnnx reject mismatched sizes with a UserError naming the field', async () => {
  assert.throws(
    () => compareProbabilities(new Float32Array(6), new Float32Array(5), 2, 3),
    (e: unknown) => e instanceof UserError && /candidate/.test(e.message),
  );
  assert.throws(() => compareProbabilities(new Float32Array(6), new Float32Array(6), 2, 3, new Int32Array(3)), /labels/);
  await assert.rejects(runOnnx(new Uint8Array(0), new Float32Array(5), 2, 3), (e: unknown) => e instanceof UserError && /x/.test(e.message));
});
