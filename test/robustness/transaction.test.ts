/**
 * Issue 15: a run is a transaction on its out directory. A good out directory survives every failure
 * byte-identical (hashed before and after): refused parameters, bad data, divergence, disk full and
 * read-only disks (injected with DENDRITIC_FAULT), a second concurrent run, kill -9, signals and time
 * limits before the first epoch ended. Files a previous run wrote and this one did not are gone after
 * publish. Every case runs the built CLI with a timeout, so a hang fails the test instead of the suite.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { writeNpy } from '../../src/data/npy.js';
import { CHECKPOINT_FILE } from '../../src/commands/train.js';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory, type CliResult } from '../helpers/ei-data.js';

const { dir: root, cleanup } = tempDir('transaction');
after(cleanup);
const data = join(root, 'data');
/** Slow enough that one epoch takes seconds: a signal or a 1 s limit lands inside the first epoch. */
const slow = join(root, 'slow');
/** The good out directory every failure below must leave as it is. */
const good = join(root, 'good');
const TINY = ['--epochs', '2', '--dendrites', '0', '--quiet'];
const SLOW = ['--epochs', '3', '--dendrites', '0', '--width', '16', '--export-format', 'onnx'];
let goodHash = '';

/** sha256 over every file (relative path and bytes) under `dir`, hidden ones included. */
function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else
        h.update(`${relative(dir, p)}\0`)
          .update(readFileSync(p))
          .update('\0');
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** Staging directories, locks or backups a run left beside `out`. */
function leftovers(out: string): string[] {
  return readdirSync(dirname(out)).filter((n) => n.startsWith(`.${out.split('/').at(-1)}.dendritic`));
}

function train(out: string, extra: string[], env: Record<string, string> = {}, dataDir = data): CliResult {
  return runCli(['train', '--data-directory', dataDir, '--out-directory', out, ...extra], {
    timeoutMs: 60_000,
    ...(Object.keys(env).length ? { env } : {}),
  });
}

/** One clear line on stderr, the expected exit code, and the good out directory exactly as it was. */
function assertRefused(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${r.code} signal ${r.signal}\nstderr:\n${r.stderr}`);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: ') || l.startsWith('internal error'));
  assert.equal(errors.length, code === 2 ? 1 : 0, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  assert.equal(hashTree(good), goodHash, 'the good out directory is byte-identical');
  assert.deepEqual(leftovers(good), [], 'no staging directory, lock or backup left');
}

before(() => {
  mkdirSync(data);
  writeEiDirectory(data, { features: 12, classes: 3, trainRows: 48, valRows: 12 });
  mkdirSync(slow);
  writeEiDirectory(slow, { features: 650, classes: 3, trainRows: 6000, valRows: 30 });
  const r = train(good, [...TINY, '--export-format', 'all']);
  assert.equal(r.code, 0, r.stderr);
  goodHash = hashTree(good);
});

// ---------------------------------------------------------------- refused or failed runs over a good directory

test('refused parameters (learning rate 1e30, 100,000 correlation candidates) leave the good directory byte-identical', () => {
  assertRefused(train(good, [...TINY, '--learning-rate', '1e30']), 2, /--learning-rate: got '1e30', expected a number > 0 and <= 10/);
  assertRefused(train(good, [...TINY, '--correlation-candidates', '100000']), 2, /--correlation-candidates: .*100000.*expected an integer >= 1 and <= 64/);
});

test('a model that does not fit the data is refused with the good directory intact', () => {
  assertRefused(train(good, [...TINY, '--model', 'conv2d']), 2, /--model: 'conv2d' needs an image input/);
});

test('divergence (NaN training loss) ends with a clear error and nothing published', () => {
  const div = join(root, 'diverging');
  mkdirSync(div);
  for (const [split, n] of [
    ['train', 48],
    ['test', 12],
  ] as const) {
    writeNpy(
      join(div, `X_split_${split}.npy`),
      Float32Array.from({ length: n * 12 }, (_, i) => (i % 7) * 1e15 * (i % 2 ? 1 : -1)),
      [n, 12],
      'float32',
    );
    writeNpy(
      join(div, `Y_split_${split}.npy`),
      Int32Array.from({ length: n }, (_, i) => i % 3),
      [n],
      'int32',
    );
  }
  const r = train(good, ['--epochs', '5', '--dendrites', '0', '--optimizer', 'sgd', '--learning-rate', '10', '--quiet'], {}, div);
  assertRefused(r, 2, /training: epoch \d+: the training loss is NaN \(training diverged\): expected a finite loss; lower --learning-rate/);
});

test('disk full while writing the checkpoint, the report or at publish: one line, exit 2, nothing published', () => {
  for (const step of ['write:checkpoint.dndckpt', 'write:report.json', 'write:model.tflite', 'publish']) {
    const r = train(good, TINY, { DENDRITIC_FAULT: `ENOSPC:${step}` });
    assertRefused(r, 2, /out-directory: .*no space left on the device \(ENOSPC\): expected a writable directory with free space; nothing was published/);
  }
});

test('a read-only out directory is refused before training', () => {
  const r = train(good, TINY, { DENDRITIC_FAULT: 'EROFS:open' });
  assertRefused(r, 2, /out-directory: .*read-only filesystem \(EROFS\)/);
  assert.doesNotMatch(r.stdout, /epoch 1\//);
});

test('`report` into a read-only directory: a clear error, report.html untouched', () => {
  assertRefused(runCli(['report', good], { env: { DENDRITIC_FAULT: 'EROFS:open' } }), 2, /out-directory: .*read-only filesystem \(EROFS\)/);
});

test('`experiment` into a read-only directory is refused before any training', () => {
  const out = join(root, 'experiment-ro');
  const started = performance.now();
  const r = runCli(['experiment', '--data-directory', data, '--out-directory', out, '--widths', '1', '--seeds', '1', '--modes', 'gd', '--epochs', '50'], {
    timeoutMs: 60_000,
    env: { DENDRITIC_FAULT: 'EROFS:open' },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error: .*experiment-ro: out-directory: .*\(EROFS\)/m);
  assert.doesNotMatch(r.stderr, /run 1:/, 'no run was trained');
  assert.ok(performance.now() - started < 20_000);
  assert.ok(!existsSync(out));
});

// ---------------------------------------------------------------- publish

test('--export-format tflite after all: model.onnx is removed, report.json describes exactly the files present', () => {
  const out = join(root, 'formats');
  assert.equal(train(out, [...TINY, '--export-format', 'all']).code, 0);
  assert.ok(existsSync(join(out, 'model.onnx')));
  const r = train(out, [...TINY, '--export-format', 'tflite']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { exports: { file?: string; written?: boolean }[] };
  const described = report.exports
    .filter((e) => e.written === true)
    .map((e) => e.file)
    .sort();
  const models = readdirSync(out)
    .filter((f) => /^model/.test(f))
    .sort();
  assert.deepEqual(models, described);
  assert.deepEqual(models, ['model.tflite', 'model_quantized_int8_io.tflite']);
  assert.deepEqual(readdirSync(out).sort(), [
    'effective-config.json',
    'metrics.jsonl',
    'model.tflite',
    'model_quantized_int8_io.tflite',
    'report.html',
    'report.json',
  ]);
  assert.deepEqual(leftovers(out), []);
});

test('files a user keeps in the out directory survive a publish', () => {
  const out = join(root, 'keeps');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'mine');
  assert.equal(train(out, TINY).code, 0);
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine');
});

// ---------------------------------------------------------------- one run per out directory, kills

test('a second run on a busy out directory is refused; after kill -9 the stale lock is taken over', async () => {
  const out = join(root, 'busy');
  const child = startCli(['train', '--data-directory', slow, '--out-directory', out, ...SLOW]);
  const exit = waitForExit(child);
  await waitForOutput(child, /model: /, 60_000);
  const second = train(out, TINY);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, /^error: .*busy: out-directory: in use by another run \(train, pid \d+, since .*\): expected one run per out directory/);
  child.kill('SIGKILL');
  assert.equal((await exit).signal, 'SIGKILL');
  assert.ok(!existsSync(out), 'the killed run published nothing');
  assert.ok(leftovers(out).length > 0, 'the kill left its lock and staging directory');
  const third = train(out, TINY);
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(leftovers(out), [], 'the next run removed what the killed one left');
});

test('kill -9 mid-training over a good directory leaves it byte-identical', async () => {
  const out = join(root, 'killed-over-good');
  assert.equal(train(out, [...TINY, '--export-format', 'all']).code, 0);
  const before = hashTree(out);
  const child = startCli(['train', '--data-directory', slow, '--out-directory', out, ...SLOW]);
  const exit = waitForExit(child);
  await waitForOutput(child, /model: /, 60_000);
  child.kill('SIGKILL');
  await exit;
  assert.equal(hashTree(out), before);
});

test('a lock left by a process that no longer exists is stale', () => {
  const out = join(root, 'stale-lock');
  writeFileSync(
    join(root, '.stale-lock.dendritic-lock'),
    JSON.stringify({ pid: 2 ** 22 + 12345, start: '1', host: hostname(), command: 'train', since: 'then' }),
  );
  const r = train(out, TINY);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(leftovers(out), []);
});

// ---------------------------------------------------------------- zero epochs

test('SIGTERM before the first epoch ended: nothing published, one clear line, exit 143', async () => {
  const out = join(root, 'term-early');
  assert.equal(train(out, TINY).code, 0);
  const before = hashTree(out);
  const child = startCli(['train', '--data-directory', slow, '--out-directory', out, ...SLOW]);
  const exit = waitForExit(child);
  await waitForOutput(child, /model: /, 60_000);
  child.kill('SIGTERM');
  const r = await exit;
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /SIGTERM before the first epoch ended: no weights were trained, so nothing was exported; .* is as it was/);
  assert.doesNotMatch(r.stderr, /internal error|best\.epoch/);
  assert.equal(hashTree(out), before);
  assert.deepEqual(leftovers(out), []);
});

test('a time limit shorter than one epoch: exit 2 naming the limit, nothing published', () => {
  const out = join(root, 'limit-early');
  const r = train(out, [...SLOW, '--max-training-seconds', '1', '--quiet'], {}, slow);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^error: parameters: --max-training-seconds: the time limit \(1 s for training\) ended training before the first epoch finished: expected a limit that fits at least one epoch/m,
  );
  assert.ok(!existsSync(out));
  assert.deepEqual(leftovers(out), []);
});

test("train_input.json's maxTrainingTimeSeconds: 1 is refused: no time would be left to export", () => {
  const out = join(root, 'info-1s');
  const info = join(root, 'info-1s.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], mode: 'classification', maxTrainingTimeSeconds: 1 }));
  const started = performance.now();
  const r = train(out, [...TINY, '--info-file', info]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^error: .*info-1s\.json: maxTrainingTimeSeconds: 1 s leaves no time to train once 0\.5 s are kept for export and verification: expected at least 2 seconds/m,
  );
  assert.ok(performance.now() - started < 10_000);
  assert.ok(!existsSync(out));
});

test('a checkpoint left by a killed run is adopted by --resume from its staging directory', async () => {
  const out = join(root, 'adopt');
  const args = ['--epochs', '100000', '--dendrites', '0', '--restarts', '0'];
  const child = startCli(['train', '--data-directory', data, '--out-directory', out, ...args]);
  const exit = waitForExit(child);
  await waitForOutput(child, /epoch 3\/100000 /, 60_000);
  child.kill('SIGKILL');
  await exit;
  assert.ok(!existsSync(out));
  const staged = leftovers(out).filter((n) => n.includes('staging'));
  assert.ok(
    staged.some((s) => existsSync(join(root, s, CHECKPOINT_FILE))),
    'the checkpoint waits beside the out directory',
  );
  // the time limit is not part of what must match, so the resumed run can be cut short
  const r = train(out, [...args, '--resume', '--max-training-seconds', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming after epoch \d+/);
  assert.ok(existsSync(join(out, 'report.json')));
  assert.deepEqual(leftovers(out), []);
});
