/**
 * Issue 13: a format that was made and verified but not written (model.onnx under export-format
 * tflite) is listed as such in report.json (`written: false`), in report.html and in the CLI's
 * summary, and never counted among the exported files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportChecks } from '../../src/report/build.js';
import { fidelityVerdict, isWritten } from '../../src/report/fidelity.js';
import { renderReportHtml } from '../../src/report/html.js';
import { validateReport, type ExportCheck } from '../../src/report/schema.js';
import type { ExportResult } from '../../src/export/pipeline.js';
import { runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { makeFixtureReport } from './fixture.js';

const comparison = { maxAbsDiff: 1e-7, argmaxAgreement: 1, disagreements: 0, accuracyReference: 0.9, accuracyCandidate: 0.9 };
const result = (format: ExportResult['format'], file: string, write: boolean): ExportResult => ({
  format,
  file,
  bytes: new Uint8Array(100),
  write,
  comparison,
  verifiedWith: 'x',
  arenaBytes: 0,
});
const RESULTS = [
  result('onnx', 'model.onnx', false),
  result('tflite-float', 'model.tflite', true),
  result('tflite-int8', 'model_quantized_int8_io.tflite', true),
];

test('exportChecks: written files carry their name and written: true; a verified, unwritten one says written: false', () => {
  const checks = exportChecks(0.9, RESULTS, new Set(['model.tflite', 'model_quantized_int8_io.tflite']));
  assert.deepEqual(
    checks.map((c) => [c.format, c.file, c.written]),
    [
      ['engine', undefined, undefined],
      ['onnx', undefined, false],
      ['tflite-float', 'model.tflite', true],
      ['tflite-int8', 'model_quantized_int8_io.tflite', true],
    ],
  );
  // A run whose verification failed writes nothing, whatever the export format asked for.
  assert.ok(
    exportChecks(0.9, RESULTS, new Set())
      .slice(1)
      .every((c) => c.written === false && c.file === undefined),
  );
});

test('the fidelity verdict counts only written files; older reports without `written` count a named file', () => {
  const checks = exportChecks(0.9, RESULTS, new Set(['model.tflite', 'model_quantized_int8_io.tflite']));
  const verdict = fidelityVerdict(checks);
  assert.equal(verdict.status, 'ok');
  assert.equal(verdict.text, 'all 2 exported files match the trained model (onnx verified, not written)');
  const legacy: ExportCheck[] = [
    { format: 'engine', accuracy: 0.9, max_prob_diff: 0, argmax_agreement: 1, verified_with: 'engine' },
    { format: 'onnx', accuracy: 0.9, max_prob_diff: 0, argmax_agreement: 1, verified_with: 'ort' },
    { format: 'tflite-float', file: 'model.tflite', accuracy: 0.9, max_prob_diff: 0, argmax_agreement: 1, verified_with: 'tfl' },
  ];
  assert.deepEqual(legacy.map(isWritten), [false, false, true]);
  assert.equal(fidelityVerdict(legacy).text, 'all 1 exported files match the trained model (onnx verified, not written)');
});

test('report.json: `written` is validated (a boolean; a written file needs its name)', () => {
  const r = JSON.parse(JSON.stringify(makeFixtureReport())) as Record<string, any>;
  r.exports = exportChecks(0.9, RESULTS, new Set(['model.tflite']));
  assert.doesNotThrow(() => validateReport(r));
  r.exports[1].written = 'no';
  assert.throws(() => validateReport(r), /report\.json: exports\[1\]\.written: expected true or false/);
  r.exports[1].written = true;
  assert.throws(() => validateReport(r), /report\.json: exports\[1\]\.file: missing/);
});

test('report.html: the unwritten file reads "verified, not written" and the summary card does not count it', () => {
  const r = makeFixtureReport();
  r.exports = exportChecks(r.validation!.accuracy, RESULTS, new Set(['model.tflite', 'model_quantized_int8_io.tflite']));
  const html = renderReportHtml(r);
  const onnxRow = html.match(/<tr class="fid-\w+"><td class="nowrap">onnx<\/td>(.*?)<\/tr>/)?.[1];
  assert.ok(onnxRow, 'the onnx row is in the fidelity table');
  assert.match(onnxRow, /verified, not written/);
  assert.doesNotMatch(onnxRow, /model\.onnx/);
  assert.match(html, /all 2 exported files match the trained model \(onnx verified, not written\)/);
  assert.doesNotMatch(html, /all 3 exported files/);
});

test('report.json source labels are the ones the code emits: default, cli, train_input.json', () => {
  const r = JSON.parse(JSON.stringify(makeFixtureReport())) as Record<string, any>;
  for (const source of ['default', 'cli', 'train_input.json']) {
    r.effective_config.epochs.source = source;
    assert.doesNotThrow(() => validateReport(r));
  }
  for (const source of ['parameter', 'info-file']) {
    r.effective_config.epochs.source = source;
    assert.throws(() => validateReport(r), /effective_config\.epochs\.source: expected one of 'default', 'cli', 'train_input\.json'/);
  }
});

const { dir: root, cleanup } = tempDir('exports-written');
after(cleanup);
const data = join(root, 'data');
before(() => {
  mkdirSync(data);
  writeEiDirectory(data, { features: 12, classes: 3, trainRows: 60, valRows: 30 });
});

test('train with the default export format: report.json, report.html and the CLI summary say model.onnx was verified, not written', () => {
  const out = join(root, 'out');
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, '--epochs', '2', '--dendrites', '0'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(join(out, 'model.onnx')));
  const report = validateReport(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
  const onnx = report.exports.find((e) => e.format === 'onnx');
  assert.deepEqual([onnx?.written, onnx?.file], [false, undefined]);
  for (const f of ['tflite-float', 'tflite-int8']) assert.equal(report.exports.find((e) => e.format === f)?.written, true);
  // A file that was not written has no device cost.
  assert.deepEqual(
    report.deployment.map((d) => d.variant),
    ['tflite-float', 'tflite-int8'],
  );
  assert.match(r.stderr, /^onnx +.*\(verified, not written\)$/m);
  assert.match(r.stderr, /^exported files \(2\): model\.tflite, model_quantized_int8_io\.tflite$/m);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /all 2 exported files match the trained model \(onnx verified, not written\)/);
  // effective-config.json and report.json use the same source words
  const cfg = JSON.parse(readFileSync(join(out, 'effective-config.json'), 'utf8')) as Record<string, { source: string }>;
  assert.deepEqual(new Set(Object.values(cfg).map((e) => e.source)), new Set(['cli', 'default']));
  assert.deepEqual(
    Object.fromEntries(Object.entries(report.effective_config).map(([k, v]) => [k, v.source])),
    Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, v.source])),
  );
});
