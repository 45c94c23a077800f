/**
 * Issue 7, checkpoint/resume and determinism, through the real CLI:
 *  - same data, parameters and seed give byte-identical model.onnx, model.tflite and
 *    model_quantized_int8_io.tflite;
 *  - a run killed with SIGKILL mid-training and rerun with --resume ends with exactly the files of the
 *    uninterrupted run. Dendrites are on with fixed switching every 2 epochs, so a set is added before
 *    the kill and more after it: the controller's state, the optimizer's and every RNG stream must come
 *    back from the checkpoint for the files to match;
 *  - a run stopped by SIGTERM keeps its checkpoint, and --resume from it ends the same way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from '../../src/commands/train.js';
import { writeNpy } from '../../src/data/npy.js';
import { Rng } from '../../src/engine/rng.js';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, type CliResult } from '../helpers/ei-data.js';
import { MODEL_FILES, temporaries, verifyOutDirectory } from './helpers.js';
import { BuiltinOperator, readTfliteGraph } from '../../src/export/tflite/schema.js';

const { dir: root, cleanup } = tempDir('resume');
after(cleanup);
const data = join(root, 'data');
const EPOCHS = 12;
const FEATURES = 650;

function args(out: string): string[] {
  return [
    'train',
    '--data-directory',
    data,
    '--out-directory',
    out,
    '--epochs',
    String(EPOCHS),
    '--seed',
    '11',
    '--export-format',
    'all',
    '--switch-mode',
    'fixed',
    '--first-fixed-switch-num',
    '2',
    '--fixed-switch-num',
    '2',
    '--retain-all-dendrites',
    '1',
    '--max-dendrites',
    '2',
    // sets grown in cycles (the fold route), so the run restructures before and after the kill
    '--dendrite-route',
    'fold',
  ];
}

function modelBytes(out: string): Record<string, Buffer> {
  return Object.fromEntries(Object.values(MODEL_FILES).map((f) => [f, readFileSync(join(out, f))]));
}

function assertSameFiles(a: Record<string, Buffer>, b: Record<string, Buffer>, what: string): void {
  for (const f of Object.keys(a)) assert.ok(a[f]!.equals(b[f]!), `${f}: ${what} differs (${a[f]!.length} vs ${b[f]!.length} bytes)`);
}

let reference: { out: string; run: CliResult; files: Record<string, Buffer> };

before(async () => {
  mkdirSync(data);
  // ei-kws on 650 features; enough rows that the epochs after the kill outlast the test's reaction time.
  // A weak class signal keeps validation accuracy below 100%, so "best epoch" decisions are real ones.
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
  split(2000, 'train');
  split(300, 'test');
  const out = join(root, 'reference');
  const run = runCli(args(out), { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  await verifyOutDirectory(out, data, ['onnx', 'tflite-float', 'tflite-int8']);
  reference = { out, run, files: modelBytes(out) };
});

test('same data, parameters and seed: byte-identical model.onnx, model.tflite and model_quantized_int8_io.tflite', () => {
  const out = join(root, 'again');
  const r = runCli(args(out), { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assertSameFiles(reference.files, modelBytes(out), 'a second run with the same seed');
});

test('SIGKILL mid-training, then --resume: the same files as the uninterrupted run', async () => {
  type Epochs = { epoch: number; dendrite_sets: number }[];
  const report = JSON.parse(readFileSync(join(reference.out, 'report.json'), 'utf8')) as {
    history: Epochs;
    dendrites: { payoff?: { dendritic: { history?: Epochs } } };
  };
  // The dendritic run's epochs: when the payoff check ships the plain network, history[] is that network's run
  // (the resumed run must then repeat the check as well, so the files still match).
  const dendritic = report.dendrites.payoff?.dendritic.history ?? report.history;
  const setsAt = (epoch: number): number => dendritic.find((h) => h.epoch === epoch)?.dendrite_sets ?? -1;
  const lastEpoch = dendritic.at(-1)!.epoch; // the controller may end the run before EPOCHS
  assert.ok(
    setsAt(3) >= 1 && setsAt(lastEpoch) > setsAt(3) && lastEpoch > 4,
    `a set is added before epoch 3 and another after it: ${JSON.stringify(dendritic.map((h) => h.dendrite_sets))}`,
  );

  const out = join(root, 'killed');
  const child = startCli(args(out));
  const exit = waitForExit(child);
  await waitForOutput(child, /epoch 3\/12 /, 60_000);
  child.kill('SIGKILL');
  const killed = await exit;
  assert.equal(killed.signal, 'SIGKILL');
  // Issue 15: a killed run publishes nothing; its checkpoint waits in its staging directory beside the
  // out directory, where the next run on this out directory adopts it.
  assert.ok(!existsSync(out), 'the killed run published nothing');
  const staged = readdirSync(root).filter((n) => n.startsWith('.killed.dendritic-staging-'));
  assert.equal(staged.length, 1, `one staging directory left by the kill: ${staged.join(', ')}`);
  assert.ok(existsSync(join(root, staged[0]!, CHECKPOINT_FILE)), 'a checkpoint survived the kill');

  // what a kill in the middle of an atomic write of an earlier version left; the next run removes it
  mkdirSync(out);
  writeFileSync(join(out, `.${MODEL_FILES.onnx}.99999.tmp`), 'half a model');

  const resumed = runCli([...args(out), '--resume'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const from = Number(/resuming after epoch (\d+)/.exec(resumed.stderr)?.[1]);
  assert.ok(from >= 2 && from < lastEpoch, `resumed after epoch ${from}`);
  assert.doesNotMatch(resumed.stderr, /^epoch 1\/12 /m, 'the resumed run did not start over');
  await verifyOutDirectory(out, data, ['onnx', 'tflite-float', 'tflite-int8']);
  assertSameFiles(reference.files, modelBytes(out), 'the killed-and-resumed run');
  const resumedReport = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { history: unknown[] };
  assert.equal(resumedReport.history.length, report.history.length, 'the history covers every epoch');
  assert.ok(!existsSync(join(out, CHECKPOINT_FILE)), 'the finished run removed its checkpoint');
  assert.deepEqual(temporaries(out), []);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.killed.dendritic')),
    [],
    'no staging directory or lock outlives the next run',
  );
});

test('SIGTERM keeps the checkpoint: --resume then ends with the files of the uninterrupted run', async () => {
  const out = join(root, 'terminated');
  const child = startCli(args(out));
  const exit = waitForExit(child);
  await waitForOutput(child, /epoch 3\/12 /, 60_000);
  child.kill('SIGTERM');
  const stopped = await exit;
  assert.equal(stopped.code, 143, stopped.stderr);
  assert.ok(existsSync(join(out, CHECKPOINT_FILE)), 'the checkpoint stays after a signal');
  const resumed = runCli([...args(out), '--resume'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming after epoch \d+/);
  assertSameFiles(reference.files, modelBytes(out), 'the terminated-and-resumed run');
});

test('dendrite-form merged through the CLI: SIGKILL then --resume gives the files of the uninterrupted run; the shipped sets are merged; the other form cannot resume', async () => {
  const merged = (out: string): string[] => [...args(out), '--dendrite-form', 'merged', '--dendrite-payoff-check', '0'];
  const refOut = join(root, 'merged-reference');
  const ref = runCli(merged(refOut), { timeoutMs: 120_000 });
  assert.equal(ref.code, 0, ref.stderr);
  const report = await verifyOutDirectory(refOut, data, ['onnx', 'tflite-float', 'tflite-int8']);
  const sets = (report as unknown as { dendrites: { added: number } }).dendrites.added;
  assert.ok(sets >= 2, `sets kept: ${sets}`);
  // ei-kws with dendrites on its hidden conv layers: 7 operators (no RESHAPE before the classifier) + 4 per dendritic layer, no MUL, whatever the sets.
  const ops = readTfliteGraph(readFileSync(join(refOut, MODEL_FILES['tflite-int8']))).operators.map((o) => BuiltinOperator[o.code]);
  assert.equal(ops.length, 15, ops.join(' '));
  assert.ok(!ops.includes('MUL'), ops.join(' '));

  const out = join(root, 'merged-killed');
  const child = startCli(merged(out));
  const exit = waitForExit(child);
  await waitForOutput(child, /epoch 3\/12 /, 60_000);
  child.kill('SIGKILL');
  assert.equal((await exit).signal, 'SIGKILL');
  const stagedCheckpoint = (): string[] =>
    readdirSync(root).filter((n) => n.startsWith('.merged-killed.dendritic-staging-') && existsSync(join(root, n, CHECKPOINT_FILE)));
  assert.equal(stagedCheckpoint().length, 1, 'a checkpoint survived the kill, in the staging directory');
  const gated = runCli([...args(out), '--dendrite-payoff-check', '0', '--resume'], { timeoutMs: 120_000 });
  assert.equal(gated.code, 2, 'a checkpoint of merged sets does not resume as gated ones');
  assert.match(gated.stderr, /other data or parameters/);
  // The refused run leaves the killed run's checkpoint for the next try, and publishes nothing.
  assert.equal(stagedCheckpoint().length, 1, 'the refused resume kept the checkpoint it adopted');
  assert.ok(!existsSync(out));
  const resumed = runCli([...merged(out), '--resume'], { timeoutMs: 120_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming after epoch \d+/);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.merged-killed.dendritic')),
    [],
    'nothing is left beside the out directory',
  );
  assertSameFiles(modelBytes(refOut), modelBytes(out), 'the killed-and-resumed merged run');
});
