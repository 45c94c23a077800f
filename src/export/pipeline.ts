/**
 * Makes every deployable file from the graph and measures each one with a real interpreter on the
 * validation set before it is written: what ships is what was measured. Files are returned as bytes;
 * the caller writes them atomically only after the run has passed its checks.
 */
import type { Graph } from '../engine/graph.js';
import type { LabelledSet } from '../engine/tensor.js';
import { graphArenaBytes } from './onnx/arena.js';
import { tfliteDeviceCost, type DeviceCost } from './tflite/device-cost.js';
import { exportOnnx } from './onnx/exporter.js';
import { onnxRuntimeName, runOnnx } from './onnx/runtime.js';
import { compareProbabilities, FLOAT_MAX_PROB_DIFF, type ProbabilityComparison } from './compare.js';
import { exportTfliteFloat, TFLITE_FLOAT_FILE, TFLITE_INT8_FILE } from './tflite/exporter.js';
import { exportTfliteInt8, type Int8Report } from './tflite/quantize.js';
import { runTflite } from './tflite/runtime.js';

export { FLOAT_MAX_PROB_DIFF } from './compare.js';

export type ExportFormatChoice = 'tflite' | 'onnx' | 'all';

export interface ExportResult {
  format: 'onnx' | 'tflite-float' | 'tflite-int8';
  file: string;
  bytes: Uint8Array;
  /** Whether the file goes into the out directory (ONNX is always verified, written only when asked). */
  write: boolean;
  comparison: ProbabilityComparison;
  verifiedWith: string;
  /** RAM of this file: TFLite, TFLM's arena on a Cortex-M (exact); ONNX, a peak-activation estimate. */
  arenaBytes: number;
  /** What the file costs on the microcontroller (TFLite files only). */
  device?: DeviceCost;
}

export interface ExportOutcome {
  results: ExportResult[];
  /** Problems that must fail the run (a float export that does not match the engine). */
  failures: string[];
  warnings: string[];
  /** The int8 accuracy-drop limit applied (points), null when no int8 model was made. */
  int8DropLimit: number | null;
  int8Report?: Int8Report;
}

const TFLITE_INTERPRETER = 'TensorFlow Lite interpreter (node-tflite)';

/**
 * The int8 accuracy-drop warning, in points and in validation rows. Names the tensor whose calibrated
 * range clips most (the usual cause of a real drop), unless the drop is too few rows to tell from chance.
 */
export function int8DropWarning(drop: number, limit: number, report: Int8Report): string {
  // int8 is calibrated and measured on the same validation rows.
  const n = report.calibrationSamples;
  const rows = Math.round((drop * n) / 100);
  const rowPoints = n > 0 ? 100 / n : Infinity;
  // Float and int8 are judged on the same rows: with r more rows lost than gained, a one-sided sign test
  // can tell a real drop from chance only when r >= 5 (0.5^5 = 3% < 5% < 0.5^4 = 6%).
  const minTellingRows = 5;
  const head = `${TFLITE_INT8_FILE}: int8 accuracy is ${drop.toFixed(2)} points (${rows} of ${n} validation rows) below float (allowed ${limit})`;
  if (rows < minTellingRows) {
    const coarse = rowPoints > limit ? `; one row is worth ${rowPoints.toFixed(2)} points, more than the allowed ${limit}` : '';
    return (
      `${head}; the validation set is too small to judge: a net loss of ${rows} row${rows === 1 ? '' : 's'} is within chance ` +
      `(it takes ${minTellingRows} to tell a real drop from noise)${coarse}; judge quantization on a larger validation set`
    );
  }
  const worst = report.worstSaturation;
  const cause = worst
    ? `the range of '${worst.graphValue}' (TFLite tensor ${worst.tensor}) saturates on ${(100 * worst.clippedFraction).toFixed(2)}% of calibration values`
    : 'no tensor saturates, so the int8 grid is too coarse for some activations (try more training or a smaller learning rate at the end)';
  return `${head}; likely cause: ${cause}`;
}

export async function exportAndVerify(
  graph: Graph,
  val: LabelledSet,
  engineProbs: Float32Array,
  format: ExportFormatChoice,
  maxInt8DropPoints: number,
): Promise<ExportOutcome> {
  const results: ExportResult[] = [];
  const failures: string[] = [];
  const warnings: string[] = [];
  const classes = graph.classes;

  const onnxBytes = exportOnnx(graph);
  const onnxProbs = await runOnnx(onnxBytes, val.x, val.n, val.features);
  const onnx = compareProbabilities(engineProbs, onnxProbs, val.n, classes, val.y);
  results.push({
    format: 'onnx',
    file: 'model.onnx',
    bytes: onnxBytes,
    write: format !== 'tflite',
    comparison: onnx,
    verifiedWith: await onnxRuntimeName(),
    arenaBytes: graphArenaBytes(graph),
  });
  checkFloat('model.onnx', onnx, failures);

  let int8DropLimit: number | null = null;
  let int8Report: Int8Report | undefined;
  if (format !== 'onnx') {
    const floatBytes = exportTfliteFloat(graph);
    const floatProbs = await runTflite(floatBytes, val.x, val.n, val.features);
    const tfl = compareProbabilities(engineProbs, floatProbs, val.n, classes, val.y);
    const floatDevice = tfliteDeviceCost(floatBytes);
    results.push({
      format: 'tflite-float',
      file: TFLITE_FLOAT_FILE,
      bytes: floatBytes,
      write: true,
      comparison: tfl,
      verifiedWith: TFLITE_INTERPRETER,
      arenaBytes: floatDevice.ramBytes,
      device: floatDevice,
    });
    checkFloat(TFLITE_FLOAT_FILE, tfl, failures);

    // Edge Impulse calibrated with the validation set; so do we, and we measure on it as well.
    const int8 = exportTfliteInt8(graph, val.x, val.n);
    int8Report = int8.report;
    const int8Probs = await runTflite(int8.bytes, val.x, val.n, val.features);
    const q = compareProbabilities(engineProbs, int8Probs, val.n, classes, val.y);
    const int8Device = tfliteDeviceCost(int8.bytes);
    results.push({
      format: 'tflite-int8',
      file: TFLITE_INT8_FILE,
      bytes: int8.bytes,
      write: true,
      comparison: q,
      verifiedWith: TFLITE_INTERPRETER,
      arenaBytes: int8Device.ramBytes,
      device: int8Device,
    });
    int8DropLimit = maxInt8DropPoints;
    const drop = 100 * ((q.accuracyReference ?? 0) - (q.accuracyCandidate ?? 0));
    if (drop > maxInt8DropPoints) warnings.push(int8DropWarning(drop, maxInt8DropPoints, int8Report));
  }
  return { results, failures, warnings, int8DropLimit, int8Report };
}

function checkFloat(file: string, c: ProbabilityComparison, failures: string[]): void {
  if (c.maxAbsDiff > FLOAT_MAX_PROB_DIFF || c.disagreements > 0) {
    failures.push(
      `${file}: does not reproduce the trained model: max |probability difference| ${c.maxAbsDiff.toExponential(2)} ` +
        `(allowed ${FLOAT_MAX_PROB_DIFF}), ${c.disagreements} of the validation samples change class`,
    );
  }
}
