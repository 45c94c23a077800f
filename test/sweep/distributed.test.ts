/**
 * Issue 17's done-when, distributed: a Redis started here, two `dendritic worker` processes, the
 * 20-trial sweep on `--queue`. One worker is SIGKILLed mid-trial (its train process dies with it and
 * the trial runs again on the other worker); the coordinator is SIGKILLed too and rerun, and resumes.
 * All 20 trials end completed, each exactly once. Then hyperband across two workers, end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory } from '../helpers/ei-data.js';
import { RedisMilestones, parseQueueUrl } from '../../src/sweep/queue.js';
import { redisOptions } from '../../src/sweep/redis-url.js';
import { assertPrunedAt, processGone, readSweep, startRedis, startWorkers, writeSweepFixture } from './helpers.js';
import { skipWithout } from '../helpers/prerequisites.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('20 trials on two workers, one killed mid-trial, the coordinator killed and rerun: each trial completes exactly once', async (t) => {
  if (skipWithout(t, 'redis-server')) return;
  const { dir, cleanup } = tempDir('sweep-queue');
  const redis = await startRedis(join(dir, 'redis'));
  const workers: ReturnType<typeof startCli>[] = [];
  try {
    const { data, config } = writeSweepFixture(dir);
    const out = join(dir, 'out');
    const {
      procs: [a, b],
      exits: [aExit, bExit],
    } = await startWorkers(redis.url, ['worker-a', 'worker-b']);
    workers.push(a!, b!);
    const sweepArgs = ['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--queue', redis.url];
    const first = startCli(sweepArgs);
    const firstExit = waitForExit(first);

    // Worker a: kill it while it runs its second trial.
    const seen = await waitForOutput(a, /(?:started[^\n]*\n[\s\S]*)trial (t\d+) of sweep \S+ started \(train pid (\d+)/, 60_000);
    const [, killedTrial, trainPid] = [...seen.matchAll(/trial (t\d+) of sweep \S+ started \(train pid (\d+)/g)].at(-1)!;
    await sleep(150);
    a.kill('SIGKILL');
    await aExit;
    // its train run dies with it (the watchdog), instead of finishing as an orphan
    const t0 = Date.now();
    while (!processGone(Number(trainPid)) && Date.now() - t0 < 3000) await sleep(50);
    assert.ok(processGone(Number(trainPid)), `train pid ${trainPid} of the killed worker still runs`);

    // The coordinator: kill it once a few trials are recorded, then rerun the same command.
    const t1 = Date.now();
    while ((!existsSync(join(out, 'sweep.json')) || readSweep(out).trials.length < 6) && Date.now() - t1 < 60_000) await sleep(100);
    first.kill('SIGKILL');
    await firstExit;
    const recordedBefore = readSweep(out).trials.length;
    assert.ok(recordedBefore >= 6 && recordedBefore < 20, `${recordedBefore} trials recorded before the coordinator was killed`);
    const second = runCli(sweepArgs, { timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resuming sweep s[0-9a-f]+: \d+ trials finished, \d+ pending/);

    const s = readSweep(out);
    assert.equal(
      s.trials.length,
      20,
      `sweep.json after the rerun: trials ${s.trials.map((t) => `${t.id}:${t.status}`).join(' ')}; pending ${JSON.stringify(s.pending)}; the rerun's log:\n${second.stderr.slice(-3000)}`,
    );
    assert.deepEqual(
      s.trials.map((t) => t.id).sort(),
      Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(4, '0')}`),
    );
    assert.ok(
      s.trials.every((t) => t.status === 'completed'),
      JSON.stringify(s.trials.map((t) => [t.id, t.status, t.error])),
    );
    assert.deepEqual(s.pending, []);
    const killed = s.trials.find((t) => t.id === killedTrial)!;
    assert.equal(killed.worker, 'worker-b', `${killedTrial} was retried on worker-b`);
    assert.ok(existsSync(join(out, killed.out, 'report.json')));

    // Worker b stops on SIGTERM; each trial completed once in the workers' own logs.
    b.kill('SIGTERM');
    const bResult = await bExit;
    assert.equal(bResult.code, 143);
    const aLog = (await aExit).stderr;
    const completions = [...`${aLog}\n${bResult.stderr}`.matchAll(/trial (t\d+) completed/g)].map((m) => m[1]!);
    assert.equal(completions.length, 20, completions.join(' '));
    assert.equal(new Set(completions).size, 20);
    assert.match(bResult.stderr, new RegExp(`trial ${killedTrial} of sweep \\S+ started \\(train pid \\d+, attempt 2\\)`));
    assert.doesNotMatch(aLog, new RegExp(`trial ${killedTrial} completed`));

    // sweep best: trained with its printed settings, the best trial's accuracy again
    const best = runCli(['sweep', 'best', out]);
    assert.equal(best.code, 0, best.stderr);
    const again = join(dir, 'again');
    const t = runCli(['train', '--data-directory', data, '--out-directory', again, ...best.stdout.split('\n')[2]!.split(' '), '--quiet'], {
      timeoutMs: 60_000,
    });
    assert.equal(t.code, 0, t.stderr);
    assert.equal(JSON.parse(readFileSync(join(again, 'report.json'), 'utf8')).validation.accuracy, s.best!.metrics!.accuracy);
    assert.match(readFileSync(join(out, 'sweep.html'), 'utf8'), /20 of 20 trials finished \(20 completed, 0 pruned, 0 failed\)/);
  } finally {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await redis.stop();
    cleanup();
  }
});

test('hyperband on two workers: the milestone values of both meet in Redis, and the trials behind the best 1/eta are pruned', async (t) => {
  if (skipWithout(t, 'redis-server')) return;
  const { dir, cleanup } = tempDir('sweep-queue-hb');
  const redis = await startRedis(join(dir, 'redis'));
  const client = new Redis(redisOptions(parseQueueUrl(redis.url)));
  const workers: ReturnType<typeof startCli>[] = [];
  try {
    // Two good trials first (FIFO: one on each worker), then two that barely learn. Whichever worker
    // takes a slow trial, a good trial's epoch-2 value is already in the shared store, so it is pruned.
    const { data, config } = writeSweepFixture(
      dir,
      `method: grid
parameters:
  learning-rate: {values: [0.05, 0.05, 0.00001, 0.00001]}
  epochs: {value: 30}
  dendrites: {value: false}
  restarts: {value: false}
  lr-schedule: {value: none}
early_terminate: {type: hyperband, min_iter: 2, eta: 2, s: 2}
`,
    );
    writeEiDirectory(data, { trainRows: 3000, valRows: 60, seed: 3 });
    const { procs, exits } = await startWorkers(redis.url, ['worker-a', 'worker-b']);
    workers.push(...procs);
    const out = join(dir, 'out');
    const sweep = startCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--queue', redis.url]);
    const r = await waitForExit(sweep);
    assert.equal(r.code, 0, r.stderr);
    const s = readSweep(out);
    const byId = Object.fromEntries(s.trials.map((t) => [t.id, t]));
    assert.deepEqual(
      ['t0001', 't0002', 't0003', 't0004'].map((id) => byId[id]?.status),
      ['completed', 'completed', 'pruned', 'pruned'],
      JSON.stringify(s.trials.map((t) => [t.id, t.status, t.worker, t.epochs])),
    );
    assert.deepEqual(new Set(s.trials.map((t) => t.worker)), new Set(['worker-a', 'worker-b']));
    for (const id of ['t0003', 't0004']) assertPrunedAt(out, byId[id]!, 2, 30);
    assert.equal(byId['t0001']!.epochs, 30);
    // One store for the sweep: every trial's epoch-2 value, whichever worker ran it
    const atTwo = await client.hgetall(`dendritic:${s.sweep_id}:hyperband:2`);
    assert.deepEqual(Object.keys(atTwo).sort(), ['t0001', 't0002', 't0003', 't0004']);
    const metrics = (id: string) =>
      readFileSync(join(out, byId[id]!.out, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { run?: string; epoch?: number; val_acc?: number })
        .find((m) => m.run === 'train' && m.epoch === 2)!.val_acc;
    for (const id of Object.keys(atTwo)) assert.equal(Number(atTwo[id]), metrics(id), `${id}'s value at epoch 2`);
    for (const w of workers) w.kill('SIGTERM');
    for (const e of exits) assert.equal((await e).code, 143);
  } finally {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    client.disconnect();
    await redis.stop();
    cleanup();
  }
});

test('hyperband milestones in Redis: shared by all workers of a sweep, a retried trial replaces its value', async (t) => {
  if (skipWithout(t, 'redis-server')) return;
  const { dir, cleanup } = tempDir('sweep-redis');
  const redis = await startRedis(join(dir, 'redis'));
  const client = new Redis(redisOptions(parseQueueUrl(redis.url)));
  try {
    const m1 = new RedisMilestones(client, 'sA');
    const m2 = new RedisMilestones(client, 'sA');
    assert.deepEqual(await m1.record(2, 't0001', 0.5), [0.5]);
    assert.deepEqual((await m2.record(2, 't0002', 0.75)).sort(), [0.5, 0.75]);
    assert.deepEqual((await m2.record(2, 't0001', 0.25)).sort(), [0.25, 0.75]);
    assert.deepEqual(await new RedisMilestones(client, 'sB').record(2, 't0001', 1), [1]);
  } finally {
    client.disconnect();
    await redis.stop();
    cleanup();
  }
});

test('worker and sweep --queue: a Redis that does not answer, or a bad URL, is a clear usage error', async () => {
  const r = runCli(['worker', '--queue', 'http://localhost:6379']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--queue: got 'http:\/\/localhost:6379', expected redis:\/\/\[USER\[:PASSWORD\]@\]HOST\[:PORT\]\[\/DB\] or rediss:\/\//);
  // A password in a refused URL is not printed.
  const withPassword = runCli(['worker', '--queue', 'redis://:S3cret-pw@localhost:6379/x']);
  assert.equal(withPassword.code, 2);
  assert.match(withPassword.stderr, /--queue: got 'redis:\/\/:\*\*\*@localhost:6379\/x'/);
  assert.ok(!withPassword.stderr.includes('S3cret-pw'));
  const { dir, cleanup } = tempDir('sweep-noredis');
  const { data, config } = writeSweepFixture(dir);
  for (const args of [
    ['worker', '--queue', 'redis://127.0.0.1:1'],
    ['sweep', '--config', config, '--data-directory', data, '--out-directory', join(dir, 'o'), '--queue', 'redis://127.0.0.1:1'],
  ]) {
    const w = runCli(args, { timeoutMs: 20_000 });
    assert.equal(w.code, 2, w.stderr);
    assert.match(w.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(.*\): expected a running redis-server/);
  }
  cleanup();
});

/** Everything a child prints, from now on, and a wait for a pattern in all of it (seen before the wait or after). */
function transcript(child: ReturnType<typeof startCli>): { text(): string; until(pattern: RegExp, ms: number): Promise<void> } {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return {
    text: () => text,
    until: async (pattern, ms) => {
      const t0 = Date.now();
      while (!pattern.test(text)) {
        if (Date.now() - t0 > ms) throw new Error(`no output matching ${pattern} within ${ms} ms; got:\n${text}`);
        await sleep(50);
      }
    },
  };
}

test('Redis going away: the coordinator and a worker each say so in one line (no stack traces) and still stop on SIGTERM', async (t) => {
  if (skipWithout(t, 'redis-server')) return;
  const { dir, cleanup } = tempDir('sweep-redis-gone');
  const redis = await startRedis(join(dir, 'redis'));
  const procs: ReturnType<typeof startCli>[] = [];
  try {
    const { data, config } = writeSweepFixture(dir);
    const out = join(dir, 'out');
    const sweep = startCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--queue', redis.url]);
    const worker = startCli(['worker', '--queue', redis.url, '--name', 'worker-a']);
    procs.push(sweep, worker);
    const [sweepLog, workerLog] = [transcript(sweep), transcript(worker)];
    const [sweepExit, workerExit] = [waitForExit(sweep), waitForExit(worker)];
    // Redis goes away while the sweep waits on its queue and the worker runs or waits for a trial.
    await sweepLog.until(/trial t0002 completed/, 60_000);
    await redis.stop();
    const gone = /queue: Redis at redis:\/\/127\.0\.0\.1:\d+: ECONNREFUSED; retrying until it answers/;
    await Promise.all([sweepLog.until(gone, 20_000), workerLog.until(gone, 20_000)]);
    const t0 = Date.now();
    sweep.kill('SIGTERM');
    worker.kill('SIGTERM');
    const [s, w] = await Promise.all([sweepExit, workerExit]);
    assert.ok(Date.now() - t0 < 15_000, `stopping took ${Date.now() - t0} ms`);
    assert.equal(s.code, 143, s.stderr);
    assert.equal(w.code, 143, w.stderr);
    for (const log of [s.stderr, w.stderr]) {
      assert.equal([...log.matchAll(new RegExp(gone.source, 'g'))].length, 1, log);
      assert.doesNotMatch(log, /Unhandled error event|^\s+at /m, log);
    }
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await redis.stop();
    cleanup();
  }
});
