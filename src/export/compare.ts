/**
 * Format-neutral comparison of two models' class probabilities on the same samples: the engine against an
 * exported ONNX or TFLite model. Both buffers are row-major [n, classes].
 */
import { userError } from '../errors.js';

/** Float exports must reproduce the engine: rounding-order differences only. */
export const FLOAT_MAX_PROB_DIFF = 1e-4;

export interface ProbabilityComparison {
  /** Largest |reference - candidate| over all samples and classes. */
  maxAbsDiff: number;
  /** Fraction of samples whose argmax class is the same in both (1 when n is 0). */
  argmaxAgreement: number;
  /** Number of samples whose argmax differs. */
  disagreements: number;
  /** Accuracy of each model against `labels`; null when no labels were given. */
  accuracyReference: number | null;
  accuracyCandidate: number | null;
}

export function compareProbabilities(
  reference: Float32Array,
  candidate: Float32Array,
  n: number,
  classes: number,
  labels?: Int32Array,
): ProbabilityComparison {
  const where = 'compareProbabilities';
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(classes) && classes > 0)) {
    throw userError(where, 'n/classes', `expected a count >= 0 and classes > 0, got ${n} and ${classes}`);
  }
  if (reference.length !== n * classes) throw userError(where, 'reference', `expected ${n * classes} values, got ${reference.length}`);
  if (candidate.length !== n * classes) throw userError(where, 'candidate', `expected ${n * classes} values, got ${candidate.length}`);
  if (labels !== undefined && labels.length !== n) throw userError(where, 'labels', `expected ${n} labels, got ${labels.length}`);

  let maxAbsDiff = 0;
  let disagreements = 0;
  let correctReference = 0;
  let correctCandidate = 0;
  for (let s = 0; s < n; s++) {
    const offset = s * classes;
    for (let c = 0; c < classes; c++) {
      const diff = Math.abs(reference[offset + c]! - candidate[offset + c]!);
      // NaN must not hide behind Math.max's comparison: a NaN output is an infinite difference.
      maxAbsDiff = Number.isNaN(diff) ? Infinity : Math.max(maxAbsDiff, diff);
    }
    const a = argmax(reference, offset, classes);
    const b = argmax(candidate, offset, classes);
    if (a !== b) disagreements++;
    if (labels !== undefined) {
      if (a === labels[s]) correctReference++;
      if (b === labels[s]) correctCandidate++;
    }
  }
  return {
    maxAbsDiff,
    argmaxAgreement: n === 0 ? 1 : (n - disagreements) / n,
    disagreements,
    accuracyReference: labels === undefined ? null : n === 0 ? 0 : correctReference / n,
    accuracyCandidate: labels === undefined ? null : n === 0 ? 0 : correctCandidate / n,
  };
}

/** Index of the largest value in row [offset, offset + length); the first one on ties. */
export function argmax(values: Float32Array, offset: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if (values[offset + i]! > values[offset + best]!) best = i;
  return best;
}
