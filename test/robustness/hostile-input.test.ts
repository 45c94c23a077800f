/**
 * Issue 15, absurd input and special files: named pipes, /proc and /sys paths, symbolic link loops,
 * label values and class counts far beyond a classifier, duplicate class names, float WAVs with
 * NaN/Inf/3e38 samples, an FFT of a million points, damaged model files for predict. Each must end with
 * exit code 2 and one line, within a timeout (a hang fails the test), and a good data directory that a
 * failed `features` run targeted stays byte-identical.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeNpy } from '../../src/data/npy.js';
import { runCli, tempDir, writeEiDirectory, type CliResult } from '../helpers/ei-data.js';
import { writeWav } from '../helpers/wav-craft.js';

const { dir: root, cleanup } = tempDir('hostile');
after(cleanup);
const data = join(root, 'data');
const model = join(root, 'model');
let n = 0;

function assertRefused(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit ${r.code} signal ${r.signal}\nstderr:\n${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.match(lines[0]!, /expected/);
}

function train(dataDir: string, extra: string[] = []): CliResult {
  return runCli(
    ['train', '--data-directory', dataDir, '--out-directory', join(root, `out${n++}`), '--epochs', '1', '--dendrites', '0', '--quiet', ...extra],
    { timeoutMs: 60_000 },
  );
}

function copyOf(src: string): string {
  const dst = join(root, `data${n++}`);
  mkdirSync(dst);
  for (const f of readdirSync(src)) writeFileSync(join(dst, f), readFileSync(join(src, f)));
  return dst;
}

function hashDir(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) if (statSync(join(dir, f)).isFile()) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex');
}

/** Two classes of 16-bit tone files, plus whatever `extra` adds. */
function wavDir(extra: (dir: string) => void = () => {}): string {
  const dir = join(root, `wav${n++}`);
  mkdirSync(dir);
  const pcm = Buffer.alloc(3200);
  for (let i = 0; i < 1600; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), 2 * i);
  for (const name of ['a_0.wav', 'a_1.wav', 'b_0.wav', 'b_1.wav']) writeWav(join(dir, name), { formatTag: 1, bits: 16, data: pcm });
  extra(dir);
  return dir;
}

function floatWav(path: string, bad: number): void {
  const samples = new Float32Array(1600).map((_, i) => 0.1 * Math.sin(i / 5));
  samples[700] = bad;
  writeWav(path, { formatTag: 3, bits: 32, data: new Uint8Array(samples.buffer) });
}

before(() => {
  mkdirSync(data);
  writeEiDirectory(data, { features: 12, classes: 3, trainRows: 48, valRows: 12 });
  const r = runCli(
    ['train', '--data-directory', data, '--out-directory', model, '--epochs', '1', '--dendrites', '0', '--quiet', '--export-format', 'all'],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
});

// ---------------------------------------------------------------- special files

test('an X file that is a named pipe is refused by kind (no blocking open)', () => {
  const d = copyOf(data);
  execFileSync('rm', [join(d, 'X_split_train.npy')]);
  execFileSync('mkfifo', [join(d, 'X_split_train.npy')]);
  assertRefused(train(d), /X_split_train\.npy: file: is a named pipe: expected a readable \.npy file/);
});

test('--info-file under /proc is refused by filesystem', () => {
  assertRefused(train(data, ['--info-file', '/proc/self/status']), /\/proc\/self\/status: file: is on the kernel's proc filesystem: expected/);
});

test('an out directory under /proc or /sys is refused before any work', () => {
  for (const out of ['/proc/dendritic-out', '/sys/kernel/dendritic-out']) {
    const r = runCli(['train', '--data-directory', data, '--out-directory', out, '--epochs', '1', '--quiet'], { timeoutMs: 30_000 });
    assertRefused(r, /out-directory: is on the kernel's (proc|sysfs) filesystem: expected a directory on a disk/);
  }
});

// ---------------------------------------------------------------- labels and classes

test('a label of 2e9 without train_input.json is refused, not allocated', () => {
  const d = copyOf(data);
  const y = Int32Array.from({ length: 48 }, (_, i) => i % 3);
  y[5] = 2_000_000_000;
  writeNpy(join(d, 'Y_split_train.npy'), y, [48], 'int32');
  assertRefused(train(d), /Y_split_train\.npy: labels: labels up to 2000000000 imply 2000000001 classes: expected at most 1000 classes/);
});

test('5,000 classes are refused (labels and train_input.json)', () => {
  const d = copyOf(data);
  writeNpy(
    join(d, 'Y_split_train.npy'),
    Int32Array.from({ length: 48 }, (_, i) => (i * 104) % 5000),
    [48],
    'int32',
  );
  assertRefused(train(d), /labels up to \d+ imply \d+ classes: expected at most 1000 classes/);
  const info = join(root, 'many.json');
  writeFileSync(info, JSON.stringify({ classes: Array.from({ length: 5000 }, (_, i) => `c${i}`) }));
  assertRefused(train(data, ['--info-file', info]), /many\.json: classes: 5000 class names: expected at most 1000/);
});

test('duplicate class names in train_input.json are refused', () => {
  const info = join(root, 'dup.json');
  writeFileSync(info, JSON.stringify({ classes: ['yes', 'no', 'yes'] }));
  assertRefused(train(data, ['--info-file', info]), /dup\.json: classes\[2\]: 'yes' repeats classes\[0\]: expected distinct class names/);
});

test('1,000 classes: the report stays proportionate (report.html under 1 MB, report.json under 5 MB)', () => {
  const d = join(root, 'c1000');
  mkdirSync(d);
  for (const [split, rows] of [
    ['train', 2000],
    ['test', 1000],
  ] as const) {
    writeNpy(
      join(d, `X_split_${split}.npy`),
      Float32Array.from({ length: rows * 12 }, (_, i) => ((i * 7919) % 101) / 101),
      [rows, 12],
      'float32',
    );
    writeNpy(
      join(d, `Y_split_${split}.npy`),
      Int32Array.from({ length: rows }, (_, i) => i % 1000),
      [rows],
      'int32',
    );
  }
  const out = join(root, 'out-c1000');
  const r = runCli(['train', '--data-directory', d, '--out-directory', out, '--epochs', '1', '--dendrites', '0', '--quiet'], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  const html = statSync(join(out, 'report.html')).size;
  const json = statSync(join(out, 'report.json')).size;
  assert.ok(html < 1e6, `report.html is ${html} bytes`);
  assert.ok(json < 5e6, `report.json is ${json} bytes`);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { validation: { confusion: number[][]; per_class: unknown[] } };
  assert.equal(report.validation.confusion.length, 1000, 'report.json keeps the whole matrix');
  assert.equal(report.validation.per_class.length, 1000);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /1,000 classes: the 50 with the lowest F1 are shown/);
});

// ---------------------------------------------------------------- features

test('features: --fft-length 1000000 and other absurd MFCC settings are refused by range', () => {
  const dir = wavDir();
  const out = join(root, `feat${n++}`);
  assertRefused(
    runCli(['features', '--wav-dir', dir, '--out-directory', out, '--fft-length', '1000000']),
    /features: --fft-length: expected an integer >= 2 and <= 16384, got '1000000'/,
  );
  assertRefused(
    runCli(['features', '--wav-dir', dir, '--out-directory', out, '--window-seconds', '1e9']),
    /--window-seconds: expected a number > 0 and <= 60/,
  );
  assert.ok(!existsSync(out));
});

test('features: float WAVs with NaN, Inf or 3e38 samples are refused; the data directory stays byte-identical', () => {
  const good = join(root, `feat${n++}`);
  assert.equal(runCli(['features', '--wav-dir', wavDir(), '--out-directory', good, '--validation-fraction', '0.5']).code, 0);
  const before = hashDir(good);
  for (const [bad, what] of [
    [Number.NaN, 'not finite'],
    [Number.POSITIVE_INFINITY, 'not finite'],
    [3e38, 'far out of range'],
  ] as const) {
    const dir = wavDir((d) => floatWav(join(d, 'b_2.wav'), bad));
    const r = runCli(['features', '--wav-dir', dir, '--out-directory', good, '--validation-fraction', '0.5']);
    assertRefused(r, new RegExp(`b_2\\.wav: data chunk: frame 700 channel 0: sample .* is ${what}: expected float samples within`));
    assert.equal(hashDir(good), before);
  }
  assert.deepEqual(
    readdirSync(root).filter((f) => f.includes('.dendritic')),
    [],
  );
});

test('features and predict: a symbolic link loop in the WAV folder is refused', () => {
  const dir = wavDir((d) => {
    mkdirSync(join(d, 'sub'));
    symlinkSync('..', join(d, 'sub', 'up'));
  });
  assertRefused(
    runCli(['features', '--wav-dir', dir, '--out-directory', join(root, `feat${n++}`)]),
    /sub\/up: symbolic link: leads back to .*a loop.*expected a folder tree without cycles/,
  );
  assertRefused(runCli(['predict', join(model, 'model.tflite'), dir]), /sub\/up: symbolic link: leads back to/);
  const self = wavDir((d) => symlinkSync('me.wav', join(d, 'me.wav')));
  assertRefused(
    runCli(['features', '--wav-dir', self, '--out-directory', join(root, `feat${n++}`)]),
    /me\.wav: symbolic link: is a loop of links: expected/,
  );
});

// ---------------------------------------------------------------- predict

test('predict: truncated or random .tflite/.onnx files give a clear error', () => {
  const x = join(data, 'X_split_test.npy');
  const tfl = readFileSync(join(model, 'model_quantized_int8_io.tflite'));
  const onnx = readFileSync(join(model, 'model.onnx'));
  const cases: [string, Uint8Array, RegExp][] = [
    ['half.tflite', tfl.subarray(0, tfl.length >> 1), /half\.tflite: model: not a complete TFLite model \(.* lies outside the \d+-byte file\)/],
    ['head.tflite', tfl.subarray(0, 40), /head\.tflite: model: not a complete TFLite model/],
    ['ident.tflite', Buffer.from('\0\0\0\0TFL3'), /ident\.tflite: model: not a complete TFLite model/],
    [
      'random.tflite',
      Uint8Array.from({ length: 4000 }, (_, i) => (i * 2654435761) >>> 24),
      /random\.tflite: model: not a TFLite flatbuffer \(no 'TFL3' identifier\)/,
    ],
    ['half.onnx', onnx.subarray(0, onnx.length >> 1), /half\.onnx: model: (not a readable ONNX model|onnxruntime cannot run it)/],
    [
      'random.onnx',
      Uint8Array.from({ length: 4000 }, (_, i) => (i * 2654435761) >>> 24),
      /random\.onnx: model: (not a readable ONNX model|onnxruntime cannot run it)/,
    ],
  ];
  for (const [name, bytes, pattern] of cases) {
    const path = join(root, name);
    writeFileSync(path, bytes);
    assertRefused(runCli(['predict', path, x], { timeoutMs: 30_000 }), pattern);
  }
  const fifo = join(root, 'pipe.tflite');
  execFileSync('mkfifo', [fifo]);
  assertRefused(runCli(['predict', fifo, x], { timeoutMs: 30_000 }), /pipe\.tflite: model: is a named pipe: expected an exported \.onnx or \.tflite file/);
});
