/**
 * A folder of WAV files as a labelled data set: discovery, labels, MFCC per file, and the
 * train/validation/hold-out split.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { userError } from '../errors.js';
import { Rng } from '../engine/rng.js';
import { mfcc, MFCC_DEFAULTS, padOrCrop, type MfccOptions } from './mfcc.js';
import { readWav } from './wav.js';

export type LabelSource = 'prefix' | 'folder';

export interface WavFile {
  /** Path relative to the WAV folder, '/'-separated. */
  name: string;
  path: string;
  label: string;
}

export interface WavFeatures {
  features: Float32Array;
  frames: number;
  coeffs: number;
  sampleRate: number;
  /** Channels in the file; above 1 the channels were averaged. */
  channels: number;
}

/**
 * MFCC features for one WAV file, padded with zeros or cropped to `windowSeconds`.
 * This is what `features` computes per file and what `predict` computes for an audio input.
 */
export function computeWavFeatures(path: string, windowSeconds = 1, mfccOptions: Partial<MfccOptions> = {}): WavFeatures {
  const wav = readWav(path);
  // A header's rate too low for one MFCC frame (1 Hz: a frame of no samples) is named, not a RangeError.
  const frameLength = mfccOptions.frameLength ?? MFCC_DEFAULTS.frameLength;
  const frameStride = mfccOptions.frameStride ?? MFCC_DEFAULTS.frameStride;
  const minRate = Math.ceil(2 / Math.min(frameLength, frameStride));
  if (wav.sampleRate < minRate)
    throw userError(path, 'fmt chunk: sample rate', `${wav.sampleRate} Hz is too low for MFCC frames of ${frameLength} s: expected at least ${minRate} Hz`);
  const n = Math.round(wav.sampleRate * windowSeconds);
  const r = mfcc(padOrCrop(wav.samples, n), wav.sampleRate, mfccOptions);
  return { features: r.features, frames: r.frames, coeffs: r.coeffs, sampleRate: wav.sampleRate, channels: wav.channels };
}

/**
 * Paths of every .wav under `dir`, recursively, sorted by relative path. A symbolic link counts as what
 * it points to (folders of links to recordings are a common way to make a subset).
 */
export function findWavFiles(dir: string): string[] {
  const out: string[] = [];
  // Real paths of the folders being walked: a link back to one of them is a loop, which would recurse forever.
  const ancestors = new Set<string>();
  const walk = (d: string): void => {
    const real = realpathSync(d);
    if (ancestors.has(real)) throw userError(d, 'symbolic link', `leads back to ${real}, a folder it is inside (a loop): expected a folder tree without cycles`);
    ancestors.add(real);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      let target;
      try {
        target = e.isSymbolicLink() ? statSync(p, { throwIfNoEntry: false }) : e;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw userError(p, 'symbolic link', `${code === 'ELOOP' ? 'is a loop of links' : `cannot be followed (${code ?? String(err)})`}: expected a link to a .wav file or a folder`);
      }
      if (target?.isDirectory()) walk(p);
      else if (target?.isFile() && e.name.toLowerCase().endsWith('.wav')) out.push(p);
    }
    ancestors.delete(real);
  };
  walk(dir);
  const rel = (p: string): string => relative(dir, p).split('\\').join('/');
  return out.sort((a, b) => (rel(a) < rel(b) ? -1 : rel(a) > rel(b) ? 1 : 0));
}

/** Every .wav under `dir` (recursively), sorted by relative path, with its label. */
export function listWavFiles(dir: string, labelFrom: LabelSource): WavFile[] {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw userError('--wav-dir', dir, 'not a directory: expected a folder of .wav files');
  const files = findWavFiles(dir).map((path) => {
    const name = relative(dir, path).split('\\').join('/');
    return { name, path, label: labelOf(name, path, dir, labelFrom) };
  });
  if (files.length === 0) throw userError('--wav-dir', dir, 'contains no .wav files');
  return files;
}

function labelOf(name: string, path: string, root: string, from: LabelSource): string {
  if (from === 'folder') {
    const parent = dirname(path);
    if (relative(root, parent) === '') {
      throw userError(name, 'label', 'file sits directly in --wav-dir: with --label-from folder, put each class in its own sub-folder');
    }
    return basename(parent);
  }
  const base = basename(name).replace(/\.wav$/i, '');
  const cut = base.search(/[_-]/);
  if (cut <= 0) {
    throw userError(name, 'label', "file name has no label prefix: expected '<label>_...' or '<label>-...' (or use --label-from folder)");
  }
  return base.slice(0, cut);
}

/** Class names in a stable order: numeric-aware, so "2" sorts before "10". */
export function sortClasses(labels: Iterable<string>): string[] {
  return [...new Set(labels)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export interface SplitOptions {
  validationFraction: number;
  validationMatch?: RegExp;
  holdoutMatch?: RegExp;
  seed: number;
  /**
   * 'random' (the default): a seeded share of each class's files. 'group': whole groups (a speaker, a
   * device, a session) go to validation, so no group is in both splits; a file's group is named by its
   * file name (see groupOf).
   */
  splitBy?: 'random' | 'group';
  /** The group of a file: the regex's first capture group (else its whole match) on the file's path. */
  groupMatch?: RegExp;
}

export interface Split {
  train: number[];
  validation: number[];
  holdout: number[];
  /** Which rule made the validation split, in words, for the log. */
  rule: string;
  /** With splitBy 'group': the groups in validation, sorted. */
  validationGroups?: string[];
  /** With splitBy 'group': how many groups there were (hold-out files aside). */
  groups?: number;
}

/**
 * A file's group for the group split. By default the file-name rule of Edge Impulse and the FSDD,
 * '<label>_<group>_<rest>.wav' (or '-'): the field after the label prefix, e.g. 'jackson' in
 * '0_jackson_12.wav'; with --label-from folder, whose file names carry no label, the first field
 * (Speech Commands' 'yes/0a7c2a8d_nohash_0.wav': speaker 0a7c2a8d). With `match`: its first capture
 * group (else the whole match). A file without one is an error naming it.
 */
export function groupOf(file: WavFile, match?: RegExp): string {
  if (match) {
    const m = match.exec(file.name);
    const g = m?.[1] ?? m?.[0];
    if (!g) throw userError(file.name, 'group', `--group-match ${match.source} does not match this file name: expected it to name every file's group`);
    return g;
  }
  const base = basename(file.name).replace(/\.wav$/i, '');
  const fields = base.split(/[_-]/);
  const g = fields[0] === file.label ? fields[1] : fields[0];
  if (!g || fields.length < 2) {
    throw userError(file.name, 'group', "file name has no group field: expected '<label>_<group>_...' (e.g. 0_jackson_12.wav) or --group-match REGEX");
  }
  return g;
}

/**
 * Hold-out files (matching holdoutMatch) are set aside first. Of the rest, files matching
 * validationMatch go to validation; without it a seeded random, per-label (stratified) share of
 * validationFraction does. Indices come back ascending, so the split depends only on the seed.
 */
export function splitFiles(files: readonly WavFile[], opts: SplitOptions): Split {
  const split: Split = { train: [], validation: [], holdout: [], rule: '' };
  const rest: number[] = [];
  files.forEach((f, i) => {
    if (opts.holdoutMatch !== undefined && opts.holdoutMatch.test(f.name)) split.holdout.push(i);
    else rest.push(i);
  });
  if (opts.validationMatch !== undefined) {
    for (const i of rest) (opts.validationMatch.test(files[i]!.name) ? split.validation : split.train).push(i);
    split.rule = `files matching --validation-match ${opts.validationMatch.source}`;
    return split;
  }
  if (opts.splitBy === 'group') return groupSplit(files, rest, opts, split);
  split.rule = `random: a seeded ${opts.validationFraction} of each class's files (a speaker's recordings can be in both splits; --split group keeps each group in one)`;
  const rng = new Rng(opts.seed);
  const byLabel = new Map<string, number[]>();
  for (const i of rest) {
    const list = byLabel.get(files[i]!.label) ?? [];
    list.push(i);
    byLabel.set(files[i]!.label, list);
  }
  for (const label of sortClasses(byLabel.keys())) {
    const members = byLabel.get(label)!;
    rng.shuffle(members);
    const take = Math.round(members.length * opts.validationFraction);
    split.validation.push(...members.slice(0, take));
    split.train.push(...members.slice(take));
  }
  split.train.sort((a, b) => a - b);
  split.validation.sort((a, b) => a - b);
  return split;
}

/** Whole groups to validation (seeded), until they hold at least validationFraction of the files; at least one group stays in training. */
function groupSplit(files: readonly WavFile[], rest: readonly number[], opts: SplitOptions, split: Split): Split {
  const byGroup = new Map<string, number[]>();
  for (const i of rest) {
    const g = groupOf(files[i]!, opts.groupMatch);
    byGroup.set(g, [...(byGroup.get(g) ?? []), i]);
  }
  const groups = [...byGroup.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  if (groups.length < 2) {
    throw userError('features', '--split group', `found ${groups.length} group${groups.length === 1 ? ` ('${groups[0]}')` : 's'}: expected at least two (one for training, one for validation)`);
  }
  const order = [...groups];
  new Rng(opts.seed).shuffle(order);
  const want = rest.length * opts.validationFraction;
  const chosen: string[] = [];
  let count = 0;
  for (const g of order) {
    if (count >= want || chosen.length === groups.length - 1) break;
    chosen.push(g);
    count += byGroup.get(g)!.length;
  }
  const inValidation = new Set(chosen);
  for (const g of groups) (inValidation.has(g) ? split.validation : split.train).push(...byGroup.get(g)!);
  split.train.sort((a, b) => a - b);
  split.validation.sort((a, b) => a - b);
  split.validationGroups = [...chosen].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  split.groups = groups.length;
  const how = opts.groupMatch ? `--group-match ${opts.groupMatch.source}` : "the file-name rule '<label>_<group>_...'";
  split.rule = `group: by ${how}, ${groups.length} groups, validation ${split.validationGroups.join(', ')} (${split.validation.length} files), no group in both splits`;
  return split;
}
