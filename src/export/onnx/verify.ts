/**
 * Verification of an exported model against the engine: run it on the same samples and compare the
 * class probabilities. The comparison is format-neutral (compare.ts); this file adds the ONNX runner.
 */
import { compareProbabilities, type ProbabilityComparison } from '../compare.js';
import { runOnnx } from './runtime.js';

export { compareProbabilities, argmax, type ProbabilityComparison } from '../compare.js';
export { runOnnx } from './runtime.js';

/**
 * Runs the ONNX model on x ([n, features]) and compares its outputs with the engine's probabilities
 * `reference` ([n, classes]).
 */
export async function verifyOnnx(
  modelBytes: Uint8Array,
  x: Float32Array,
  n: number,
  features: number,
  reference: Float32Array,
  classes: number,
  labels?: Int32Array,
): Promise<ProbabilityComparison> {
  const candidate = await runOnnx(modelBytes, x, n, features);
  return compareProbabilities(reference, candidate, n, classes, labels);
}
