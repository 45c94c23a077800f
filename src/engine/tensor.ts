/**
 * A float32 tensor: a flat buffer plus a shape, row-major.
 * Activations are channels-last (Keras/TFLite layout): dense [N, F], 1-D [N, L, C], 2-D [N, H, W, C].
 */
export interface Tensor {
  data: Float32Array;
  shape: number[];
}

export type Shape = readonly number[];

/** A labelled set of flat feature rows (train, validation, hold-out). */
export interface LabelledSet {
  x: Float32Array;
  y: Int32Array;
  n: number;
  features: number;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor(shape: Shape, data?: Float32Array): Tensor {
  const n = sizeOf(shape);
  if (data !== undefined && data.length !== n) {
    throw new Error(`tensor: data length ${data.length} does not match shape [${shape.join(', ')}] (${n})`);
  }
  return { data: data ?? new Float32Array(n), shape: [...shape] };
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Returns `buf` when it already has exactly `n` elements, else a new zeroed buffer.
 * Layers keep their output and gradient buffers between batches to avoid allocation on the hot path.
 */
export function reuse(buf: Float32Array | undefined, n: number): Float32Array {
  return buf !== undefined && buf.length === n ? buf : new Float32Array(n);
}
