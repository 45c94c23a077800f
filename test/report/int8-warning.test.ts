/**
 * Issue 13: the int8 accuracy-drop warning (a line of report.json's warnings) states the drop in
 * validation rows as well as points, and on a validation set too small to tell a real drop from chance
 * says so instead of blaming a tensor. (Lives here, not in test/export/: it tests a report line.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int8DropWarning } from '../../src/export/pipeline.js';
import type { Int8Report } from '../../src/export/tflite/quantize.js';

const report = (n: number, saturates = true): Int8Report => ({
  calibrationSamples: n,
  tensors: [],
  weights: [],
  ...(saturates ? { worstSaturation: { tensor: 'conv1/out', graphValue: 'relu_1', clippedFraction: 0.0312 } } : {}),
});

test('one flipped row of 24 (4.17 points, limit 1): too small to judge, no tensor blamed', () => {
  const w = int8DropWarning(100 / 24, 1, report(24));
  assert.match(w, /^model_quantized_int8_io\.tflite: int8 accuracy is 4\.17 points \(1 of 24 validation rows\) below float \(allowed 1\)/);
  assert.match(w, /the validation set is too small to judge: a net loss of 1 row is within chance/);
  assert.match(w, /one row is worth 4\.17 points, more than the allowed 1/);
  assert.doesNotMatch(w, /likely cause|saturates|relu_1/);
});

test('a few rows of a mid-sized set are still within chance, without the one-row note when a row is finer than the limit', () => {
  const w = int8DropWarning(300 / 200, 1, report(200)); // 3 of 200 rows = 1.5 points
  assert.match(w, /1\.50 points \(3 of 200 validation rows\)/);
  assert.match(w, /too small to judge: a net loss of 3 rows is within chance \(it takes 5 to tell a real drop from noise\)/);
  assert.doesNotMatch(w, /one row is worth/);
  assert.doesNotMatch(w, /likely cause/);
});

test('a drop of enough rows names the saturating tensor, with rows and points', () => {
  const w = int8DropWarning(500 / 24, 1, report(24)); // 5 of 24 rows
  assert.match(
    w,
    /int8 accuracy is 20\.83 points \(5 of 24 validation rows\) below float \(allowed 1\); likely cause: the range of 'relu_1' \(TFLite tensor conv1\/out\) saturates on 3\.12% of calibration values$/,
  );
  const big = int8DropWarning(2.5, 1, report(1000)); // 25 of 1000 rows
  assert.match(big, /2\.50 points \(25 of 1000 validation rows\).*likely cause: the range of 'relu_1'/);
  const coarse = int8DropWarning(2.5, 1, report(1000, false));
  assert.match(coarse, /likely cause: no tensor saturates/);
  assert.doesNotMatch(coarse, /too small/);
});
