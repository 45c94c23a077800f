/**
 * A digest of the native matrix products over many shapes (edge sizes, K chunks, all three products),
 * printed when run directly: the kernel tests compare it across instruction sets (DENDRITIC_ISA).
 */
import { fileURLToPath } from 'node:url';
import { nativeIsa, nativeKernels } from '../../src/engine/kernels.js';
import { Rng } from '../../src/engine/rng.js';
import { randomArray } from './gradcheck.js';

export function gemmDigest(): string {
  if (nativeKernels === null) throw new Error('native kernels unavailable');
  const K = nativeKernels;
  const rng = new Rng(77);
  let h = 0x811c9dc5;
  const sizes = [1, 3, 7, 8, 9, 12, 16, 17, 24, 31, 32, 33, 48, 64, 65, 96];
  for (const M of sizes) {
    for (const N of sizes) {
      const depth = [5, 39, 300][(M + N) % 3]!;
      const A = randomArray(rng, M * depth);
      const B = randomArray(rng, depth * N);
      const bias = randomArray(rng, N);
      const outs = [new Float32Array(M * N), new Float32Array(M * N), randomArray(rng, M * N)];
      K.gemm(M, N, depth, A, B, outs[0]!, false, bias);
      K.gemmTN(M, N, depth, A, B, outs[1]!, false);
      K.gemmNT(M, N, depth, A, B, outs[2]!, true);
      for (const o of outs) {
        for (const w of new Uint32Array(o.buffer)) h = Math.imul(h ^ w, 0x01000193) >>> 0;
      }
    }
  }
  return `${nativeIsa} ${h.toString(16)}`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) console.log(gemmDigest());
