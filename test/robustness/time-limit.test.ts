/**
 * Issue 13: Studio's time limit always holds. Edge Impulse passes every parameter of parameters.json,
 * defaults included, so `--max-training-seconds 0` is always on its command line; that default must not
 * lift train_input.json's maxTrainingTimeSeconds, or Studio kills a long run at its limit with nothing
 * saved. Run through the built CLI exactly as Edge Impulse calls it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { verifyOutDirectory } from './helpers.js';

interface BlockParameter {
  param: string;
  type: string;
  value: string | number | boolean;
}

const { dir: root, cleanup } = tempDir('time-limit');
after(cleanup);
const data = join(root, 'data');

before(() => {
  mkdirSync(data);
  writeEiDirectory(data, { features: 650, classes: 3, trainRows: 1500, valRows: 60 });
});

/** Every parameter of the committed parameters.json, passed as Edge Impulse passes it. */
function edgeImpulseArgs(userValues: Record<string, string | number | boolean>): string[] {
  const params = (JSON.parse(readFileSync(join(REPO_ROOT, 'parameters.json'), 'utf8')) as { parameters: BlockParameter[] }).parameters;
  return params.flatMap((p) => {
    const value = userValues[p.param] ?? p.value;
    if (p.type === 'flag') return value ? [`--${p.param}`] : [];
    if (p.type === 'boolean') return [`--${p.param}`, value ? '1' : '0'];
    return [`--${p.param}`, String(value)];
  });
}

test("every parameters.json default on the command line: train_input.json's limit still ends the run in time, with models and report", async () => {
  const limit = 4;
  const out = join(root, 'out');
  const info = join(root, 'train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], mode: 'classification', inputShapeString: '(650,)', maxTrainingTimeSeconds: limit }));
  // 10,000 epochs without dendrites or restarts (a user's choice in Studio; every other parameter at its
  // default) would train for minutes: only the limit can end this run.
  const argv = edgeImpulseArgs({ epochs: 10000, dendrites: false, restarts: false });
  assert.deepEqual(argv.slice(argv.indexOf('--max-training-seconds'), argv.indexOf('--max-training-seconds') + 2), ['--max-training-seconds', '0']);
  const startedAt = performance.now();
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, '--info-file', info, ...argv], { timeoutMs: 60_000 });
  const wallSeconds = (performance.now() - startedAt) / 1000;
  assert.equal(r.code, 0, r.stderr);
  // Studio kills the job at its limit; a loaded test machine gets two seconds of slack for the export.
  assert.ok(wallSeconds < limit + 2, `the run took ${wallSeconds.toFixed(1)} s of wall time for a ${limit} s limit`);
  const cfg = JSON.parse(readFileSync(join(out, 'effective-config.json'), 'utf8')) as Record<
    string,
    { value: unknown; source: string; applied?: unknown }
  >;
  // 4 s less the export margin (half the limit for a limit this short) leaves 2 s of training.
  assert.deepEqual(cfg['max-training-seconds'], { value: 2, source: 'train_input.json', applied: 2, consumer: 'train/budget' });
  const report = await verifyOutDirectory(out, data, ['tflite-float', 'tflite-int8']);
  assert.equal(report.timing.stopped_by, 'time_limit');
  assert.ok(report.timing.total_seconds < limit, `report.json: the job took ${report.timing.total_seconds} s of a ${limit} s limit`);
  assert.ok(existsSync(join(out, 'report.html')));
});
