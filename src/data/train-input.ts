/**
 * train_input.json, the description Edge Impulse passes with --info-file. Only the fields we use are
 * type-checked; everything else is kept as given.
 */
import { existsSync } from 'node:fs';
import { userError } from '../errors.js';
import { readRegularFile } from '../util/file-kind.js';
import { MAX_CLASSES } from './labels.js';

export interface TrainInput {
  classes?: string[];
  mode?: string;
  inputShapeString?: string;
  /** Parsed from inputShapeString, e.g. "(96, 96, 1)" -> [96, 96, 1]. */
  inputShape?: number[];
  maxTrainingTimeSeconds?: number;
  /** Studio's "TensorBoard logging" request: write TensorBoard event files while training. */
  tensorboardLogging?: boolean;
  [key: string]: unknown;
}

export function readTrainInput(path: string): TrainInput {
  if (!existsSync(path)) throw userError(path, 'file', "not found (given by --info-file): expected Edge Impulse's train_input.json");
  const text = readRegularFile(path, 'file', "Edge Impulse's train_input.json (given by --info-file)").toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw userError(path, 'JSON', `not valid JSON (${(err as Error).message}): expected a JSON object`);
  }
  return validateTrainInput(parsed, path);
}

export function validateTrainInput(parsed: unknown, path: string): TrainInput {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw userError(path, 'JSON', 'expected an object at the top level');
  }
  const info = { ...(parsed as Record<string, unknown>) } as TrainInput;
  if (info.classes !== undefined) {
    if (!Array.isArray(info.classes) || !info.classes.every((c) => typeof c === 'string' || typeof c === 'number')) {
      throw userError(path, 'classes', 'expected an array of class names (strings)');
    }
    info.classes = info.classes.map(String);
    if (info.classes.length < 2) {
      throw userError(path, 'classes', `${info.classes.length} class name(s): expected at least two (this block trains classifiers)`);
    }
    if (info.classes.length > MAX_CLASSES) {
      throw userError(path, 'classes', `${info.classes.length} class names: expected at most ${MAX_CLASSES}`);
    }
    // Two outputs with one name could never be told apart in a prediction or the report.
    const seen = new Map<string, number>();
    info.classes.forEach((c, i) => {
      const first = seen.get(c);
      if (first !== undefined) throw userError(path, `classes[${i}]`, `'${c}' repeats classes[${first}]: expected distinct class names`);
      seen.set(c, i);
    });
  }
  if (info.mode !== undefined && typeof info.mode !== 'string') {
    throw userError(path, 'mode', `expected a string, got ${JSON.stringify(info.mode)}`);
  }
  // Regression targets that happen to be integers would otherwise train as a many-class classifier.
  if (info.mode !== undefined && info.mode !== 'classification') {
    throw userError(path, 'mode', `'${info.mode}' is not supported: expected 'classification' (this block trains classifiers)`);
  }
  if (info.inputShapeString !== undefined) {
    if (typeof info.inputShapeString !== 'string') {
      throw userError(path, 'inputShapeString', `expected a string like "(650,)", got ${JSON.stringify(info.inputShapeString)}`);
    }
    info.inputShape = parseShapeString(info.inputShapeString, path);
  }
  if (info.maxTrainingTimeSeconds !== undefined && info.maxTrainingTimeSeconds !== null) {
    const v = info.maxTrainingTimeSeconds;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw userError(path, 'maxTrainingTimeSeconds', `expected a positive number of seconds, got ${JSON.stringify(v)}`);
    }
  }
  if (info.tensorboardLogging !== undefined && info.tensorboardLogging !== null && typeof info.tensorboardLogging !== 'boolean') {
    throw userError(path, 'tensorboardLogging', `expected true or false, got ${JSON.stringify(info.tensorboardLogging)}`);
  }
  return info;
}

/** "(650,)" -> [650]; "(96, 96, 1)" -> [96, 96, 1]. */
export function parseShapeString(text: string, where: string): number[] {
  const m = /^\s*[([]\s*((?:\d+\s*,\s*)*\d+)\s*,?\s*[)\]]\s*$/.exec(text);
  if (m === null) {
    throw userError(where, 'inputShapeString', `expected a tuple of positive integers like "(650,)" or "(96, 96, 1)", got ${JSON.stringify(text)}`);
  }
  const dims = m[1]!.split(',').map((s) => Number.parseInt(s.trim(), 10));
  if (dims.some((d) => d <= 0)) throw userError(where, 'inputShapeString', `dimensions must be positive, got ${JSON.stringify(text)}`);
  return dims;
}
