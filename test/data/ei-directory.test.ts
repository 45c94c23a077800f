import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadEiDirectory } from '../../src/data/ei-directory.js';
import { writeNpy } from '../../src/data/npy.js';
import { python, tempDir, userErrorMessage } from './helpers.js';
import { needs } from '../helpers/prerequisites.js';

const { dir: root, cleanup } = tempDir('eidir');
after(cleanup);
let counter = 0;

interface Split {
  x: number[];
  xShape: number[];
  y: number[];
  yShape: number[];
  yType?: 'float32' | 'int32';
}

/** Writes an EI directory with our own writer (itself checked against numpy in npy.test.ts). */
function makeDir(train: Split, test: Split, info?: unknown): { dir: string; infoFile?: string } {
  const dir = join(root, `d${counter++}`);
  mkdirSync(dir);
  writeNpy(join(dir, 'X_split_train.npy'), train.x, train.xShape, 'float32');
  writeNpy(join(dir, 'Y_split_train.npy'), train.y, train.yShape, train.yType ?? 'float32');
  writeNpy(join(dir, 'X_split_test.npy'), test.x, test.xShape, 'float32');
  writeNpy(join(dir, 'Y_split_test.npy'), test.y, test.yShape, test.yType ?? 'float32');
  if (info === undefined) return { dir };
  const infoFile = join(dir, 'train_input.json');
  writeFileSync(infoFile, typeof info === 'string' ? info : JSON.stringify(info));
  return { dir, infoFile };
}

const oneHot = (labels: number[], c: number): number[] => labels.flatMap((l) => Array.from({ length: c }, (_, j) => (j === l ? 1 : 0)));
const features = (n: number, f: number): number[] => Array.from({ length: n * f }, (_, i) => Math.sin(i));

const trainLabels = [0, 1, 2, 1, 0, 2];
const valLabels = [2, 0, 1];
const good = (): { train: Split; test: Split } => ({
  train: { x: features(6, 5), xShape: [6, 5], y: oneHot(trainLabels, 3), yShape: [6, 3] },
  test: { x: features(3, 5), xShape: [3, 5], y: oneHot(valLabels, 3), yShape: [3, 3] },
});

describe('loadEiDirectory: label layouts', () => {
  it('one-hot float32 with class names, inputShapeString and time limit from train_input.json', () => {
    const { train, test } = good();
    const { dir, infoFile } = makeDir(train, test, {
      classes: ['no', 'yes', 'noise'],
      inputShapeString: '(5,)',
      maxTrainingTimeSeconds: 600,
      mode: 'classification',
    });
    const d = loadEiDirectory(dir, infoFile);
    assert.equal(d.labelLayout, 'one-hot');
    assert.deepEqual(Array.from(d.yTrain), trainLabels);
    assert.deepEqual(Array.from(d.yVal), valLabels);
    assert.deepEqual(d.classes, ['no', 'yes', 'noise']);
    assert.equal(d.features, 5);
    assert.deepEqual(d.inputShape, [5]);
    assert.equal(d.maxTrainingSeconds, 600);
    assert.deepEqual(Array.from(d.xTrain), Array.from(Float32Array.from(train.x)));
    assert.match(d.summary, /6 training and 3 validation samples, 5 features .*3 classes, labels one-hot/);
  });

  it('one-hot int32 without train_input.json names classes "0".."C-1"', () => {
    const { train, test } = good();
    const d = loadEiDirectory(makeDir({ ...train, yType: 'int32' }, { ...test, yType: 'int32' }).dir);
    assert.equal(d.labelLayout, 'one-hot');
    assert.deepEqual(d.classes, ['0', '1', '2']);
    assert.deepEqual(Array.from(d.yTrain), trainLabels);
  });

  it("Edge Impulse's 4-column int32 layout, 1-based label index", () => {
    const rows = (labels: number[]): number[] => labels.flatMap((l, i) => [l + 1, 1000 + i, 0, 1000]);
    const { train, test } = good();
    const d = loadEiDirectory(
      makeDir(
        { ...train, y: rows(trainLabels), yShape: [6, 4], yType: 'int32' },
        { ...test, y: rows(valLabels), yShape: [3, 4], yType: 'int32' },
        { classes: ['a', 'b', 'c'] },
      ).dir,
      join(root, `d${counter - 1}`, 'train_input.json'),
    );
    assert.equal(d.labelLayout, 'ei-4col');
    assert.equal(d.labelBase, 1);
    assert.deepEqual(Array.from(d.yTrain), trainLabels);
    assert.deepEqual(Array.from(d.yVal), valLabels);
  });

  it('an (N, 4) int32 array whose rows are all one-hot is one-hot (4 classes)', () => {
    const labels = [0, 1, 2, 3, 1];
    const d = loadEiDirectory(
      makeDir(
        { x: features(5, 2), xShape: [5, 2], y: oneHot(labels, 4), yShape: [5, 4], yType: 'int32' },
        { x: features(1, 2), xShape: [1, 2], y: oneHot([3], 4), yShape: [1, 4], yType: 'int32' },
      ).dir,
    );
    assert.equal(d.labelLayout, 'one-hot');
    assert.deepEqual(Array.from(d.yTrain), labels);
  });

  it('plain index vector, 0-based', () => {
    const { train, test } = good();
    const d = loadEiDirectory(
      makeDir({ ...train, y: trainLabels, yShape: [6], yType: 'int32' }, { ...test, y: valLabels, yShape: [3], yType: 'int32' }).dir,
    );
    assert.equal(d.labelLayout, 'index');
    assert.equal(d.labelBase, 0);
    assert.deepEqual(Array.from(d.yTrain), trainLabels);
    assert.deepEqual(d.classes, ['0', '1', '2']);
  });

  it('index vector 1-based when class names are given and max label == class count', () => {
    const { train, test } = good();
    const { dir, infoFile } = makeDir(
      { ...train, y: trainLabels.map((l) => l + 1), yShape: [6, 1], yType: 'int32' },
      { ...test, y: valLabels.map((l) => l + 1), yShape: [3], yType: 'int32' },
      { classes: ['x', 'y', 'z'] },
    );
    const d = loadEiDirectory(dir, infoFile);
    assert.equal(d.labelLayout, 'index');
    assert.equal(d.labelBase, 1);
    assert.deepEqual(Array.from(d.yTrain), trainLabels);
    assert.deepEqual(Array.from(d.yVal), valLabels);
  });

  it('the 1-based decision looks at both splits (largest class only in validation)', () => {
    const { train, test } = good();
    const { dir, infoFile } = makeDir(
      { ...train, y: [1, 2, 1, 2, 1, 2], yShape: [6], yType: 'int32' },
      { ...test, y: [3, 1, 2], yShape: [3], yType: 'int32' },
      { classes: ['x', 'y', 'z'] },
    );
    const d = loadEiDirectory(dir, infoFile);
    assert.equal(d.labelBase, 1);
    assert.deepEqual(Array.from(d.yTrain), [0, 1, 0, 1, 0, 1]);
    assert.deepEqual(Array.from(d.yVal), [2, 0, 1]);
  });

  it('N x H x W x C images (numpy-written, uint8 labels) flatten to N x F and report the input shape', { skip: needs('numpy') }, () => {
    const dir = join(root, `img${counter++}`);
    mkdirSync(dir);
    python(
      `
d = sys.argv[1]
rng = np.random.default_rng(0)
np.save(f'{d}/X_split_train.npy', rng.random((4, 3, 2, 1)).astype(np.float64))
np.save(f'{d}/Y_split_train.npy', np.array([0, 1, 1, 0], dtype=np.uint8))
np.save(f'{d}/X_split_test.npy', rng.random((2, 3, 2, 1)).astype(np.float32))
np.save(f'{d}/Y_split_test.npy', np.array([1, 0], dtype=np.int64))
`,
      [dir],
    );
    const d = loadEiDirectory(dir);
    assert.equal(d.features, 6);
    assert.deepEqual(d.inputShape, [3, 2, 1]);
    assert.equal(d.xTrain.length, 24);
    assert.deepEqual(Array.from(d.yVal), [1, 0]);
  });
});

describe('loadEiDirectory: bad input is a UserError naming file and field', () => {
  it('missing file', () => {
    const { train, test } = good();
    const { dir } = makeDir(train, test);
    rmSync(join(dir, 'Y_split_test.npy'));
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /Y_split_test\.npy: file: missing/);
  });
  it('X/Y length mismatch', () => {
    const { train, test } = good();
    const { dir } = makeDir(train, { ...test, y: oneHot([0, 1], 3), yShape: [2, 3] });
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /Y_split_test\.npy: shape: 2 label rows but X_split_test\.npy has 3 samples/);
  });
  it('X not at least 2-D', () => {
    const { train, test } = good();
    const { dir } = makeDir({ ...train, x: [1, 2, 3, 4, 5, 6], xShape: [6] }, test);
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /X_split_train\.npy: shape: expected \(N, features\)/);
  });
  it('feature count differs between train and validation', () => {
    const { train, test } = good();
    const { dir } = makeDir(train, { ...test, x: features(3, 4), xShape: [3, 4] });
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /X_split_test\.npy: shape: 4 features per row but X_split_train\.npy has 5/);
  });
  it("feature count differs from train_input.json's inputShapeString", () => {
    const { train, test } = good();
    const { dir, infoFile } = makeDir(train, test, { classes: ['a', 'b', 'c'], inputShapeString: '(50, 13)' });
    assert.match(userErrorMessage(() => loadEiDirectory(dir, infoFile)), /train_input\.json: inputShapeString: \(50, 13\) has 650 features but X_split_train\.npy rows have 5/);
  });
  it('one-hot row that is not one-hot', () => {
    const { train, test } = good();
    const y = oneHot(trainLabels, 3);
    y[3 * 3 + 1] = 0.9;
    const { dir } = makeDir({ ...train, y }, test);
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /Y_split_train\.npy: row 3: not one-hot: .*got \[0, 0\.9, 0\]/);
  });
  it('label out of range', () => {
    const { train, test } = good();
    const { dir, infoFile } = makeDir(
      { ...train, y: trainLabels, yShape: [6], yType: 'int32' },
      { ...test, y: [0, 5, 1], yShape: [3], yType: 'int32' },
      { classes: ['a', 'b', 'c'] },
    );
    assert.match(userErrorMessage(() => loadEiDirectory(dir, infoFile)), /Y_split_test\.npy: row 1 label: class 5 is out of range: expected 0\.\.2 \(.*names 3 classes\)/);
  });
  it('negative index label', () => {
    const { train, test } = good();
    const { dir } = makeDir({ ...train, y: [0, 1, -1, 0, 1, 2], yShape: [6], yType: 'int32' }, { ...test, y: valLabels, yShape: [3], yType: 'int32' });
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /Y_split_train\.npy: row 2 label: value -1 is below 0/);
  });
  it('only one class in training', () => {
    const { train, test } = good();
    const { dir } = makeDir({ ...train, y: oneHot([1, 1, 1, 1, 1, 1], 3) }, test);
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /Y_split_train\.npy: labels: only one class \(1\)/);
  });
  it('NaN / Inf in X names the first row and column', () => {
    const { train, test } = good();
    const x = features(3, 5);
    x[2 * 5 + 3] = Number.NaN;
    assert.match(userErrorMessage(() => loadEiDirectory(makeDir(train, { ...test, x }).dir)), /X_split_test\.npy: row 2 column 3: value NaN is not finite/);
    const x2 = features(6, 5);
    x2[4] = Number.POSITIVE_INFINITY;
    assert.match(userErrorMessage(() => loadEiDirectory(makeDir({ ...train, x: x2 }, test).dir)), /X_split_train\.npy: row 0 column 4: value Infinity/);
  });
  it('empty validation split', () => {
    const { train } = good();
    const { dir } = makeDir(train, { x: [], xShape: [0, 5], y: [], yShape: [0, 3] });
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /X_split_test\.npy: shape: the validation split is empty/);
  });
  it('malformed train_input.json: syntax and field types', () => {
    const { train, test } = good();
    const cases: [unknown, RegExp][] = [
      ['{"classes": ["a", "b",', /train_input\.json: JSON: not valid JSON/],
      ['[1, 2]', /train_input\.json: JSON: expected an object/],
      [{ classes: 'abc' }, /train_input\.json: classes: expected an array of class names/],
      [{ inputShapeString: '650' }, /train_input\.json: inputShapeString: expected a tuple of positive integers/],
      [{ inputShapeString: 650 }, /train_input\.json: inputShapeString: expected a string/],
      [{ maxTrainingTimeSeconds: 'ten' }, /train_input\.json: maxTrainingTimeSeconds: expected a positive number/],
      [{ mode: 3 }, /train_input\.json: mode: expected a string/],
    ];
    for (const [info, re] of cases) {
      const { dir, infoFile } = makeDir(train, test, info);
      assert.match(userErrorMessage(() => loadEiDirectory(dir, infoFile)), re);
    }
  });
  it('class count in train_input.json not matching one-hot Y', () => {
    const { train, test } = good();
    const { dir, infoFile } = makeDir(train, test, { classes: ['a', 'b', 'c', 'd'] });
    assert.match(userErrorMessage(() => loadEiDirectory(dir, infoFile)), /train_input\.json: classes: 4 classes named but Y_split_train\.npy is one-hot over 3/);
  });
  it('label layouts differing between the splits', () => {
    const { train, test } = good();
    const { dir } = makeDir(train, { ...test, y: valLabels, yShape: [3], yType: 'int32' });
    assert.match(userErrorMessage(() => loadEiDirectory(dir)), /Y_split_test\.npy: shape: \(3\) does not match Y_split_train\.npy's \(6, 3\)/);
  });
});
