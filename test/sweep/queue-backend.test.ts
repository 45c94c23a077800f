/**
 * The queue backend's reading of finished jobs, against a stand-in for BullMQ's Queue that replays the
 * race a real Redis showed once under load: a job read while active, completed a moment later. Read
 * in that order, the job's stale snapshot had no return value (BullMQ's null), and a resumed sweep
 * ended with exit 0 and half its trials unrecorded. A real Redis cannot replay that interleaving on
 * demand, so the stand-in does: its job completes right after the first call the backend makes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSecret, signJob, signedJobId, signResult } from '../../src/sweep/job-schema.js';
import { QueueBackend, queueProblemReporter, type TrialQueue } from '../../src/sweep/queue.js';
import type { TrialResult, TrialSpec } from '../../src/sweep/trial.js';

const sweepDir = mkdtempSync(join(tmpdir(), 'queue-backend-'));
const scratch = [sweepDir];
after(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
const spec: TrialSpec = {
  id: 't0001',
  params: { width: 1 },
  dataDirectory: '/d',
  outDirectory: join(sweepDir, 'trials', 't0001'),
  sweepDirectory: sweepDir,
  pruning: null,
};
/** The sweep's secret (the backend creates the same file with its first job) and the trial's job id. */
const secret = loadOrCreateSecret(sweepDir);
const theJobId = signedJobId(signJob(secret, 'sX', spec));
const result: TrialResult = {
  id: 't0001',
  params: { width: 1 },
  status: 'completed',
  metrics: { accuracy: 0.75, loss: 0.5 },
  deployment: null,
  epochs: 3,
  seconds: 1,
  worker: 'w',
  out: 'trials/t0001',
};

type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'unknown';

/** One job whose state advances to `final` after the backend's `afterCalls`-th call to the queue. */
function scriptedQueue(opts: { final: JobState; returnvalue?: unknown; failedReason?: string; afterCalls: number }): TrialQueue & {
  calls: string[];
} {
  const calls: string[] = [];
  const now = () => (calls.length > opts.afterCalls ? opts.final : 'active');
  const tick = (name: string) => {
    const state = now();
    calls.push(name);
    return state;
  };
  const queue = {
    calls,
    add: async () => {
      tick('add');
      return undefined as never;
    },
    getJobState: async (id: string) => {
      assert.equal(id, theJobId);
      return tick('getJobState');
    },
    getJob: async () => {
      // A snapshot, as BullMQ's getJob returns: the return value only once the job is completed.
      const state = tick('getJob');
      if (state === 'unknown') return undefined;
      return {
        data: { sweepId: 'sX', spec },
        returnvalue: state === 'completed' ? ('returnvalue' in opts ? opts.returnvalue : signResult(secret, 'sX', result)) : null,
        failedReason: state === 'failed' ? opts.failedReason : undefined,
        processedOn: 1000,
        finishedOn: state === 'completed' || state === 'failed' ? 3500 : undefined,
        getState: async () => now(),
      };
    },
    close: async () => undefined,
  };
  return queue as unknown as TrialQueue & { calls: string[] };
}

async function submitted(queue: TrialQueue): Promise<QueueBackend> {
  const backend = new QueueBackend({ host: '127.0.0.1', port: 1, db: 0 }, 'sX', { queue });
  await backend.submit(spec);
  return backend;
}

test('a job that completes between two reads gives its result, not the stale snapshot', async () => {
  // submit() finds the job (one call); it completes right after the next call, next()'s first read.
  const queue = scriptedQueue({ final: 'completed', afterCalls: 1 });
  const backend = await submitted(queue);
  assert.equal(backend.inFlight(), 1);
  assert.deepEqual(await backend.next(), result);
  assert.equal(backend.inFlight(), 0);
  // the state is read before the job, and the job only once it is final
  assert.deepEqual(queue.calls.slice(1), ['getJobState', 'getJobState', 'getJob']);
});

test('a finally failed job is a failed trial with its reason and time', async () => {
  const backend = await submitted(scriptedQueue({ final: 'failed', failedReason: 'worker lost 5 times', afterCalls: 1 }));
  const r = await backend.next();
  assert.equal(r.status, 'failed');
  assert.equal(r.id, 't0001');
  assert.equal(r.error, 'worker lost 5 times');
  assert.equal(r.seconds, 2.5);
  assert.deepEqual(r.params, { width: 1 });
});

test('a completed job without its trial result, or a job gone, is an error, never a quiet end of the sweep', async () => {
  await assert.rejects(
    (await submitted(scriptedQueue({ final: 'completed', returnvalue: null, afterCalls: 0 }))).next(),
    /completed without its trial's result/,
  );
  await assert.rejects(
    (await submitted(scriptedQueue({ final: 'unknown', afterCalls: 2 }))).next(),
    /redis:\/\/127\.0\.0\.1:1: job sX-t0001-[0-9a-f]{16}: gone from the queue \(Redis restarted without its data\?\).*rerun the same command/,
  );
});

test('a Redis that goes away is reported in one line per problem, again at most every 30 s while it lasts', () => {
  const lines: string[] = [];
  let now = 0;
  const report = queueProblemReporter(
    'redis://10.0.0.9:6379',
    (l) => lines.push(l),
    () => now,
  );
  const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:6379'), { code: 'ECONNREFUSED' });
  for (; now < 65_000; now += 500) report(refused);
  report(new Error('READONLY You cannot write against a read only replica.'));
  assert.deepEqual(lines, [
    'queue: Redis at redis://10.0.0.9:6379: ECONNREFUSED; retrying until it answers (SIGINT/SIGTERM stops; a rerun continues)',
    'queue: Redis at redis://10.0.0.9:6379: ECONNREFUSED; retrying until it answers (SIGINT/SIGTERM stops; a rerun continues)',
    'queue: Redis at redis://10.0.0.9:6379: ECONNREFUSED; retrying until it answers (SIGINT/SIGTERM stops; a rerun continues)',
    'queue error: READONLY You cannot write against a read only replica.',
  ]);
});

/**
 * Issue 26: anything that reaches Redis can complete a trial's job with a return value of its own. The
 * coordinator records only a result signed with the sweep's secret, for the trial it proposed, with the
 * parameters it proposed; anything else is named in one line, removed, and the trial queued again.
 */
test('a forged, replayed or tampered result is not recorded: the trial is queued again and its real result recorded', async () => {
  const otherDir = mkdtempSync(join(tmpdir(), 'queue-backend-other-'));
  scratch.push(otherDir);
  const other = loadOrCreateSecret(otherDir);
  const forgeries: Array<[unknown, RegExp]> = [
    [{ ...result, metrics: { accuracy: 1, loss: 0 } }, /not signed with this sweep's secret/],
    [signResult(other, 'sX', { ...result, metrics: { accuracy: 1, loss: 0 } }), /not signed with this sweep's secret/],
    [{ ...signResult(secret, 'sX', result), metrics: { accuracy: 1, loss: 0 } }, /not signed with this sweep's secret/],
    [signResult(secret, 'sX', { ...result, id: 't0002' }), /trial t0002's/],
    [signResult(secret, 'sX', { ...result, params: { width: 9.5 } }), /other parameters than the sweep proposed/],
    [signResult(secret, 'sOther', result), /not signed with this sweep's secret/],
    ['a string', /return value is string/],
  ];
  for (const [forged, why] of forgeries) {
    const events: string[] = [];
    let returnvalue: unknown = forged;
    const queue = {
      add: async (_name: string, _data: unknown, o: { jobId: string }) => {
        events.push(`add ${o.jobId === theJobId ? 'own' : o.jobId}`);
        returnvalue = signResult(secret, 'sX', result);
        return undefined as never;
      },
      getJobState: async () => 'completed',
      getJob: async () => ({
        data: {},
        returnvalue,
        remove: async () => void events.push('remove'),
      }),
      close: async () => undefined,
    } as unknown as TrialQueue;
    const lines: string[] = [];
    const backend = new QueueBackend({ host: '127.0.0.1', port: 1, db: 0 }, 'sX', { queue, log: (l) => lines.push(l) });
    await backend.submit(spec);
    const r = await backend.next();
    assert.deepEqual(r, result, `after ${JSON.stringify(forged)}`);
    assert.deepEqual(events, ['remove', 'add own']);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, why);
    assert.match(lines[0]!, /^queue: job sX-t0001-[0-9a-f]{16}: .*: not recorded \(a job this sweep did not run\); queued again$/);
  }
});

test("a job's id carries its MAC: nobody without the sweep's secret can take a trial's job id ahead of the coordinator", () => {
  assert.match(theJobId, /^sX-t0001-[0-9a-f]{16}$/);
  const otherDir = mkdtempSync(join(tmpdir(), 'queue-backend-other-'));
  scratch.push(otherDir);
  const other = loadOrCreateSecret(otherDir);
  assert.notEqual(signedJobId(signJob(other, 'sX', spec)), theJobId);
  assert.notEqual(signedJobId(signJob(secret, 'sX', { ...spec, params: { width: 2 } })), theJobId);
});
