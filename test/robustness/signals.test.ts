/**
 * Issue 7, time limits and signals, through the real CLI as a child process: a run stopped by
 * --max-training-seconds, by train_input.json's maxTrainingTimeSeconds, or by SIGTERM/SIGINT in the
 * middle of training still restores the best weights, exports, verifies and writes its report.
 * The early stop shows in report.json (timing.stopped_by 'time_limit' | 'signal') and, for signals,
 * in the exit code (128 + signal number: 143 for SIGTERM, 130 for SIGINT). A second signal exits at once
 * and leaves no model file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE } from '../../src/commands/train.js';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory } from '../helpers/ei-data.js';
import { MODEL_FILES, temporaries, verifyOutDirectory } from './helpers.js';

const { dir: root, cleanup } = tempDir('signals');
after(cleanup);
const data = join(root, 'data');

before(() => {
  mkdirSync(data);
  // 650 features (50 MFCC frames x 13, the ei-kws model): a few tenths of a second per epoch.
  writeEiDirectory(data, { features: 650, classes: 3, trainRows: 1500, valRows: 60 });
});

// Without dendrites and without restarts no controller ends the run by itself: only the signal or the limit can.
const LONG = ['--epochs', '10000', '--seed', '3', '--dendrites', '0', '--restarts', '0'];

async function interrupt(signal: 'SIGTERM' | 'SIGINT', out: string, extra: string[] = []) {
  const child = startCli(['train', '--data-directory', data, '--out-directory', out, ...LONG, ...extra]);
  const exit = waitForExit(child);
  await waitForOutput(child, /epoch 2\/10000 /, 60_000);
  const sentAt = performance.now();
  child.kill(signal);
  const r = await exit;
  return { r, secondsToExit: (performance.now() - sentAt) / 1000 };
}

test('SIGTERM mid-training: the best weights are exported and verified, exit code 143, stopped_by signal', async () => {
  const out = join(root, 'sigterm');
  const { r, secondsToExit } = await interrupt('SIGTERM', out, ['--export-format', 'all']);
  assert.equal(r.code, 143, r.stderr);
  assert.ok(secondsToExit < 10, `exited ${secondsToExit.toFixed(1)} s after the signal`);
  assert.match(r.stderr, /SIGTERM received: stopping training, then exporting the best weights/);
  assert.match(r.stderr, /epoch \d+: interrupted/);
  const report = await verifyOutDirectory(out, data, ['onnx', 'tflite-float', 'tflite-int8']);
  assert.equal(report.timing.stopped_by, 'signal');
  assert.ok(report.history.length >= 2 && report.history.length < 10000);
  assert.equal(report.best?.epoch !== undefined && report.best.epoch >= 1, true);
  assert.ok(existsSync(join(out, CHECKPOINT_FILE)), 'the checkpoint stays for --resume');
  assert.deepEqual(temporaries(out), []);
});

test('SIGINT mid-training: the same, exit code 130', async () => {
  const out = join(root, 'sigint');
  const { r, secondsToExit } = await interrupt('SIGINT', out);
  assert.equal(r.code, 130, r.stderr);
  assert.ok(secondsToExit < 10, `exited ${secondsToExit.toFixed(1)} s after the signal`);
  const report = await verifyOutDirectory(out, data, ['tflite-float', 'tflite-int8']);
  assert.equal(report.timing.stopped_by, 'signal');
  assert.ok(!existsSync(join(out, MODEL_FILES.onnx)), 'only the requested formats');
});

test('a second signal exits at once, before any model file is written', async () => {
  const out = join(root, 'twice');
  const child = startCli(['train', '--data-directory', data, '--out-directory', out, ...LONG]);
  const exit = waitForExit(child);
  await waitForOutput(child, /epoch 1\/10000 /, 60_000);
  child.kill('SIGTERM');
  // the second one while the first is being acted on (best weights restored, export running)
  await waitForOutput(child, /SIGTERM received/, 10_000);
  child.kill('SIGTERM');
  const r = await exit;
  assert.equal(r.code, 143, r.stderr);
  for (const f of Object.values(MODEL_FILES)) assert.ok(!existsSync(join(out, f)), `${f} not written`);
  assert.ok(!existsSync(join(out, 'report.json')));
  assert.deepEqual(temporaries(out), []);
});

test('--max-training-seconds stops training; the best weights are exported normally (exit 0, stopped_by time_limit)', async () => {
  const out = join(root, 'limit');
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, ...LONG, '--max-training-seconds', '2', '--quiet'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = await verifyOutDirectory(out, data, ['tflite-float', 'tflite-int8']);
  assert.equal(report.timing.stopped_by, 'time_limit');
  assert.ok(report.history.length >= 1, 'at least one epoch completed');
  assert.ok(report.timing.training_seconds < 6, `training took ${report.timing.training_seconds} s for a 2 s limit`);
  assert.ok(!existsSync(join(out, CHECKPOINT_FILE)), 'a finished run removes its checkpoint');
});

test('the time limit also ends a correlation dendrite phase (candidate training polls the budget per batch)', async () => {
  const out = join(root, 'limit-correlation');
  // A dendrite set every epoch with 500 correlation epochs: one phase alone would run for minutes.
  const argv = [
    '--epochs',
    '10000',
    '--seed',
    '3',
    '--dendrite-training',
    'correlation',
    '--correlation-epochs',
    '500',
    '--switch-mode',
    'every-epoch',
    '--max-training-seconds',
    '2',
    // the dendritic run alone (with the check, the dendrites-off run trains first and ships, so the
    // report's stopped_by would be that run's)
    '--dendrite-payoff-check',
    '0',
    '--quiet',
  ];
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, ...argv], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const report = await verifyOutDirectory(out, data, ['tflite-float', 'tflite-int8']);
  assert.equal(report.timing.stopped_by, 'time_limit');
  assert.ok(report.timing.training_seconds < 6, `training took ${report.timing.training_seconds} s for a 2 s limit`);
});

test("train_input.json's maxTrainingTimeSeconds, less the export margin, bounds training", async () => {
  const out = join(root, 'info-limit');
  const info = join(root, 'train_input.json');
  // 4 s limit: the margin is half of it (at least 60 s, at most half the limit), so training gets 2 s
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], mode: 'classification', inputShapeString: '(650,)', maxTrainingTimeSeconds: 4 }));
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, '--info-file', info, ...LONG, '--quiet'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const cfg = JSON.parse(readFileSync(join(out, 'effective-config.json'), 'utf8')) as Record<
    string,
    { value: unknown; source: string; applied?: unknown }
  >;
  assert.deepEqual(
    [cfg['max-training-seconds']?.value, cfg['max-training-seconds']?.source, cfg['max-training-seconds']?.applied],
    [2, 'train_input.json', 2],
  );
  const report = await verifyOutDirectory(out, data, ['tflite-float', 'tflite-int8']);
  assert.equal(report.timing.stopped_by, 'time_limit');
  assert.ok(report.timing.training_seconds < 4, `training took ${report.timing.training_seconds} s of a 4 s limit`);
});
