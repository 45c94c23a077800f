/**
 * The code part of the flash figure (src/export/tflite/tflm-code-size.ts): the arithmetic of tflmCodeBytes, its
 * coverage of every operator the exporter writes, its bound on the linked operator sets, and - where
 * Debian's arm-none-eabi toolchain is installed - that tools/tflm/measure-code-size.sh still measures the
 * recorded figures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BuiltinOperator } from '../../src/export/tflite/schema.js';
import {
  TFLM_CODE_SIZE_COMPILE_FLAGS,
  TFLM_CODE_SIZE_SDK_COMMIT,
  TFLM_CODE_SIZE_TOOLCHAIN,
  TFLM_INTERPRETER_CODE_BYTES,
  TFLM_MEASURED_SETS,
  TFLM_OP_ALONE_CODE_BYTES,
  TFLM_OP_CODE_BYTES,
  TFLM_RUNTIME_CODE_BYTES,
  TFLM_SHARED_KERNEL_CODE_BYTES,
  TFLM_SINGLE_TYPE_CODE_BYTES,
  tflmCodeBytes,
  tflmLinkedCodeBytes,
  type TflmOperator,
} from '../../src/export/tflite/tflm-code-size.js';
import { REPO_ROOT } from '../helpers/ei-data.js';
import { needs } from '../helpers/prerequisites.js';

test('tflmCodeBytes: runtime + each distinct operator once', () => {
  assert.equal(TFLM_RUNTIME_CODE_BYTES, TFLM_INTERPRETER_CODE_BYTES + TFLM_SHARED_KERNEL_CODE_BYTES);
  assert.equal(tflmCodeBytes([]), TFLM_RUNTIME_CODE_BYTES);
  const convDense = TFLM_RUNTIME_CODE_BYTES + TFLM_OP_CODE_BYTES.CONV_2D + TFLM_OP_CODE_BYTES.FULLY_CONNECTED;
  assert.equal(tflmCodeBytes(['CONV_2D', 'FULLY_CONNECTED', 'CONV_2D', 'FULLY_CONNECTED', 'CONV_2D']), convDense);
  assert.equal(tflmCodeBytes(new Set(['FULLY_CONNECTED', 'CONV_2D'])), convDense);
  // A one-shot iterable is read once.
  function* ops(): Generator<string> {
    yield 'CONV_2D';
    yield 'FULLY_CONNECTED';
  }
  assert.equal(tflmCodeBytes(ops()), convDense);
  const int8 = TFLM_SINGLE_TYPE_CODE_BYTES.int8;
  assert.equal(
    tflmCodeBytes(['SOFTMAX', 'ADD', 'SOFTMAX'], { onlyType: 'int8' }),
    TFLM_INTERPRETER_CODE_BYTES + int8.sharedKernelBytes + int8.ops.SOFTMAX + int8.ops.ADD,
  );
  // The whole table linked together is what the formula is exact for.
  const every = Object.keys(TFLM_OP_CODE_BYTES);
  assert.equal(tflmCodeBytes(every), TFLM_RUNTIME_CODE_BYTES + every.reduce((a, op) => a + TFLM_OP_CODE_BYTES[op as TflmOperator], 0));
});

test('tflmCodeBytes: an operator nobody measured is refused by name', () => {
  assert.throws(() => tflmCodeBytes(['FULLY_CONNECTED', 'LSTM']), /no measured code size for operator LSTM \(measured: CONV_2D, /);
  assert.throws(() => tflmCodeBytes(['DEPTHWISE_CONV_2D'], { onlyType: 'float32' }), /operator DEPTHWISE_CONV_2D/);
});

test('every operator the exporter can write has a figure in every table, and nothing else does', () => {
  const names = Object.keys(BuiltinOperator)
    .filter((k) => Number.isNaN(Number(k)))
    .sort();
  for (const [what, table] of [
    ['TFLM_OP_CODE_BYTES', TFLM_OP_CODE_BYTES],
    ['TFLM_OP_ALONE_CODE_BYTES', TFLM_OP_ALONE_CODE_BYTES],
    ['float32', TFLM_SINGLE_TYPE_CODE_BYTES.float32.ops],
    ['int8', TFLM_SINGLE_TYPE_CODE_BYTES.int8.ops],
  ] as const) {
    assert.deepEqual(Object.keys(table).sort(), names, `${what} keys != BuiltinOperator names`);
    for (const [op, bytes] of Object.entries(table)) assert.ok(Number.isInteger(bytes) && bytes > 0, `${what}.${op} = ${bytes}`);
  }
});

test('on the linked operator sets the formula is an upper bound, at most 12% high', () => {
  for (const type of ['all', 'float32', 'int8'] as const) {
    const onlyType = type === 'all' ? undefined : type;
    for (const set of TFLM_MEASURED_SETS[type]) {
      const formula = tflmCodeBytes(set.ops, { onlyType });
      const what = `${type} ${set.ops.join(',')}: formula ${formula}, linked ${set.bytes}`;
      assert.ok(formula >= set.bytes && formula <= set.bytes * 1.12, what);
      assert.equal(tflmLinkedCodeBytes([...set.ops].reverse(), { onlyType }), set.bytes);
    }
  }
  assert.equal(tflmLinkedCodeBytes(['FULLY_CONNECTED']), undefined);
});

// --- against the toolchain ---------------------------------------------------------------------------

const SCRIPT = join(REPO_ROOT, 'tools/tflm/measure-code-size.sh');
const gcc = spawnSync('arm-none-eabi-gcc', ['--version'], { encoding: 'utf8' });
const TOOLCHAIN = gcc.status === 0 ? gcc.stdout.split('\n')[0]!.trim() : undefined;
const skip = needs('arm-none-eabi-gcc', 'tflm-sources');
const skipFull =
  skip || (process.env.DENDRITIC_TFLM_CODE_SIZE_FULL === '1' ? false : 'the full measurement takes ~3 CPU-minutes: set DENDRITIC_TFLM_CODE_SIZE_FULL=1');

/**
 * The same toolchain, sources and flags give the same bytes (the build is deterministic), so they must
 * match exactly. Another gcc release or packaging changes -Os code generation and libc's objects by more
 * than "a few bytes"; 3% still catches a stale table (a changed SDK is caught by its commit first) without
 * failing on a compiler that merely schedules the same code differently. The figure is a judgement, not a
 * measurement across gcc releases: only 12.2.1 was measured.
 */
function assertMeasured(measured: number, recorded: number, what: string): void {
  if (TOOLCHAIN === TFLM_CODE_SIZE_TOOLCHAIN) {
    assert.equal(measured, recorded, `${what}: the script measures ${measured}, the module records ${recorded}: rerun tools/tflm/measure-code-size.sh`);
  } else {
    assert.ok(
      Math.abs(measured - recorded) <= 0.03 * recorded,
      `${what}: ${TOOLCHAIN} measures ${measured}, ${TFLM_CODE_SIZE_TOOLCHAIN} recorded ${recorded} (more than 3% apart)`,
    );
  }
}

interface Measurement {
  toolchain: string;
  sdkCommit: string;
  compileFlags: string;
  interpreter: number;
  ops: Record<string, { alone: number; aloneFloat32?: number; aloneInt8?: number }>;
  configs?: Record<'all' | 'f32' | 'i8', { shared: number; unique: Record<string, number>; sets: { ops: string; measured: number }[] }>;
}

function measure(args: string[]): Measurement {
  const r = spawnSync('bash', [SCRIPT, '--json', ...args], { encoding: 'utf8', timeout: 900_000 });
  assert.equal(r.status, 0, `measure-code-size.sh failed: ${r.stderr.slice(-2000)}`);
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Measurement;
  assert.equal(m.sdkCommit, TFLM_CODE_SIZE_SDK_COMMIT, 'the SDK in shared/ changed: rerun the script and update the module');
  assert.equal(m.compileFlags, TFLM_CODE_SIZE_COMPILE_FLAGS);
  return m;
}

test('the script still measures the interpreter and RESHAPE alone as recorded', { skip, timeout: 600_000 }, () => {
  // One operator without a type switch: the core's 26 sources, one kernel, two links (~1 CPU-minute).
  const m = measure(['--ops', 'RESHAPE']);
  assertMeasured(m.interpreter, TFLM_INTERPRETER_CODE_BYTES, 'interpreter');
  assertMeasured(m.ops.RESHAPE!.alone, TFLM_OP_ALONE_CODE_BYTES.RESHAPE, 'RESHAPE alone');
});

test('the script still measures every recorded figure', { skip: skipFull, timeout: 1_800_000 }, () => {
  const m = measure([]);
  assertMeasured(m.interpreter, TFLM_INTERPRETER_CODE_BYTES, 'interpreter');
  const configs = m.configs!;
  assertMeasured(configs.all.shared, TFLM_SHARED_KERNEL_CODE_BYTES, 'shared');
  assertMeasured(configs.f32.shared, TFLM_SINGLE_TYPE_CODE_BYTES.float32.sharedKernelBytes, 'shared float32');
  assertMeasured(configs.i8.shared, TFLM_SINGLE_TYPE_CODE_BYTES.int8.sharedKernelBytes, 'shared int8');
  for (const op of Object.keys(TFLM_OP_CODE_BYTES) as TflmOperator[]) {
    assertMeasured(m.ops[op]!.alone, TFLM_OP_ALONE_CODE_BYTES[op], `${op} alone`);
    assertMeasured(configs.all.unique[op]!, TFLM_OP_CODE_BYTES[op], `${op} unique`);
    assertMeasured(configs.f32.unique[op]!, TFLM_SINGLE_TYPE_CODE_BYTES.float32.ops[op], `${op} unique float32`);
    assertMeasured(configs.i8.unique[op]!, TFLM_SINGLE_TYPE_CODE_BYTES.int8.ops[op], `${op} unique int8`);
  }
  for (const [config, type] of [
    ['all', 'all'],
    ['f32', 'float32'],
    ['i8', 'int8'],
  ] as const) {
    const recorded = TFLM_MEASURED_SETS[type];
    assert.equal(configs[config].sets.length, recorded.length);
    configs[config].sets.forEach((s, i) => {
      assert.equal(s.ops, recorded[i]!.ops.join(','));
      assertMeasured(s.measured, recorded[i]!.bytes, `${type} set ${s.ops}`);
    });
  }
});
