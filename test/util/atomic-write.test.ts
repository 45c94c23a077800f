import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomic-write.js';

test('writeFileAtomic: text, bytes and parts replace the target and leave no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dendritic-atomic-'));
  try {
    const path = join(dir, 'a.bin');
    writeFileSync(path, 'old content');
    writeFileAtomic(path, 'text');
    assert.equal(readFileSync(path, 'utf8'), 'text');
    writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
    writeFileAtomic(path, [new Uint8Array([9]), new Uint8Array(0), Buffer.from([7, 8])]);
    assert.deepEqual([...readFileSync(path)], [9, 7, 8]);
    assert.deepEqual(readdirSync(dir), ['a.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileAtomic: a failed write removes its temporary file and keeps the old content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dendritic-atomic-'));
  try {
    const path = join(dir, 'a.bin');
    writeFileSync(path, 'old');
    const bad = { length: 1 } as unknown as Uint8Array; // not a buffer: writeSync throws
    assert.throws(() => writeFileAtomic(path, [new Uint8Array([1]), bad]));
    assert.equal(readFileSync(path, 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir), ['a.bin']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
