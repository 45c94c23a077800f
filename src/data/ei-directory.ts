/**
 * Loads an Edge Impulse data directory (X_split_train.npy, Y_split_train.npy, X_split_test.npy,
 * Y_split_test.npy; "test" is the validation split) and checks everything training relies on before
 * a single epoch runs, so a bad upload fails in seconds with a message naming the file and field.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { userError } from '../errors.js';
import { readRegularFile } from '../util/file-kind.js';
import { chooseBase, decodeLabels, detectLayout, MAX_CLASSES, type LabelLayout } from './labels.js';
import { readNpyFloat32, readNpyNumbers, type NpyArray } from './npy.js';
import { parseShapeString, readTrainInput, type TrainInput } from './train-input.js';

export const EI_FILES = {
  xTrain: 'X_split_train.npy',
  yTrain: 'Y_split_train.npy',
  xVal: 'X_split_test.npy',
  yVal: 'Y_split_test.npy',
  sampleIds: 'sample_id_details.json',
} as const;

export interface EiDataset {
  xTrain: Float32Array;
  yTrain: Int32Array;
  xVal: Float32Array;
  yVal: Int32Array;
  /** Features per sample (row length of X after flattening). */
  features: number;
  classes: string[];
  /** Per-sample shape when known: from X's own dimensions past the first, else train_input.json. */
  inputShape?: number[];
  labelLayout: LabelLayout;
  /** 1 when integer labels were stored 1-based (Edge Impulse's 4-column layout, or detected). */
  labelBase: 0 | 1;
  info?: TrainInput;
  maxTrainingSeconds?: number;
  sampleIdDetails?: unknown;
  /** One line describing what was detected, for logs and the report. */
  summary: string;
  /** Which shape was used when --input-shape and the data disagree (a line for the log). */
  inputShapeNote?: string;
}

export interface EiLoadOptions {
  /** --input-shape (edge-impulse-blocks runner passes it): used when neither X's shape nor train_input.json gives one. */
  inputShape?: string;
}

type EiPaths = Record<'xTrain' | 'yTrain' | 'xVal' | 'yVal', string>;
type SplitRows = ReturnType<typeof flattenX>;

export function loadEiDirectory(dir: string, infoFile?: string, options: EiLoadOptions = {}): EiDataset {
  const paths = eiPaths(dir);
  const info = infoFile !== undefined ? readTrainInput(infoFile) : undefined;
  const infoWhere = infoFile ?? 'train_input.json';
  const { xt, xv, train, val } = readSplitsX(paths);
  const { inputShape, inputShapeNote } = resolveInputShape(train, info, infoWhere, options.inputShape);
  checkFinite(xt.data, train.features, paths.xTrain);
  checkFinite(xv.data, val.features, paths.xVal);
  const labels = decodeSplitLabels(paths, train.rows, val.rows, info?.classes?.length, infoWhere);
  const { layout, decTrain } = labels;

  const classes = info?.classes ?? Array.from({ length: labels.classCount }, (_, i) => String(i));
  const sampleIdDetails = readSampleIds(join(dir, EI_FILES.sampleIds));
  const baseNote = layout === 'one-hot' ? '' : `, ${decTrain.base}-based`;
  return {
    xTrain: xt.data,
    yTrain: decTrain.labels,
    xVal: xv.data,
    yVal: labels.decVal.labels,
    features: train.features,
    classes,
    ...(inputShape !== undefined ? { inputShape } : {}),
    labelLayout: layout,
    labelBase: decTrain.base,
    ...(info !== undefined ? { info } : {}),
    ...(info?.maxTrainingTimeSeconds !== undefined ? { maxTrainingSeconds: info.maxTrainingTimeSeconds } : {}),
    ...(sampleIdDetails !== undefined ? { sampleIdDetails } : {}),
    ...(inputShapeNote !== undefined ? { inputShapeNote } : {}),
    summary:
      `${train.rows} training and ${val.rows} validation samples, ${train.features} features` +
      `${inputShape !== undefined ? ` (shape ${inputShape.join('x')})` : ''}, ${classes.length} classes, ` +
      `labels ${layout}${baseNote}`,
  };
}

/** The four split files of `dir`, after checking that the directory and each file exist. */
function eiPaths(dir: string): EiPaths {
  const paths = {
    xTrain: join(dir, EI_FILES.xTrain),
    yTrain: join(dir, EI_FILES.yTrain),
    xVal: join(dir, EI_FILES.xVal),
    yVal: join(dir, EI_FILES.yVal),
  };
  checkDirectory(dir, 'data-directory');
  for (const p of Object.values(paths)) {
    if (!existsSync(p)) {
      throw userError(p, 'file', `missing: expected an Edge Impulse data directory holding ${Object.values(EI_FILES).slice(0, 4).join(', ')}`);
    }
  }
  return paths;
}

/** Both X splits, non-empty and with the same feature count. */
function readSplitsX(paths: EiPaths): { xt: NpyArray<Float32Array>; xv: NpyArray<Float32Array>; train: SplitRows; val: SplitRows } {
  const xt = readNpyFloat32(paths.xTrain);
  const xv = readNpyFloat32(paths.xVal);
  const train = flattenX(xt, paths.xTrain);
  const val = flattenX(xv, paths.xVal);
  if (train.rows === 0) throw userError(paths.xTrain, 'shape', 'the training split is empty (0 rows)');
  if (val.rows === 0) throw userError(paths.xVal, 'shape', 'the validation split is empty (0 rows): expected at least one sample');
  if (val.features !== train.features) {
    throw userError(paths.xVal, 'shape', `${val.features} features per row but ${EI_FILES.xTrain} has ${train.features}: expected the same feature count in both splits`);
  }
  return { xt, xv, train, val };
}

/**
 * The per-sample shape: X's own dimensions, else train_input.json's inputShapeString (which must hold a
 * row's features either way), else --input-shape; a note when --input-shape disagrees and is not used.
 */
function resolveInputShape(
  train: SplitRows,
  info: TrainInput | undefined,
  infoWhere: string,
  cliShape: string | undefined,
): { inputShape?: number[]; inputShapeNote?: string } {
  let inputShape = train.inputShape;
  if (info?.inputShape !== undefined) {
    const product = info.inputShape.reduce((a, b) => a * b, 1);
    if (product !== train.features) {
      throw userError(
        infoWhere,
        'inputShapeString',
        `${info.inputShapeString} has ${product} features but ${EI_FILES.xTrain} rows have ${train.features}: expected the shape to hold one row's features`,
      );
    }
    inputShape ??= info.inputShape;
  }
  if (cliShape === undefined) return inputShape !== undefined ? { inputShape } : {};
  const cli = parseShapeString(cliShape, '--input-shape');
  const product = cli.reduce((a, b) => a * b, 1);
  if (inputShape !== undefined) {
    const from = train.inputShape !== undefined ? `${EI_FILES.xTrain}'s shape` : `${infoWhere}'s inputShapeString`;
    if (cli.join(',') === inputShape.join(',')) return { inputShape };
    return { inputShape, inputShapeNote: `--input-shape ${cliShape} not used: ${from} (${inputShape.join(', ')}) is preferred` };
  }
  if (product !== train.features) {
    throw userError('--input-shape', 'shape', `${cliShape} has ${product} features but ${EI_FILES.xTrain} rows have ${train.features}: expected the shape to hold one row's features`);
  }
  return { inputShape: cli };
}

/**
 * Reads both Y splits, checks them against the X row counts and each other, detects the label layout
 * and base, decodes them and fixes the class count (train_input.json's names, else the training split's).
 */
function decodeSplitLabels(paths: EiPaths, trainRows: number, valRows: number, knownClasses: number | undefined, infoWhere: string) {
  const yt = readNpyNumbers(paths.yTrain);
  const yv = readNpyNumbers(paths.yVal);
  checkRows(yt, trainRows, paths.yTrain, EI_FILES.xTrain);
  checkRows(yv, valRows, paths.yVal, EI_FILES.xVal);
  const layout = detectLayout(yt, knownClasses);
  if (labelColumns(yv) !== labelColumns(yt)) {
    throw userError(paths.yVal, 'shape', `(${yv.shape.join(', ')}) does not match ${EI_FILES.yTrain}'s (${yt.shape.join(', ')}): expected the same label layout`);
  }
  const base = chooseBase(layout, [yt, yv], knownClasses);
  const decTrain = decodeLabels(yt, paths.yTrain, layout, base);
  if (knownClasses === undefined && decTrain.impliedClasses > MAX_CLASSES) {
    const what = layout === 'one-hot' ? `one-hot over ${decTrain.impliedClasses} columns` : `labels up to ${decTrain.impliedClasses - 1 + decTrain.base} imply ${decTrain.impliedClasses} classes`;
    throw userError(paths.yTrain, 'labels', `${what}: expected at most ${MAX_CLASSES} classes (class indices 0..${MAX_CLASSES - 1})`);
  }
  const decVal = decodeLabels(yv, paths.yVal, layout, base);

  const present = new Set(decTrain.labels);
  if (present.size < 2) {
    throw userError(paths.yTrain, 'labels', `only one class (${[...present].join('')}) in the training split: expected at least two`);
  }
  if (knownClasses !== undefined && layout === 'one-hot' && decTrain.impliedClasses !== knownClasses) {
    throw userError(infoWhere, 'classes', `${knownClasses} classes named but ${EI_FILES.yTrain} is one-hot over ${decTrain.impliedClasses}: expected one name per one-hot column`);
  }
  // Without class names the training split defines the classes: a class seen only in validation
  // could never be learned, so it is out of range below rather than an extra, untrainable output.
  const classCount = knownClasses ?? decTrain.impliedClasses;
  const rangeWhere = knownClasses !== undefined ? ` (${infoWhere} names ${knownClasses} classes)` : ` (the classes of ${EI_FILES.yTrain})`;
  checkRange(decTrain.labels, classCount, paths.yTrain, decTrain.base, rangeWhere);
  checkRange(decVal.labels, classCount, paths.yVal, decTrain.base, rangeWhere);
  return { layout, decTrain, decVal, classCount };
}

function flattenX(x: NpyArray<Float32Array>, path: string): { rows: number; features: number; inputShape?: number[] } {
  if (x.shape.length < 2) {
    throw userError(path, 'shape', `expected (N, features) or (N, H, W, C), got (${x.shape.join(', ')}${x.shape.length === 1 ? ',' : ''})`);
  }
  const rows = x.shape[0]!;
  const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
  if (features === 0) throw userError(path, 'shape', `rows have no features: (${x.shape.join(', ')}): expected at least one feature per row`);
  return x.shape.length > 2 ? { rows, features, inputShape: x.shape.slice(1) } : { rows, features };
}

/** Columns per label row; (N,) and (N, 1) are the same layout. */
function labelColumns(y: NpyArray<Float64Array>): number {
  return y.shape.length === 1 ? 1 : y.shape.slice(1).reduce((a, b) => a * b, 1);
}

function checkRows(y: NpyArray<Float64Array>, rows: number, path: string, xName: string): void {
  const n = y.shape[0] ?? 0;
  if (n !== rows) throw userError(path, 'shape', `${n} label rows but ${xName} has ${rows} samples: expected one label row per sample`);
}

function checkFinite(data: Float32Array, features: number, path: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw userError(path, `row ${Math.floor(i / features)} column ${i % features}`, `value ${data[i]} is not finite: expected finite numbers`);
    }
  }
}

function checkRange(labels: Int32Array, classes: number, path: string, base: 0 | 1, note: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= classes) {
      throw userError(path, `row ${i} label`, `class ${labels[i]! + base} is out of range: expected ${base}..${classes - 1 + base}${note}`);
    }
  }
}

function checkDirectory(dir: string, field: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw userError(dir, field, `${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(err)})`}: expected a directory holding ${Object.values(EI_FILES).slice(0, 4).join(', ')}`);
  }
  if (!isDir) throw userError(dir, field, `is not a directory: expected a directory holding ${Object.values(EI_FILES).slice(0, 4).join(', ')}`);
}

function readSampleIds(path: string): unknown {
  if (!existsSync(path)) return undefined;
  const text = readRegularFile(path, 'file', 'a JSON document').toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw userError(path, 'JSON', `not valid JSON (${(err as Error).message}): expected a JSON document`);
  }
}

/**
 * Only the X_split_test/Y_split_test pair of a directory: the hold-out set written by
 * `features --holdout-dir` (the SCORE_DIR of torch_kws_ref.py), scored against a model trained
 * elsewhere. `classes` and `features` come from the training directory and are checked here.
 */
export function loadEiTestSplit(dir: string, classes: number, features: number): { x: Float32Array; y: Int32Array; rows: number } {
  const xPath = join(dir, EI_FILES.xVal);
  const yPath = join(dir, EI_FILES.yVal);
  checkDirectory(dir, 'hold-out directory');
  for (const p of [xPath, yPath]) if (!existsSync(p)) throw userError(p, 'file', 'missing: expected a hold-out split');
  const x = readNpyFloat32(xPath);
  const shape = flattenX(x, xPath);
  if (shape.features !== features) throw userError(xPath, 'shape', `${shape.features} features per row, the model takes ${features}`);
  checkFinite(x.data, features, xPath);
  const y = readNpyNumbers(yPath);
  checkRows(y, shape.rows, yPath, EI_FILES.xVal);
  const layout = detectLayout(y, classes);
  const dec = decodeLabels(y, yPath, layout, chooseBase(layout, [y], classes));
  if (layout === 'one-hot' && dec.impliedClasses !== classes) {
    throw userError(yPath, 'shape', `one-hot over ${dec.impliedClasses} classes, the model has ${classes}`);
  }
  checkRange(dec.labels, classes, yPath, dec.base, '');
  return { x: x.data, y: dec.labels, rows: shape.rows };
}
