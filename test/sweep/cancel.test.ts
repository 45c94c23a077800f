/**
 * Issue 25: a coordinator whose trials no worker takes says so; a stopped queue sweep's trials are
 * removed by `sweep cancel`, so a worker started later for another sweep runs only that sweep's trials.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitForExit, waitForOutput } from '../helpers/ei-data.js';
import { readSweep, startRedis, startWorkers, writeSweepFixture } from './helpers.js';

const FOUR = `method: grid
parameters:
  epochs: {value: 2}
  width: {values: [0.5, 1, 2, 4]}
`;

test('no worker: the coordinator says so; sweep cancel removes the stopped sweep, so a later worker runs only the next sweep', async () => {
  const { dir, cleanup } = tempDir('sweep-cancel');
  const redis = await startRedis(join(dir, 'redis'));
  const before = process.env.DENDRITIC_SWEEP_IDLE_S;
  process.env.DENDRITIC_SWEEP_IDLE_S = '1';
  try {
    const { data, config } = writeSweepFixture(dir, FOUR);
    const out = join(dir, 'out');
    const first = startCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--queue', redis.url]);
    const exit = waitForExit(first);
    await waitForOutput(
      first,
      /queue: no worker has taken a trial of this sweep for \d+ s \(4 waiting\): no worker is connected to redis:\/\/127\.0\.0\.1:\d+: start 'dendritic worker --queue/,
      30_000,
    );
    first.kill('SIGTERM');
    const r = await exit;
    assert.equal(r.code, 143, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `4 trials stay on the queue for a rerun of this command; 'dendritic sweep cancel ${out.replace(/[/\\]/g, '.')}' removes the ones no worker has taken`,
      ),
    );

    const cancel = runCli(['sweep', 'cancel', out]);
    assert.equal(cancel.code, 0, cancel.stderr);
    const sweepId = readSweep(out).sweep_id;
    assert.deepEqual(JSON.parse(cancel.stdout), { sweep: sweepId, queue: redis.url, removed: 4, running: 0, purged_jobs: 0, purged_keys: 0 });
    assert.match(cancel.stderr, new RegExp(`cancelled 4 queued trials of sweep ${sweepId} on ${redis.url.replace(/[/.]/g, '.')} \\(${sweepId}/t0001, `));
    assert.match(cancel.stderr, /sweep\.json is unchanged: rerunning the same sweep command queues its unfinished trials again/);
    assert.deepEqual(readSweep(out).pending.length, 4);

    // another sweep and a worker started now: the worker runs that sweep's trial only
    const other = join(dir, 'other');
    const otherConfig = join(dir, 'one.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(otherConfig, 'method: grid\nparameters:\n  epochs: {value: 2}\n  width: {values: [1]}\n');
    const workers = await startWorkers(redis.url, ['w1']);
    const second = runCli(['sweep', '--config', otherConfig, '--data-directory', data, '--out-directory', other, '--queue', redis.url], {
      timeoutMs: 90_000,
    });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(readSweep(other).trials[0]!.status, 'completed');
    assert.ok(!existsSync(join(out, 'trials', 't0001')), "the cancelled sweep's trials never ran");
    workers.procs[0]!.kill('SIGTERM');
    await workers.exits[0];

    // refusals: a local sweep has no queue; nothing named
    const local = join(dir, 'local');
    assert.equal(runCli(['sweep', '--config', otherConfig, '--data-directory', data, '--out-directory', local]).code, 0);
    const refused = runCli(['sweep', 'cancel', local]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /sweep\.json: queue: null: the sweep ran locally/);
    assert.match(runCli(['sweep', 'cancel']).stderr, /dendritic sweep cancel: expected the sweep out directory O, or --all with --queue/);
  } finally {
    if (before === undefined) delete process.env.DENDRITIC_SWEEP_IDLE_S;
    else process.env.DENDRITIC_SWEEP_IDLE_S = before;
    await redis.stop();
    cleanup();
  }
});
