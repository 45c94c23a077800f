/**
 * `dendritic predict MODEL INPUT`: runs an exported file (model.onnx, model.tflite or
 * model_quantized_int8_io.tflite) on features (X.npy) or audio (one .wav or a folder of them) and prints
 * class probabilities, so a user can check a model outside Edge Impulse with the same interpreters the
 * training run measured it with.
 *
 * Class names and the audio feature settings come from the report.json beside the model (or --report);
 * a WAV file becomes features exactly as `features` computed them for training.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative } from 'node:path';
import { userError } from '../errors.js';
import { readRegularFile } from '../util/file-kind.js';
import { readNpyFloat32, readNpyNumbers } from '../data/npy.js';
import { chooseBase, decodeLabels, detectLayout } from '../data/labels.js';
import { parseCommandLine } from '../cli/args.js';
import { computeWavFeatures, findWavFiles } from '../data/wav-dataset.js';
import { MFCC_DEFAULTS } from '../data/mfcc.js';
import type { AudioFeatureSettings } from '../data/audio-features.js';
import { runOnnx } from '../export/onnx/runtime.js';
import { decodeModel, type ValueInfoMessage } from '../export/onnx/proto.js';
import { runTflite } from '../export/tflite/runtime.js';
import { readTfliteIo, TensorType, TFLITE_FILE_IDENTIFIER } from '../export/tflite/schema.js';
import { tfliteStructureProblem } from '../export/tflite/verify.js';
import { readReportJson, REPORT_JSON } from '../report/write.js';

export interface PredictOptions {
  model: string;
  input: string;
  report?: string;
  labels?: string[];
  /** Y.npy with the true class of each row of an .npy input (any Edge Impulse label layout). */
  y?: string;
  json: boolean;
}

export interface Prediction {
  /** Row index for .npy input, the file's path relative to the input folder for audio. */
  input: string;
  predicted: string;
  probabilities: number[];
  /** The true class: from --y for .npy input, from the file-name prefix or folder for audio (when a known class). */
  expected?: string;
}

export interface PredictResult {
  format: 'onnx' | 'tflite-float' | 'tflite-int8';
  classes: string[];
  predictions: Prediction[];
  /** Over the inputs with an `expected` class; null when none has one. */
  accuracy: number | null;
}

/** `dendritic predict --help`. */
export const PREDICT_HELP = `Usage: dendritic predict MODEL INPUT [options]

Runs an exported model (model.onnx, model.tflite, model_quantized_int8_io.tflite) with the runtime the
training run verified it with, and prints class probabilities on stdout.

INPUT: features X.npy ([samples, features...]), one .wav file or a folder of .wav files (turned into
features with the settings recorded in report.json, as \`features\` computed them for training).

Accuracy is reported when the true class is known: for .npy give the labels with --y (Y_split_test.npy
of an Edge Impulse data directory: one-hot, class indices or Edge Impulse's 4-column layout); for audio
the class comes from the file name's '<label>_' prefix or its folder.

Options:
  --y Y.npy           true labels of X.npy, one row per sample: adds "expected" and the accuracy
  --report FILE       report.json with class names and feature settings (default: beside MODEL)
  --labels a,b,c      class names, in output order (instead of report.json's)
  --json              one JSON object per input, then a summary object
  -h, --help          show this help
`;

export function parsePredictArgs(argv: readonly string[]): PredictOptions {
  const { values, positionals } = parseCommandLine(
    'predict',
    argv,
    { json: { type: 'boolean' }, report: { type: 'string' }, labels: { type: 'string' }, y: { type: 'string' } },
    { min: 2, max: 2, names: 'MODEL and INPUT' },
  );
  return {
    model: positionals[0]!,
    input: positionals[1]!,
    json: values.json === true,
    ...(values.report !== undefined ? { report: values.report } : {}),
    ...(values.labels !== undefined ? { labels: values.labels.split(',').map((s) => s.trim()) } : {}),
    ...(values.y !== undefined ? { y: values.y } : {}),
  };
}

export async function predict(opts: PredictOptions): Promise<PredictResult> {
  const modelBytes = readModel(opts.model);
  const format = modelFormat(opts.model, modelBytes);
  const reportPath = opts.report ?? join(dirname(opts.model), REPORT_JSON);
  const report = opts.report !== undefined || existsSync(reportPath) ? readReportJson(reportPath) : undefined;
  const audio = report?.data.audio_features;

  const rows = loadInputs(opts.input, audio);
  const features = rows.features;
  const expectedFeatures = format === 'onnx' ? onnxInputCount(opts.model, modelBytes) : tfliteInputCount(modelBytes);
  if (expectedFeatures !== undefined && features !== expectedFeatures) {
    const hint = rows.fromAudio
      ? audio
        ? ''
        : ` (no report.json with data.audio_features: default MFCC settings and a 1 s window were used; pass --report)`
      : '';
    throw userError(opts.input, 'features', `the model expects ${expectedFeatures} features per sample, the input has ${features}${hint}`);
  }
  let probs: Float32Array;
  try {
    probs =
      format === 'onnx'
        ? await runOnnx(modelBytes, rows.x, rows.names.length, features)
        : await runTflite(modelBytes, rows.x, rows.names.length, features);
  } catch (err) {
    // The file decoded but its runtime cannot run it: a damaged or foreign model, not a bug here.
    throw userError(
      opts.model,
      'model',
      `${format === 'onnx' ? 'onnxruntime' : 'the TFLite interpreter'} cannot run it (${(err as Error).message.split('\n')[0]}): expected a model exported by dendritic train`,
    );
  }
  const n = rows.names.length;
  const classCount = n > 0 ? probs.length / n : (opts.labels?.length ?? report?.data.classes.length ?? 0);
  const classes = opts.labels ?? report?.data.classes ?? Array.from({ length: classCount }, (_, i) => String(i));
  if (classes.length !== classCount) {
    throw userError(opts.labels ? '--labels' : reportPath, 'classes', `expected ${classCount} class names (the model's outputs), got ${classes.length}`);
  }
  const truth = opts.y !== undefined ? readTruth(opts.y, opts.input, n, classes.length) : undefined;
  const predictions: Prediction[] = [];
  let known = 0;
  let correct = 0;
  for (let s = 0; s < n; s++) {
    const p = Array.from(probs.subarray(s * classCount, (s + 1) * classCount));
    let best = 0;
    for (let c = 1; c < classCount; c++) if (p[c]! > p[best]!) best = c;
    const pred: Prediction = { input: rows.names[s]!, predicted: classes[best]!, probabilities: p };
    const expected = truth ? classes[truth[s]!] : rows.fromAudio ? expectedClass(rows.names[s]!, classes) : undefined;
    if (expected !== undefined) {
      pred.expected = expected;
      known++;
      if (expected === pred.predicted) correct++;
    }
    predictions.push(pred);
  }
  return { format, classes, predictions, accuracy: known > 0 ? correct / known : null };
}

export async function predictCommand(argv: readonly string[], write: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const opts = parsePredictArgs(argv);
  const result = await predict(opts);
  if (opts.json) {
    for (const p of result.predictions) {
      write(
        `${JSON.stringify({ input: p.input, predicted: p.predicted, ...(p.expected !== undefined ? { expected: p.expected } : {}), probabilities: Object.fromEntries(result.classes.map((c, i) => [c, round(p.probabilities[i]!)])) })}\n`,
      );
    }
  } else {
    for (const line of renderTable(result)) write(`${line}\n`);
  }
  if (result.accuracy !== null) {
    const scored = result.predictions.filter((p) => p.expected !== undefined).length;
    write(
      opts.json
        ? `${JSON.stringify({ summary: { format: result.format, accuracy: result.accuracy, scored } })}\n`
        : `accuracy ${(100 * result.accuracy).toFixed(2)}% over ${scored} inputs ${opts.y !== undefined ? `labelled by ${opts.y}` : 'whose name gives the class'} (${result.format})\n`,
    );
  }
  return 0;
}

function renderTable(r: PredictResult): string[] {
  const nameWidth = Math.min(40, Math.max(5, ...r.predictions.map((p) => p.input.length)));
  // Input names (paths) may be clipped at the front; class names never are: each column is as wide as its name.
  const clip = (s: string, w: number): string => (s.length > w ? `…${s.slice(s.length - w + 1)}` : s.padEnd(w));
  const classWidth = Math.max(9, ...r.classes.map((c) => c.length));
  // Up to 12 classes every probability fits a terminal line; beyond, the three most likely are shown.
  const all = r.classes.length <= 12;
  const widths = r.classes.map((c) => Math.max(6, c.length));
  const header = `${'input'.padEnd(nameWidth)}  ${'predicted'.padEnd(classWidth)}  ${all ? r.classes.map((c, i) => c.padStart(widths[i]!)).join(' ') : 'top 3'}`;
  const lines = [`model: ${r.format}, ${r.classes.length} classes`, header];
  for (const p of r.predictions) {
    const mark = p.expected !== undefined && p.expected !== p.predicted ? ` (expected ${p.expected})` : '';
    const probs = all
      ? p.probabilities.map((v, i) => v.toFixed(3).padStart(widths[i]!)).join(' ')
      : p.probabilities
          .map((v, i) => [v, i] as const)
          .sort((a, b) => b[0] - a[0])
          .slice(0, 3)
          .map(([v, i]) => `${r.classes[i]} ${v.toFixed(3)}`)
          .join('  ');
    lines.push(`${clip(p.input, nameWidth)}  ${p.predicted.padEnd(classWidth)}  ${probs}${mark}`);
  }
  return lines;
}

/** Class indices (0-based, into `classes`) from a Y file, in the layouts an Edge Impulse data directory uses. */
function readTruth(path: string, input: string, rows: number, classCount: number): Int32Array {
  if (extname(input).toLowerCase() !== '.npy')
    throw userError('predict', '--y', 'labels are for an .npy input; audio inputs take their class from the file name');
  let y;
  try {
    y = readNpyNumbers(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw userError(path, '--y', 'not found: expected Y.npy with one label row per input row');
    throw err;
  }
  if ((y.shape[0] ?? 0) !== rows) throw userError(path, 'rows', `${y.shape[0] ?? 0} label rows but ${input} has ${rows}: expected one per input row`);
  const layout = detectLayout(y, classCount);
  const decoded = decodeLabels(y, path, layout, chooseBase(layout, [y], classCount));
  const outside = decoded.labels.findIndex((c) => c < 0 || c >= classCount);
  if (outside !== -1) throw userError(path, `row ${outside}`, `label ${decoded.labels[outside]} is outside the model's ${classCount} classes`);
  return decoded.labels;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function readModel(path: string): Uint8Array {
  return new Uint8Array(readRegularFile(path, 'model', 'an exported .onnx or .tflite file'));
}

function modelFormat(path: string, bytes: Uint8Array): PredictResult['format'] {
  const ident = new TextDecoder().decode(bytes.subarray(4, 8));
  if (ident === TFLITE_FILE_IDENTIFIER) {
    const problem = tfliteStructureProblem(bytes);
    if (problem !== undefined) throw userError(path, 'model', `not a complete TFLite model (${problem}): expected an exported .tflite file`);
    const io = readTfliteIo(bytes);
    return io.inputs[0]?.type === TensorType.INT8 ? 'tflite-int8' : 'tflite-float';
  }
  if (extname(path).toLowerCase() === '.onnx') return 'onnx';
  throw userError(path, 'model', "not a TFLite flatbuffer (no 'TFL3' identifier) nor an .onnx file: expected an exported .onnx or .tflite file");
}

/** Values in the ONNX model's first input (fixed dimensions only; a symbolic batch counts as 1). */
function onnxInputCount(path: string, bytes: Uint8Array): number | undefined {
  let model: Record<string, unknown>;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw userError(path, 'model', `not a readable ONNX model (${(err as Error).message}): expected an exported .onnx file`);
  }
  const input = (model.graph as { input?: ValueInfoMessage[] } | undefined)?.input?.[0];
  const dims = input?.type?.tensor_type?.shape?.dim;
  if (!dims) return undefined;
  return dims.reduce((a, d) => a * ('dim_value' in d && d.dim_value > 0 ? d.dim_value : 1), 1);
}

function tfliteInputCount(bytes: Uint8Array): number | undefined {
  if (new TextDecoder().decode(bytes.subarray(4, 8)) !== TFLITE_FILE_IDENTIFIER) return undefined;
  const input = readTfliteIo(bytes).inputs[0];
  return input?.shape.reduce((a, b) => a * b, 1);
}

interface InputRows {
  x: Float32Array;
  names: string[];
  features: number;
  fromAudio: boolean;
}

function loadInputs(input: string, audio: AudioFeatureSettings | undefined): InputRows {
  let stat;
  try {
    stat = statSync(input);
  } catch {
    throw userError(input, 'input', 'not found: expected X.npy, a .wav file or a folder of .wav files');
  }
  if (stat.isDirectory()) {
    const files = findWavFiles(input);
    if (files.length === 0) throw userError(input, 'input', 'the folder holds no .wav files');
    return audioRows(
      files.map((f) => ({ path: f, name: relative(input, f).split('\\').join('/') })),
      audio,
    );
  }
  const ext = extname(input).toLowerCase();
  if (ext === '.wav') return audioRows([{ path: input, name: basename(input) }], audio);
  if (ext === '.npy') {
    const arr = readNpyFloat32(input);
    const n = arr.shape[0] ?? 0;
    const features = arr.shape.slice(1).reduce((a, b) => a * b, 1);
    if (arr.shape.length < 2) throw userError(input, 'shape', `expected [samples, features...], got [${arr.shape.join(', ')}]`);
    for (let i = 0; i < arr.data.length; i++) {
      if (!Number.isFinite(arr.data[i]!)) throw userError(input, `row ${Math.floor(i / features)}`, 'expected finite features, found NaN or Inf');
    }
    return { x: arr.data, names: Array.from({ length: n }, (_, i) => String(i)), features, fromAudio: false };
  }
  throw userError(input, 'input', `unsupported file type '${ext}': expected .npy, .wav or a folder of .wav files`);
}

function audioRows(files: { path: string; name: string }[], audio: AudioFeatureSettings | undefined): InputRows {
  const windowSeconds = audio?.windowSeconds ?? 1;
  const mfcc = audio?.mfcc ?? MFCC_DEFAULTS;
  const rows = files.map((f) => {
    const r = computeWavFeatures(f.path, windowSeconds, mfcc);
    if (audio !== undefined && r.sampleRate !== audio.sampleRate) {
      throw userError(f.path, 'sample rate', `expected ${audio.sampleRate} Hz as in training, got ${r.sampleRate} Hz`);
    }
    return r.features;
  });
  const features = rows[0]!.length;
  const x = new Float32Array(rows.length * features);
  rows.forEach((r, i) => {
    if (r.length !== features) throw userError(files[i]!.path, 'features', `expected ${features} features like the first file, got ${r.length}`);
    x.set(r, i * features);
  });
  return { x, names: files.map((f) => f.name), features, fromAudio: true };
}

/** The class a file's name gives, by the same rules as `features`: the parent folder or the '<label>_' prefix. */
function expectedClass(name: string, classes: readonly string[]): string | undefined {
  const parts = name.split('/');
  if (parts.length > 1 && classes.includes(parts.at(-2)!)) return parts.at(-2);
  const base = parts.at(-1)!.replace(/\.wav$/i, '');
  const cut = base.search(/[_-]/);
  const prefix = cut > 0 ? base.slice(0, cut) : undefined;
  return prefix !== undefined && classes.includes(prefix) ? prefix : undefined;
}
