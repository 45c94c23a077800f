/**
 * Issue 26: internal errors that became one clear line with exit 2. A sweep.json corrupted field by
 * field before a resume; `sweep best` on a sweep.json that is null, whose best is a string or names an
 * unknown parameter; a WAV whose header says 1 Hz (RangeError: Invalid typed array length: Infinity)
 * or 3 MHz.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, type CliResult } from '../helpers/ei-data.js';
import { writeWav } from '../helpers/wav-craft.js';
import { writeSweepFixture } from '../sweep/helpers.js';

const { dir: root, cleanup } = tempDir('sweep-files');
after(cleanup);
let data = '';
let config = '';
const out = join(root, 'out');
let good: Record<string, unknown> = {};

before(() => {
  ({ data, config } = writeSweepFixture(
    root,
    `method: grid
parameters:
  epochs: {value: 1}
  learning-rate: {values: [0.01]}
`,
  ));
  const r = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  good = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as Record<string, unknown>;
});

function oneLine(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code}\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /internal error|TypeError|RangeError|\n\s+at /, 'no stack trace');
  const errors = r.stderr.split('\n').filter((l) => /^(error|internal error):/.test(l));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, pattern);
}

function withSweepJson(value: unknown, run: () => void): void {
  const path = join(out, 'sweep.json');
  writeFileSync(path, JSON.stringify(value));
  try {
    run();
  } finally {
    writeFileSync(path, JSON.stringify(good));
  }
}

test('a resume over a sweep.json with a corrupted field: one line naming the file and the field', () => {
  const trial = (good.trials as Array<Record<string, unknown>>)[0]!;
  const cases: Array<[unknown, RegExp]> = [
    [null, /sweep\.json: sweep\.json: got null, expected an object/],
    [{ ...good, trials: 'x' }, /sweep\.json: trials: got "x", expected a list/],
    [{ ...good, trials: [null] }, /trials\[0\]: got null, expected an object/],
    [{ ...good, trials: [{ ...trial, params: null }] }, /trials\[0\]\.params: got null, expected an object/],
    [{ ...good, trials: [{ ...trial, params: { nope: 1 } }] }, /trials\[0\]\.params\.nope: got "nope", expected a block parameter/],
    [{ ...good, trials: [{ ...trial, seconds: 'slow' }] }, /trials\[0\]\.seconds: got "slow", expected a number/],
    [{ ...good, pending: [{ id: 't0002', params: { 'learning-rate': 'x' } }] }, /pending\[0\]\.params\.learning-rate: got "x"/],
    [{ ...good, metric: 'accuracy' }, /metric: got "accuracy", expected an object/],
    [{ ...good, sweep_id: 5 }, /sweep_id: got 5, expected a string/],
    [{ ...good, best: 'best' }, /best: got "best", expected an object/],
  ];
  for (const [value, pattern] of cases) {
    withSweepJson(value, () => {
      oneLine(runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out], { timeoutMs: 60_000 }), pattern);
    });
  }
});

test('`sweep best` on a sweep.json that is null, whose best is a string, or names an unknown parameter', () => {
  const best = good.best as Record<string, unknown>;
  const cases: Array<[unknown, RegExp]> = [
    [null, /sweep\.json: sweep\.json: got null, expected an object/],
    [{ ...good, best: 'x' }, /sweep\.json: best: got "x", expected an object/],
    [
      { ...good, best: { ...best, params: { 'no-such-parameter': 1 } } },
      /best\.params\.no-such-parameter: got "no-such-parameter", expected a block parameter/,
    ],
    [{ ...good, best: { ...best, params: { epochs: -4 } } }, /best\.params\.epochs: got -4/],
    [{ ...good, best: { ...best, value: 'high' } }, /best\.value: got "high", expected a number/],
    [{ ...good, metric: null }, /metric: got null, expected an object/],
  ];
  for (const [value, pattern] of cases) withSweepJson(value, () => oneLine(runCli(['sweep', 'best', out]), pattern));
  const ok = runCli(['sweep', 'best', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /# best trial t0001/);
});

test('a WAV whose header says 1 Hz or 3 MHz: one line naming the file and the field (predict, features)', () => {
  const wavs = join(root, 'wavs');
  mkdirSync(wavs);
  const samples = new Uint8Array(2 * 1600);
  for (const name of ['yes_1', 'yes_2', 'yes_3', 'no_1', 'no_2', 'no_3'])
    writeWav(join(wavs, `${name}.wav`), { formatTag: 1, bits: 16, sampleRate: 1, data: samples });
  const model = join(out, 'trials', 't0001', 'model.tflite');
  oneLine(
    runCli(['predict', model, join(wavs, 'yes_1.wav')]),
    /yes_1\.wav: fmt chunk: sample rate: 1 Hz is too low for MFCC frames of 0\.02 s: expected at least 100 Hz/,
  );
  oneLine(
    runCli(['features', '--wav-dir', wavs, '--out-directory', join(root, 'features'), '--validation-fraction', '0.3']),
    /_\d\.wav: fmt chunk: sample rate: 1 Hz is too low/,
  );
  const huge = join(root, 'huge.wav');
  writeWav(huge, { formatTag: 1, bits: 16, sampleRate: 3_000_000, data: samples });
  oneLine(runCli(['predict', model, huge]), /huge\.wav: fmt chunk: sample rate: expected 1 to 768000 Hz, found 3000000/);
});
