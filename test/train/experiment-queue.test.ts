/**
 * `dendritic experiment --queue` with workers that die: a Redis started here (test/sweep/helpers.ts,
 * as the distributed sweep test does), two `dendritic worker` processes, one SIGKILLed while it runs an
 * experiment run. The run goes back to the queue and runs on the other worker; the experiment records
 * every planned run exactly once, with the same results as a local experiment. And --queue without
 * --out-directory is refused before anything is queued.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory, type CliResult } from '../helpers/ei-data.js';
import { processGone, startRedis, startWorkers } from '../sweep/helpers.js';
import { experimentArgs, ids, readExperiment, recordedIds, runsOf, sleep } from './experiment-helpers.js';
import { skipWithout } from '../helpers/prerequisites.js';

test('experiment --queue without --out-directory: a usage error naming --out-directory, before Redis is even asked', () => {
  const { dir, cleanup } = tempDir('exp-queue-noout');
  try {
    writeEiDirectory(dir, { trainRows: 20, valRows: 10, features: 4, classes: 2 });
    const argv = experimentArgs(dir, 'unused').filter((a, i, all) => a !== '--out-directory' && all[i - 1] !== '--out-directory');
    // Nothing listens on port 1: reaching Redis first would fail with "cannot reach Redis" instead.
    const r = runCli([...argv, '--queue', 'redis://127.0.0.1:1'], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: experiment: --out-directory: missing: --queue needs it, since workers .* read each run's spec and write its result by path/m,
    );
    assert.doesNotMatch(r.stderr, /cannot reach Redis|experiment: \d+ runs/);
  } finally {
    cleanup();
  }
});

/** The child's exit, or a failure naming what it printed when it takes longer than `ms`. */
async function exitWithin(child: ReturnType<typeof startCli>, exit: Promise<CliResult>, ms: number, what: string): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not end within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([exit, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('experiment --queue on two workers, one SIGKILLed mid-run: each planned run recorded exactly once, the same runs as a local experiment', async (t) => {
  if (skipWithout(t, 'redis-server')) return;
  const { dir, cleanup } = tempDir('exp-queue-kill');
  const redis = await startRedis(join(dir, 'redis'));
  const workers: ReturnType<typeof startCli>[] = [];
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    // Bigger than the other experiment tests' data, and every run (gd too: its first switch at epoch 40)
    // trains for many epochs, so a run lasts long enough (about half a second here) to be killed mid-run.
    writeEiDirectory(data, { trainRows: 3000, valRows: 60, features: 16, classes: 3 });
    const args = (out: string) => [...experimentArgs(data, out, 100), '--first-fixed-switch-num', '40', '--fixed-switch-num', '40'];
    const local = join(dir, 'local');
    const l = runCli(args(local), { timeoutMs: 120_000 });
    assert.equal(l.code, 0, l.stderr);

    const {
      procs: [a, b],
      exits: [aExit, bExit],
    } = await startWorkers(redis.url, ['worker-a', 'worker-b']);
    workers.push(a!, b!);
    const queued = join(dir, 'queued');
    const coordinator = startCli([...args(queued), '--queue', redis.url]);
    const coordinatorExit = waitForExit(coordinator);

    // Worker a: killed as soon as it has started a run (its experiment-run process dies with it).
    const seen = await waitForOutput(a, /trial (r\d+) of sweep \S+ started \(train pid (\d+)/, 60_000);
    a.kill('SIGKILL');
    const [, killedRun, runPid] = /trial (r\d+) of sweep \S+ started \(train pid (\d+)/.exec(seen)!;
    const aLog = (await aExit).stderr;
    const t0 = Date.now();
    while (!processGone(Number(runPid)) && Date.now() - t0 < 3000) await sleep(50);
    assert.ok(processGone(Number(runPid)), `experiment-run pid ${runPid} of the killed worker still runs`);

    // The killed run's job goes back to the queue once its lock lapses (queue.ts LOCK_MS) and runs on b.
    const r = await exitWithin(coordinator, coordinatorExit, 90_000, 'the queued experiment');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(recordedIds(queued), ids(6));
    const json = readExperiment(queued);
    assert.deepEqual([json.complete, json.runs_done, json.runs_planned], [true, 6, 6]);
    assert.deepEqual(
      json.runs.map((x) => x.id),
      ids(6),
    );
    assert.deepEqual(runsOf(queued), runsOf(local));

    b.kill('SIGTERM');
    const bResult = await bExit;
    assert.equal(bResult.code, 143, bResult.stderr);
    const completions = [...`${aLog}\n${bResult.stderr}`.matchAll(/trial (r\d+) completed/g)].map((m) => m[1]!).sort();
    assert.deepEqual(completions, ids(6), 'each run completed once, on one worker');
    assert.doesNotMatch(aLog, new RegExp(`trial ${killedRun} completed`));
    assert.match(bResult.stderr, new RegExp(`trial ${killedRun} of sweep \\S+ started \\(train pid \\d+, attempt 2\\)`));
  } finally {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await redis.stop();
    cleanup();
  }
});
