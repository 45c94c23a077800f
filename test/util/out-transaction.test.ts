/**
 * The out-directory transaction and lock in-process: publish replaces, adds and removes exactly the
 * managed files; an interrupted publish (journal left by a kill) is rolled back by the next open; a
 * second open while one is held is refused; abort leaves nothing behind; progress publishes keep the
 * run (and its lock) open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { OutTransaction } from '../../src/util/out-transaction.js';
import { processStartTime } from '../../src/util/out-lock.js';
import { tempDir } from '../helpers/ei-data.js';

const opts = { command: 'test', manages: ['a.txt', 'b.txt', 'c.txt'] };

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f), 'utf8')]),
  );
}

test('publish: a new directory appears whole; a second run replaces, adds and removes only managed files', () => {
  const { dir, cleanup } = tempDir('tx');
  try {
    const out = join(dir, 'out');
    const t1 = OutTransaction.open(out, opts);
    t1.writeFile('a.txt', 'a1');
    t1.writeFile('b.txt', 'b1');
    assert.ok(!existsSync(out), 'nothing visible before publish');
    t1.publish();
    writeFileSync(join(out, 'user.txt'), 'kept');
    const t2 = OutTransaction.open(out, opts);
    t2.writeFile('a.txt', 'a2');
    t2.writeFile('c.txt', 'c2');
    t2.publish();
    assert.deepEqual(contents(out), { 'a.txt': 'a2', 'c.txt': 'c2', 'user.txt': 'kept' });
    assert.deepEqual(readdirSync(dir), ['out'], 'no lock, staging or backup left');
  } finally {
    cleanup();
  }
});

test('abort and a refused second open leave the directory as it was', () => {
  const { dir, cleanup } = tempDir('tx');
  try {
    const out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'a.txt'), 'old');
    const t1 = OutTransaction.open(out, opts);
    t1.writeFile('a.txt', 'new');
    assert.throws(
      () => OutTransaction.open(out, opts),
      (e: unknown) => e instanceof UserError && /in use by another run \(test, pid \d+/.test(e.message),
    );
    t1.abort();
    assert.deepEqual(contents(out), { 'a.txt': 'old' });
    assert.deepEqual(readdirSync(dir), ['out']);
    OutTransaction.open(out, opts).abort(); // the lock was released
  } finally {
    cleanup();
  }
});

test('publishProgress: each publish appears whole, the lock stays held, a later abort keeps the last progress', () => {
  const { dir, cleanup } = tempDir('tx');
  try {
    const out = join(dir, 'out');
    const tx = OutTransaction.open(out, opts);
    tx.writeFile('a.txt', 'a1');
    tx.writeFile('b.txt', 'b1');
    tx.publishProgress();
    assert.deepEqual(contents(out), { 'a.txt': 'a1', 'b.txt': 'b1' });
    assert.throws(
      () => OutTransaction.open(out, opts),
      (e: unknown) => e instanceof UserError && /in use by another run/.test(e.message),
      'still locked after a progress publish',
    );
    assert.ok(!tx.has('a.txt'), 'staging starts empty again');
    tx.writeFile('a.txt', 'a2');
    tx.publishProgress();
    assert.deepEqual(contents(out), { 'a.txt': 'a2' }, 'a managed file not written this time is removed');
    tx.writeFile('a.txt', 'never published');
    tx.abort();
    assert.deepEqual(contents(out), { 'a.txt': 'a2' });
    assert.deepEqual(readdirSync(dir), ['out'], 'no lock, staging or backup left');
    const again = OutTransaction.open(out, opts);
    again.writeFile('c.txt', 'c3');
    again.publish();
    assert.deepEqual(contents(out), { 'c.txt': 'c3' });
  } finally {
    cleanup();
  }
});

test('an interrupted publish (journal present) is rolled back by the next open', () => {
  const { dir, cleanup } = tempDir('tx');
  try {
    const out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'a.txt'), 'old a');
    writeFileSync(join(out, 'b.txt'), 'old b');
    // What a kill in the middle of publish leaves: a.txt moved to the backup and replaced, c.txt added.
    const backup = join(dir, '.out.dendritic-backup');
    mkdirSync(backup);
    writeFileSync(join(backup, 'JOURNAL.json'), JSON.stringify({ added: ['c.txt'] }));
    writeFileSync(join(backup, 'a.txt'), 'old a');
    writeFileSync(join(out, 'a.txt'), 'new a');
    writeFileSync(join(out, 'c.txt'), 'new c');
    OutTransaction.open(out, opts).abort();
    assert.deepEqual(contents(out), { 'a.txt': 'old a', 'b.txt': 'old b' });
    assert.deepEqual(readdirSync(dir), ['out']);
  } finally {
    cleanup();
  }
});

test('the lock records a start time that tells a reused pid from its owner', () => {
  const here = processStartTime(process.pid);
  if (here === null) return; // no /proc on this system: the pid check alone applies
  assert.match(here, /^\d+$/);
  assert.equal(processStartTime(process.pid), here);
  assert.equal(processStartTime(2 ** 22 + 12345), null);
});

test("a killed run's adopted file survives a run that aborts, and is adopted by the next one", () => {
  const { dir, cleanup } = tempDir('tx');
  try {
    const out = join(dir, 'out');
    const adoptOpts = { ...opts, adopt: ['ckpt'] };
    // A "killed" run: staged a checkpoint, never published or released (its lock is stale: our pid, but
    // the test releases it the way a dead process would, by abandoning the transaction's lock file).
    const killed = OutTransaction.open(out, adoptOpts);
    killed.writeFile('ckpt', 'state-1');
    killed.writeFile('a.txt', 'half');
    const killedStaging = killed.stagingDir;
    (killed as unknown as { lock: { release(): void } }).lock.release();
    const refused = OutTransaction.open(out, adoptOpts);
    assert.ok(refused.has('ckpt'), 'adopted');
    assert.ok(!existsSync(killedStaging), "the killed run's staging is taken over");
    refused.writeFile('b.txt', 'never published');
    refused.abort();
    assert.ok(!existsSync(out), 'nothing published');
    const left = readdirSync(dir).filter((n) => n.includes('staging'));
    assert.equal(left.length, 1);
    assert.deepEqual(readdirSync(join(dir, left[0]!)), ['ckpt'], 'only the adopted file is kept');
    const next = OutTransaction.open(out, adoptOpts);
    assert.equal(readFileSync(next.path('ckpt'), 'utf8'), 'state-1');
    next.discard('ckpt');
    next.writeFile('a.txt', 'a');
    next.publish();
    assert.deepEqual(readdirSync(dir), ['out'], 'no lock, staging or backup left');
  } finally {
    cleanup();
  }
});
