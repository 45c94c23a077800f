/**
 * The `features` command: a folder of WAV files -> an Edge Impulse data directory of MFCC features
 * (X_split_*.npy float32, Y_split_*.npy one-hot float32, sample_id_details.json, train_input.json),
 * optionally with a separate hold-out directory whose X_split_test/Y_split_test no training decision sees.
 */
import { resolve } from 'node:path';
import { userError } from '../errors.js';
import { parseCommandLine } from '../cli/args.js';
import { fsError, OutTransaction } from '../util/out-transaction.js';
import { MFCC_DEFAULTS, type MfccOptions } from '../data/mfcc.js';
import { writeNpy } from '../data/npy.js';
import { computeWavFeatures, listWavFiles, sortClasses, splitFiles, type LabelSource, type WavFile } from '../data/wav-dataset.js';

export interface FeaturesOptions {
  wavDir: string;
  outDir: string;
  windowSeconds: number;
  labelFrom: LabelSource;
  validationFraction: number;
  validationMatch?: RegExp;
  holdoutMatch?: RegExp;
  holdoutDir?: string;
  seed: number;
  /** 'random' (default) or 'group': whole groups (speakers) to validation, named by the file-name rule or groupMatch. */
  splitBy?: 'random' | 'group';
  groupMatch?: RegExp;
  mfcc: Partial<MfccOptions>;
}

export const FEATURES_DEFAULTS = {
  windowSeconds: 1,
  labelFrom: 'prefix' as LabelSource,
  validationFraction: 0.2,
  seed: 1,
};

export interface FeaturesSummary {
  outDir: string;
  holdoutDir?: string;
  classes: string[];
  features: number;
  frames: number;
  coeffs: number;
  sampleRate: number;
  train: number;
  validation: number;
  holdout: number;
  /** Files whose channels were averaged to mono. */
  multiChannelFiles: number;
  /** Which rule made the validation split, in words (also logged). */
  split: string;
  /** With --split group: the groups in validation. */
  validationGroups?: string[];
}

/**
 * Ranges are what MFCC front ends for keyword spotting use, with room to spare; the upper bounds keep an
 * absurd value (an FFT of a million points per frame, a frame a minute long) from running for hours.
 */
const MFCC_FLAGS: Record<string, { key: keyof MfccOptions; integer: boolean; min: number; max: number }> = {
  '--num-cepstral': { key: 'numCepstral', integer: true, min: 1, max: 128 },
  '--frame-length': { key: 'frameLength', integer: false, min: Number.MIN_VALUE, max: 1 },
  '--frame-stride': { key: 'frameStride', integer: false, min: 0.001, max: 1 },
  '--num-filters': { key: 'numFilters', integer: true, min: 1, max: 512 },
  '--fft-length': { key: 'fftLength', integer: true, min: 2, max: 16384 },
  '--low-frequency': { key: 'lowFrequency', integer: false, min: 0, max: 192000 },
  '--high-frequency': { key: 'highFrequency', integer: false, min: 0, max: 192000 },
  '--pre-emphasis': { key: 'preEmphasis', integer: false, min: -1, max: 1 },
  '--win-size': { key: 'winSize', integer: true, min: 1, max: 10000 },
};
/** Longest window per file, in seconds (features grow with it; keyword spotting uses about 1 s). */
const MAX_WINDOW_SECONDS = 60;
/** The files written into a data directory (and its hold-out directory); a previous run's extra ones are removed. */
const FEATURES_OUTPUTS = [
  'X_split_train.npy',
  'Y_split_train.npy',
  'X_split_test.npy',
  'Y_split_test.npy',
  'sample_id_details.json',
  'sample_names.json',
  'train_input.json',
];

/** Parses the `features` command line (after the command name). Accepts `--flag value` and `--flag=value`. */
export function parseFeaturesArgs(argv: readonly string[]): FeaturesOptions {
  const options = Object.fromEntries([...KNOWN_FLAGS].map((f) => [f.slice(2), { type: 'string' as const }]));
  const { values: parsed } = parseCommandLine('features', argv, options);
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) if (typeof value === 'string') values.set(`--${name}`, value);
  const wavDir = values.get('--wav-dir');
  const outDir = values.get('--out-directory');
  if (wavDir === undefined) throw userError('features', '--wav-dir', 'missing: expected the folder of .wav files');
  if (outDir === undefined) throw userError('features', '--out-directory', 'missing: expected the data directory to write');
  const labelFrom = values.get('--label-from') ?? FEATURES_DEFAULTS.labelFrom;
  if (labelFrom !== 'prefix' && labelFrom !== 'folder') {
    throw userError('features', '--label-from', `expected 'prefix' or 'folder', got '${labelFrom}'`);
  }
  const opts: FeaturesOptions = {
    wavDir,
    outDir,
    windowSeconds: numberFlag(values, '--window-seconds', FEATURES_DEFAULTS.windowSeconds, false, Number.MIN_VALUE, MAX_WINDOW_SECONDS),
    labelFrom,
    validationFraction: numberFlag(values, '--validation-fraction', FEATURES_DEFAULTS.validationFraction, false, 0),
    seed: numberFlag(values, '--seed', FEATURES_DEFAULTS.seed, true, 0, 4294967295),
    mfcc: {},
  };
  if (opts.validationFraction >= 1) {
    throw userError('features', '--validation-fraction', `expected a number in [0, 1), got ${opts.validationFraction}`);
  }
  const splitBy = values.get('--split') ?? 'random';
  if (splitBy !== 'random' && splitBy !== 'group') throw userError('features', '--split', `expected 'random' or 'group', got '${splitBy}'`);
  if (splitBy === 'group') opts.splitBy = 'group';
  const groupMatch = regexFlag(values, '--group-match');
  if (groupMatch !== undefined) {
    if (splitBy !== 'group') throw userError('features', '--group-match', 'names the groups of --split group: expected --split group with it');
    opts.groupMatch = groupMatch;
  }
  const validationMatch = regexFlag(values, '--validation-match');
  const holdoutMatch = regexFlag(values, '--holdout-match');
  const holdoutDir = values.get('--holdout-dir');
  if (validationMatch !== undefined) {
    if (splitBy === 'group')
      throw userError('features', '--validation-match', 'chooses the validation files itself: expected it or --split group, not both');
    opts.validationMatch = validationMatch;
  }
  if (holdoutMatch !== undefined) opts.holdoutMatch = holdoutMatch;
  if (holdoutDir !== undefined) opts.holdoutDir = holdoutDir;
  if ((holdoutMatch === undefined) !== (holdoutDir === undefined)) {
    throw userError('features', holdoutMatch === undefined ? '--holdout-match' : '--holdout-dir', 'expected --holdout-match and --holdout-dir together');
  }
  for (const [flag, spec] of Object.entries(MFCC_FLAGS)) {
    if (values.has(flag)) opts.mfcc[spec.key] = numberFlag(values, flag, MFCC_DEFAULTS[spec.key], spec.integer, spec.min, spec.max);
  }
  return opts;
}

const KNOWN_FLAGS = new Set([
  '--wav-dir',
  '--out-directory',
  '--window-seconds',
  '--label-from',
  '--validation-fraction',
  '--validation-match',
  '--holdout-match',
  '--holdout-dir',
  '--seed',
  '--split',
  '--group-match',
  ...Object.keys(MFCC_FLAGS),
]);

/** `dendritic features --help`. */
export const FEATURES_HELP = `Usage: dendritic features --wav-dir DIR --out-directory DIR [options]

Computes Edge Impulse MFCC features (the keyword-spotting defaults) from a folder of WAV files and writes
an Edge Impulse data directory: X_split_{train,test}.npy, Y_split_{train,test}.npy (one-hot),
sample_id_details.json and train_input.json. Prints a JSON summary on stdout.

Options:
  --wav-dir DIR               folder of .wav files (required)
  --out-directory DIR         data directory to write (required)
  --window-seconds S          window per file, cut or zero-padded (default ${FEATURES_DEFAULTS.windowSeconds})
  --label-from prefix|folder  class from the file name's '<label>_' prefix or the parent folder (default ${FEATURES_DEFAULTS.labelFrom})
  --validation-fraction F     share of files in the validation split, [0, 1) (default ${FEATURES_DEFAULTS.validationFraction})
  --validation-match REGEX    files whose path matches go to validation instead of a random share
  --holdout-match REGEX       files whose path matches go to a separate hold-out directory (with --holdout-dir)
  --holdout-dir DIR           where the hold-out X_split_test/Y_split_test are written
  --split random|group        random: a seeded share of each class's files (default; one speaker's
                              recordings land in both splits, so validation flatters); group: whole
                              groups to validation, a file's group by the file-name rule
                              '<label>_<group>_...' (0_jackson_12.wav: jackson), no group in both splits
  --group-match REGEX         with --split group: a file's group is the first capture group of REGEX
                              on its path (e.g. '^[^_]+_([^_]+)_')
  --seed N                    seed of the random or group split (default ${FEATURES_DEFAULTS.seed})
The log (stderr) says which split was used. train_input.json's inputShapeString is (frames,
coefficients): train with --info-file D/train_input.json (as Edge Impulse passes it) and 'auto' picks
the keyword-spotting conv net for any --num-cepstral.
MFCC (Edge Impulse's MFCC block parameters):
  --num-cepstral N  --frame-length S  --frame-stride S  --num-filters N  --fft-length N
  --low-frequency HZ  --high-frequency HZ  --pre-emphasis C  --win-size N
`;

function numberFlag(values: Map<string, string>, flag: string, fallback: number, integer: boolean, min: number, max = Infinity): number {
  const text = values.get(flag);
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    const what = integer ? 'an integer' : 'a number';
    const bound = min === Number.MIN_VALUE ? ' > 0' : Number.isFinite(min) ? ` >= ${min}` : '';
    const upper = Number.isFinite(max) ? `${bound ? ' and' : ''} <= ${max}` : '';
    throw userError('features', flag, `expected ${what}${bound}${upper}, got '${text}'`);
  }
  return v;
}

function regexFlag(values: Map<string, string>, flag: string): RegExp | undefined {
  const text = values.get(flag);
  if (text === undefined) return undefined;
  try {
    return new RegExp(text);
  } catch (err) {
    throw userError('features', flag, `not a valid regular expression: ${(err as Error).message}`);
  }
}

/** Computes the features and writes the data directory (and the hold-out directory when asked). */
export function buildFeaturesDirectory(opts: FeaturesOptions): FeaturesSummary {
  if (!(opts.validationFraction >= 0 && opts.validationFraction < 1)) {
    throw userError('features', 'validationFraction', `expected a number in [0, 1), got ${opts.validationFraction}`);
  }
  if ((opts.holdoutMatch === undefined) !== (opts.holdoutDir === undefined)) {
    throw userError('features', 'holdoutDir', 'expected holdoutMatch and holdoutDir together');
  }
  if (opts.holdoutDir !== undefined && resolve(opts.holdoutDir) === resolve(opts.outDir)) {
    throw userError('features', '--holdout-dir', 'must differ from --out-directory');
  }
  // Out directories are checked and locked before the (long) feature computation.
  const out = OutTransaction.open(opts.outDir, { command: 'features', manages: FEATURES_OUTPUTS });
  const holdout = opts.holdoutDir !== undefined ? openOrAbort(opts.holdoutDir, out) : undefined;
  try {
    return computeAndWrite(opts, out, holdout);
  } finally {
    out.abort();
    holdout?.abort();
  }
}

function openOrAbort(dir: string, first: OutTransaction): OutTransaction {
  try {
    return OutTransaction.open(dir, { command: 'features', manages: FEATURES_OUTPUTS });
  } catch (err) {
    first.abort();
    throw err;
  }
}

function computeAndWrite(opts: FeaturesOptions, out: OutTransaction, holdout: OutTransaction | undefined): FeaturesSummary {
  const { files, classes, split } = listAndSplit(opts);
  const computed = computeAllFeatures(files, opts);
  const { featureCount, frames, coeffs, sampleRate } = computed;
  const trainInput = {
    classes,
    mode: 'classification',
    // frames x coefficients: `auto` reads it as a spectrogram (the KWS conv net) whatever --num-cepstral is
    inputShapeString: `(${frames}, ${coeffs})`,
    dendriticFeatures: {
      windowSeconds: opts.windowSeconds,
      sampleRate,
      frames,
      coeffs,
      mfcc: { ...MFCC_DEFAULTS, ...opts.mfcc },
      labelFrom: opts.labelFrom,
    },
  };
  const writer = new FeatureFileWriter(files, classes, computed.featuresOf, featureCount, JSON.stringify(trainInput, null, 2) + '\n');
  writer.write(out, { train: split.train, validation: split.validation });
  if (holdout) writer.write(holdout, { train: [], validation: split.holdout });
  out.publish();
  holdout?.publish();
  return {
    outDir: opts.outDir,
    ...(opts.holdoutDir !== undefined ? { holdoutDir: opts.holdoutDir } : {}),
    classes,
    features: featureCount,
    frames,
    coeffs,
    sampleRate,
    train: split.train.length,
    validation: split.validation.length,
    holdout: split.holdout.length,
    multiChannelFiles: computed.multiChannelFiles,
    split: split.rule,
    ...(split.validationGroups ? { validationGroups: split.validationGroups } : {}),
  };
}

/** The WAV files, their classes (at least two) and the train/validation/hold-out split (none empty that is asked for). */
function listAndSplit(opts: FeaturesOptions): { files: WavFile[]; classes: string[]; split: ReturnType<typeof splitFiles> } {
  const files = listWavFiles(opts.wavDir, opts.labelFrom);
  const classes = sortClasses(files.map((f) => f.label));
  if (classes.length < 2) throw userError('--wav-dir', opts.wavDir, `only one label ('${classes[0]}') found: expected at least two classes`);
  const split = splitFiles(files, opts);
  if (split.train.length === 0) throw userError('features', 'split', 'no files left for training: check --validation-match/--holdout-match');
  if (split.validation.length === 0) {
    throw userError('features', 'split', 'the validation split is empty: raise --validation-fraction or fix --validation-match');
  }
  if (opts.holdoutMatch !== undefined && split.holdout.length === 0) {
    throw userError('features', '--holdout-match', `matches none of the ${files.length} file names`);
  }
  return { files, classes, split };
}

/** Computes every file once, in file order, so all splits share one check of the feature length and sample rate. */
function computeAllFeatures(files: readonly WavFile[], opts: FeaturesOptions) {
  let featureCount = -1;
  let frames = 0;
  let coeffs = 0;
  let sampleRate = 0;
  let multiChannelFiles = 0;
  const featuresOf: Float32Array[] = [];
  for (const f of files) {
    const r = computeWavFeatures(f.path, opts.windowSeconds, opts.mfcc);
    if (featureCount === -1) {
      featureCount = r.features.length;
      frames = r.frames;
      coeffs = r.coeffs;
      sampleRate = r.sampleRate;
    } else if (r.sampleRate !== sampleRate) {
      throw userError(f.path, 'sample rate', `${r.sampleRate} Hz differs from ${sampleRate} Hz of ${files[0]!.name}: resample to one rate`);
    }
    if (r.channels > 1) multiChannelFiles++;
    const bad = r.features.findIndex((v) => !Number.isFinite(v));
    if (bad !== -1)
      throw userError(f.path, `feature ${bad}`, `the MFCC of this file is ${r.features[bad]}: expected finite features (check the recording's samples)`);
    featuresOf.push(r.features);
  }
  return { featuresOf, featureCount, frames, coeffs, sampleRate, multiChannelFiles };
}

/** Writes the files of one out directory: the splits as .npy (one-hot labels), sample ids and names, train_input.json. */
class FeatureFileWriter {
  private readonly classIndex: Map<string, number>;

  constructor(
    private readonly files: readonly WavFile[],
    private readonly classes: string[],
    private readonly featuresOf: readonly Float32Array[],
    private readonly featureCount: number,
    private readonly trainInputJson: string,
  ) {
    this.classIndex = new Map(classes.map((c, i) => [c, i]));
  }

  /** `ids.train` (none in a hold-out directory) becomes the train split, `ids.validation` the test split. */
  write(tx: OutTransaction, ids: { train: number[]; validation: number[] }): void {
    if (ids.train.length > 0) this.writeSplit(tx, 'train', ids.train);
    this.writeSplit(tx, 'test', ids.validation);
    tx.writeFile('sample_id_details.json', JSON.stringify(ids));
    const named = [...ids.train, ...ids.validation];
    tx.writeFile('sample_names.json', JSON.stringify(Object.fromEntries(named.map((i) => [i, this.files[i]!.name])), null, 1));
    tx.writeFile('train_input.json', this.trainInputJson);
  }

  private writeSplit(tx: OutTransaction, name: 'train' | 'test', idx: number[]): void {
    const { featureCount, classes } = this;
    const x = new Float32Array(idx.length * featureCount);
    const y = new Float32Array(idx.length * classes.length);
    idx.forEach((fileIdx, row) => {
      x.set(this.featuresOf[fileIdx]!, row * featureCount);
      y[row * classes.length + this.classIndex.get(this.files[fileIdx]!.label)!] = 1;
    });
    for (const [file, data, width] of [
      [`X_split_${name}.npy`, x, featureCount],
      [`Y_split_${name}.npy`, y, classes.length],
    ] as const) {
      try {
        writeNpy(tx.path(file), data, [idx.length, width], 'float32');
      } catch (err) {
        throw fsError(err, tx.outDir, `writing ${file}`);
      }
      tx.recordStaged(file);
    }
  }
}

export type { WavFile };
