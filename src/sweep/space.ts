/**
 * The search space: drawing a value of a dimension, and mapping numeric values to and from the unit
 * interval (log scale for log distributions), which the model-based search works in.
 */
import type { Dimension, ParamValue } from './config.js';

/** A small seeded generator (mulberry32): the search's draws depend on (seed, trial index) only. */
export class SweepRng {
  private state: number;
  constructor(...seeds: number[]) {
    let h = 0x811c9dc5;
    for (const s of seeds) {
      for (const byte of [s & 0xff, (s >>> 8) & 0xff, (s >>> 16) & 0xff, (s >>> 24) & 0xff, Math.floor(s / 2 ** 32) & 0xff]) {
        h = Math.imul(h ^ byte, 0x01000193) >>> 0;
      }
    }
    this.state = h;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

type Numeric = Extract<Dimension, { kind: 'numeric' }>;

/** Unit-interval position u in [0, 1] -> the dimension's value (rounded to q, to an integer where needed). */
export function fromUnit(d: Numeric, u: number): number {
  const c = Math.min(1, Math.max(0, u));
  if (d.distribution === 'int_uniform') return d.min + Math.min(Math.floor(c * (d.max - d.min + 1)), d.max - d.min);
  let v: number;
  if (d.shape) {
    // The truncated distribution's quantile: u spans the CDF between min and max.
    const p0 = shapeCdf(d, d.min);
    const p1 = shapeCdf(d, d.max);
    v = Math.min(d.max, Math.max(d.min, shapePpf(d, p0 + c * (p1 - p0))));
  } else v = d.log ? Math.exp(Math.log(d.min) + c * (Math.log(d.max) - Math.log(d.min))) : d.min + c * (d.max - d.min);
  if (d.q !== undefined) {
    v = Math.round(v / d.q) * d.q;
    // Keep the rounded value inside [min, max].
    while (v > d.max + 1e-12) v -= d.q;
    while (v < d.min - 1e-12) v += d.q;
    // A limit the parameter excludes (learning rate > 0, width > 0) is never proposed.
    if (d.spec.type !== 'select' && 'minExclusive' in d.spec && d.spec.minExclusive && v <= (d.spec.min ?? -Infinity)) v += d.q;
  }
  if (d.spec.type === 'int') return Math.round(v);
  return Number(v.toPrecision(12)); // 0.30000000000000004 -> 0.3: the flag text stays short, the value exact
}

export function toUnit(d: Numeric, v: number): number {
  if (d.distribution === 'int_uniform') return Math.min(1, Math.max(0, (v - d.min + 0.5) / (d.max - d.min + 1)));
  if (d.shape) {
    const p0 = shapeCdf(d, d.min);
    const p1 = shapeCdf(d, d.max);
    return Math.min(1, Math.max(0, (shapeCdf(d, v) - p0) / (p1 - p0)));
  }
  const u = d.log ? (Math.log(v) - Math.log(d.min)) / (Math.log(d.max) - Math.log(d.min)) : (v - d.min) / (d.max - d.min);
  return Math.min(1, Math.max(0, u));
}

/** One random value of a dimension. */
export function sample(d: Dimension, rng: SweepRng): ParamValue {
  switch (d.kind) {
    case 'fixed':
      return d.value;
    case 'choice':
      return d.values[d.probabilities ? weightedIndex(d.probabilities, rng.next()) : rng.int(d.values.length)]!;
    case 'numeric':
      return fromUnit(d, rng.next());
  }
}

// ---------------------------------------------------------------------------------------------
// The distributions W&B defines by mu/sigma (normal, log_normal) or a/b (beta): their CDF and its
// inverse, so that they too map to and from the unit interval. Each is truncated to [min, max], the
// values the block parameter accepts: a draw the block would refuse is never proposed.

/** Standard normal CDF (Abramowitz-Stegun 7.1.26 via erf; absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Standard normal quantile (Acklam's rational approximation, one Newton step; |error| < 1e-9). */
export function normalPpf(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  return x;
}

function logGamma(x: number): number {
  const g = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const gi of g) ser += gi / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Continued fraction of the incomplete beta function (Numerical Recipes' betacf). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 3e-14) break;
  }
  return h;
}

/** CDF of Beta(a, b) at x (the regularized incomplete beta function). */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** Quantile of Beta(a, b) (bisection on the CDF, to 1e-12). */
export function betaPpf(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (betaCdf(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The index whose cumulative probability first exceeds r (r in [0, 1)); weights sum to 1. */
export function weightedIndex(weights: readonly number[], r: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i]!;
    if (r < acc && weights[i]! > 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}

/** CDF of a shaped dimension's (untruncated) distribution at v. */
export function shapeCdf(d: Numeric, v: number): number {
  const s = d.shape!;
  if (s.family === 'beta') return betaCdf(v, s.a, s.b);
  if (s.family === 'normal') return v === Infinity ? 1 : v === -Infinity ? 0 : normalCdf((v - s.mu) / s.sigma);
  if (v <= 0) return 0;
  return v === Infinity ? 1 : normalCdf((Math.log(v) - s.mu) / s.sigma);
}

function shapePpf(d: Numeric, p: number): number {
  const s = d.shape!;
  if (s.family === 'beta') return betaPpf(p, s.a, s.b);
  const z = normalPpf(Math.min(1 - 1e-15, Math.max(1e-15, p)));
  return s.family === 'normal' ? s.mu + s.sigma * z : Math.exp(s.mu + s.sigma * z);
}
