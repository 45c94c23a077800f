import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';

test('same seed gives the same stream, different seeds differ', () => {
  const a = new Rng(42),
    b = new Rng(42),
    c = new Rng(43);
  const sa = Array.from({ length: 100 }, () => a.nextU32());
  const sb = Array.from({ length: 100 }, () => b.nextU32());
  const sc = Array.from({ length: 100 }, () => c.nextU32());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('uniform values cover [0,1) evenly and normals have unit variance', () => {
  const r = new Rng(7);
  const n = 200000;
  const bins = new Array(10).fill(0);
  let sum = 0,
    sumSq = 0;
  for (let i = 0; i < n; i++) {
    const u = r.next();
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 10)]++;
    const z = r.normal();
    sum += z;
    sumSq += z * z;
  }
  for (const b of bins) assert.ok(Math.abs(b - n / 10) < (0.03 * n) / 10, `bin count ${b}`);
  assert.ok(Math.abs(sum / n) < 0.01);
  assert.ok(Math.abs(sumSq / n - 1) < 0.02);
});

test('state round-trips: a restored generator continues the same stream', () => {
  const r = new Rng(3);
  r.normal();
  const saved = r.getState();
  const expected = [r.normal(), r.next(), r.normal()];
  const q = new Rng(999);
  q.setState(saved);
  assert.deepEqual([q.normal(), q.next(), q.normal()], expected);
});
