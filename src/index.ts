/**
 * The package's API (`import { train, predict, loadEiDirectory, exportOnnx } from 'dendritic'`), documented
 * in docs/api.md. Everything else under dist/ is internal and may change without notice.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { trainCommand } from './commands/train.js';
import { readReportJson, REPORT_JSON } from './report/write.js';
import type { Report } from './report/schema.js';

export { UserError } from './errors.js';

// ---- Train --------------------------------------------------------------------------------------
export interface TrainOptions {
  /** Edge Impulse data directory (X_split_train.npy, Y_split_train.npy, X_split_test.npy, Y_split_test.npy). */
  dataDirectory: string;
  /** Where the model files, report.json/html, metrics.jsonl and effective-config.json are written. */
  outDirectory: string;
  /** train_input.json (class names, time limit); optional. */
  infoFile?: string;
  /** Any `dendritic train` parameter by its flag name without dashes, e.g. { epochs: 20, dendrites: false }. */
  parameters?: Record<string, string | number | boolean>;
}

export interface TrainResult {
  /** What the CLI would exit with: 0 success, 1 a failed verification, 128+N stopped by signal N. */
  exitCode: number;
  outDirectory: string;
  /** report.json of the run (docs/report-json.md); undefined when the run wrote none. */
  report: Report | undefined;
}

/**
 * Trains, exports and verifies, exactly as `dendritic train` (in a worker thread; progress on stderr).
 * Bad input rejects with a UserError naming the file or parameter.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const argv = ['--data-directory', options.dataDirectory, '--out-directory', options.outDirectory];
  if (options.infoFile !== undefined) argv.push('--info-file', options.infoFile);
  for (const [name, value] of Object.entries(options.parameters ?? {})) argv.push(`--${name}=${String(value)}`);
  const outcome = await trainCommand(argv);
  const reportPath = join(resolve(outcome.outDir), REPORT_JSON);
  return { exitCode: outcome.exitCode, outDirectory: outcome.outDir, report: existsSync(reportPath) ? readReportJson(reportPath) : undefined };
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
