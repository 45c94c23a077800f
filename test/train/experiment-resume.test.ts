/**
 * `dendritic experiment` on the sweep's runner (src/experiment/runner.ts): killed (SIGKILL) after some
 * runs and rerun with the same command, it finishes with the same runs as an uninterrupted experiment
 * and does not run a recorded run again; with --queue, `dendritic worker` processes run the runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory } from '../helpers/ei-data.js';
import { startRedis } from '../sweep/helpers.js';

interface ExperimentJson {
  rows: unknown[];
  front: unknown[];
  runs: Array<{ seconds: number; config: { outDirectory?: string } }>;
}

function experimentArgs(data: string, out: string): string[] {
  return [
    'experiment',
    '--data-directory',
    data,
    '--out-directory',
    out,
    '--model',
    'dense',
    '--epochs',
    '4',
    '--widths',
    '0.5',
    '--plain-widths',
    '1',
    '--seeds',
    '2',
    '--modes',
    'gd',
    '--switch-mode',
    'fixed',
    '--first-fixed-switch-num',
    '2',
    '--fixed-switch-num',
    '2',
  ];
}

/** experiment.json's runs without what may differ between two experiments of the same runs: wall time, out directory. */
function runsOf(out: string): unknown[] {
  const json = JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')) as ExperimentJson;
  return json.runs.map(({ seconds: _s, config: { outDirectory: _o, ...config }, ...rest }) => ({ ...rest, config }));
}

function loggedRuns(stderr: string): number[] {
  return [...stderr.matchAll(/^\[\d+\/6\] run (\d+):/gm)].map((m) => Number(m[1]));
}

test('experiment killed (SIGKILL) after some runs and rerun: the same runs as an uninterrupted one, no finished run repeated', async () => {
  const dir = tempDir('exp-resume');
  try {
    const data = join(dir.dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    const whole = join(dir.dir, 'whole');
    const once = runCli(experimentArgs(data, whole), { timeoutMs: 120_000 });
    assert.equal(once.code, 0, once.stderr);
    assert.deepEqual(loggedRuns(once.stderr).sort(), [1, 2, 3, 4, 5, 6]);

    const out = join(dir.dir, 'resumed');
    const first = startCli(experimentArgs(data, out));
    const exited = waitForExit(first);
    await waitForOutput(first, /^\[2\/6\] run/m, 60_000);
    first.kill('SIGKILL');
    await exited;
    const state = JSON.parse(readFileSync(join(out, 'experiment-runs', 'state.json'), 'utf8')) as { runs: Record<string, unknown> };
    const recorded = Object.keys(state.runs).map((id) => Number(id.slice(1)));
    assert.ok(recorded.length >= 2 && recorded.length < 6, `${recorded.length} runs recorded before the kill`);

    const second = runCli(experimentArgs(data, out), { timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`resuming: ${recorded.length} of 6 runs already recorded`));
    const rerun = loggedRuns(second.stderr);
    assert.deepEqual([...rerun, ...recorded].sort(), [1, 2, 3, 4, 5, 6], `rerun ran ${rerun}, recorded before ${recorded}`);
    assert.deepEqual(runsOf(out), runsOf(whole));
    // The table and the paired analysis come from the runs alone.
    const rowsOf = (o: string) => JSON.parse(readFileSync(join(o, 'experiment.json'), 'utf8')) as ExperimentJson;
    assert.deepEqual(JSON.stringify(rowsOf(out).front), JSON.stringify(rowsOf(whole).front));
  } finally {
    dir.cleanup();
  }
});

test('experiment --queue: the runs go to dendritic worker processes, with the same results as local runs', async () => {
  const dir = tempDir('exp-queue');
  const redis = await startRedis(join(dir.dir, 'redis'));
  const worker = startCli(['worker', '--queue', redis.url, '--name', 'worker-a']);
  const workerDone = waitForExit(worker);
  try {
    const data = join(dir.dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    const local = join(dir.dir, 'local');
    assert.equal(runCli(experimentArgs(data, local), { timeoutMs: 120_000 }).code, 0);
    const queued = join(dir.dir, 'queued');
    const r = runCli([...experimentArgs(data, queued), '--queue', redis.url], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /on the queue redis:/);
    assert.deepEqual(runsOf(queued), runsOf(local));
  } finally {
    worker.kill('SIGTERM');
    const w = await workerDone;
    await redis.stop();
    dir.cleanup();
    assert.match(w.stderr, /trial r0001 of sweep e[0-9a-f]+ started/);
  }
});
