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
  let v = d.log ? Math.exp(Math.log(d.min) + c * (Math.log(d.max) - Math.log(d.min))) : d.min + c * (d.max - d.min);
  if (d.q !== undefined) {
    v = Math.round(v / d.q) * d.q;
    // Keep the rounded value inside [min, max].
    while (v > d.max + 1e-12) v -= d.q;
    while (v < d.min - 1e-12) v += d.q;
  }
  if (d.spec.type === 'int') return Math.round(v);
  return Number(v.toPrecision(12)); // 0.30000000000000004 -> 0.3: the flag text stays short, the value exact
}

export function toUnit(d: Numeric, v: number): number {
  if (d.distribution === 'int_uniform') return Math.min(1, Math.max(0, (v - d.min + 0.5) / (d.max - d.min + 1)));
  const u = d.log ? (Math.log(v) - Math.log(d.min)) / (Math.log(d.max) - Math.log(d.min)) : (v - d.min) / (d.max - d.min);
  return Math.min(1, Math.max(0, u));
}

/** One random value of a dimension. */
export function sample(d: Dimension, rng: SweepRng): ParamValue {
  switch (d.kind) {
    case 'fixed':
      return d.value;
    case 'choice':
      return d.values[rng.int(d.values.length)]!;
    case 'numeric':
      return fromUnit(d, rng.next());
  }
}
