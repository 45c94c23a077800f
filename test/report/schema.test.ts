import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { validateReport } from '../../src/report/schema.js';
import { writeReport } from '../../src/report/write.js';
import { rerenderReport } from '../../src/commands/report.js';
import { makeFixtureReport } from './fixture.js';

const roundTrip = (): Record<string, any> => JSON.parse(JSON.stringify(makeFixtureReport()));

function rejects(mutate: (r: Record<string, any>) => void, field: string, expectation: RegExp): void {
  const r = roundTrip();
  mutate(r);
  assert.throws(
    () => validateReport(r, 'out/report.json'),
    (err: unknown) => {
      assert.ok(err instanceof UserError, 'a UserError');
      assert.ok(err.message.startsWith(`out/report.json: ${field}: `), err.message);
      assert.match(err.message, expectation);
      return true;
    },
  );
}

test('the fixture report passes validation after a JSON round trip', () => {
  const r = roundTrip();
  assert.deepEqual(validateReport(r), r);
});

test('a schema 1 report (deployment estimates without the device fields) is still read', () => {
  const r = roundTrip() as Record<string, any>;
  r.schema_version = 1;
  r.deployment = [{ variant: 'int8', parameters: 9684, macs: 61_000, flash_bytes: 16_900, ram_bytes: 2_300 }];
  assert.equal(validateReport(r).schema_version, 1);
});

test('a schema 2 report (reference-kernel figures, no cortex_m) is still read', () => {
  const r = roundTrip() as Record<string, any>;
  r.schema_version = 2;
  for (const d of r.deployment) delete d.cortex_m;
  assert.equal(validateReport(r).schema_version, 2);
});

test('a schema 3 report (macs by the engine count, pooling taps included) is still read', () => {
  const r = roundTrip() as Record<string, any>;
  r.schema_version = 3;
  assert.equal(validateReport(r).schema_version, 3);
});

test('validateReport names the field and the expectation', () => {
  rejects((r) => (r.deployment[0].runtime = 'tvm'), 'deployment[0].runtime', /'tflm', 'onnxruntime'/);
  rejects((r) => (r.deployment[1].ram_bytes_64bit = -1), 'deployment[1].ram_bytes_64bit', />= 0/);
  rejects((r) => (r.schema_version = 5 as never), 'schema_version', /expected one of 1, 2, 3, 4, got number 5/);
  rejects((r) => (r.deployment[1].cortex_m.default_kernels = 'reference'), 'deployment[1].cortex_m.default_kernels', /'cmsis-nn'/);
  rejects((r) => (r.deployment[0].cortex_m.reference.invoke_instructions = -5), 'deployment[0].cortex_m.reference.invoke_instructions', /integer|>= 0/);
  rejects((r) => delete r.history, 'history', /expected an array, got undefined/);
  rejects((r) => (r.history[3].val_acc = 'high'), 'history[3].val_acc', /finite number or null, got string "high"/);
  rejects((r) => (r.history[3].val_acc = 1.5), 'history[3].val_acc', /<= 1, got 1.5/);
  rejects((r) => (r.history[0].phase = 'sleep'), 'history[0].phase', /one of 'neuron', 'dendrite'/);
  rejects((r) => (r.dendrites.events[1].type = 'grown'), 'dendrites.events[1].type', /'added'/);
  rejects((r) => (r.dendrites.mode = 'pb'), 'dendrites.mode', /'gd', 'correlation'/);
  rejects((r) => r.validation.confusion.pop(), 'validation.confusion', /expected 8 rows/);
  rejects((r) => r.validation.confusion[2].push(0), 'validation.confusion[2]', /expected 8 columns, got 9/);
  rejects((r) => (r.validation.confusion[1][1] = -3), 'validation.confusion[1][1]', />= 0/);
  rejects((r) => (r.exports[1].format = 'tflite'), 'exports[1].format', /'tflite-float'/);
  rejects((r) => (r.timing.stopped_by = 'bored'), 'timing.stopped_by', /'time_limit'/);
  rejects((r) => (r.created = 'yesterday'), 'created', /ISO 8601/);
  rejects((r) => (r.data.classes = []), 'data.classes', /at least one/);
  rejects(
    (r) => (r.effective_config.epochs = { value: 3 }),
    'effective_config.epochs.source',
    /expected one of 'default', 'cli', 'train_input.json', got undefined/,
  );
  rejects((r) => (r.model.layers[2].output_shape = [25, 'x']), 'model.layers[2].output_shape[1]', /finite number/);
  rejects((r) => (r.warnings = [1]), 'warnings[0]', /expected a string/);
  assert.throws(() => validateReport([1, 2]), /report.json: \(top level\): expected an object, got an array/);
});

test('optional sections may be null', () => {
  const r = roundTrip();
  r.validation = null;
  r.best = null;
  r.history[2].loss = null;
  assert.doesNotThrow(() => validateReport(r));
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dendritic-report-'));
}

test('writeReport writes both files atomically and the JSON reads back identical', () => {
  const dir = tempDir();
  try {
    const report = makeFixtureReport();
    const paths = writeReport(dir, report);
    assert.deepEqual(readdirSync(dir).sort(), ['report.html', 'report.json'], 'no temp files left');
    assert.deepEqual(JSON.parse(readFileSync(paths.json, 'utf8')), JSON.parse(JSON.stringify(report)));
    assert.match(readFileSync(paths.html, 'utf8'), /^<!doctype html>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a diverged (NaN) metric is written as null and the report stays valid', () => {
  const dir = tempDir();
  try {
    const report = makeFixtureReport();
    report.history[7]!.loss = NaN;
    report.history[8]!.val_loss = Infinity;
    const { json } = writeReport(dir, report);
    const back = JSON.parse(readFileSync(json, 'utf8'));
    assert.equal(back.history[7].loss, null);
    assert.equal(back.history[8].val_loss, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeReport refuses a report that breaks its own schema (internal error, not UserError)', () => {
  const dir = tempDir();
  try {
    const report = makeFixtureReport();
    (report.validation!.confusion[0] as number[]).pop();
    assert.throws(
      () => writeReport(dir, report),
      (err: unknown) => !(err instanceof UserError) && /does not match its schema/.test(String(err)),
    );
    assert.equal(existsSync(join(dir, 'report.json')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rerenderReport: rebuilds report.html; missing or malformed report.json is a UserError naming the file', () => {
  const dir = tempDir();
  const file = join(dir, 'report.json');
  try {
    assert.throws(
      () => rerenderReport(dir),
      (e: unknown) => e instanceof UserError && e.message.startsWith(`${file}: `) && /not found/.test(e.message),
    );
    writeFileSync(file, '{"schema_version": 1,');
    assert.throws(
      () => rerenderReport(dir),
      (e: unknown) => e instanceof UserError && e.message.startsWith(`${file}: `) && /not valid JSON/.test(e.message),
    );
    const r = roundTrip();
    r.history[4].lr = 'fast';
    writeFileSync(file, JSON.stringify(r));
    assert.throws(
      () => rerenderReport(dir),
      (e: unknown) => e instanceof UserError && e.message.startsWith(`${file}: history[4].lr: `),
    );
    assert.equal(existsSync(join(dir, 'report.html')), false);

    writeFileSync(file, JSON.stringify(roundTrip()));
    const html = rerenderReport(dir);
    assert.equal(html, join(dir, 'report.html'));
    assert.match(readFileSync(html, 'utf8'), /<section id="curves">/);
    assert.deepEqual(readdirSync(dir).sort(), ['report.html', 'report.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
