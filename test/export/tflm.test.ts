/**
 * TensorFlow Lite Micro as Edge Impulse's SDK ships it (test/helpers/tflm.ts builds it) is the runtime a
 * deployed model meets. Every exported TFLite file of every model family, plain and with dendrites
 * (low-rank and full, every activation), float and int8, must
 * - need exactly the arena our RAM model (src/export/tflite/tflm-arena.ts) says, on the 64-bit desktop build
 *   and on a build with a Cortex-M's record layout (g++ -m32 -fshort-enums: 4-byte pointers, 1-byte
 *   enums, as arm-none-eabi-gcc lays them out);
 * - give on TFLM the class our own measurement (the TFLite interpreter the training run uses) gives,
 *   on every row, with probabilities within one int8 output step (float: 1e-5);
 * and our int8 input quantization must equal the SDK's pre_cast_quantize value by value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/engine/rng.js';
import { quantizeInto, runTflite } from '../../src/export/tflite/runtime.js';
import { readTfliteIo } from '../../src/export/tflite/schema.js';
import { tflmArena, type TflmTarget } from '../../src/export/tflite/tflm-arena.js';
import type { Report } from '../../src/report/schema.js';
import { quantizeWithSdk, runTflm, tflmRunner, type TflmRunner } from '../helpers/tflm.js';
import { runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { familyCases, otherOpsCase, ROWS } from '../helpers/model-cases.js';

const runner64 = tflmRunner('64');
const runnerM = tflmRunner('cortex-m');
const skip64 = typeof runner64 === 'string' ? runner64 : false;
const skipM = typeof runnerM === 'string' ? runnerM : false;

const cases = [...familyCases(), otherOpsCase()];

function checkArena(runner: TflmRunner, target: TflmTarget): void {
  for (const c of cases) {
    for (const [kind, bytes] of [
      ['float', c.float],
      ['int8', c.int8],
    ] as const) {
      const measured = runTflm(runner, bytes).arenaUsedBytes;
      const modelled = tflmArena(bytes, target);
      assert.equal(
        modelled.arenaBytes,
        measured,
        `${c.name} ${kind}: RAM model ${modelled.arenaBytes} B (plan ${modelled.plannedBytes} + records ${modelled.persistentBytes}), TFLM ${runner.build} build ${measured} B`,
      );
    }
  }
}

test('RAM model equals TFLM arena_used_bytes, 64-bit desktop build, every family and export', { skip: skip64, timeout: 900_000 }, () => {
  checkArena(runner64 as TflmRunner, '64-bit');
});

test(
  'RAM model equals TFLM arena_used_bytes, Cortex-M layout (4-byte pointers, 1-byte enums), every family and export',
  { skip: skipM, timeout: 900_000 },
  () => {
    checkArena(runnerM as TflmRunner, 'cortex-m');
  },
);

function argmax(p: Float32Array, row: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (p[row * classes + c]! > p[row * classes + best]!) best = c;
  return best;
}

test('TFLM gives our measured class on every row, probabilities within one int8 step (float 1e-5)', { skip: skip64, timeout: 900_000 }, async () => {
  for (const c of cases) {
    for (const [kind, bytes] of [
      ['float', c.float],
      ['int8', c.int8],
    ] as const) {
      const ours = await runTflite(bytes, c.x, ROWS, c.features);
      const device = runTflm(runner64 as TflmRunner, bytes, { x: c.x, n: ROWS }).probs;
      assert.equal(device.length, ROWS * c.classes);
      const tolerance = kind === 'float' ? 1e-5 : readTfliteIo(bytes).outputs[0]!.scale! * (1 + 1e-6);
      let maxDiff = 0;
      for (let i = 0; i < device.length; i++) maxDiff = Math.max(maxDiff, Math.abs(device[i]! - ours[i]!));
      assert.ok(maxDiff <= tolerance, `${c.name} ${kind}: max |TFLM - ours| = ${maxDiff} (allowed ${tolerance})`);
      for (let r = 0; r < ROWS; r++) {
        assert.equal(argmax(device, r, c.classes), argmax(ours, r, c.classes), `${c.name} ${kind}: row ${r} changes class on TFLM`);
      }
    }
  }
});

test(
  'int8 input quantization equals the SDK pre_cast_quantize, value by value (float32 division, halves away from zero)',
  { skip: skip64, timeout: 900_000 },
  () => {
    const rng = new Rng(9);
    const scale = Math.fround(0.0371);
    const zeroPoint = -7;
    // Random values, exact half steps either side of zero, values that saturate, and values whose float32
    // quotient lands on a half step while the double quotient does not (where a double division differs).
    const values: number[] = Array.from({ length: 4000 }, () => rng.normal() * 3);
    for (let k = -140; k <= 140; k++) values.push(Math.fround((k + 0.5) * scale));
    values.push(1e6, -1e6, 0, -0);
    const bits = new Float32Array(1);
    const ints = new Int32Array(bits.buffer);
    let nearHalf = 0;
    for (let k = -130; k <= 130; k++) {
      bits[0] = (k + 0.5) * scale;
      const base = ints[0]!;
      for (let u = -4; u <= 4; u++) {
        ints[0] = base + u;
        const v = bits[0]!;
        const q = Math.fround(v / scale);
        if (Math.abs(q - Math.trunc(q)) === 0.5 && v / scale !== q) {
          values.push(v);
          nearHalf++;
        }
      }
    }
    assert.ok(nearHalf > 0, 'found values whose float32 quotient rounds to a half step');
    const x = Float32Array.from(values);
    const ours = new Int8Array(x.length);
    quantizeInto(x, ours, { scale, zeroPoint });
    const sdk = quantizeWithSdk(runner64 as TflmRunner, x, scale, zeroPoint);
    for (let i = 0; i < x.length; i++) assert.equal(ours[i], sdk[i], `value ${x[i]}: ours ${ours[i]}, SDK ${sdk[i]}`);
  },
);

test(
  'a training run reports for each TFLite file the RAM TFLM needs (32-bit and 64-bit) and the TFLM it equals',
  { skip: skip64 || skipM, timeout: 900_000 },
  () => {
    const { dir, cleanup } = tempDir('dendritic-tflm-run-');
    try {
      const data = join(dir, 'data');
      const out = join(dir, 'out');
      mkdirSync(data);
      const { val } = writeEiDirectory(data, { trainRows: 120, valRows: 40, features: 13 * 10, classes: 3, seed: 4 });
      // Dendrites kept (retain-all) so the dendritic lowering's operators are priced as well.
      const r = runCli(
        [
          'train',
          '--data-directory',
          data,
          '--out-directory',
          out,
          '--epochs',
          '6',
          '--n-epochs-to-switch',
          '2',
          '--switch-mode',
          'fixed',
          '--fixed-switch-num',
          '2',
          '--first-fixed-switch-num',
          '2',
          '--retain-all-dendrites',
          '1',
          '--dendrite-payoff-check',
          '0',
          '--quiet',
        ],
        { timeoutMs: 300_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
      assert.equal(report.schema_version, 4);
      const tflite = report.deployment.filter((d) => d.runtime === 'tflm');
      assert.deepEqual(tflite.map((d) => d.variant).sort(), ['tflite-float', 'tflite-int8']);
      for (const d of tflite) {
        const file = report.exports.find((x) => x.format === d.variant)!.file!;
        const bytes = readFileSync(join(out, file));
        assert.equal(d.ram_bytes, runTflm(runnerM as TflmRunner, bytes).arenaUsedBytes, `${file}: ram_bytes is TFLM's arena with a Cortex-M layout`);
        assert.equal(d.ram_bytes_64bit, runTflm(runner64 as TflmRunner, bytes).arenaUsedBytes, `${file}: ram_bytes_64bit is TFLM's 64-bit arena`);
        assert.equal(d.ram_bytes, d.ram_planned_bytes! + d.ram_persistent_bytes!);
        assert.equal(d.model_bytes, bytes.length);
        assert.equal(d.flash_bytes, bytes.length + d.code_bytes!);
        assert.ok(d.code_bytes! > 0 && d.latency_ms! > 0);
        assert.match(d.ram_checked_against!, /TensorFlow Lite Micro.*v1\.93\.20/);
        // The accuracy the report states for the file is the device's, row for row.
        const n = val.y.length;
        const probs = runTflm(runnerM as TflmRunner, bytes, { x: val.x, n }).probs;
        let correct = 0;
        for (let row = 0; row < n; row++) if (argmax(probs, row, 3) === val.y[row]) correct++;
        assert.equal(report.exports.find((x) => x.format === d.variant)!.accuracy, correct / n, `${file}: reported accuracy is TFLM's`);
      }
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      assert.match(html, /TFLM records/);
      assert.match(html, /arena_used_bytes/);
    } finally {
      cleanup();
    }
  },
);
