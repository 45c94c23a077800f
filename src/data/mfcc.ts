/**
 * Edge Impulse's MFCC processing block (implementation version 4, keyword-spotting defaults),
 * reproduced step by step from /work/shared/bench/ei_mfcc_ref.py so that features computed here
 * match the ones Edge Impulse computes on the device. float64 internally, float32 out.
 */
import { userError } from '../errors.js';

export interface MfccOptions {
  /** Seconds per frame (0.02). */
  frameLength: number;
  /** Seconds between frame starts (0.02). */
  frameStride: number;
  numFilters: number;
  fftLength: number;
  numCepstral: number;
  /** Hz; lowest edge of the mel filterbank (0). */
  lowFrequency: number;
  /** Hz; 0 means half the sample rate. */
  highFrequency: number;
  /** Pre-emphasis coefficient (0.98), applied with wrap-around as Edge Impulse does. */
  preEmphasis: number;
  /** Frames in the sliding normalisation window (101). */
  winSize: number;
}

export const MFCC_DEFAULTS: Readonly<MfccOptions> = Object.freeze({
  frameLength: 0.02,
  frameStride: 0.02,
  numFilters: 32,
  fftLength: 256,
  numCepstral: 13,
  lowFrequency: 0,
  highFrequency: 0,
  preEmphasis: 0.98,
  winSize: 101,
});

export interface MfccResult {
  /** frames x numCepstral, frame-major. */
  features: Float32Array;
  frames: number;
  coeffs: number;
}

/** Zero-pads or crops a signal to exactly n samples. */
export function padOrCrop(samples: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n);
  const m = Math.min(n, samples.length);
  for (let i = 0; i < m; i++) out[i] = samples[i]!;
  return out;
}

/** Number of frames the MFCC produces for a signal of `length` samples. */
export function mfccFrameCount(length: number, sampleRate: number, options: Partial<MfccOptions> = {}): number {
  const o = { ...MFCC_DEFAULTS, ...options };
  const fl = pyRound(o.frameLength * sampleRate);
  const st = pyRound(o.frameStride * sampleRate);
  return Math.floor((length - (fl - st)) / st);
}

/** MFCC of a whole signal (already padded/cropped to the window), in int16 scale. */
export function mfcc(signal: ArrayLike<number>, sampleRate: number, options: Partial<MfccOptions> = {}): MfccResult {
  const o = { ...MFCC_DEFAULTS, ...options };
  validate(o, sampleRate);
  const high = o.highFrequency || sampleRate / 2;
  const n = signal.length;
  const fl = pyRound(o.frameLength * sampleRate);
  const st = pyRound(o.frameStride * sampleRate);
  const frames = Math.floor((n - (fl - st)) / st);
  if (frames < 1) {
    throw userError('mfcc', 'frame length', `signal of ${n} samples is shorter than one frame of ${fl} samples`);
  }

  // Pre-emphasis: s - pre * roll(s, 1); the first sample wraps around to the last (as numpy.roll does).
  const sig = new Float64Array(n);
  for (let i = 0; i < n; i++) sig[i] = signal[i]! - o.preEmphasis * signal[i === 0 ? n - 1 : i - 1]!;

  const nfft = o.fftLength;
  const bins = nfft / 2 + 1;
  const fb = melFilterbank(o.numFilters, nfft, sampleRate, o.lowFrequency, high);
  const fft = new RealFft(nfft);
  const power = new Float64Array(bins);
  const frameBuf = new Float64Array(nfft);
  const logMel = new Float64Array(o.numFilters);
  const cep = new Float64Array(frames * o.numCepstral);
  const dct = dctMatrix(o.numFilters, o.numCepstral);
  const take = Math.min(fl, nfft); // frames[:, :nfft] crops long frames; rfft(n=nfft) zero-pads short ones

  for (let f = 0; f < frames; f++) {
    frameBuf.fill(0);
    const start = f * st;
    for (let i = 0; i < take; i++) frameBuf[i] = sig[start + i]!;
    fft.power(frameBuf, power);
    let energy = 0;
    for (let k = 0; k < bins; k++) {
      power[k] = power[k]! / nfft;
      energy += power[k]!;
    }
    if (energy === 0) energy = 1e-10;
    for (let j = 0; j < o.numFilters; j++) {
      let s = 0;
      const row = fb[j]!;
      for (let k = 0; k < bins; k++) s += power[k]! * row[k]!;
      logMel[j] = Math.log(s === 0 ? 1e-10 : s);
    }
    for (let c = 0; c < o.numCepstral; c++) {
      let s = 0;
      const row = dct[c]!;
      for (let j = 0; j < o.numFilters; j++) s += row[j]! * logMel[j]!;
      cep[f * o.numCepstral + c] = s;
    }
    cep[f * o.numCepstral] = Math.log(energy);
  }

  const normalised = slidingNormalise(cep, frames, o.numCepstral, o.winSize);
  return { features: Float32Array.from(normalised), frames, coeffs: o.numCepstral };
}

function validate(o: MfccOptions, sampleRate: number): void {
  const positive: (keyof MfccOptions)[] = ['frameLength', 'frameStride', 'numFilters', 'fftLength', 'numCepstral', 'winSize'];
  for (const key of positive) {
    if (!(Number.isFinite(o[key]) && o[key] > 0)) throw userError('mfcc', key, `expected a positive number, got ${o[key]}`);
  }
  for (const key of ['numFilters', 'fftLength', 'numCepstral', 'winSize'] as const) {
    if (!Number.isInteger(o[key])) throw userError('mfcc', key, `expected an integer, got ${o[key]}`);
  }
  if (o.fftLength % 2 !== 0) throw userError('mfcc', 'fftLength', `expected an even number, got ${o.fftLength}`);
  if (o.numCepstral > o.numFilters) {
    throw userError('mfcc', 'numCepstral', `${o.numCepstral} exceeds numFilters (${o.numFilters})`);
  }
  const high = o.highFrequency || sampleRate / 2;
  if (!(o.lowFrequency >= 0 && o.lowFrequency < high && high <= sampleRate / 2)) {
    throw userError(
      'mfcc',
      'lowFrequency/highFrequency',
      `expected 0 <= low < high <= ${sampleRate / 2} Hz (half the sample rate), got ${o.lowFrequency}..${high}`,
    );
  }
  if (!Number.isFinite(o.preEmphasis)) throw userError('mfcc', 'preEmphasis', `expected a number, got ${o.preEmphasis}`);
}

/** Python's round(): halves go to the even neighbour. */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const mel = (f: number): number => 1127.0 * Math.log(1 + f / 700.0);
const imel = (m: number): number => 700.0 * (Math.exp(m / 1127.0) - 1);

/** HTK-style triangular filters over the rfft bins, exactly as Edge Impulse builds them. */
export function melFilterbank(nfilt: number, nfft: number, fs: number, low: number, high: number): Float64Array[] {
  const bins = nfft / 2 + 1;
  const lo = mel(low);
  const hi = mel(high);
  const edges: number[] = [];
  for (let i = 0; i < nfilt + 2; i++) {
    // numpy.linspace: i * step + lo, with the last point exactly hi
    const m = i === nfilt + 1 ? hi : i * ((hi - lo) / (nfilt + 1)) + lo;
    edges.push(imel(m));
  }
  edges[nfilt + 1] = edges[nfilt + 1]! - 0.001;
  const bin = edges.map((hz) => Math.floor(((nfft + 1) * hz) / fs));
  const fb: Float64Array[] = [];
  for (let j = 0; j < nfilt; j++) {
    const row = new Float64Array(bins);
    const l = bin[j]!;
    const c = bin[j + 1]!;
    const r = bin[j + 2]!;
    for (let k = l; k < c; k++) row[k] = (k - l) / Math.max(c - l, 1);
    for (let k = c; k < Math.min(r, bins); k++) row[k] = (r - k) / Math.max(r - c, 1);
    fb.push(row);
  }
  return fb;
}

/** Rows 0..ncep-1 of the orthonormal DCT-II matrix (scipy.fftpack.dct norm='ortho'). */
function dctMatrix(n: number, ncep: number): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let k = 0; k < ncep; k++) {
    const row = new Float64Array(n);
    const scale = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
    for (let i = 0; i < n; i++) row[i] = scale * Math.cos((Math.PI * k * (2 * i + 1)) / (2 * n));
    rows.push(row);
  }
  return rows;
}

/**
 * Index into a length-n array extended by numpy.pad(mode='symmetric'): mirror images that repeat
 * the edge sample, continued periodically (period 2n) for pads longer than the array.
 */
function symmetricIndex(i: number, n: number): number {
  const m = ((i % (2 * n)) + 2 * n) % (2 * n);
  return m < n ? m : 2 * n - 1 - m;
}

/** Cepstral mean and variance normalisation over a sliding window of `win` frames, per coefficient. */
function slidingNormalise(c: Float64Array, frames: number, ncoef: number, win: number): Float64Array {
  const pad = Math.floor((win - 1) / 2);
  const centred = new Float64Array(c.length);
  for (let j = 0; j < ncoef; j++) {
    for (let f = 0; f < frames; f++) {
      let s = 0;
      for (let w = 0; w < win; w++) s += c[symmetricIndex(f - pad + w, frames) * ncoef + j]!;
      centred[f * ncoef + j] = c[f * ncoef + j]! - s / win;
    }
  }
  const out = new Float64Array(c.length);
  for (let j = 0; j < ncoef; j++) {
    for (let f = 0; f < frames; f++) {
      let s = 0;
      for (let w = 0; w < win; w++) s += centred[symmetricIndex(f - pad + w, frames) * ncoef + j]!;
      const mean = s / win;
      let v = 0;
      for (let w = 0; w < win; w++) {
        const d = centred[symmetricIndex(f - pad + w, frames) * ncoef + j]! - mean;
        v += d * d;
      }
      out[f * ncoef + j] = centred[f * ncoef + j]! / (Math.sqrt(v / win) + 1e-10);
    }
  }
  return out;
}

/** Power spectrum |rfft(x, n)|^2 for a fixed n: radix-2 FFT when n is a power of two, else a direct DFT. */
export class RealFft {
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly rev: Uint32Array | null;

  constructor(private readonly n: number) {
    this.re = new Float64Array(n);
    this.im = new Float64Array(n);
    this.cos = new Float64Array(n);
    this.sin = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    const pow2 = (n & (n - 1)) === 0;
    this.rev = pow2 ? bitReversal(n) : null;
  }

  /** Writes |X_k|^2 for k = 0..n/2 into out. */
  power(x: Float64Array, out: Float64Array): void {
    const n = this.n;
    const half = Math.floor(n / 2);
    if (this.rev === null) {
      for (let k = 0; k <= half; k++) {
        let re = 0;
        let im = 0;
        for (let t = 0; t < n; t++) {
          const idx = (k * t) % n;
          re += x[t]! * this.cos[idx]!;
          im -= x[t]! * this.sin[idx]!;
        }
        out[k] = re * re + im * im;
      }
      return;
    }
    const re = this.re;
    const im = this.im;
    for (let i = 0; i < n; i++) {
      re[this.rev[i]!] = x[i]!;
      im[i] = 0;
    }
    for (let size = 2; size <= n; size *= 2) {
      const halfSize = size / 2;
      const step = n / size;
      for (let start = 0; start < n; start += size) {
        for (let k = 0; k < halfSize; k++) {
          const wr = this.cos[k * step]!;
          const wi = -this.sin[k * step]!;
          const a = start + k;
          const b = a + halfSize;
          const tr = re[b]! * wr - im[b]! * wi;
          const ti = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
    for (let k = 0; k <= half; k++) out[k] = re[k]! * re[k]! + im[k]! * im[k]!;
  }
}

function bitReversal(n: number): Uint32Array {
  const bits = Math.round(Math.log2(n));
  const rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (i & (1 << b)) r |= 1 << (bits - 1 - b);
    rev[i] = r;
  }
  return rev;
}
