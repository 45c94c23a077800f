/**
 * A dendritic keyword-spotting model trained on FSDD through the real CLI: its int8 export stays within
 * one accuracy point of float, and `dendritic predict` on each exported file reproduces the accuracy
 * the training run measured, from the .npy features and from the WAV files themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpyFloat32, writeNpy } from '../../src/data/npy.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/ei-data.js';

interface ExportCheck {
  format: string;
  file?: string;
  accuracy: number;
}

test('dendritic KWS on FSDD: int8 within 1 point of float; predict reproduces every export from .npy and .wav', { timeout: 240_000 }, () => {
  const { dir, cleanup } = tempDir('dendritic-predict-');
  try {
    const data = join(dir, 'data');
    const out = join(dir, 'out');
    const f = runCli(['features', '--wav-dir', join(REPO_ROOT, 'data/fsdd/recordings'), '--out-directory', data], { timeoutMs: 120_000 });
    assert.equal(f.code, 0, f.stderr);
    // The exports under test are a dendritic model's: the payoff check (which may ship a plain network) is off.
    const t = runCli(
      [
        'train',
        '--data-directory',
        data,
        '--out-directory',
        out,
        '--info-file',
        join(data, 'train_input.json'),
        '--export-format',
        'all',
        '--epochs',
        '14',
        '--switch-mode',
        'fixed',
        '--first-fixed-switch-num',
        '6',
        '--fixed-switch-num',
        '4',
        '--retain-all-dendrites',
        '1',
        '--dendrite-payoff-check',
        '0',
        '--quiet',
      ],
      { timeoutMs: 200_000 },
    );
    assert.equal(t.code, 0, t.stderr + t.stdout);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      dendrites: { added: number };
      exports: ExportCheck[];
      data: { classes: string[]; audio_features?: { windowSeconds: number } };
    };
    assert.ok(report.dendrites.added >= 1, `expected dendrite sets in the model, got ${report.dendrites.added}`);
    assert.equal(report.data.audio_features?.windowSeconds, 1);
    const acc = (format: string): number => report.exports.find((e) => e.format === format)!.accuracy;
    assert.ok(acc('tflite-float') > 0.8, `float accuracy ${acc('tflite-float')}`);
    assert.ok(acc('tflite-int8') >= acc('tflite-float') - 0.01, `int8 ${acc('tflite-int8')} vs float ${acc('tflite-float')}`);

    // predict on the validation features: the same accuracy the run measured, for each file.
    const yVal = readNpyFloat32(join(data, 'Y_split_test.npy'));
    const classes = report.data.classes.length;
    const truth = Array.from({ length: yVal.shape[0]! }, (_, i) => report.data.classes[yVal.data.subarray(i * classes, (i + 1) * classes).indexOf(1)]!);
    const files: Record<string, string> = { onnx: 'model.onnx', 'tflite-float': 'model.tflite', 'tflite-int8': 'model_quantized_int8_io.tflite' };
    const byFormat = new Map<string, string[]>();
    for (const [format, file] of Object.entries(files)) {
      const p = runCli(['predict', join(out, file), join(data, 'X_split_test.npy'), '--json'], { timeoutMs: 60_000 });
      assert.equal(p.code, 0, p.stderr);
      const rows = p.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { predicted: string; probabilities: Record<string, number> });
      assert.equal(rows.length, truth.length);
      for (const r of rows) {
        const sum = Object.values(r.probabilities).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 0.02, `probabilities sum to ${sum}`);
      }
      const correct = rows.filter((r, i) => r.predicted === truth[i]).length;
      assert.equal(correct / truth.length, acc(format), `${format}: predict accuracy vs the run's measurement`);
      byFormat.set(
        format,
        rows.map((r) => r.predicted),
      );
    }

    // --y: the labels of the .npy rows give the accuracy, the same the run measured.
    for (const json of [true, false]) {
      const y = runCli(
        [
          'predict',
          join(out, 'model_quantized_int8_io.tflite'),
          join(data, 'X_split_test.npy'),
          '--y',
          join(data, 'Y_split_test.npy'),
          ...(json ? ['--json'] : []),
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(y.code, 0, y.stderr);
      if (json) {
        const last = JSON.parse(y.stdout.trim().split('\n').at(-1)!) as { summary: { accuracy: number; scored: number } };
        assert.deepEqual(last.summary, { format: 'tflite-int8', accuracy: acc('tflite-int8'), scored: truth.length });
      } else {
        assert.match(
          y.stdout,
          new RegExp(`accuracy ${(100 * acc('tflite-int8')).toFixed(2)}% over ${truth.length} inputs labelled by .*Y_split_test\\.npy`),
        );
      }
    }

    // predict on the WAV files of the first validation rows: features from audio, as in training.
    const names = JSON.parse(readFileSync(join(data, 'sample_names.json'), 'utf8')) as Record<string, string>;
    const valIds = (JSON.parse(readFileSync(join(data, 'sample_id_details.json'), 'utf8')) as { validation: number[] }).validation.slice(0, 40);
    const wavDir = join(dir, 'wavs');
    mkdirSync(wavDir);
    // '<label>_<validation row>.wav': the label prefix lets predict score them, the row ties each to X.
    valIds.forEach((id, row) => symlinkSync(join(REPO_ROOT, 'data/fsdd/recordings', names[String(id)]!), join(wavDir, `${truth[row]}_${row}.wav`)));
    const w = runCli(['predict', join(out, 'model_quantized_int8_io.tflite'), wavDir, '--json'], { timeoutMs: 60_000 });
    assert.equal(w.code, 0, w.stderr);
    const wavLines = w.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { input: string; predicted: string; expected?: string; summary?: { accuracy: number; scored: number } });
    const summary = wavLines.pop()!.summary!;
    const wavRows = wavLines;
    assert.equal(summary.scored, valIds.length);
    assert.equal(wavRows.length, valIds.length);
    const int8 = byFormat.get('tflite-int8')!;
    for (const r of wavRows) {
      const row = Number(/_(\d+)\.wav$/.exec(r.input)![1]);
      assert.equal(r.expected, truth[row]);
      assert.equal(r.predicted, int8[row], `${r.input}: prediction from audio vs from X_split_test row ${row}`);
    }
    assert.equal(summary.accuracy, wavRows.filter((r) => r.predicted === r.expected).length / wavRows.length);
    // A feature row of the wrong length is named, for either format.
    const wrong = join(dir, 'wrong.npy');
    writeNpy(wrong, new Float32Array(2 * 13), [2, 13], 'float32');
    for (const file of ['model.onnx', 'model.tflite']) {
      const bad = runCli(['predict', join(out, file), wrong]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /wrong\.npy: features: the model expects 650 features per sample, the input has 13/);
    }
    const table = runCli(['predict', join(out, 'model.tflite'), wavDir], { timeoutMs: 60_000 });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^model: tflite-float, 10 classes$/m);
    assert.match(table.stdout, /accuracy \d+\.\d+% over 40 inputs/);
  } finally {
    cleanup();
  }
});

test('predict: bad input is one clear line and exit code 2', () => {
  const { dir, cleanup } = tempDir('dendritic-predict-bad-');
  try {
    const notModel = join(dir, 'model.tflite');
    writeFileSync(notModel, 'hello, not a flatbuffer');
    const cases: Array<[string[], RegExp]> = [
      [['predict'], /predict: expected MODEL and INPUT/],
      [['predict', join(dir, 'missing.onnx'), join(dir, 'x.npy')], /missing\.onnx: model: not found/],
      [['predict', notModel, join(dir, 'x.npy')], /model\.tflite: model: not a TFLite flatbuffer/],
      [['predict', notModel, dir, '--top'], /predict: --top: unknown option/],
    ];
    for (const [args, pattern] of cases) {
      const r = runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  } finally {
    cleanup();
  }
});
