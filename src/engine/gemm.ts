/**
 * The pure-JS matrix kernels, all row-major float32: the reference and fallback behind kernels.ts
 * (layers call kernels.ts, which picks these or the native addon's).
 *
 * The main loops compute 4x4 tiles of C in sixteen local accumulators (registers once V8 optimises),
 * loading 4 values of A and 4 of B for 16 multiply-adds; edges fall back to plain loops.
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
  if (!accumulate) {
    for (let i = 0; i < M; i++) {
      if (rowInit !== undefined) C.set(rowInit, i * N);
      else C.fill(0, i * N, i * N + N);
    }
  }
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = i * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    for (let j = 0; j < N4; j += 4) {
      const c0 = i * N + j;
      const c1 = c0 + N;
      const c2 = c1 + N;
      const c3 = c2 + N;
      let s00 = C[c0], s01 = C[c0 + 1], s02 = C[c0 + 2], s03 = C[c0 + 3];
      let s10 = C[c1], s11 = C[c1 + 1], s12 = C[c1 + 2], s13 = C[c1 + 3];
      let s20 = C[c2], s21 = C[c2 + 1], s22 = C[c2 + 2], s23 = C[c2 + 3];
      let s30 = C[c3], s31 = C[c3 + 1], s32 = C[c3 + 2], s33 = C[c3 + 3];
      for (let k = 0, b = j; k < K; k++, b += N) {
        const b0 = B[b], b1 = B[b + 1], b2 = B[b + 2], b3 = B[b + 3];
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        s00 += x0 * b0; s01 += x0 * b1; s02 += x0 * b2; s03 += x0 * b3;
        s10 += x1 * b0; s11 += x1 * b1; s12 += x1 * b2; s13 += x1 * b3;
        s20 += x2 * b0; s21 += x2 * b1; s22 += x2 * b2; s23 += x2 * b3;
        s30 += x3 * b0; s31 += x3 * b1; s32 += x3 * b2; s33 += x3 * b3;
      }
      C[c0] = s00; C[c0 + 1] = s01; C[c0 + 2] = s02; C[c0 + 3] = s03;
      C[c1] = s10; C[c1 + 1] = s11; C[c1 + 2] = s12; C[c1 + 3] = s13;
      C[c2] = s20; C[c2 + 1] = s21; C[c2 + 2] = s22; C[c2 + 3] = s23;
      C[c3] = s30; C[c3 + 1] = s31; C[c3 + 2] = s32; C[c3 + 3] = s33;
    }
  }
  // Right edge (columns N4..N) of the tiled rows, then the bottom rows in full.
  if (N4 < N) gemmPlain(0, M4, N4, N, N, K, A, B, C);
  if (M4 < M) gemmPlain(M4, M, 0, N, N, K, A, B, C);
}

/** C[i, j] += sum_k A[i, k] B[k, j] for i in [i0, i1), j in [j0, j1); zero A entries skipped. */
function gemmPlain(
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
): void {
  for (let i = i0; i < i1; i++) {
    const cRow = i * N;
    const aRow = i * K;
    for (let k = 0; k < K; k++) {
      const a = A[aRow + k];
      if (a === 0) continue;
      const bRow = k * N;
      for (let j = j0; j < j1; j++) C[cRow + j] += a * B[bRow + j];
    }
  }
}

/** Rows of A and B processed per pass of gemmTN, so that pass stays in L1 while every C tile visits it. */
const TN_CHUNK = 64;

/**
 * C[M,N] (+)= A[K,M]^T . B[K,N]: the weight-gradient product (inputs^T . output gradients).
 * Summation runs over the long K axis (batch x positions) in L1-sized chunks, 4x4 tiles of C in registers.
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
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let k0 = 0; k0 < K; k0 += TN_CHUNK) {
    const k1 = Math.min(K, k0 + TN_CHUNK);
    for (let i = 0; i < M4; i += 4) {
      for (let j = 0; j < N4; j += 4) {
        const c0 = i * N + j;
        const c1 = c0 + N;
        const c2 = c1 + N;
        const c3 = c2 + N;
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
        let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let k = k0, a = k0 * M + i, b = k0 * N + j; k < k1; k++, a += M, b += N) {
          const x0 = A[a], x1 = A[a + 1], x2 = A[a + 2], x3 = A[a + 3];
          const b0 = B[b], b1 = B[b + 1], b2 = B[b + 2], b3 = B[b + 3];
          s00 += x0 * b0; s01 += x0 * b1; s02 += x0 * b2; s03 += x0 * b3;
          s10 += x1 * b0; s11 += x1 * b1; s12 += x1 * b2; s13 += x1 * b3;
          s20 += x2 * b0; s21 += x2 * b1; s22 += x2 * b2; s23 += x2 * b3;
          s30 += x3 * b0; s31 += x3 * b1; s32 += x3 * b2; s33 += x3 * b3;
        }
        C[c0] += s00; C[c0 + 1] += s01; C[c0 + 2] += s02; C[c0 + 3] += s03;
        C[c1] += s10; C[c1 + 1] += s11; C[c1 + 2] += s12; C[c1 + 3] += s13;
        C[c2] += s20; C[c2 + 1] += s21; C[c2 + 2] += s22; C[c2 + 3] += s23;
        C[c3] += s30; C[c3 + 1] += s31; C[c3 + 2] += s32; C[c3 + 3] += s33;
      }
    }
    // Edges: rows M4..M of C over all columns, columns N4..N of the tiled rows.
    for (let k = k0; k < k1; k++) {
      const aRow = k * M;
      const bRow = k * N;
      for (let i = N4 < N ? 0 : M4; i < M; i++) {
        const a = A[aRow + i];
        if (a === 0) continue;
        const cRow = i * N;
        for (let j = i < M4 ? N4 : 0; j < N; j++) C[cRow + j] += a * B[bRow + j];
      }
    }
  }
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
