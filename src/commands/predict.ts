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
import { readNpyFloat32 } from '../data/npy.js';
import { computeWavFeatures, findWavFiles } from '../data/wav-dataset.js';
import { MFCC_DEFAULTS } from '../data/mfcc.js';
import type { AudioFeatureSettings } from '../data/audio-features.js';
import { runOnnx } from '../export/onnx-runtime.js';
import { decodeModel, type ValueInfoMessage } from '../export/onnx-proto.js';
import { runTflite } from '../export/tflite-runtime.js';
import { readTfliteIo, TensorType, TFLITE_FILE_IDENTIFIER } from '../export/tflite-schema.js';
import { tfliteStructureProblem } from '../export/tflite-verify.js';
import { readReportJson, REPORT_JSON } from '../report/write.js';

export interface PredictOptions {
  model: string;
  input: string;
  report?: string;
  labels?: string[];
  json: boolean;
}

export interface Prediction {
  /** Row index for .npy input, the file's path relative to the input folder for audio. */
  input: string;
  predicted: string;
  probabilities: number[];
  /** The class the input's name says it is (file-name prefix or folder), when that is a known class. */
  expected?: string;
}

export interface PredictResult {
  format: 'onnx' | 'tflite-float' | 'tflite-int8';
  classes: string[];
  predictions: Prediction[];
  /** Over the inputs with an `expected` class; null when none has one. */
  accuracy: number | null;
}

const USAGE = 'dendritic predict MODEL (X.npy | file.wav | folder) [--report report.json] [--labels a,b,c] [--json]';

export function parsePredictArgs(argv: readonly string[]): PredictOptions {
  const positional: string[] = [];
  const opts: Partial<PredictOptions> & { json: boolean } = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') opts.json = true;
    else if (arg === '--report' || arg === '--labels') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw userError('predict', arg, 'expected a value after it');
      i++;
      if (arg === '--report') opts.report = value;
      else opts.labels = value.split(',').map((s) => s.trim());
    } else if (arg.startsWith('--')) throw userError('predict', arg, `unknown option; usage: ${USAGE}`);
    else positional.push(arg);
  }
  if (positional.length !== 2) throw userError('predict', 'arguments', `expected MODEL and INPUT; usage: ${USAGE}`);
  return { ...opts, model: positional[0]!, input: positional[1]! };
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
    const hint = rows.fromAudio ? (audio ? '' : ` (no report.json with data.audio_features: default MFCC settings and a 1 s window were used; pass --report)`) : '';
    throw userError(opts.input, 'features', `the model expects ${expectedFeatures} features per sample, the input has ${features}${hint}`);
  }
  let probs: Float32Array;
  try {
    probs = format === 'onnx' ? await runOnnx(modelBytes, rows.x, rows.names.length, features) : await runTflite(modelBytes, rows.x, rows.names.length, features);
  } catch (err) {
    // The file decoded but its runtime cannot run it: a damaged or foreign model, not a bug here.
    throw userError(opts.model, 'model', `${format === 'onnx' ? 'onnxruntime' : 'the TFLite interpreter'} cannot run it (${(err as Error).message.split('\n')[0]}): expected a model exported by dendritic train`);
  }
  const n = rows.names.length;
  const classCount = n > 0 ? probs.length / n : (opts.labels?.length ?? report?.data.classes.length ?? 0);
  const classes = opts.labels ?? report?.data.classes ?? Array.from({ length: classCount }, (_, i) => String(i));
  if (classes.length !== classCount) {
    throw userError(opts.labels ? '--labels' : reportPath, 'classes', `expected ${classCount} class names (the model's outputs), got ${classes.length}`);
  }
  const predictions: Prediction[] = [];
  let known = 0;
  let correct = 0;
  for (let s = 0; s < n; s++) {
    const p = Array.from(probs.subarray(s * classCount, (s + 1) * classCount));
    let best = 0;
    for (let c = 1; c < classCount; c++) if (p[c]! > p[best]!) best = c;
    const pred: Prediction = { input: rows.names[s]!, predicted: classes[best]!, probabilities: p };
    const expected = rows.fromAudio ? expectedClass(rows.names[s]!, classes) : undefined;
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
      write(`${JSON.stringify({ input: p.input, predicted: p.predicted, ...(p.expected !== undefined ? { expected: p.expected } : {}), probabilities: Object.fromEntries(result.classes.map((c, i) => [c, round(p.probabilities[i]!)])) })}\n`);
    }
  } else {
    for (const line of renderTable(result)) write(`${line}\n`);
  }
  if (result.accuracy !== null) {
    const scored = result.predictions.filter((p) => p.expected !== undefined).length;
    write(
      opts.json
        ? `${JSON.stringify({ summary: { format: result.format, accuracy: result.accuracy, scored } })}\n`
        : `accuracy ${(100 * result.accuracy).toFixed(2)}% over ${scored} inputs whose name gives the class (${result.format})\n`,
    );
  }
  return 0;
}

function renderTable(r: PredictResult): string[] {
  const nameWidth = Math.min(40, Math.max(5, ...r.predictions.map((p) => p.input.length)));
  const clip = (s: string, w: number): string => (s.length > w ? `…${s.slice(s.length - w + 1)}` : s.padEnd(w));
  const classWidth = Math.max(9, ...r.classes.map((c) => Math.min(12, c.length)));
  // Up to 12 classes every probability fits a terminal line; beyond, the three most likely are shown.
  const all = r.classes.length <= 12;
  const header = `${'input'.padEnd(nameWidth)}  ${'predicted'.padEnd(classWidth)}  ${all ? r.classes.map((c) => clip(c, 6).padStart(6)).join(' ') : 'top 3'}`;
  const lines = [`model: ${r.format}, ${r.classes.length} classes`, header];
  for (const p of r.predictions) {
    const mark = p.expected !== undefined && p.expected !== p.predicted ? ` (expected ${p.expected})` : '';
    const probs = all
      ? p.probabilities.map((v) => v.toFixed(3).padStart(6)).join(' ')
      : p.probabilities
          .map((v, i) => [v, i] as const)
          .sort((a, b) => b[0] - a[0])
          .slice(0, 3)
          .map(([v, i]) => `${r.classes[i]} ${v.toFixed(3)}`)
          .join('  ');
    lines.push(`${clip(p.input, nameWidth)}  ${clip(p.predicted, classWidth)}  ${probs}${mark}`);
  }
  return lines;
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
    return audioRows(files.map((f) => ({ path: f, name: relative(input, f).split('\\').join('/') })), audio);
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
