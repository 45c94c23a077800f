/**
 * The checkbox's second run (the dendritic candidate) under a kill and a signal, through the real CLI:
 *  - SIGKILL during it, then --resume: the dendrites-off network is not trained again, the dendritic run
 *    continues from its checkpoint, and the files and report accuracies are the uninterrupted run's;
 *  - SIGTERM during it: the run finishes with the candidate's best weights so far (exports measured,
 *    report.json and the log say the second run was stopped by a signal), keeps its checkpoint, and
 *    --resume then ends with the uninterrupted run's files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from '../../src/commands/train.js';
import { writeNpy } from '../../src/data/npy.js';
import { Rng } from '../../src/engine/rng.js';
import type { Report } from '../../src/report/schema.js';
import { runCli, startCli, tempDir, waitForExit, waitForOutput } from '../helpers/ei-data.js';
import { MODEL_FILES, verifyOutDirectory } from '../robustness/helpers.js';

const { dir: root, cleanup } = tempDir('checkbox-resume-cli');
after(cleanup);
const data = join(root, 'data');
const FEATURES = 650;
const FILES = [MODEL_FILES['tflite-float'], MODEL_FILES['tflite-int8']];
const FORMATS = ['tflite-float', 'tflite-int8'] as const;

/** Wide ei-kws, small batches: each epoch lasts a few tenths of a second, so a signal lands mid-run. The fold route, sets every 2 epochs, kept (expand's second phase: test/train/expand.test.ts). */
function args(out: string): string[] {
  return [
    ...['train', '--data-directory', data, '--out-directory', out, '--epochs', '6', '--seed', '11'],
    ...['--width', '8', '--batch-size', '4', '--switch-mode', 'fixed', '--first-fixed-switch-num', '2', '--fixed-switch-num', '2'],
    ...['--retain-all-dendrites', '1', '--max-dendrites', '2', '--dendrite-route', 'fold'],
  ];
}

type Payoff = NonNullable<Report['dendrites']['payoff']>;
const reportOf = (out: string): Report => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
const payoffOf = (out: string): Payoff => reportOf(out).dendrites.payoff!;
const files = (out: string): Buffer[] => FILES.map((f) => readFileSync(join(out, f)));

function assertSameAsReference(out: string, what: string): void {
  files(out).forEach((b, i) => assert.ok(b.equals(reference.files[i]!), `${FILES[i]}: ${what} differs from the uninterrupted run`));
  const [r, p] = [reportOf(out), payoffOf(out)];
  assert.equal(r.validation?.accuracy, reference.report.validation?.accuracy);
  assert.ok(r.validation !== null, 'the report measured the shipped network');
  assert.equal(p.shipped, reference.payoff.shipped);
  assert.equal(p.dendritic!.val_acc, reference.payoff.dendritic!.val_acc);
  assert.equal(p.plain!.val_acc, reference.payoff.plain!.val_acc);
  assert.equal(p.dendritic!.epochs_run, reference.payoff.dendritic!.epochs_run);
  assert.equal(p.dendritic!.stopped_by, reference.payoff.dendritic!.stopped_by);
}

let reference: { report: Report; payoff: Payoff; files: Buffer[] };

before(async () => {
  mkdirSync(data);
  const rng = new Rng(4);
  const split = (rows: number, name: string): void => {
    const x = new Float32Array(rows * FEATURES);
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      y[i] = rng.int(3);
      for (let f = 0; f < FEATURES; f++) x[i * FEATURES + f] = (f % 3 === y[i] ? 0.06 : 0) + rng.uniform(-1, 1);
    }
    writeNpy(join(data, `X_split_${name}.npy`), x, [rows, FEATURES], 'float32');
    writeNpy(join(data, `Y_split_${name}.npy`), y, [rows], 'int32');
  };
  split(1500, 'train');
  split(300, 'test');
  const out = join(root, 'reference');
  const run = runCli(args(out), { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  await verifyOutDirectory(out, data, FORMATS);
  reference = { report: reportOf(out), payoff: payoffOf(out), files: files(out) };
  assert.ok(reference.payoff.dendritic, reference.payoff.reason);
  assert.ok(reference.payoff.dendritic.epochs_run! >= 5, `the dendritic run trained ${reference.payoff.dendritic.epochs_run} epochs`);
  assert.equal(reference.payoff.dendritic.stopped_by === 'signal', false);
});

test("SIGKILL during the dendritic candidate, then --resume: no plain epoch again, the dendritic run continues, the files are the uninterrupted run's", async () => {
  const out = join(root, 'killed');
  const child = startCli(args(out));
  const exit = waitForExit(child);
  await waitForOutput(child, /dendritic candidate: epoch 2\/6 /, 60_000);
  child.kill('SIGKILL');
  assert.equal((await exit).signal, 'SIGKILL');
  const staged = readdirSync(root).filter((n) => n.startsWith('.killed.dendritic-staging-') && existsSync(join(root, n, CHECKPOINT_FILE)));
  assert.equal(staged.length, 1, 'the checkpoint survived the kill in the staging directory');

  const resumed = runCli([...args(out), '--resume'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const m = /resuming the dendritic candidate after its epoch (\d+) \(the dendrites-off network finished after (\d+) epochs\)/.exec(resumed.stderr);
  assert.ok(m, resumed.stderr);
  assert.ok(Number(m[1]) >= 1, `resumed after dendritic epoch ${m[1]}`);
  assert.equal(Number(m[2]), reference.payoff.plain!.epochs_run);
  assert.doesNotMatch(resumed.stderr, /^epoch \d+\/6 /m, 'the dendrites-off network was not trained again');
  assert.doesNotMatch(resumed.stderr, /^dendritic candidate: epoch 1\/6 /m, 'the dendritic run did not start over');
  assert.match(resumed.stderr, new RegExp(`^dendritic candidate: epoch ${Number(m[1]) + 1}/6 `, 'm'));
  await verifyOutDirectory(out, data, FORMATS);
  assertSameAsReference(out, 'the killed-and-resumed run');
  assert.ok(!existsSync(join(out, CHECKPOINT_FILE)), 'the finished run removed its checkpoint');
  assert.equal((reportOf(out).effective_config as unknown as Record<string, { applied?: unknown }>)['resume']?.applied, true);
});

test('SIGTERM during the dendritic candidate: the run ships with what it had and says so, keeps the checkpoint, and --resume ends as the uninterrupted run', async () => {
  const out = join(root, 'terminated');
  const child = startCli(args(out));
  const exit = waitForExit(child);
  await waitForOutput(child, /dendritic candidate: epoch 2\/6 /, 60_000);
  child.kill('SIGTERM');
  const stopped = await exit;
  assert.equal(stopped.code, 143, stopped.stderr);
  await verifyOutDirectory(out, data, FORMATS);
  const p = payoffOf(out);
  assert.equal(p.dendritic!.stopped_by, 'signal');
  const n = p.dendritic!.epochs_run!;
  assert.ok(n >= 2 && n < reference.payoff.dendritic!.epochs_run!, `stopped after ${n} dendritic epochs`);
  assert.equal(p.plain!.val_acc, reference.payoff.plain!.val_acc, 'the plain candidate was complete');
  assert.equal(p.shipped, p.dendritic!.fits && p.dendritic!.val_acc > p.plain!.val_acc ? 'dendritic' : 'plain');
  assert.match(p.reason, new RegExp(`stopped by a signal after ${n} more epochs`));
  const warning = `the dendritic network's training was stopped by a signal after ${n} epochs`;
  assert.ok(
    reportOf(out).warnings.some((w) => w.includes(warning)),
    reportOf(out).warnings.join('\n'),
  );
  assert.ok(stopped.stderr.includes(warning), 'the log says it too');
  assert.match(stopped.stderr, /checkbox: shipping the .* network: .*stopped by a signal after/);
  assert.ok(existsSync(join(out, CHECKPOINT_FILE)), 'the checkpoint stays after a signal');

  const resumed = runCli([...args(out), '--resume'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming the dendritic candidate after its epoch ${n} `));
  assert.doesNotMatch(resumed.stderr, /^epoch \d+\/6 /m, 'the dendrites-off network was not trained again');
  assertSameAsReference(out, 'the terminated-and-resumed run');
  assert.ok(!existsSync(join(out, CHECKPOINT_FILE)));
});
