/**
 * Makes every deployable file from the graph and measures each one with a real interpreter on the
 * validation set before it is written: what ships is what was measured. Files are returned as bytes;
 * the caller writes them atomically only after the run has passed its checks.
 */
import type { Graph } from './graph.js';
import { exportOnnx } from './onnx.js';
import { runOnnx } from './onnx-runtime.js';
import { compareProbabilities, type ProbabilityComparison } from './compare.js';

export type ExportFormatChoice = 'tflite' | 'onnx' | 'all';

/** Float exports must reproduce the engine: rounding-order differences only. */
export const FLOAT_MAX_PROB_DIFF = 1e-4;

export interface ValidationRows {
  x: Float32Array;
  y: Int32Array;
  n: number;
  features: number;
}

export interface ExportResult {
  format: 'onnx' | 'tflite-float' | 'tflite-int8';
  file: string;
  bytes: Uint8Array;
  /** Whether the file goes into the out directory (ONNX is always verified, written only when asked). */
  write: boolean;
  comparison: ProbabilityComparison;
  verifiedWith: string;
}

export interface ExportOutcome {
  results: ExportResult[];
  /** Problems that must fail the run (a float export that does not match the engine). */
  failures: string[];
  warnings: string[];
  /** The int8 accuracy-drop limit applied (points), null when no int8 model was made. */
  int8DropLimit: number | null;
}

const ONNXRUNTIME = 'onnxruntime-node';

export async function exportAndVerify(
  graph: Graph,
  val: ValidationRows,
  engineProbs: Float32Array,
  format: ExportFormatChoice,
): Promise<ExportOutcome> {
  const results: ExportResult[] = [];
  const failures: string[] = [];
  const warnings: string[] = [];
  const classes = graph.classes;

  const onnxBytes = exportOnnx(graph);
  const onnxProbs = await runOnnx(onnxBytes, val.x, val.n, val.features);
  const onnx = compareProbabilities(engineProbs, onnxProbs, val.n, classes, val.y);
  results.push({ format: 'onnx', file: 'model.onnx', bytes: onnxBytes, write: format !== 'tflite', comparison: onnx, verifiedWith: ONNXRUNTIME });
  checkFloat('model.onnx', onnx, failures);

  return { results, failures, warnings, int8DropLimit: null };
}

function checkFloat(file: string, c: ProbabilityComparison, failures: string[]): void {
  if (c.maxAbsDiff > FLOAT_MAX_PROB_DIFF || c.disagreements > 0) {
    failures.push(
      `${file}: does not reproduce the trained model: max |probability difference| ${c.maxAbsDiff.toExponential(2)} ` +
        `(allowed ${FLOAT_MAX_PROB_DIFF}), ${c.disagreements} of the validation samples change class`,
    );
  }
}
