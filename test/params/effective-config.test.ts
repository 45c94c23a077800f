import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/errors.js';
import {
  applyTrainInput,
  effectiveConfigJson,
  exportMarginSeconds,
  renderEffectiveConfig,
  trainingSecondsWithin,
} from '../../src/params/effective-config.js';
import { parseArgs } from '../../src/params/parse.js';
import { BLOCK_PARAMETERS, defaultValue, SCHEMA } from '../../src/params/schema.js';
import { edgeImpulseArgv } from '../../src/params/values.js';

test('export margin: 10% of the limit, at least 60 s, at most half the limit', () => {
  // Hand-computed from the documented rule.
  const cases: [number, number, number][] = [
    [3600, 360, 3240],
    [1200, 120, 1080],
    [600, 60, 540],
    [300, 60, 240],
    [100, 50, 50],
    [60, 30, 30],
    [1, 0.5, 1],
  ];
  for (const [limit, margin, training] of cases) {
    assert.equal(exportMarginSeconds(limit), margin, `margin for ${limit}`);
    assert.equal(trainingSecondsWithin(limit), training, `training for ${limit}`);
  }
});

test("train_input.json's maxTrainingTimeSeconds feeds max-training-seconds when the CLI did not set it", () => {
  const applied = applyTrainInput(parseArgs(['--epochs', '3']), { maxTrainingTimeSeconds: 3600 });
  assert.equal(applied.config.maxTrainingSeconds, 3240);
  assert.equal(applied.sources.maxTrainingSeconds, 'train_input.json');
  assert.equal(applied.sources.epochs, 'cli');
  assert.equal(applied.sources.batchSize, 'default');
});

test("train_input.json's limit is an upper bound: --max-training-seconds can only lower it", () => {
  // Studio's limit 3600 s leaves 3240 s of training after the export margin.
  const cases: [string, number, string][] = [
    ['0', 3240, 'train_input.json'], // Edge Impulse passes the default 0: it must not lift the limit
    ['5000', 3240, 'train_input.json'], // above the limit: lowered to it
    ['3240', 3240, 'cli'], // equal: the parameter's own value stands
    ['500', 500, 'cli'], // below: the parameter lowers the limit
  ];
  for (const [cli, value, source] of cases) {
    const applied = applyTrainInput(parseArgs(['--max-training-seconds', cli]), { maxTrainingTimeSeconds: 3600 });
    assert.deepEqual([applied.config.maxTrainingSeconds, applied.sources.maxTrainingSeconds], [value, source], `--max-training-seconds ${cli}`);
  }
  // Without a limit from train_input.json the parameter is all there is, 0 included.
  for (const facts of [{}, { maxTrainingTimeSeconds: 0 }]) {
    const applied = applyTrainInput(parseArgs(['--max-training-seconds', '0']), facts);
    assert.deepEqual([applied.config.maxTrainingSeconds, applied.sources.maxTrainingSeconds], [0, 'cli']);
  }
});

test('every parameters.json default on the command line (as Edge Impulse passes them) keeps the time limit', () => {
  const argv = BLOCK_PARAMETERS.flatMap((spec) => edgeImpulseArgv(spec, defaultValue(spec)));
  assert.ok(argv.includes('--max-training-seconds'));
  const applied = applyTrainInput(parseArgs(argv), { maxTrainingTimeSeconds: 40 });
  assert.deepEqual([applied.config.maxTrainingSeconds, applied.sources.maxTrainingSeconds], [20, 'train_input.json']);
});

test('absent or zero limits leave the default; bad ones are UserErrors naming the file and field', () => {
  for (const facts of [{}, { maxTrainingTimeSeconds: 0 }]) {
    const applied = applyTrainInput(parseArgs([]), facts);
    assert.equal(applied.config.maxTrainingSeconds, 0);
    assert.equal(applied.sources.maxTrainingSeconds, 'default');
  }
  for (const bad of [-5, Number.NaN, '3600' as unknown as number]) {
    assert.throws(
      () => applyTrainInput(parseArgs([]), { maxTrainingTimeSeconds: bad }, '/home/train_input.json'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('/home/train_input.json: maxTrainingTimeSeconds:'),
    );
  }
});

test('applyTrainInput does not modify its input', () => {
  const parsed = parseArgs([]);
  applyTrainInput(parsed, { maxTrainingTimeSeconds: 600 });
  assert.equal(parsed.config.maxTrainingSeconds, 0);
  assert.equal(parsed.sources.maxTrainingSeconds, 'default');
});

test('the printed effective configuration lists every parameter with its value and source, aligned', () => {
  const applied = applyTrainInput(parseArgs(['--epochs', '12', '--dendrites', '0', '--data-directory', '/d', '--improvement-threshold', '0.01,0.001']), {
    maxTrainingTimeSeconds: 600,
  });
  const lines = renderEffectiveConfig(applied.config, applied.sources);
  assert.equal(lines[0], 'Effective configuration:');
  const rows = lines.slice(1);
  assert.equal(rows.length, SCHEMA.length);
  const row = (param: string) => rows.find((r) => r.trimStart().startsWith(`--${param} `))!;
  assert.match(row('epochs'), /^ {2}--epochs +12 +\(cli\)$/);
  assert.match(row('dendrites'), /--dendrites +false +\(cli\)$/);
  assert.match(row('max-training-seconds'), /--max-training-seconds +540 +\(train_input\.json\)$/);
  assert.match(row('batch-size'), /--batch-size +32 +\(default\)$/);
  assert.match(row('improvement-threshold'), /--improvement-threshold +0\.01,0\.001 +\(cli\)$/);
  assert.match(row('out-directory'), /--out-directory +\(not set\) +\(default\)$/);
  // Aligned: every source column starts at the same offset.
  const offsets = new Set(rows.map((r) => r.lastIndexOf('(')));
  assert.equal(offsets.size, 1, 'source column is not aligned');
});

test('effective-config.json: { param: { value, source } } for every parameter, JSON-safe', () => {
  const applied = applyTrainInput(parseArgs(['--model', 'dense', '--quiet']), { maxTrainingTimeSeconds: 1200 });
  const json = JSON.parse(JSON.stringify(effectiveConfigJson(applied.config, applied.sources))) as Record<string, { value: unknown; source: string }>;
  assert.deepEqual(
    Object.keys(json),
    SCHEMA.map((s) => s.param),
  );
  assert.deepEqual(json['model'], { value: 'dense', source: 'cli' });
  assert.deepEqual(json['quiet'], { value: true, source: 'cli' });
  assert.deepEqual(json['max-training-seconds'], { value: 1080, source: 'train_input.json' });
  assert.deepEqual(json['improvement-threshold'], { value: [0.001, 0.0001], source: 'default' });
  assert.deepEqual(json['data-directory'], { value: null, source: 'default' });
});
