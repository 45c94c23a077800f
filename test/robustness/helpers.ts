/**
 * Shared by the robustness tests: a data set big enough that training lasts a few seconds (so a signal
 * lands mid-training), and an independent check of what a run left in its out directory.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpyFloat32, readNpyNumbers } from '../../src/data/npy.js';
import { runOnnx } from '../../src/export/onnx/runtime.js';
import { runTflite } from '../../src/export/tflite/runtime.js';
import { validateReport, type Report } from '../../src/report/schema.js';

export const MODEL_FILES = { onnx: 'model.onnx', 'tflite-float': 'model.tflite', 'tflite-int8': 'model_quantized_int8_io.tflite' } as const;
export type FileFormat = keyof typeof MODEL_FILES;

/**
 * Loads every exported model with its own runtime (onnxruntime-web, the TFLite interpreter), runs it on
 * the validation split and checks it against report.json: the report passes its schema, names the
 * file, the file's accuracy is the one the report measured, and the float exports agree with the
 * engine. Returns the report.
 */
export async function verifyOutDirectory(out: string, data: string, formats: readonly FileFormat[]): Promise<Report> {
  const report = validateReport(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
  assert.ok(!report.warnings.some((w) => /verification failed/.test(w)), report.warnings.join('\n'));
  const x = readNpyFloat32(join(data, 'X_split_test.npy'));
  const y = readNpyNumbers(join(data, 'Y_split_test.npy')).data;
  const n = x.shape[0]!;
  const features = x.data.length / n;
  for (const format of formats) {
    const file = MODEL_FILES[format];
    assert.ok(existsSync(join(out, file)), `${file} exported`);
    const check = report.exports.find((e) => e.format === format);
    assert.ok(check, `report.json has the ${format} check`);
    assert.equal(check.file, file);
    const bytes = readFileSync(join(out, file));
    assert.equal(check.bytes, bytes.length, `${file}: report.json measured this file`);
    const probs = format === 'onnx' ? await runOnnx(bytes, x.data, n, features) : await runTflite(bytes, x.data, n, features);
    const classes = probs.length / n;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = probs.subarray(i * classes, (i + 1) * classes);
      assert.ok(row.every(Number.isFinite), `${file}: finite outputs`);
      if (row.indexOf(Math.max(...row)) === y[i]) correct++;
    }
    assert.ok(Math.abs(correct / n - check.accuracy!) < 1e-9, `${file}: accuracy ${correct / n}, report.json says ${check.accuracy}`);
    if (format !== 'tflite-int8') {
      assert.equal(check.argmax_agreement, 1, `${file} agrees with the engine`);
      assert.ok(check.max_prob_diff! < 1e-4, `${file}: max |dp| ${check.max_prob_diff}`);
    }
  }
  return report;
}

/** Names in the out directory that would be a half-written file (atomic-write temporaries). */
export function temporaries(out: string): string[] {
  return existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.tmp')) : [];
}
