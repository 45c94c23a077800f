/**
 * Issue 26: a worker's checks of a job, without Redis: the schema, the worker's --root, the secret read
 * without trusting the directory (a link or a FIFO is refused, never followed or blocked on), the MAC,
 * and the out directory derived from the verified directory and the trial id.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobRefused, loadOrCreateSecret, MAX_JOB_BYTES, signedJobId, signJob, validateJob } from '../../src/sweep/job-schema.js';
import { acceptJob } from '../../src/sweep/queue.js';
import type { TrialSpec } from '../../src/sweep/trial.js';

const root = mkdtempSync(join(tmpdir(), 'job-schema-'));
after(() => rmSync(root, { recursive: true, force: true }));
const sweepDir = join(root, 'sweeps', 'one');
mkdirSync(sweepDir, { recursive: true });
const secret = loadOrCreateSecret(sweepDir);
const spec: TrialSpec = {
  id: 't0001',
  params: { 'learning-rate': 0.01, optimizer: 'adam', dendrites: true },
  dataDirectory: '/data',
  outDirectory: join(sweepDir, 'trials', 't0001'),
  sweepDirectory: sweepDir,
  pruning: { milestones: [1, 3], eta: 3, goal: 'maximize', metric: 'accuracy' },
};
const job = signJob(secret, 's0123456789ab', spec);
const id = signedJobId(job);

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof JobRefused, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test("a signed job is accepted: its out directory derived from the verified directory, under the worker's roots", () => {
  const accepted = acceptJob({ id, data: job }, []);
  assert.equal(accepted.spec.outDirectory, join(sweepDir, 'trials', 't0001'));
  assert.deepEqual(accepted.spec.params, spec.params);
  assert.equal(acceptJob({ id, data: job }, [join(root, 'sweeps')]).spec.id, 't0001');
  refused(() => acceptJob({ id, data: job }, [join(root, 'elsewhere')]), /trial\.sweepDirectory: .* is not under this worker's --root/);
});

test('the schema: sizes, types, parameters against the block, ids, directories, the id its content implies', () => {
  refused(() => validateJob(id, { ...job, trial: { ...job.trial, params: { x: 'y'.repeat(MAX_JOB_BYTES) } } }), /data: \d+ bytes, expected at most 65536/);
  refused(() => validateJob(id, { ...job, v: 2 }), /^v: got 2, expected 1/);
  refused(() => validateJob(id, { ...job, sweepId: '../x' }), /^sweepId: got "\.\.\/x"/);
  refused(() => validateJob(id, { ...job, trial: { ...job.trial, id: '../../t1' } }), /^trial\.id: got "\.\.\/\.\.\/t1", expected t and 4 to 6 digits/);
  refused(() => validateJob(id, { ...job, trial: { ...job.trial, kind: 'shell' } }), /^trial\.kind: got "shell"/);
  refused(
    () => validateJob(id, { ...job, trial: { ...job.trial, params: { 'learning-rate': 9.5e9 } } }),
    /^trial\.params\.learning-rate: got '9500000000', expected/,
  );
  refused(
    () => validateJob(id, { ...job, trial: { ...job.trial, params: { 'data-directory': '/etc' } } }),
    /^trial\.params\.data-directory: unknown: expected a block parameter/,
  );
  refused(
    () => validateJob(id, { ...job, trial: { ...job.trial, dataDirectory: 'relative/data' } }),
    /^trial\.dataDirectory: got "relative\/data", expected an absolute, normalised path/,
  );
  refused(() => validateJob(id, { ...job, trial: { ...job.trial, pruning: { ...job.trial.pruning, eta: 'x' } } }), /^trial\.pruning\.eta: got "x"/);
  refused(
    () => validateJob(id, { ...job, trial: { ...job.trial, pruning: { ...job.trial.pruning, milestones: [1e9] } } }),
    /^trial\.pruning\.milestones: got \[1000000000\]/,
  );
  refused(() => validateJob('other-id', job), /^job id: got "other-id", expected s0123456789ab-t0001-[0-9a-f]{16}/);
  refused(() => validateJob(id, [1, 2]), /^data: got \[1,2\], expected \{v, sweepId, trial, mac\}/);
});

test('a job whose MAC does not verify, or a directory whose secret is a link or a FIFO, is refused (never followed, never blocked on)', () => {
  const tampered = { ...job, trial: { ...job.trial, params: { ...job.trial.params, 'learning-rate': 0.02 } } };
  refused(() => acceptJob({ id: signedJobId(tampered), data: tampered }, []), /^mac: does not verify with the secret of /);
  const linked = join(root, 'linked');
  mkdirSync(linked);
  symlinkSync(join(sweepDir, '.queue-secret'), join(linked, '.queue-secret'));
  const viaLink = signJob(secret, 's0123456789ab', { ...spec, sweepDirectory: linked });
  refused(() => acceptJob({ id: signedJobId(viaLink), data: viaLink }, []), /linked: no sweep secret there \(not a regular file\)/);
  const fifoDir = join(root, 'fifo');
  mkdirSync(fifoDir);
  execFileSync('mkfifo', [join(fifoDir, '.queue-secret')]);
  const viaFifo = signJob(secret, 's0123456789ab', { ...spec, sweepDirectory: fifoDir });
  refused(() => acceptJob({ id: signedJobId(viaFifo), data: viaFifo }, []), /fifo: no sweep secret there \(not a regular file\)/);
});

test("issue 25: hyperband's strict travels in the signed job (true/false), anything else is refused", () => {
  const strictSpec: TrialSpec = { ...spec, pruning: { ...spec.pruning!, strict: true } };
  const strictJob = signJob(secret, 's0123456789ab', strictSpec);
  const accepted = acceptJob({ id: signedJobId(strictJob), data: strictJob }, []);
  assert.equal(accepted.spec.pruning!.strict, true);
  refused(
    () => validateJob(signedJobId(strictJob), { ...strictJob, trial: { ...strictJob.trial, pruning: { ...strictJob.trial.pruning!, strict: 'yes' } } }),
    /trial\.pruning\.strict: got "yes", expected true or false/,
  );
});
