/**
 * Label layouts Edge Impulse data directories come in, detected from shape and dtype, never assumed:
 *  - 'one-hot': (N, C) float or int, every row exactly one 1 and zeros elsewhere;
 *  - 'ei-4col': (N, 4) integer, columns label_index, sample_id, slice_start_ms, slice_end_ms;
 *    label_index is 1-based (Edge Impulse's documented layout) unless a 0 occurs, then 0-based;
 *  - 'index': (N,) or (N, 1), 0-based, except 1-based when class names are known, no label is 0
 *    and the largest label equals the class count (impossible for 0-based labels).
 * An (N, 4) integer array whose every row is one-hot is read as one-hot unless train_input.json
 * names a class count other than 4.
 */
import { userError } from '../errors.js';
import { isIntegerDtype, type NpyArray } from './npy.js';

export type LabelLayout = 'one-hot' | 'ei-4col' | 'index';

/**
 * Most classes a data set may have. The network's output layer, the confusion matrix (classes squared)
 * and the per-class report all grow with it; a label of 2e9 with no class names would otherwise ask
 * for two billion outputs. Edge Impulse classification projects have far fewer.
 */
export const MAX_CLASSES = 1000;

export interface DecodedLabels {
  labels: Int32Array;
  layout: LabelLayout;
  /** 0 or 1: the base the file's indices used (one-hot: 0). */
  base: 0 | 1;
  /** Number of classes the layout implies (one-hot: its width; index: max + 1 after rebasing). */
  impliedClasses: number;
}

export function detectLayout(y: NpyArray<Float64Array>, knownClasses: number | undefined): LabelLayout {
  const { shape, dtype } = y;
  if (shape.length === 1 || (shape.length === 2 && shape[1] === 1)) return 'index';
  if (shape.length !== 2) return 'one-hot'; // rejected with a clear message by decodeLabels
  if (shape[1] === 4 && isIntegerDtype(dtype)) {
    if (knownClasses !== undefined && knownClasses !== 4) return 'ei-4col';
    return firstNonOneHotRow(y.data, shape[0]!, 4) === -1 ? 'one-hot' : 'ei-4col';
  }
  return 'one-hot';
}

/**
 * Decodes labels from one split with the layout and base chosen for all splits (detectLayout on the
 * training split, chooseBase over every split), so the splits can never be read differently.
 */
export function decodeLabels(y: NpyArray<Float64Array>, path: string, layout: LabelLayout, base: 0 | 1): DecodedLabels {
  const n = y.shape[0] ?? 0;
  if (y.shape.length === 0 || y.shape.length > 2) {
    throw userError(path, 'shape', `expected (N,), (N, 1), (N, classes) or (N, 4), got (${y.shape.join(', ')})`);
  }
  const labels = new Int32Array(n);
  if (layout === 'one-hot') {
    const c = y.shape[1]!;
    const bad = firstNonOneHotRow(y.data, n, c);
    if (bad !== -1) {
      const row = Array.from(y.data.subarray(bad * c, Math.min(bad * c + c, bad * c + 12)), (v) => Number(v.toPrecision(7)));
      throw userError(
        path,
        `row ${bad}`,
        `not one-hot: expected exactly one 1 and zeros elsewhere in each of the ${c} columns, got [${row.join(', ')}${c > 12 ? ', ...' : ''}]`,
      );
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < c; j++) if (y.data[i * c + j] === 1) labels[i] = j;
    }
    return { labels, layout, base: 0, impliedClasses: c };
  }
  const stride = layout === 'ei-4col' ? 4 : 1;
  const column = layout === 'ei-4col' ? 'column 0 (label_index)' : 'label';
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = y.data[i * stride]!;
    if (!Number.isInteger(v)) throw userError(path, `row ${i} ${column}`, `expected an integer class index, got ${v}`);
    if (v > max) max = v;
  }
  for (let i = 0; i < n; i++) {
    const v = y.data[i * stride]! - base;
    if (v < 0) {
      throw userError(path, `row ${i} ${column}`, `value ${v + base} is below ${base} (labels read as ${base}-based): expected class indices >= ${base}`);
    }
    labels[i] = v;
  }
  return { labels, layout, base, impliedClasses: n === 0 ? 0 : max - base + 1 };
}

/**
 * The index base for integer layouts, decided over all splits together so a class that happens to
 * be missing from one split cannot flip the decision. One-hot is always 0.
 */
export function chooseBase(layout: LabelLayout, ys: NpyArray<Float64Array>[], knownClasses: number | undefined): 0 | 1 {
  if (layout === 'one-hot') return 0;
  const stride = layout === 'ei-4col' ? 4 : 1;
  let min = Infinity;
  let max = -Infinity;
  for (const y of ys) {
    for (let i = 0; i < y.data.length; i += stride) {
      min = Math.min(min, y.data[i]!);
      max = Math.max(max, y.data[i]!);
    }
  }
  if (layout === 'ei-4col') return min === 0 ? 0 : 1;
  return knownClasses !== undefined && min >= 1 && max === knownClasses ? 1 : 0;
}

/** Index of the first row that is not exactly one-hot, or -1. */
function firstNonOneHotRow(data: Float64Array, n: number, c: number): number {
  for (let i = 0; i < n; i++) {
    let ones = 0;
    for (let j = 0; j < c; j++) {
      const v = data[i * c + j]!;
      if (v === 1) ones++;
      else if (v !== 0) return i;
    }
    if (ones !== 1) return i;
  }
  return -1;
}
