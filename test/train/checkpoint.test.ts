import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';
import { UserError } from '../../src/errors.js';

test('checkpoint round-trips nested state with float arrays and non-finite numbers exactly', () => {
  const state = {
    epoch: 7,
    best: { score: -Infinity, loss: NaN },
    weights: [new Float32Array([1.5, -2, 3e-8]), new Float32Array(0)],
    optimizer: { t: 12, m: [new Float32Array([0.1, 0.2])] },
    rng: { s: [1, 2, 3, 4294967295], spare: null },
    name: 'x"y',
  };
  const back = decodeCheckpoint(encodeCheckpoint(state)) as typeof state;
  assert.equal(back.epoch, 7);
  assert.equal(back.best.score, -Infinity);
  assert.ok(Number.isNaN(back.best.loss));
  assert.deepEqual(Array.from(back.weights[0]!), Array.from(state.weights[0]!));
  assert.ok(back.weights[0] instanceof Float32Array);
  assert.equal(back.weights[1]!.length, 0);
  assert.deepEqual(Array.from(back.optimizer.m[0]!), Array.from(state.optimizer.m[0]!));
  assert.deepEqual(back.rng, state.rng);
  assert.equal(back.name, 'x"y');
});

test('a truncated or foreign checkpoint is a clear user error; saving leaves no temp file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  const path = join(dir, 'checkpoint.bin');
  saveCheckpoint(path, { w: new Float32Array(100) });
  assert.deepEqual(readdirSync(dir), ['checkpoint.bin']);
  const bytes = encodeCheckpoint({ w: new Float32Array(100) });
  writeFileSync(path, bytes.subarray(0, bytes.length - 10));
  assert.throws(
    () => loadCheckpoint(path),
    (e: unknown) => e instanceof UserError && /truncated/.test(e.message),
  );
  writeFileSync(path, 'hello world, not a checkpoint');
  assert.throws(
    () => loadCheckpoint(path),
    (e: unknown) => e instanceof UserError && /magic/.test(e.message),
  );
  assert.throws(() => loadCheckpoint(join(dir, 'missing')), /missing: file: not found: expected the checkpoint an earlier run wrote/);
});
