/**
 * The engine's matrix kernels, all row-major float32, gathered here so they can be swapped for
 * WebAssembly SIMD or worker threads without touching the layers.
 *
 * Loops run i-k-j so the innermost loop walks contiguous rows of B and C (good for cache and for V8's
 * bounds-check elimination). A-elements that are exactly zero are skipped: after ReLU and max-pool
 * backward, activations and gradients are largely zero, and skipping them is a cheap, exact win.
 */

/**
 * C[M,N] = (accumulate ? C : init) + A[M,K] . B[K,N].
 * `rowInit` (length N, e.g. a bias) seeds every row of C when not accumulating; otherwise rows start at 0.
 */
export function gemm(
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  accumulate: boolean,
  rowInit?: Float32Array,
): void {
  for (let i = 0; i < M; i++) {
    const cRow = i * N;
    if (!accumulate) {
      if (rowInit !== undefined) C.set(rowInit, cRow);
      else C.fill(0, cRow, cRow + N);
    }
    const aRow = i * K;
    for (let k = 0; k < K; k++) {
      const a = A[aRow + k];
      if (a === 0) continue;
      const bRow = k * N;
      for (let j = 0; j < N; j++) C[cRow + j] += a * B[bRow + j];
    }
  }
}

/**
 * C[M,N] (+)= A[K,M]^T . B[K,N]: the weight-gradient product (inputs^T . output gradients).
 * Walks A and B once, row by row; C is small (a weight matrix) and stays in cache.
 */
export function gemmTN(
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  accumulate: boolean,
): void {
  if (!accumulate) C.fill(0, 0, M * N);
  for (let k = 0; k < K; k++) {
    const aRow = k * M;
    const bRow = k * N;
    for (let i = 0; i < M; i++) {
      const a = A[aRow + i];
      if (a === 0) continue;
      const cRow = i * N;
      for (let j = 0; j < N; j++) C[cRow + j] += a * B[bRow + j];
    }
  }
}

/**
 * C[M,N] (+)= A[M,K] . B[N,K]^T: the input-gradient product (output gradients . weights^T).
 * B is transposed once into `scratch` (weights are small) so the inner loop stays contiguous and
 * zero gradients in A are skipped. Returns the scratch buffer for reuse.
 */
export function gemmNT(
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  accumulate: boolean,
  scratch?: Float32Array,
): Float32Array {
  const bt = scratch !== undefined && scratch.length === N * K ? scratch : new Float32Array(N * K);
  transpose(N, K, B, bt);
  gemm(M, N, K, A, bt, C, accumulate);
  return bt;
}

/** out[C,R] = in[R,C]^T. */
export function transpose(R: number, Cn: number, src: Float32Array, dst: Float32Array): void {
  for (let r = 0; r < R; r++) {
    const row = r * Cn;
    for (let c = 0; c < Cn; c++) dst[c * R + r] = src[row + c];
  }
}

/** out[j] += sum over rows of M[rows, N] (bias gradients). */
export function addColumnSums(rows: number, N: number, M: Float32Array, out: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const row = r * N;
    for (let j = 0; j < N; j++) out[j] += M[row + j];
  }
}
