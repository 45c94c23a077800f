/**
 * Issue 26: size and count limits on every sweep config input, checked before any work: the file's
 * bytes (a 50 MB sweep.yaml once grew past 3.4 GB RSS), values per list, hyperband s (1e9 hung),
 * max_iter, run_cap (1e300 ran for ever), seed, and a q step within its range (beyond it every trial
 * failed and the sweep exited 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSweepConfig } from '../../src/sweep/config.js';
import { MAX_CONFIG_BYTES } from '../../src/sweep/limits.js';
import { runCli, tempDir } from '../helpers/ei-data.js';
import { writeSweepFixture } from './helpers.js';

function fails(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseSweepConfig(text, 'sweep.yaml'),
    (err: Error) => {
      assert.equal(err.name, 'UserError');
      assert.match(err.message, pattern);
      return true;
    },
    pattern.source,
  );
}

const RANDOM = (extra: string) => `method: random
run_cap: 4
parameters:
  learning-rate: {min: 0.001, max: 0.1}
${extra}`;

test('hyperband s, min_iter and max_iter, run_cap and seed have upper bounds', () => {
  fails(
    RANDOM('early_terminate: {type: hyperband, min_iter: 1, s: 1000000000}\n'),
    /^sweep\.yaml:\d+: early_terminate\.s: got 1000000000, expected an integer >= 1 and <= 32$/,
  );
  fails(RANDOM('early_terminate: {type: hyperband, min_iter: 1, s: 33}\n'), /early_terminate\.s: got 33, expected an integer >= 1 and <= 32/);
  fails(
    RANDOM('early_terminate: {type: hyperband, min_iter: 1, max_iter: 1e9}\n'),
    /early_terminate\.max_iter: got 1000000000, expected an integer >= 1 and <= 100000/,
  );
  fails(
    RANDOM('early_terminate: {type: hyperband, min_iter: 1e7, s: 2}\n'),
    /early_terminate\.min_iter: got 10000000, expected an integer >= 1 and <= 100000/,
  );
  fails(RANDOM('').replace('run_cap: 4', 'run_cap: 1e300'), /^sweep\.yaml:2: run_cap: got 1e\+300, expected an integer >= 1 and <= 100000$/);
  fails(RANDOM('seed: 1e300\n'), /seed: got 1e\+300, expected an integer >= 0 and <= 4294967295/);
  // within the limits: accepted
  const ok = parseSweepConfig(
    RANDOM('early_terminate: {type: hyperband, min_iter: 1, s: 32}\nseed: 4294967295\n').replace('run_cap: 4', 'run_cap: 100000'),
    'sweep.yaml',
  );
  assert.equal(ok.trials, 100000);
  assert.ok(ok.earlyTerminate!.milestones.length >= 10);
});

test('a values list is limited in length', () => {
  const many = Array.from({ length: 10_001 }, (_, i) => 0.001 + i * 1e-6).join(', ');
  fails(
    `method: random\nrun_cap: 2\nparameters:\n  learning-rate: {values: [${many}]}\n`,
    /parameters\.learning-rate\.values: 10001 values, expected at most 10000/,
  );
});

test('a q step beyond its range is refused (every trial would fail)', () => {
  fails(
    RANDOM('  dropout: {distribution: q_uniform, min: 0, max: 0.5, q: 2}\n'),
    /^sweep\.yaml:5: parameters\.dropout\.q: got 2, expected a step <= max - min \(0\.5\)$/,
  );
  fails(
    RANDOM('  learning-rate-2: {distribution: q_log_uniform_values, min: 0.001, max: 0.1, q: 1}\n')
      .replace('learning-rate-2', 'batch-size')
      .replace('min: 0.001, max: 0.1, q: 1', 'min: 8, max: 64, q: 128'),
    /parameters\.batch-size\.q: got 128, expected a step <= max \(64\)/,
  );
  fails(
    RANDOM('  dropout: {distribution: q_uniform, min: 0, max: 0.5}\n'),
    /parameters\.dropout\.q: got the default 1, expected a step <= max - min \(0\.5\)/,
  );
  parseSweepConfig(RANDOM('  dropout: {distribution: q_uniform, min: 0, max: 0.5, q: 0.1}\n'), 'sweep.yaml');
});

test('a 50 MB sweep.yaml, or a FIFO, is refused unread in one line (exit 2), before anything starts', () => {
  const { dir, cleanup } = tempDir('sweep-limits');
  try {
    const { data } = writeSweepFixture(dir);
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `method: grid\nparameters:\n  width: {values: [${'1, '.repeat(25 * 1024 * 1024)}1]}\n`);
    const out = join(dir, 'out');
    const t0 = performance.now();
    const r = runCli(['sweep', '--config', big, '--data-directory', data, '--out-directory', out], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^error: .*big\\.yaml: config: \\d+ bytes: expected a sweep YAML file of at most ${MAX_CONFIG_BYTES} bytes\\n$`));
    assert.ok(performance.now() - t0 < 10_000);
    const fifo = join(dir, 'fifo.yaml');
    execFileSync('mkfifo', [fifo]);
    const f = runCli(['sweep', '--config', fifo, '--data-directory', data, '--out-directory', out], { timeoutMs: 30_000 });
    assert.equal(f.code, 2, f.stderr);
    assert.match(f.stderr, /^error: .*fifo\.yaml: config: not a regular file: expected a sweep YAML file\n$/);
    assert.throws(() => parseSweepConfig('x'.repeat(MAX_CONFIG_BYTES + 1), 'inline.yaml'), /inline\.yaml: config: \d+ bytes/);
  } finally {
    cleanup();
  }
});
