import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildFeaturesDirectory, parseFeaturesArgs, type FeaturesOptions } from '../../src/commands/features.js';
import { loadEiDirectory, loadEiTestSplit } from '../../src/data/ei-directory.js';
import { readNpyFloat32 } from '../../src/data/npy.js';
import { computeWavFeatures, listWavFiles } from '../../src/data/wav-dataset.js';
import { FSDD, python, tempDir, userErrorMessage } from './helpers.js';
import { needs } from '../helpers/prerequisites.js';

const { dir: root, cleanup } = tempDir('features');
after(cleanup);
const wavDir = join(root, 'wav');

// A small FSDD subset: digits 0-2, speakers jackson/theo/lucas, takes 0-9 (90 files).
before(() => {
  mkdirSync(wavDir);
  for (const d of [0, 1, 2]) {
    for (const s of ['jackson', 'theo', 'lucas']) {
      for (let t = 0; t < 10; t++) copyFileSync(join(FSDD, `${d}_${s}_${t}.wav`), join(wavDir, `${d}_${s}_${t}.wav`));
    }
  }
});

const base = (out: string, extra: Partial<FeaturesOptions> = {}): FeaturesOptions => ({
  ...parseFeaturesArgs(['--wav-dir', wavDir, '--out-directory', join(root, out)]),
  ...extra,
});

describe('buildFeaturesDirectory', () => {
  it('writes an Edge Impulse data directory numpy reads, with rows equal to per-file features', { skip: needs('numpy') }, () => {
    const s = buildFeaturesDirectory(base('a'));
    assert.deepEqual(s.classes, ['0', '1', '2']);
    assert.equal(s.features, 650);
    assert.equal(s.train + s.validation, 90);
    assert.equal(s.validation, 18); // round(0.2 * 30) per class
    const out = join(root, 'a');
    // numpy's view of the files, as torch_kws_ref.py reads them
    const np = JSON.parse(
      python(
        `
d = sys.argv[1]
X = np.load(f'{d}/X_split_train.npy'); Y = np.load(f'{d}/Y_split_train.npy'); Yt = np.load(f'{d}/Y_split_test.npy')
print(json.dumps({'x': list(X.shape), 'xdtype': X.dtype.str, 'ydtype': Y.dtype.str, 'y': list(Y.shape), 'rowsum': float(np.abs(Y.sum(1) - 1).max()), 'val_counts': np.bincount(Yt.argmax(1)).tolist(), 'x0': X[0].tolist()}))
`,
        [out],
      ),
    ) as { x: number[]; xdtype: string; ydtype: string; y: number[]; rowsum: number; val_counts: number[]; x0: number[] };
    assert.deepEqual(np.x, [72, 650]);
    assert.equal(np.xdtype, '<f4');
    assert.equal(np.ydtype, '<f4');
    assert.deepEqual(np.y, [72, 3]);
    assert.equal(np.rowsum, 0);
    assert.deepEqual(np.val_counts, [6, 6, 6]); // stratified
    const details = JSON.parse(readFileSync(join(out, 'sample_id_details.json'), 'utf8')) as { train: number[]; validation: number[] };
    const names = JSON.parse(readFileSync(join(out, 'sample_names.json'), 'utf8')) as Record<string, string>;
    const first = names[String(details.train[0])]!;
    assert.deepEqual(np.x0, Array.from(computeWavFeatures(join(wavDir, first)).features));
    const info = JSON.parse(readFileSync(join(out, 'train_input.json'), 'utf8')) as { classes: string[]; inputShapeString: string };
    assert.deepEqual(info.classes, ['0', '1', '2']);
    assert.equal(info.inputShapeString, '(50, 13)'); // frames x coefficients
    const loaded = loadEiDirectory(out, join(out, 'train_input.json'));
    assert.equal(loaded.labelLayout, 'one-hot');
    assert.equal(loaded.xTrain.length, 72 * 650);
    assert.ok(!readdirSync(root).some((n) => n.includes('.tmp')), 'temporary folder left behind');
  });

  it('the seeded random split is deterministic and depends on the seed', () => {
    buildFeaturesDirectory(base('s1', { seed: 7 }));
    buildFeaturesDirectory(base('s2', { seed: 7 }));
    buildFeaturesDirectory(base('s3', { seed: 8 }));
    const ids = (d: string): string => readFileSync(join(root, d, 'sample_id_details.json'), 'utf8');
    assert.equal(ids('s1'), ids('s2'));
    assert.notEqual(ids('s1'), ids('s3'));
    assert.deepEqual(readFileSync(join(root, 's1', 'X_split_train.npy')), readFileSync(join(root, 's2', 'X_split_train.npy')));
  });

  it('splits by file-name patterns and writes a separate hold-out directory', () => {
    const opts = parseFeaturesArgs([
      '--wav-dir', wavDir,
      '--out-directory', join(root, 'r'),
      '--validation-match', '_[0-2]\\.wav$',
      '--holdout-match', '_theo_',
      '--holdout-dir', join(root, 'r-holdout'),
    ]);
    const s = buildFeaturesDirectory(opts);
    assert.equal(s.holdout, 30);
    assert.equal(s.validation, 18); // 3 digits x 2 speakers x takes 0-2
    assert.equal(s.train, 42);
    const names = JSON.parse(readFileSync(join(root, 'r', 'sample_names.json'), 'utf8')) as Record<string, string>;
    assert.ok(Object.values(names).every((n) => !n.includes('theo')));
    const hold = JSON.parse(readFileSync(join(root, 'r-holdout', 'sample_names.json'), 'utf8')) as Record<string, string>;
    assert.equal(Object.values(hold).length, 30);
    assert.ok(Object.values(hold).every((n) => n.includes('_theo_')));
    const hx = readNpyFloat32(join(root, 'r-holdout', 'X_split_test.npy'));
    assert.deepEqual(hx.shape, [30, 650]);
    const hy = readNpyFloat32(join(root, 'r-holdout', 'Y_split_test.npy'));
    assert.deepEqual(hy.shape, [30, 3]);
    const held = loadEiTestSplit(join(root, 'r-holdout'), 3, 650);
    assert.equal(held.rows, 30);
    assert.deepEqual([...new Set(held.y)].sort(), [0, 1, 2]);
    assert.match(userErrorMessage(() => loadEiTestSplit(join(root, 'r-holdout'), 3, 640)), /X_split_test\.npy: shape: 650 features per row, the model takes 640/);
  });

  it('labels from sub-folder names', () => {
    const nested = join(root, 'nested');
    for (const [label, file] of [['yes', '0_jackson_0.wav'], ['yes', '0_jackson_1.wav'], ['no', '1_lucas_0.wav'], ['no', '1_lucas_1.wav']] as const) {
      mkdirSync(join(nested, label), { recursive: true });
      copyFileSync(join(FSDD, file), join(nested, label, file));
    }
    const files = listWavFiles(nested, 'folder');
    assert.deepEqual(files.map((f) => f.label), ['no', 'no', 'yes', 'yes']);
    assert.deepEqual(files.map((f) => f.name), ['no/1_lucas_0.wav', 'no/1_lucas_1.wav', 'yes/0_jackson_0.wav', 'yes/0_jackson_1.wav']);
    const s = buildFeaturesDirectory({ ...base('nested-out'), wavDir: nested, labelFrom: 'folder', validationFraction: 0.5 });
    assert.deepEqual(s.classes, ['no', 'yes']);
    assert.equal(s.validation, 2);
  });

  it('bad inputs are UserErrors', () => {
    assert.match(userErrorMessage(() => buildFeaturesDirectory(base('x', { wavDir: join(root, 'missing') }))), /--wav-dir: .*missing: not a directory/);
    assert.match(
      userErrorMessage(() => buildFeaturesDirectory(base('x', { holdoutMatch: /nobody/, holdoutDir: join(root, 'h') }))),
      /--holdout-match: matches none of the 90 file names/,
    );
    assert.match(userErrorMessage(() => buildFeaturesDirectory(base('x', { validationMatch: /zzz/ }))), /the validation split is empty/);
  });
});

describe('parseFeaturesArgs', () => {
  it('reads every option, both --flag value and --flag=value', () => {
    const o = parseFeaturesArgs([
      '--wav-dir=w', '--out-directory', 'o', '--window-seconds', '0.5', '--label-from', 'folder',
      '--validation-fraction', '0.3', '--seed', '9', '--num-cepstral', '10', '--frame-length', '0.025',
      '--frame-stride', '0.01', '--num-filters', '40', '--fft-length', '512', '--low-frequency', '50',
      '--high-frequency', '3000', '--pre-emphasis', '0.95', '--win-size', '51',
    ]);
    assert.equal(o.wavDir, 'w');
    assert.equal(o.windowSeconds, 0.5);
    assert.equal(o.labelFrom, 'folder');
    assert.equal(o.validationFraction, 0.3);
    assert.equal(o.seed, 9);
    assert.deepEqual(o.mfcc, {
      numCepstral: 10, frameLength: 0.025, frameStride: 0.01, numFilters: 40, fftLength: 512,
      lowFrequency: 50, highFrequency: 3000, preEmphasis: 0.95, winSize: 51,
    });
  });

  it('names the option in every error', () => {
    const req = ['--wav-dir', 'w', '--out-directory', 'o'];
    const cases: [string[], RegExp][] = [
      [['--out-directory', 'o'], /features: --wav-dir: missing/],
      [[...req, '--window-seconds', '0'], /features: --window-seconds: expected a number > 0 and <= 60, got '0'/],
      [[...req, '--validation-fraction', '1'], /features: --validation-fraction: expected a number in \[0, 1\)/],
      [[...req, '--seed', '1.5'], /features: --seed: expected an integer >= 0/],
      [[...req, '--num-cepstral', 'ten'], /features: --num-cepstral: expected an integer >= 1 and <= 128, got 'ten'/],
      [[...req, '--label-from', 'name'], /features: --label-from: expected 'prefix' or 'folder'/],
      [[...req, '--validation-match', '(['], /features: --validation-match: not a valid regular expression/],
      [[...req, '--holdout-match', 'x'], /features: --holdout-dir: expected --holdout-match and --holdout-dir together/],
      [[...req, '--bogus', '1'], /features: --bogus: unknown option/],
      [[...req, '--seed'], /features: --seed: expected a value after it/],
    ];
    for (const [argv, re] of cases) assert.match(userErrorMessage(() => parseFeaturesArgs(argv)), re);
  });
});
