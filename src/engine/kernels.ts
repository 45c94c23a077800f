/**
 * The engine's compute kernels behind one interface, with two implementations:
 * - `jsKernels`: pure TypeScript, the reference, always available;
 * - the native addon (native/kernels.cc, built by `npm ci` / `npm run build:native` into
 *   build/Release/dendritic_kernels.node): AVX-512 or AVX2+FMA matrix tiles where the CPU has them
 *   (bit-identical to each other), plain C loops otherwise; single-threaded and deterministic.
 *   DENDRITIC_ISA=avx2|generic caps the instruction set (for tests).
 * Layers call `kernels.<op>`; which implementation that is follows DENDRITIC_KERNELS:
 * unset = native when the addon loads, else JS; `js` = always JS; `native` = native or throw.
 * Elementwise kernels give identical results in both; matrix products agree to float rounding
 * (native accumulates in float32 with FMA, JS in float64).
 *
 * Window geometry arguments (im2col, col2im, maxPool) are positional:
 * n, h, w, c (input [n, h, w, c]), ho, wo (output positions), padTop, padLeft, kh, kw (window), sh, sw (strides).
 */
import { createRequire } from 'node:module';
import { addColumnSums, gemm, gemmTN, transpose } from './gemm.js';
import type { Rng } from './rng.js';

export type KernelBackend = 'js' | 'native';

export interface Kernels {
  readonly name: KernelBackend;
  /** C[M,N] = (accumulate ? C : bias or 0) + A[M,K] . B[K,N]. */
  gemm(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array, accumulate: boolean, bias?: Float32Array): void;
  /** C[M,N] (+)= A[K,M]^T . B[K,N]. */
  gemmTN(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array, accumulate: boolean): void;
  /** C[M,N] (+)= A[M,K] . B[N,K]^T. */
  gemmNT(M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array, accumulate: boolean): void;
  /** out[j] += sum over rows of M[rows, N]. */
  addColumnSums(rows: number, N: number, M: Float32Array, out: Float32Array): void;
  /** cols[(n, oh, ow), (kh, kw, c)] = x[n, oh*sh - padTop + kh, ow*sw - padLeft + kw, c], 0 outside x. */
  im2col(x: Float32Array, cols: Float32Array, ...g: Geometry): void;
  /** dx = the adjoint of im2col applied to dcols (dx is overwritten). */
  col2im(dcols: Float32Array, dx: Float32Array, ...g: Geometry): void;
  /** Window max into y (padded cells never win, first max wins ties); argmax = flat input index of the winner. */
  maxPool(x: Float32Array, y: Float32Array, argmax: Int32Array, ...g: Geometry): void;
  /** dx = 0, then dx[argmax[i]] += dy[i]. */
  maxPoolBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array): void;
  /** y = max(x, 0) over y's length. */
  relu(x: Float32Array, y: Float32Array): void;
  /** dx = y > 0 ? dy : 0 over dx's length. */
  reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Inverted dropout over mask's length: per element u = rng.next(), m = u < keep ? scale : 0, mask = m, y = x * m. */
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, keep: number, scale: number, rng: Rng): void;
  /** out = a * b over out's length. */
  mul(a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** One Adam update of w from g with moments m, v (see Adam.step). */
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, b1: number, b2: number, stepSize: number, sqrtC2: number, eps: number): void;
  /** acc[k] += src[k] * scale[k mod C] over acc's length (a channels-last broadcast). */
  addScaled(acc: Float32Array, src: Float32Array, scale: Float32Array, C: number): void;
  /** out[c] += sum over positions of a[k] * b[k] for channel c = k mod C, over a's length. */
  channelDot(a: Float32Array, b: Float32Array, out: Float32Array, C: number): void;
  /** v = f(v) in place; sigmoid is 1 / (1 + exp(-v)), relu leaves -0 and NaN as they are. */
  activate(f: Activation, v: Float32Array): void;
  /** g *= f'(pre) in place over g's length, written in terms of d = f(pre). */
  activationBackward(f: Activation, d: Float32Array, g: Float32Array): void;
  /** acc += src over acc's length. */
  addInto(acc: Float32Array, src: Float32Array): void;
}

export type Activation = 'sigmoid' | 'tanh' | 'relu';
const ACTIVATION_CODE: Record<Activation, number> = { sigmoid: 0, tanh: 1, relu: 2 };

type Geometry = [
  n: number,
  h: number,
  w: number,
  c: number,
  ho: number,
  wo: number,
  padTop: number,
  padLeft: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
];

let ntScratch = new Float32Array(0);

export const jsKernels: Kernels = {
  name: 'js',
  gemm,
  gemmTN,
  gemmNT(M, N, K, A, B, C, accumulate) {
    if (ntScratch.length < N * K) ntScratch = new Float32Array(N * K);
    transpose(N, K, B, ntScratch);
    gemm(M, N, K, A, ntScratch, C, accumulate);
  },
  addColumnSums,

  im2col(x, cols, n, h, w, c, ho, wo, padTop, padLeft, kh, kw, sh, sw) {
    const depth = kh * kw * c;
    let row = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oh = 0; oh < ho; oh++) {
        const ih0 = oh * sh - padTop;
        for (let ow = 0; ow < wo; ow++, row++) {
          const iw0 = ow * sw - padLeft;
          const lo = iw0 < 0 ? -iw0 : 0;
          const hi = Math.min(kw, w - iw0);
          for (let i = 0; i < kh; i++) {
            const ih = ih0 + i;
            const d0 = row * depth + i * kw * c;
            if (ih < 0 || ih >= h || hi <= lo) {
              cols.fill(0, d0, d0 + kw * c);
              continue;
            }
            for (let t = d0; t < d0 + lo * c; t++) cols[t] = 0;
            let src = xb + (ih * w + iw0 + lo) * c;
            const end = d0 + hi * c;
            for (let dst = d0 + lo * c; dst < end; dst++) cols[dst] = x[src++]!;
            for (let t = end; t < d0 + kw * c; t++) cols[t] = 0;
          }
        }
      }
    }
  },

  col2im(dcols, dx, n, h, w, c, ho, wo, padTop, padLeft, kh, kw, sh, sw) {
    dx.fill(0, 0, n * h * w * c);
    const depth = kh * kw * c;
    let row = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oh = 0; oh < ho; oh++) {
        const ih0 = oh * sh - padTop;
        for (let ow = 0; ow < wo; ow++, row++) {
          const iw0 = ow * sw - padLeft;
          const lo = iw0 < 0 ? -iw0 : 0;
          const hi = Math.min(kw, w - iw0);
          if (hi <= lo) continue;
          const runLen = (hi - lo) * c;
          for (let i = 0; i < kh; i++) {
            const ih = ih0 + i;
            if (ih < 0 || ih >= h) continue;
            let dst = xb + (ih * w + iw0 + lo) * c;
            let src = row * depth + (i * kw + lo) * c;
            for (let t = 0; t < runLen; t++) dx[dst++] += dcols[src++]!;
          }
        }
      }
    }
  },

  maxPool(x, y, arg, n, h, w, c, ho, wo, padTop, padLeft, kh, kw, sh, sw) {
    let o = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oh = 0; oh < ho; oh++) {
        const hs = oh * sh - padTop;
        const h0 = Math.max(hs, 0);
        const h1 = Math.min(hs + kh, h);
        for (let ow = 0; ow < wo; ow++, o += c) {
          const ws = ow * sw - padLeft;
          const w0 = Math.max(ws, 0);
          const w1 = Math.min(ws + kw, w);
          const first = xb + (h0 * w + w0) * c;
          for (let ch = 0; ch < c; ch++) {
            y[o + ch] = x[first + ch]!;
            arg[o + ch] = first + ch;
          }
          for (let ih = h0; ih < h1; ih++) {
            for (let iw = ih === h0 ? w0 + 1 : w0; iw < w1; iw++) {
              const base = xb + (ih * w + iw) * c;
              for (let ch = 0; ch < c; ch++) {
                const v = x[base + ch]!;
                if (v > y[o + ch]!) {
                  y[o + ch] = v;
                  arg[o + ch] = base + ch;
                }
              }
            }
          }
        }
      }
    }
  },

  maxPoolBackward(dy, arg, dx) {
    dx.fill(0);
    for (let i = 0; i < dy.length; i++) dx[arg[i]!]! += dy[i]!;
  },

  relu(x, y) {
    for (let i = 0; i < y.length; i++) {
      const v = x[i]!;
      y[i] = v > 0 ? v : 0;
    }
  },

  reluBackward(y, dy, dx) {
    for (let i = 0; i < dx.length; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
  },

  dropout(x, y, mask, keep, scale, rng) {
    for (let i = 0; i < mask.length; i++) {
      const m = rng.next() < keep ? scale : 0;
      mask[i] = m;
      y[i] = x[i]! * m;
    }
  },

  mul(a, b, out) {
    for (let i = 0; i < out.length; i++) out[i] = a[i]! * b[i]!;
  },

  adam(w, g, m, v, b1, b2, stepSize, sqrtC2, eps) {
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      const mi = b1 * m[i]! + (1 - b1) * gi;
      const vi = b2 * v[i]! + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i]! -= (stepSize * mi) / (Math.sqrt(vi) / sqrtC2 + eps);
    }
  },

  addScaled(acc, src, scale, C) {
    for (let r = 0; r < acc.length; r += C) {
      for (let c = 0; c < C; c++) acc[r + c]! += src[r + c]! * scale[c]!;
    }
  },

  channelDot(a, b, out, C) {
    for (let r = 0; r < a.length; r += C) {
      for (let c = 0; c < C; c++) out[c]! += a[r + c]! * b[r + c]!;
    }
  },

  activate(f, v) {
    switch (f) {
      case 'sigmoid':
        for (let k = 0; k < v.length; k++) v[k] = 1 / (1 + Math.exp(-v[k]!));
        return;
      case 'tanh':
        for (let k = 0; k < v.length; k++) v[k] = Math.tanh(v[k]!);
        return;
      case 'relu':
        for (let k = 0; k < v.length; k++) if (v[k]! < 0) v[k] = 0;
        return;
    }
  },

  activationBackward(f, d, g) {
    switch (f) {
      case 'sigmoid':
        for (let k = 0; k < g.length; k++) g[k]! *= d[k]! * (1 - d[k]!);
        return;
      case 'tanh':
        for (let k = 0; k < g.length; k++) g[k]! *= 1 - d[k]! * d[k]!;
        return;
      case 'relu':
        for (let k = 0; k < g.length; k++) if (!(d[k]! > 0)) g[k] = 0;
        return;
    }
  },

  addInto(acc, src) {
    for (let k = 0; k < acc.length; k++) acc[k]! += src[k]!;
  },
};

/** Bumped with native/kernels.cc's kAbi whenever a native signature changes. */
const NATIVE_ABI = 2;

interface Addon extends Omit<Kernels, 'name' | 'dropout' | 'activate' | 'activationBackward'> {
  abi: number;
  isa: string;
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, keep: number, scale: number, state: Uint32Array): void;
  activate(f: number, v: Float32Array): void;
  activationBackward(f: number, d: Float32Array, g: Float32Array): void;
}

/** Why the native kernels are not in use (undefined when they are available). */
export let nativeUnavailable: string | undefined;
/** Instruction set the native matrix kernels dispatched to ('avx512', 'avx2' or 'generic'), when loaded. */
export let nativeIsa: string | undefined;

function loadNative(): Kernels | null {
  let addon: Addon;
  try {
    const require = createRequire(import.meta.url);
    // src/engine and dist/engine both sit two levels below the package root.
    addon = require('../../build/Release/dendritic_kernels.node') as Addon;
  } catch (e) {
    nativeUnavailable = `addon not built (${(e as Error).message.split('\n')[0]}); run npm run build:native`;
    return null;
  }
  if (addon.abi !== NATIVE_ABI) {
    nativeUnavailable = `addon ABI ${addon.abi}, expected ${NATIVE_ABI}; run npm run build:native`;
    return null;
  }
  nativeIsa = addon.isa;
  const { dropout, activate, activationBackward } = addon;
  return {
    name: 'native',
    gemm: addon.gemm,
    gemmTN: addon.gemmTN,
    gemmNT: addon.gemmNT,
    addColumnSums: addon.addColumnSums,
    im2col: addon.im2col,
    col2im: addon.col2im,
    maxPool: addon.maxPool,
    maxPoolBackward: addon.maxPoolBackward,
    relu: addon.relu,
    reluBackward: addon.reluBackward,
    dropout: (x, y, mask, keep, scale, rng) => dropout(x, y, mask, keep, scale, rng.stateWords()),
    mul: addon.mul,
    adam: addon.adam,
    addScaled: addon.addScaled,
    channelDot: addon.channelDot,
    activate: (f, v) => activate(ACTIVATION_CODE[f], v),
    activationBackward: (f, d, g) => activationBackward(ACTIVATION_CODE[f], d, g),
    addInto: addon.addInto,
  };
}

/** The native kernels, or null when the addon is missing or stale (see nativeUnavailable). */
export const nativeKernels: Kernels | null = loadNative();

/** The kernels the layers use; switch with useKernels. */
export const kernels: Kernels = { ...jsKernels };

/** Selects the implementation behind `kernels` (throws for 'native' when the addon is unavailable). */
export function useKernels(backend: KernelBackend): void {
  if (backend === 'native' && nativeKernels === null) {
    throw new Error(`DENDRITIC_KERNELS=native: native kernels unavailable: ${nativeUnavailable}`);
  }
  Object.assign(kernels, backend === 'native' ? nativeKernels : jsKernels);
}

const requested = process.env.DENDRITIC_KERNELS;
if (requested !== undefined && requested !== '' && requested !== 'js' && requested !== 'native') {
  throw new Error(`DENDRITIC_KERNELS: expected 'js' or 'native', got '${requested}'`);
}
useKernels(requested === 'js' || (requested !== 'native' && nativeKernels === null) ? 'js' : 'native');
