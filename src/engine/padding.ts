export type Padding = 'same' | 'valid';

export interface AxisPadding {
  out: number;
  /** Cells of padding before the first input cell (the rest of `total` goes after the last). */
  before: number;
  total: number;
}

/**
 * Output size and padding of one spatial axis, TensorFlow/Keras semantics:
 * 'same': out = ceil(in / s), total = max((out - 1) * s + k - in, 0), before = floor(total / 2);
 * 'valid': out = floor((in - k) / s) + 1, no padding.
 */
export function axisPadding(inSize: number, k: number, stride: number, padding: Padding): AxisPadding {
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + k - inSize, 0);
    return { out, before: Math.floor(total / 2), total };
  }
  const out = Math.floor((inSize - k) / stride) + 1;
  return { out: Math.max(out, 0), before: 0, total: 0 };
}

/** Where a sliding window (convolution kernel or pool) runs: input [h, w, c], output [ho, wo], leading padding. */
export interface WindowGeometry {
  h: number;
  w: number;
  c: number;
  ho: number;
  wo: number;
  padTop: number;
  padLeft: number;
}

/**
 * [H, W, C] of a per-sample input shape: [L, C] for 1-D (H = 1), [H, W, C] for 2-D.
 * `where` names the layer in errors, as `kind(name)`.
 */
export function spatialOf(where: string, s: readonly number[], dims: 1 | 2): [number, number, number] {
  if (dims === 1) {
    if (s.length !== 2) throw new Error(`${where}: expected input [L, C], got [${s.join(', ')}]`);
    return [1, s[0]!, s[1]!];
  }
  if (s.length !== 3) throw new Error(`${where}: expected input [H, W, C], got [${s.join(', ')}]`);
  return [s[0]!, s[1]!, s[2]!];
}

/**
 * The geometry of a window of `size` [kh, kw] sliding by `stride` [sh, sw] over [h, w, c]; throws when
 * no window fits (`what` names the window in the error: "smaller than the kernel" / "the pool").
 */
export function windowGeometry(
  where: string,
  inputShape: readonly number[],
  [h, w, c]: [number, number, number],
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  padding: Padding,
  what: 'kernel' | 'pool',
): WindowGeometry {
  const ph = axisPadding(h, kh, sh, padding);
  const pw = axisPadding(w, kw, sw, padding);
  if (ph.out < 1 || pw.out < 1) {
    throw new Error(`${where}: input [${inputShape.join(', ')}] is smaller than the ${what}`);
  }
  return { h, w, c, ho: ph.out, wo: pw.out, padTop: ph.before, padLeft: pw.before };
}
