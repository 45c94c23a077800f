/**
 * Issue 26: the queue is a trust boundary. A Redis started here with a password and an ACL user; a worker
 * given poisoned jobs (paths out of the sweep, an absolute out directory, a pre-inserted trial with a
 * learning rate not in the grid, malformed pruning milestones, garbage, a job signed with the wrong
 * secret) refuses each in one line, fails it without a retry, writes nothing outside the sweep's
 * directory and stays up; then a sweep on that worker completes with only its own trials recorded, and
 * the password appears in no output, no file and no process listing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { readSweepConfig } from '../../src/sweep/config.js';
import { configHash } from '../../src/sweep/state.js';
import { runCli, startCli, tempDir, waitForExit, waitForOutput } from '../helpers/ei-data.js';
import { loadOrCreateSecret, signJob, signedJobId } from '../../src/sweep/job-schema.js';
import { QUEUE_NAME } from '../../src/sweep/queue.js';
import { parseQueueUrl, redisOptions } from '../../src/sweep/redis-url.js';
import type { TrialSpec } from '../../src/sweep/trial.js';
import { readSweep, startRedis, writeSweepFixture } from './helpers.js';

const PASSWORD = 'Hunter2-queue-pw';
const ALICE = 'Alice-acl-pw-77';

const GRID = `method: grid
metric: {name: accuracy, goal: maximize}
parameters:
  epochs: {value: 2}
  learning-rate: {values: [0.01, 0.02]}
`;

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/** The command line `ps` shows for a process (its argv memory, which the process title overwrites). */
function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
}

test('poisoned jobs are refused in one line each and never retried; the worker stays up and writes nothing outside; a password-protected sweep completes without the password anywhere', async () => {
  const { dir, cleanup } = tempDir('queue-security');
  // The default user has a password; alice is an ACL user with her own.
  const redis = await startRedis(join(dir, 'redis'), ['--requirepass', PASSWORD, '--user', 'alice', 'on', `>${ALICE}`, '~*', '&*', '+@all']);
  const hostPort = redis.url.slice('redis://'.length);
  const workerUrl = `redis://:${PASSWORD}@${hostPort}`;
  const sweepUrl = `redis://alice:${ALICE}@${hostPort}`;
  const queue = new Queue(QUEUE_NAME, { connection: redisOptions(parseQueueUrl(workerUrl)) });
  const procs: ReturnType<typeof startCli>[] = [];
  try {
    // Without credentials, or with the wrong ones: one line, exit 2, no password in it.
    const noAuth = runCli(['worker', '--queue', redis.url]);
    assert.equal(noAuth.code, 2, noAuth.stderr);
    assert.match(noAuth.stderr, /^error: command line: --queue: Redis at redis:\/\/127\.0\.0\.1:\d+ refused the credentials \(NOAUTH/);
    const wrong = runCli(['worker', '--queue', `redis://alice:not-${ALICE}@${hostPort}`]);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /^error: command line: --queue: Redis at redis:\/\/alice:\*\*\*@127\.0\.0\.1:\d+ refused the credentials \(WRONGPASS/);
    assert.equal(wrong.stderr.trim().split('\n').length, 1);
    assert.ok(!wrong.stderr.includes(ALICE));

    const { data, config } = writeSweepFixture(dir, GRID);
    const out = join(dir, 'out');
    const victim = join(dir, 'victim');
    mkdirSync(victim);
    const worker = startCli(['worker', '--queue', workerUrl, '--name', 'worker-a']);
    procs.push(worker);
    const workerExit = waitForExit(worker);
    let workerLog = '';
    worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
    await waitForOutput(worker, /waiting for trials/);
    assert.ok(!cmdline(worker.pid!).includes(PASSWORD), `ps shows the password: ${cmdline(worker.pid!)}`);
    assert.match(cmdline(worker.pid!), /--queue redis:\/\/:\*\*\*@127\.0\.0\.1/);

    // A directory that looks like a sweep's (a secret of its own) but whose jobs the attacker signs without it.
    const fakeSweep = join(dir, 'fake-sweep');
    mkdirSync(fakeSweep);
    loadOrCreateSecret(fakeSweep);
    const trial = (over: Partial<TrialSpec>): TrialSpec => ({
      id: 't0003',
      params: { 'learning-rate': 9.5 },
      dataDirectory: data,
      outDirectory: join(out, 'trials', 't0003'),
      sweepDirectory: out,
      pruning: null,
      ...over,
    });
    // The id the sweep below will have (derived from its out directory and config, as state.ts does).
    const sweepId = `s${createHash('sha256')
      .update(`${out}\n${configHash(readSweepConfig(config), data)}`)
      .digest('hex')
      .slice(0, 12)}`;
    const forged = signJob(Buffer.alloc(32, 7), 's0123456789ab', trial({ sweepDirectory: fakeSweep }));
    const noSecret = signJob(Buffer.alloc(32, 8), 's0123456789ab', trial({ sweepDirectory: victim }));
    const poison: Array<[string, unknown, RegExp]> = [
      // the old job format under this sweep's own old job id for t0001 (learning rate 9.5, not in the
      // grid), its out directory escaping the sweep
      [`${sweepId}-t0001`, { sweepId, spec: trial({ id: 't0001', outDirectory: join(out, 'trials/../../../victim/x') }) }, /data\.spec: unknown key/],
      [
        'abs',
        { v: 1, sweepId: 's0123456789ab', trial: { ...forged.trial, sweepDirectory: `${victim}/../victim` }, mac: forged.mac },
        /expected an absolute, normalised path \(no '\.\.'\)/,
      ],
      ['garbage', 'x', /data: got "x", expected \{v, sweepId, trial, mac\}/],
      ['nulljob', null, /data: got null/],
      [
        'milestones',
        { ...forged, trial: { ...forged.trial, pruning: { milestones: 'not an array', eta: 3, goal: 'maximize', metric: 'accuracy' } } },
        /trial\.pruning\.milestones: got "not an array"/,
      ],
      ['outdir', { ...forged, trial: { ...forged.trial, outDirectory: '/tmp/x' } }, /trial\.outDirectory: unknown key/],
      ['lr', { ...forged, trial: { ...forged.trial, params: { 'learning-rate': 'x' } } }, /trial\.params\.learning-rate: got 'x'/],
      [signedJobId(forged), forged, /mac: does not verify with the secret of .*fake-sweep/],
      [signedJobId(noSecret), noSecret, /victim: no sweep secret there/],
    ];
    for (const [id, jobData] of poison) await queue.add('trial', jobData, { jobId: id, attempts: 5 });
    await waitForOutput(worker, new RegExp(`job ${signedJobId(noSecret)} refused`), 30_000);
    for (const [id, , why] of poison) {
      const line = workerLog.split('\n').filter((l) => l.startsWith(`job ${id} refused: `));
      assert.equal(line.length, 1, `${id}: ${workerLog}`);
      assert.match(line[0]!, why);
      assert.match(line[0]!, /; failed, not retried$/);
      const job = await queue.getJob(id);
      assert.equal(await job!.getState(), 'failed', id);
      assert.equal(job!.attemptsMade, 1, `${id} was retried`);
    }
    assert.doesNotMatch(workerLog, /TypeError|Cannot read properties|\n\s+at /);
    assert.deepEqual(readdirSync(victim), []);
    assert.deepEqual(readdirSync(fakeSweep), ['.queue-secret']);
    assert.equal(worker.exitCode, null, 'the worker stays up');

    // The real sweep, on the same worker, through an ACL user's password.
    const sweep = startCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--queue', sweepUrl]);
    procs.push(sweep);
    const sweepExit = waitForExit(sweep);
    await waitForOutput(sweep, /sweep: grid search/);
    assert.ok(!cmdline(sweep.pid!).includes(ALICE), `ps shows the password: ${cmdline(sweep.pid!)}`);
    // No process on the machine shows either password, trials included (but the test's own redis-server,
    // which was given them on its command line).
    for (let t0 = Date.now(); !/trial t000\d of sweep \S+ started/.test(workerLog);) {
      assert.ok(Date.now() - t0 < 60_000, `no trial started on the worker:\n${workerLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let line = '';
      try {
        line = cmdline(Number(pid));
      } catch {
        continue; // gone meanwhile
      }
      if (line.startsWith('redis-server')) continue;
      assert.ok(!line.includes(PASSWORD) && !line.includes(ALICE), `process ${pid} shows a password: ${line}`);
    }
    const s = await sweepExit;
    assert.equal(s.code, 0, s.stderr);
    const file = readSweep(out);
    assert.equal(file.sweep_id, sweepId, 'the poisoned job above used this sweep id');
    assert.deepEqual(file.trials.map((t) => [t.id, t.status, t.params['learning-rate']]).sort(), [
      ['t0001', 'completed', 0.01],
      ['t0002', 'completed', 0.02],
    ]);
    assert.ok([0.01, 0.02].includes(file.best!.params['learning-rate'] as number));
    assert.match(file.queue!, /^redis:\/\/alice:\*\*\*@127\.0\.0\.1:\d+$/);
    const secret = statSync(join(out, '.queue-secret'));
    assert.equal(secret.mode & 0o777, 0o600);

    worker.kill('SIGTERM');
    const w = await workerExit;
    assert.equal(w.code, 143, w.stderr);
    // The password in no output and no file.
    for (const text of [s.stdout, s.stderr, w.stdout, w.stderr, noAuth.stderr]) {
      assert.ok(!text.includes(PASSWORD) && !text.includes(ALICE), text);
    }
    for (const f of filesUnder(out)) {
      const text = readFileSync(f, 'latin1');
      assert.ok(!text.includes(PASSWORD) && !text.includes(ALICE), `${f} holds a password`);
    }
    // The password from the environment instead of the command line (never in argv at all): the rerun
    // of the finished sweep connects, finds nothing left to do and exits 0.
    const envArgs = ['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--queue', `redis://alice@${hostPort}`];
    const envRun = runCli(envArgs, { env: { DENDRITIC_QUEUE_PASSWORD: ALICE } });
    assert.equal(envRun.code, 0, envRun.stderr);
    assert.ok(!envRun.stderr.includes(ALICE));
    assert.equal(runCli(envArgs).code, 2, 'without the password Redis refuses it');
    // A worker restricted to its own --root refuses a directory that does not exist.
    const badRoot = runCli(['worker', '--queue', workerUrl, '--root', join(dir, 'nope')]);
    assert.equal(badRoot.code, 2);
    assert.match(badRoot.stderr, /--root: got '.*nope', expected an existing directory/);
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await queue.close();
    await redis.stop();
    cleanup();
  }
});
