/**
 * Issue 7, bad-input battery: whatever a project holds goes through the real CLI (`node dist/cli.js
 * train ...` / `features ...` as a child process). Every case must end with exit code 2, exactly one
 * line on stderr that names the file (or parameter), the field and what was expected, and an out
 * directory without model files, checkpoints, reports or temporaries. Most cases fail before training;
 * the data is tiny and training is one epoch, so the battery runs in seconds.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeNpy } from '../../src/data/npy.js';
import { CHECKPOINT_FILE } from '../../src/commands/train.js';
import { saveCheckpoint } from '../../src/train/checkpoint.js';
import { float32Bytes, writeRawNpy } from '../helpers/npy-craft.js';
import { writeWav } from '../helpers/wav-craft.js';
import { runCli, tempDir, writeEiDirectory, type CliResult } from '../helpers/ei-data.js';

const { dir: root, cleanup } = tempDir('bad-input');
after(cleanup);

const FEATURES = 12;
const CLASSES = 3;
const TRAIN_ROWS = 24;
const VAL_ROWS = 9;
let counter = 0;

interface Case {
  data: string;
  out: string;
  file: (name: string) => string;
}

/** A fresh, valid data directory (tiny) and an out-directory path that does not exist yet. */
function fresh(): Case {
  const base = join(root, `c${counter++}`);
  const data = join(base, 'data');
  mkdirSync(data, { recursive: true });
  writeEiDirectory(data, { features: FEATURES, classes: CLASSES, trainRows: TRAIN_ROWS, valRows: VAL_ROWS });
  return { data, out: join(base, 'out'), file: (name) => join(data, name) };
}

function train(c: Case, extra: string[] = []): CliResult {
  return runCli(['train', '--data-directory', c.data, '--out-directory', c.out, '--epochs', '1', '--quiet', ...extra], { timeoutMs: 60_000 });
}

/** Files a failed run may leave: none (issue 15: a run is a transaction on its out directory). */
const ALLOWED_AFTER_FAILURE = new Set<string>();

function assertUserError(r: CliResult, out: string | undefined, pattern: RegExp): void {
  const detail = `exit ${r.code}\nstderr:\n${r.stderr}\nstdout (tail):\n${r.stdout.slice(-400)}`;
  assert.equal(r.code, 2, detail);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected a one-line error, got:\n${r.stderr}`);
  const line = lines[0]!;
  assert.ok(line.startsWith('error: '), line);
  assert.match(line, pattern);
  assert.match(line, /expected|needs|required/i, `the message says what was expected: ${line}`);
  if (out !== undefined && existsSync(out)) {
    const left = readdirSync(out).filter((f) => !ALLOWED_AFTER_FAILURE.has(f));
    assert.deepEqual(left, [], `no partial artifact in ${out}`);
  }
  if (out !== undefined && existsSync(dirname(out))) {
    assert.deepEqual(
      readdirSync(dirname(out)).filter((f) => f.includes('.dendritic')),
      [],
      'no staging directory or lock left beside the out directory',
    );
  }
}

const oneHot = (labels: ArrayLike<number>, classes: number): Float32Array => {
  const y = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) y[i * classes + labels[i]!] = 1;
  return y;
};
const cycle = (n: number, classes = CLASSES): Int32Array => Int32Array.from({ length: n }, (_, i) => i % classes);

// ---------------------------------------------------------------- files

test('missing X_split_train.npy', () => {
  const c = fresh();
  rmSync(c.file('X_split_train.npy'));
  assertUserError(train(c), c.out, /X_split_train\.npy: file: missing/);
});

test('missing Y_split_test.npy', () => {
  const c = fresh();
  rmSync(c.file('Y_split_test.npy'));
  assertUserError(train(c), c.out, /Y_split_test\.npy: file: missing/);
});

test('data directory that does not exist', () => {
  const c = fresh();
  const r = runCli(['train', '--data-directory', join(c.data, 'nope'), '--out-directory', c.out, '--quiet']);
  assertUserError(r, c.out, /nope: data-directory: not found: expected a directory holding X_split_train\.npy/);
});

test('X_split_train.npy is a directory', () => {
  const c = fresh();
  rmSync(c.file('X_split_train.npy'));
  mkdirSync(c.file('X_split_train.npy'));
  assertUserError(train(c), c.out, /X_split_train\.npy: file: is a directory: expected a readable \.npy file/);
});

// ---------------------------------------------------------------- .npy format

test('.npy with bad magic (a CSV file under the .npy name)', () => {
  const c = fresh();
  writeFileSync(c.file('X_split_train.npy'), '0.1,0.2,0.3\n0.4,0.5,0.6\n');
  assertUserError(train(c), c.out, /X_split_train\.npy: magic: not a \.npy file/);
});

test('empty (0-byte) .npy file', () => {
  const c = fresh();
  writeFileSync(c.file('Y_split_train.npy'), '');
  assertUserError(train(c), c.out, /Y_split_train\.npy: magic: /);
});

test('.npy header that is not a dict', () => {
  const c = fresh();
  writeRawNpy(c.file('X_split_test.npy'), "descr='<f4' shape=(9, 12)", float32Bytes(new Float32Array(VAL_ROWS * FEATURES)));
  assertUserError(train(c), c.out, /X_split_test\.npy: header: expected a Python dict literal/);
});

test('.npy header with a non-integer shape', () => {
  const c = fresh();
  writeRawNpy(
    c.file('X_split_test.npy'),
    "{'descr': '<f4', 'fortran_order': False, 'shape': (9, 'twelve'), }",
    float32Bytes(new Float32Array(VAL_ROWS * FEATURES)),
  );
  assertUserError(train(c), c.out, /X_split_test\.npy: shape: expected non-negative integers/);
});

test('.npy cut inside its header', () => {
  const c = fresh();
  const full = join(c.data, 'full.npy');
  writeNpy(full, new Float32Array(TRAIN_ROWS * FEATURES), [TRAIN_ROWS, FEATURES], 'float32');
  writeFileSync(c.file('X_split_train.npy'), readFileSync(full).subarray(0, 40));
  assertUserError(train(c), c.out, /X_split_train\.npy: header: header says \d+ bytes but the file ends after \d+.*expected/);
});

test('.npy v2 whose header length field claims 4 GB', () => {
  const c = fresh();
  const bytes = Buffer.alloc(64, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]).copy(bytes);
  bytes.writeUInt32LE(0xffffffff, 8);
  writeFileSync(c.file('X_split_train.npy'), bytes);
  assertUserError(
    train(c),
    c.out,
    /X_split_train\.npy: header: header says 4294967295 bytes but the file ends after 52 of them: expected a complete \.npy header/,
  );
});

test('.npy with short data (truncated payload)', () => {
  const c = fresh();
  writeRawNpy(
    c.file('X_split_train.npy'),
    `{'descr': '<f4', 'fortran_order': False, 'shape': (${TRAIN_ROWS}, ${FEATURES}), }`,
    float32Bytes(new Float32Array(TRAIN_ROWS * FEATURES - 5)),
  );
  assertUserError(train(c), c.out, /X_split_train\.npy: data: file holds \d+ bytes of data but .* need \d+ bytes/);
});

test('.npy in Fortran order', () => {
  const c = fresh();
  writeRawNpy(
    c.file('X_split_train.npy'),
    `{'descr': '<f4', 'fortran_order': True, 'shape': (${TRAIN_ROWS}, ${FEATURES}), }`,
    float32Bytes(new Float32Array(TRAIN_ROWS * FEATURES)),
  );
  assertUserError(train(c), c.out, /X_split_train\.npy: fortran_order: Fortran \(column-major\) order is not supported/);
});

test('.npy with an unsupported dtype (complex64)', () => {
  const c = fresh();
  writeRawNpy(
    c.file('X_split_train.npy'),
    `{'descr': '<c8', 'fortran_order': False, 'shape': (${TRAIN_ROWS}, ${FEATURES}), }`,
    new Uint8Array(TRAIN_ROWS * FEATURES * 8),
  );
  assertUserError(train(c), c.out, /X_split_train\.npy: descr: dtype '<c8' is not supported: expected float32/);
});

test('.npy with an unsupported dtype (float16)', () => {
  const c = fresh();
  writeRawNpy(
    c.file('X_split_test.npy'),
    `{'descr': '<f2', 'fortran_order': False, 'shape': (${VAL_ROWS}, ${FEATURES}), }`,
    new Uint8Array(VAL_ROWS * FEATURES * 2),
  );
  assertUserError(train(c), c.out, /X_split_test\.npy: descr: dtype '<f2' is not supported/);
});

test('.npy format version 9', () => {
  const c = fresh();
  const bytes = readFileSync(c.file('Y_split_train.npy'));
  bytes[6] = 9;
  writeFileSync(c.file('Y_split_train.npy'), bytes);
  assertUserError(train(c), c.out, /Y_split_train\.npy: version: format version 9\.0 is not supported: expected 1\.x, 2\.x or 3\.x/);
});

// ---------------------------------------------------------------- shapes and labels

test('X/Y length mismatch', () => {
  const c = fresh();
  writeNpy(c.file('Y_split_train.npy'), cycle(TRAIN_ROWS - 4), [TRAIN_ROWS - 4], 'int32');
  assertUserError(train(c), c.out, /Y_split_train\.npy: shape: 20 label rows but X_split_train\.npy has 24 samples/);
});

test('X that is 1-D', () => {
  const c = fresh();
  writeNpy(c.file('X_split_train.npy'), new Float32Array(TRAIN_ROWS), [TRAIN_ROWS], 'float32');
  assertUserError(train(c), c.out, /X_split_train\.npy: shape: expected \(N, features\)/);
});

test('feature count differs between the training and the validation split', () => {
  const c = fresh();
  writeNpy(c.file('X_split_test.npy'), new Float32Array(VAL_ROWS * 10), [VAL_ROWS, 10], 'float32');
  assertUserError(train(c), c.out, /X_split_test\.npy: shape: 10 features per row but X_split_train\.npy has 12/);
});

test('Y with only one class', () => {
  const c = fresh();
  writeNpy(c.file('Y_split_train.npy'), new Int32Array(TRAIN_ROWS).fill(1), [TRAIN_ROWS], 'int32');
  assertUserError(train(c), c.out, /Y_split_train\.npy: labels: only one class \(1\) in the training split: expected at least two/);
});

test('one-hot rows that are not one-hot', () => {
  const c = fresh();
  const y = oneHot(cycle(TRAIN_ROWS), CLASSES);
  y[5 * CLASSES + 0] = 1; // row 5 (class 2) now has two ones
  writeNpy(c.file('Y_split_train.npy'), y, [TRAIN_ROWS, CLASSES], 'float32');
  writeNpy(c.file('Y_split_test.npy'), oneHot(cycle(VAL_ROWS), CLASSES), [VAL_ROWS, CLASSES], 'float32');
  assertUserError(train(c), c.out, /Y_split_train\.npy: row 5: not one-hot/);
});

test('label out of range for the classes named in train_input.json', () => {
  const c = fresh();
  const y = cycle(VAL_ROWS);
  y[4] = 7;
  writeNpy(c.file('Y_split_test.npy'), y, [VAL_ROWS], 'int32');
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'] }));
  assertUserError(train(c, ['--info-file', info]), c.out, /Y_split_test\.npy: row 4 label: class 7 is out of range: expected 0\.\.2/);
});

test('negative label', () => {
  const c = fresh();
  const y = cycle(TRAIN_ROWS);
  y[3] = -1;
  writeNpy(c.file('Y_split_train.npy'), y, [TRAIN_ROWS], 'int32');
  assertUserError(train(c), c.out, /Y_split_train\.npy: row 3 label: value -1 is below 0.*expected/);
});

test('fractional label in an index vector', () => {
  const c = fresh();
  const y = Float32Array.from(cycle(TRAIN_ROWS));
  y[2] = 1.5;
  writeNpy(c.file('Y_split_train.npy'), y, [TRAIN_ROWS], 'float32');
  assertUserError(train(c), c.out, /Y_split_train\.npy: row 2 label: expected an integer class index, got 1\.5/);
});

test('label layouts differ between the splits', () => {
  const c = fresh();
  writeNpy(c.file('Y_split_test.npy'), oneHot(cycle(VAL_ROWS), CLASSES), [VAL_ROWS, CLASSES], 'float32');
  assertUserError(train(c), c.out, /Y_split_test\.npy: shape: \(9, 3\) does not match Y_split_train\.npy's \(24\): expected the same label layout/);
});

test('NaN feature in the training split', () => {
  const c = fresh();
  const x = new Float32Array(TRAIN_ROWS * FEATURES).fill(0.5);
  x[7 * FEATURES + 3] = Number.NaN;
  writeNpy(c.file('X_split_train.npy'), x, [TRAIN_ROWS, FEATURES], 'float32');
  assertUserError(train(c), c.out, /X_split_train\.npy: row 7 column 3: value NaN is not finite: expected finite numbers/);
});

test('Inf feature in the validation split', () => {
  const c = fresh();
  const x = new Float32Array(VAL_ROWS * FEATURES).fill(0.5);
  x[2 * FEATURES] = Number.NEGATIVE_INFINITY;
  writeNpy(c.file('X_split_test.npy'), x, [VAL_ROWS, FEATURES], 'float32');
  assertUserError(train(c), c.out, /X_split_test\.npy: row 2 column 0: value -Infinity is not finite/);
});

test('empty validation split', () => {
  const c = fresh();
  writeNpy(c.file('X_split_test.npy'), new Float32Array(0), [0, FEATURES], 'float32');
  writeNpy(c.file('Y_split_test.npy'), new Int32Array(0), [0], 'int32');
  assertUserError(train(c), c.out, /X_split_test\.npy: shape: the validation split is empty \(0 rows\): expected at least one sample/);
});

test('64-bit integer label beyond 2^53', () => {
  const c = fresh();
  const payload = Buffer.alloc(TRAIN_ROWS * 8);
  for (let i = 0; i < TRAIN_ROWS; i++) payload.writeBigInt64LE(BigInt(i % CLASSES), i * 8);
  payload.writeBigInt64LE(2n ** 60n, 8 * 6);
  writeRawNpy(c.file('Y_split_train.npy'), `{'descr': '<i8', 'fortran_order': False, 'shape': (${TRAIN_ROWS},), }`, payload);
  assertUserError(train(c), c.out, /Y_split_train\.npy: data: element 6 = 1152921504606846976 is outside .*expected/);
});

// ---------------------------------------------------------------- train_input.json

test("feature count not matching train_input.json's inputShapeString", () => {
  const c = fresh();
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], inputShapeString: '(650,)' }));
  assertUserError(
    train(c, ['--info-file', info]),
    c.out,
    /train_input\.json: inputShapeString: \(650,\) has 650 features but X_split_train\.npy rows have 12/,
  );
});

test('malformed train_input.json (truncated JSON)', () => {
  const c = fresh();
  const info = c.file('train_input.json');
  writeFileSync(info, '{"classes": ["a", "b", ');
  assertUserError(train(c, ['--info-file', info]), c.out, /train_input\.json: JSON: not valid JSON.*expected/);
});

test('train_input.json with a field of the wrong type', () => {
  const c = fresh();
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ classes: 'a,b,c' }));
  assertUserError(train(c, ['--info-file', info]), c.out, /train_input\.json: classes: expected an array of class names/);
});

test('train_input.json with a negative maxTrainingTimeSeconds', () => {
  const c = fresh();
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], maxTrainingTimeSeconds: -30 }));
  assertUserError(train(c, ['--info-file', info]), c.out, /train_input\.json: maxTrainingTimeSeconds: expected a positive number of seconds, got -30/);
});

test("train_input.json of a regression project (mode 'regression')", () => {
  const c = fresh();
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ mode: 'regression', inputShapeString: '(12,)' }));
  assertUserError(train(c, ['--info-file', info]), c.out, /train_input\.json: mode: 'regression' is not supported: expected 'classification'/);
});

test('train_input.json naming a single class', () => {
  const c = fresh();
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['only'] }));
  assertUserError(train(c, ['--info-file', info]), c.out, /train_input\.json: classes: 1 class name\(s\): expected at least two/);
});

test('a validation class that the training split never has (no class names given)', () => {
  const c = fresh();
  const y = cycle(VAL_ROWS);
  y[2] = 3;
  writeNpy(c.file('Y_split_test.npy'), y, [VAL_ROWS], 'int32');
  assertUserError(train(c), c.out, /Y_split_test\.npy: row 2 label: class 3 is out of range: expected 0\.\.2 \(the classes of Y_split_train\.npy\)/);
});

test('--info-file that does not exist', () => {
  const c = fresh();
  assertUserError(train(c, ['--info-file', c.file('nope.json')]), c.out, /nope\.json: file: not found \(given by --info-file\).*expected/);
});

test('class names in train_input.json not matching one-hot Y', () => {
  const c = fresh();
  writeNpy(c.file('Y_split_train.npy'), oneHot(cycle(TRAIN_ROWS), CLASSES), [TRAIN_ROWS, CLASSES], 'float32');
  writeNpy(c.file('Y_split_test.npy'), oneHot(cycle(VAL_ROWS), CLASSES), [VAL_ROWS, CLASSES], 'float32');
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c', 'd', 'e'] }));
  assertUserError(
    train(c, ['--info-file', info]),
    c.out,
    /train_input\.json: classes: 5 classes named but Y_split_train\.npy is one-hot over 3.*expected/,
  );
});

test('sample_id_details.json that is not JSON', () => {
  const c = fresh();
  writeFileSync(c.file('sample_id_details.json'), '[{"id": 1},');
  assertUserError(train(c), c.out, /sample_id_details\.json: JSON: not valid JSON.*expected/);
});

// ---------------------------------------------------------------- model vs shape

test('conv2d forced on a non-image shape', () => {
  const c = fresh();
  assertUserError(train(c, ['--model', 'conv2d']), c.out, /parameters: --model: 'conv2d' needs an image input/);
});

test('ei-kws forced on a feature count that is not frames x 13', () => {
  const c = fresh();
  assertUserError(train(c, ['--model', 'ei-kws']), c.out, /parameters: --model: 'ei-kws' needs a feature count divisible by 13/);
});

test("conv2d forced on train_input.json's 2-D (non-image) inputShapeString", () => {
  const c = fresh();
  const info = c.file('train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], inputShapeString: '(3, 4)' }));
  assertUserError(
    train(c, ['--model', 'conv2d', '--info-file', info]),
    c.out,
    /parameters: --model: 'conv2d' needs an image input .*got 12 features with input shape \[3, 4\]/,
  );
});

// ---------------------------------------------------------------- parameters

test('unknown select value (--optimizer rmsprop)', () => {
  const c = fresh();
  assertUserError(train(c, ['--optimizer', 'rmsprop']), c.out, /--optimizer: .*rmsprop.*expected.*adam/);
});

test('unknown select value (--export-format pdf)', () => {
  const c = fresh();
  assertUserError(train(c, ['--export-format', 'pdf']), c.out, /--export-format: .*pdf.*expected/);
});

test('zero epochs', () => {
  const c = fresh();
  assertUserError(train(c, ['--epochs', '0']), c.out, /--epochs: .*0.*expected/);
});

test('negative epochs', () => {
  const c = fresh();
  assertUserError(train(c, ['--epochs', '-3']), c.out, /--epochs: .*-3.*expected/);
});

test('zero batch size', () => {
  const c = fresh();
  assertUserError(train(c, ['--batch-size', '0']), c.out, /--batch-size: .*0.*expected/);
});

test('negative batch size', () => {
  const c = fresh();
  assertUserError(train(c, ['--batch-size', '-32']), c.out, /--batch-size: .*-32.*expected/);
});

test('non-numeric learning rate', () => {
  const c = fresh();
  assertUserError(train(c, ['--learning-rate', 'fast']), c.out, /--learning-rate: .*fast.*expected/);
});

test('fractional epochs', () => {
  const c = fresh();
  assertUserError(train(c, ['--epochs', '2.5']), c.out, /--epochs: .*2\.5.*expected/);
});

test('boolean that is not a boolean (--dendrites maybe)', () => {
  const c = fresh();
  assertUserError(train(c, ['--dendrites', 'maybe']), c.out, /--dendrites: .*maybe.*expected/);
});

test('negative --max-training-seconds', () => {
  const c = fresh();
  assertUserError(train(c, ['--max-training-seconds', '-5']), c.out, /--max-training-seconds: .*-5.*expected/);
});

test('missing --data-directory', () => {
  const c = fresh();
  const r = runCli(['train', '--out-directory', c.out, '--quiet']);
  assertUserError(r, c.out, /--data-directory: is required/);
});

test('--resume without a checkpoint in the out directory', () => {
  const c = fresh();
  assertUserError(train(c, ['--resume']), c.out, /checkpoint\.dndckpt: resume: no checkpoint in the out directory.*expected/);
});

test('--resume with a corrupt checkpoint', () => {
  const c = fresh();
  mkdirSync(c.out);
  writeFileSync(join(c.out, CHECKPOINT_FILE), 'DNDCKPT1 but nothing after it');
  const r = train(c, ['--resume']);
  assertUserError(r, undefined, /checkpoint\.dndckpt: (header|metadata|arrays): .*checkpoint/);
  assert.deepEqual(
    readdirSync(c.out).filter((f) => !ALLOWED_AFTER_FAILURE.has(f)),
    [CHECKPOINT_FILE],
    'nothing but the checkpoint that was there',
  );
});

test('--resume with a checkpoint written for other data or parameters', () => {
  const c = fresh();
  mkdirSync(c.out);
  saveCheckpoint(join(c.out, CHECKPOINT_FILE), { fingerprint: 'another run', state: { epoch: 3 } });
  const r = train(c, ['--resume']);
  assertUserError(
    r,
    undefined,
    /checkpoint\.dndckpt: resume: the checkpoint was written with other data or parameters: expected the same data and parameters/,
  );
  assert.deepEqual(
    readdirSync(c.out).filter((f) => !ALLOWED_AFTER_FAILURE.has(f)),
    [CHECKPOINT_FILE],
  );
});

// ---------------------------------------------------------------- out directory

test('out directory that is an existing file', () => {
  const c = fresh();
  writeFileSync(c.out, 'not a directory');
  assertUserError(train(c), undefined, /out: out-directory: exists and is not a directory: expected a directory/);
});

test('out directory below a file (cannot be created)', () => {
  const c = fresh();
  const file = join(c.data, '..', 'plain-file');
  writeFileSync(file, 'x');
  assertUserError(train({ ...c, out: join(file, 'out') }), undefined, /plain-file\/out: out-directory: .*\(ENOTDIR\): expected a writable directory/);
});

// ---------------------------------------------------------------- WAV through `features`

test('features: WAV with an unsupported encoding (IMA ADPCM) names the file', () => {
  const wavDir = join(root, `wav${counter++}`);
  mkdirSync(wavDir);
  const pcm = Buffer.alloc(3200);
  for (const name of ['0_a_0.wav', '0_a_1.wav', '1_a_0.wav']) writeWav(join(wavDir, name), { formatTag: 1, bits: 16, data: pcm });
  writeWav(join(wavDir, '1_a_1.wav'), { formatTag: 0x11, bits: 4, data: Buffer.alloc(800) });
  const out = join(wavDir, 'out');
  const r = runCli(['features', '--wav-dir', wavDir, '--out-directory', out, '--validation-fraction', '0.5']);
  assertUserError(r, out, /1_a_1\.wav: fmt chunk.*expected/);
  if (existsSync(out)) assert.deepEqual(readdirSync(out), [], 'no half-written data directory');
});

test('features: WAV that is not RIFF at all', () => {
  const wavDir = join(root, `wav${counter++}`);
  mkdirSync(wavDir);
  const pcm = Buffer.alloc(3200);
  for (const name of ['0_a_0.wav', '1_a_0.wav']) writeWav(join(wavDir, name), { formatTag: 1, bits: 16, data: pcm });
  writeFileSync(join(wavDir, '1_a_1.wav'), 'ID3 an mp3 renamed to .wav');
  const out = join(wavDir, 'out');
  assertUserError(
    runCli(['features', '--wav-dir', wavDir, '--out-directory', out, '--validation-fraction', '0.5']),
    out,
    /1_a_1\.wav: RIFF header: not a WAV file: expected/,
  );
  if (existsSync(out)) assert.deepEqual(readdirSync(out), []);
});
