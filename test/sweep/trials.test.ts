/**
 * Issue 26: trials run exactly as Edge Impulse runs the block (with the data directory's
 * train_input.json), and a trial stopped by a signal from outside the sweep is not recorded as failed
 * for good: it stays pending, the sweep says so and exits 1, and the rerun runs it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitForExit, waitForOutput } from '../helpers/ei-data.js';
import { readSweep, writeSweepFixture } from './helpers.js';

/** The command line of a process ('' once it is gone). */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** The pids whose parent is `parent` (from /proc: no ps needed). */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false;
      }
    })
    .map(Number);
}

test("trials get the data directory's train_input.json (--info-file): its class names reach every trial", () => {
  const { dir, cleanup } = tempDir('sweep-info');
  try {
    const { data, config } = writeSweepFixture(
      dir,
      `method: grid
parameters:
  epochs: {value: 2}
  learning-rate: {values: [0.01, 0.02]}
`,
    );
    writeFileSync(
      join(data, 'train_input.json'),
      JSON.stringify({ classes: ['alpha', 'beta', 'gamma'], mode: 'classification', inputShapeString: '(12,)' }),
    );
    const out = join(dir, 'out');
    const r = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    for (const t of readSweep(out).trials) {
      assert.equal(t.status, 'completed', t.error);
      const report = JSON.parse(readFileSync(join(out, t.out, 'report.json'), 'utf8')) as { data: { classes: string[] } };
      assert.deepEqual(report.data.classes, ['alpha', 'beta', 'gamma'], t.id);
      assert.match(readFileSync(join(out, `${t.out}.log`), 'utf8'), /train_input\.json/);
    }
  } finally {
    cleanup();
  }
});

test('a trial SIGTERMed from outside the sweep stays pending (exit 1, one line), and the rerun runs it again', async () => {
  const { dir, cleanup } = tempDir('sweep-outside');
  try {
    const { data, config } = writeSweepFixture(
      dir,
      `method: grid
parameters:
  epochs: {value: 100000}
  max-training-seconds: {value: 3}
  dendrites: {value: false}
  restarts: {value: false}
`,
    );
    const out = join(dir, 'out');
    const args = ['sweep', '--config', config, '--data-directory', data, '--out-directory', out];
    const sweep = startCli(args);
    const exit = waitForExit(sweep);
    await waitForOutput(sweep, /sweep: grid search/);
    // The trial's train process: the sweep's child (found by its parent's pid, killed by its own).
    let trainPid: number | undefined;
    for (let i = 0; i < 100 && trainPid === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      trainPid = childrenOf(sweep.pid!).find((pid) => cmdline(pid).includes(' train '));
    }
    assert.ok(trainPid, 'the trial started');
    await new Promise((r) => setTimeout(r, 1200));
    process.kill(trainPid, 'SIGTERM');
    const r = await exit;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /trial t0001 stopped from outside the sweep \(exit 143\): not recorded; a rerun runs it again/);
    assert.match(r.stderr, /t0001: stopped from outside the sweep, still pending: rerun the same command to run them again/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    const first = readSweep(out);
    assert.deepEqual(first.trials, []);
    assert.deepEqual(
      first.pending.map((p) => p.id),
      ['t0001'],
    );
    // The rerun runs it again, to the end.
    const again = runCli(args, { timeoutMs: 120_000 });
    assert.equal(again.code, 0, again.stderr);
    const s = readSweep(out);
    assert.deepEqual(
      s.trials.map((t) => [t.id, t.status]),
      [['t0001', 'completed']],
    );
    assert.deepEqual(s.pending, []);
  } finally {
    cleanup();
  }
});

test('a sweep whose every trial failed exits 1 and says why the first one failed', () => {
  const { dir, cleanup } = tempDir('sweep-all-failed');
  try {
    const { data, config } = writeSweepFixture(
      dir,
      `method: grid
parameters:
  epochs: {value: 2}
  learning-rate: {values: [0.01, 0.02]}
`,
    );
    // Edge Impulse's time limit of 1 s leaves no time to export: train refuses every trial.
    writeFileSync(join(data, 'train_input.json'), JSON.stringify({ classes: ['a', 'b', 'c'], maxTrainingTimeSeconds: 1 }));
    const out = join(dir, 'out');
    const r = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out], { timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /every trial failed \(t0001: error: .*maxTrainingTimeSeconds.*\); the logs: .*trials\/<id>\.log/);
    assert.deepEqual(
      readSweep(out).trials.map((t) => t.status),
      ['failed', 'failed'],
    );
  } finally {
    cleanup();
  }
});
