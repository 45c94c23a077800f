/**
 * The package's API (`import { train, predict, loadEiDirectory, exportOnnx } from 'dendritic'`), documented
 * in docs/api.md. Everything else under dist/ is internal and may change without notice.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trainCommand } from './commands/train.js';
import { userError } from './errors.js';
import { SCHEMA, type Config, type ConfigKey, type ParamSpec } from './params/schema.js';
import { readReportJson, REPORT_JSON } from './report/write.js';
import type { Report } from './report/schema.js';

export { UserError } from './errors.js';

// ---- Train --------------------------------------------------------------------------------------
/** Config keys that are not `parameters`: the directories are TrainOptions of their own, output goes to `log`. */
type NotAParameter = 'dataDirectory' | 'outDirectory' | 'infoFile' | 'quiet' | 'jsonLogs';

/**
 * The training parameters, typed from the one parameter schema (src/params/schema.ts): camelCase names
 * of the flags (`learningRate` for `--learning-rate`), each with its flag's type, e.g. `{ epochs: 20,
 * dendrites: true, optimizer: 'sgd', improvementThreshold: [0.002, 0.0005] }`. docs/parameters.md lists them.
 */
export type TrainParameters = { [K in Exclude<ConfigKey, NotAParameter>]?: Exclude<Config[K], undefined> };

export interface TrainOptions {
  /** Edge Impulse data directory (X_split_train.npy, Y_split_train.npy, X_split_test.npy, Y_split_test.npy). */
  dataDirectory: string;
  /** Where the model files, report.json/html, metrics.jsonl and effective-config.json are written. */
  outDirectory: string;
  /** train_input.json (class names, time limit); optional. */
  infoFile?: string;
  /** Training parameters (defaults for the rest). An unknown name is a compile error and, from JavaScript, a UserError. */
  parameters?: TrainParameters;
  /**
   * Receives every line `dendritic train` would print (effective configuration, progress, warnings, the
   * final summary), without its newline. Without it train() writes nothing to stdout or stderr.
   */
  log?: (line: string) => void;
}

export interface TrainResult {
  /** What the CLI would exit with: 0 success, 1 a failed verification, 128+N stopped by signal N. */
  exitCode: number;
  outDirectory: string;
  /** report.json of the run (docs/report-json.md); undefined when the run wrote none. */
  report: Report | undefined;
}

const WHERE = 'train()';
const PARAMETER_SPECS = new Map<string, ParamSpec>(
  SCHEMA.filter(
    (spec) => !(['dataDirectory', 'outDirectory', 'infoFile', 'quiet', 'jsonLogs'] satisfies NotAParameter[] as string[]).includes(spec.key),
  ).map((spec) => [spec.key, spec]),
);

/** A parameter's value as its command-line flag (`--learning-rate=0.01`); a wrong name or type is a UserError. */
function parameterFlag(name: string, value: unknown): string {
  const spec = PARAMETER_SPECS.get(name);
  if (spec === undefined) {
    const byFlag = SCHEMA.find((s) => s.param === name || s.param === name.replace(/^-+/, ''));
    const near = [...PARAMETER_SPECS.keys()].find((k) => k.toLowerCase().startsWith(name.toLowerCase().slice(0, 4)));
    const hint = ['quiet', 'jsonLogs', 'json-logs'].includes(name)
      ? '; train() prints nothing unless options.log is given'
      : byFlag && PARAMETER_SPECS.has(byFlag.key)
        ? `; did you mean '${byFlag.key}'?`
        : near !== undefined
          ? `; did you mean '${near}'?`
          : '';
    throw userError(WHERE, `parameters.${name}`, `not a parameter${hint} (the camelCase names of docs/parameters.md)`);
  }
  const field = `parameters.${name}`;
  switch (spec.type) {
    case 'int':
    case 'float':
      if (typeof value !== 'number') throw userError(WHERE, field, `expected a number, got ${JSON.stringify(value)}`);
      return `--${spec.param}=${value}`;
    case 'boolean':
    case 'flag':
      if (typeof value !== 'boolean') throw userError(WHERE, field, `expected true or false, got ${JSON.stringify(value)}`);
      return `--${spec.param}=${value}`;
    case 'select':
      if (typeof value !== 'string') throw userError(WHERE, field, `expected one of ${spec.valid.join(', ')}, got ${JSON.stringify(value)}`);
      return `--${spec.param}=${value}`;
    case 'string':
      if (Array.isArray(value) && value.every((v) => typeof v === 'number')) return `--${spec.param}=${value.join(',')}`;
      if (typeof value !== 'string') throw userError(WHERE, field, `expected a string, got ${JSON.stringify(value)}`);
      return `--${spec.param}=${value}`;
  }
}

/** Splits text chunks into lines for `log` (a chunk may hold several lines or end mid-line). */
function lineSplitter(log: (line: string) => void): { write: (text: string) => void; end: () => void } {
  let pending = '';
  return {
    write(text) {
      const parts = (pending + text).split('\n');
      pending = parts.pop()!;
      for (const line of parts) log(line.replace(/\r$/, ''));
    },
    end() {
      if (pending !== '') log(pending);
      pending = '';
    },
  };
}

/**
 * Trains, exports and verifies, exactly as `dendritic train` (in a worker thread). Output goes to
 * `options.log` only. A bad parameter or input rejects with a UserError naming it, before any work.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const argv = ['--data-directory', options.dataDirectory, '--out-directory', options.outDirectory];
  if (options.infoFile !== undefined) argv.push('--info-file', options.infoFile);
  const parameters: unknown = options.parameters ?? {};
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw userError(WHERE, 'parameters', `expected an object of parameters, got ${JSON.stringify(parameters)}`);
  }
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) argv.push(parameterFlag(name, value));
  const log = options.log;
  const lines = log ? lineSplitter(log) : undefined;
  try {
    const outcome = await trainCommand(argv, { output: (_stream, text) => lines?.write(text) });
    const reportPath = join(resolve(outcome.outDir), REPORT_JSON);
    return { exitCode: outcome.exitCode, outDirectory: outcome.outDir, report: existsSync(reportPath) ? readReportJson(reportPath) : undefined };
  } finally {
    lines?.end();
  }
}

// ---- Predict ------------------------------------------------------------------------------------
export { predict, type PredictOptions, type PredictResult, type Prediction } from './commands/predict.js';

// ---- Load data ----------------------------------------------------------------------------------
export { loadEiDirectory, type EiDataset, type EiLoadOptions } from './data/ei-directory.js';
export { readNpyFloat32, readNpyNumbers, writeNpy, type NpyArray } from './data/npy.js';
export { buildFeaturesDirectory, type FeaturesOptions, type FeaturesSummary } from './commands/features.js';
export { readReportJson } from './report/write.js';
export type { Report, EpochRecord } from './report/schema.js';
export { readMetricsLog, METRICS_JSONL, type MetricsLine } from './report/metrics-log.js';

// ---- Build and export ---------------------------------------------------------------------------
export { buildModel, type BuildModelOptions } from './models/select.js';
export { exportOnnx } from './export/onnx/exporter.js';
export { exportTfliteFloat } from './export/tflite/exporter.js';
export { exportTfliteInt8, type Int8Export } from './export/tflite/quantize.js';
