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
