/**
 * The three search methods. A search proposes trial `index`'s parameters from the sweep's seed, the
 * index and (bayes) the results so far, so a resumed sweep proposes what the first one would have.
 *
 * - grid: the Cartesian product of every parameter's values, in order (the last parameter varies fastest).
 * - random: each parameter drawn independently from its distribution.
 * - bayes: a Tree-structured Parzen Estimator (TPE, Bergstra et al. 2011), independent per parameter.
 *   The first `startup` trials are random; after that the finished trials are split by the metric into
 *   the best quarter ("good") and the rest ("bad"); per parameter, a density l(x) is fitted to the good
 *   trials and g(x) to the bad ones (numeric: Gaussian kernels on the unit interval, log scale for log
 *   distributions, mixed with a uniform prior; categorical: smoothed frequencies). 24 candidates are
 *   drawn from l and the one with the largest l(x)/g(x) is proposed.
 */
import type { Dimension, ParamValue, Params, SweepConfig } from './config.js';
import { SweepRng, fromUnit, sample, toUnit } from './space.js';

/** A finished trial as the search sees it: its parameters and its score, higher is better. */
export interface Observation {
  params: Params;
  score: number;
}

export interface Search {
  propose(index: number, observations: readonly Observation[]): Params;
}

/** The score a search maximises: the metric, negated when the goal is to minimise it. */
export function score(config: Pick<SweepConfig, 'metric'>, metrics: { accuracy: number | null; loss: number | null } | null): number | null {
  const v = metrics?.[config.metric.name] ?? null;
  if (v === null || !Number.isFinite(v)) return null;
  return config.metric.goal === 'maximize' ? v : -v;
}

export function createSearch(config: Pick<SweepConfig, 'method' | 'dimensions' | 'seed' | 'trials'>): Search {
  switch (config.method) {
    case 'grid':
      return { propose: (index) => gridPoint(config.dimensions, index) };
    case 'random':
      return { propose: (index) => randomPoint(config.dimensions, new SweepRng(config.seed, index)) };
    case 'bayes':
      return new TpeSearch(config.dimensions, config.seed, Math.max(3, Math.min(10, Math.ceil(config.trials / 5))));
  }
}

export function gridPoint(dims: readonly Dimension[], index: number): Params {
  const out: Params = {};
  let rest = index;
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i]!;
    if (d.kind === 'fixed') out[d.param] = d.value;
    else if (d.kind === 'choice') {
      out[d.param] = d.values[rest % d.values.length]!;
      rest = Math.floor(rest / d.values.length);
    } else throw new Error(`grid: ${d.param} has no values`);
  }
  return ordered(dims, out);
}

function randomPoint(dims: readonly Dimension[], rng: SweepRng): Params {
  const out: Params = {};
  for (const d of dims) out[d.param] = sample(d, rng);
  return out;
}

function ordered(dims: readonly Dimension[], p: Params): Params {
  const out: Params = {};
  for (const d of dims) out[d.param] = p[d.param]!;
  return out;
}

const GAMMA = 0.25;
const CANDIDATES = 24;

export class TpeSearch implements Search {
  constructor(
    private readonly dims: readonly Dimension[],
    private readonly seed: number,
    readonly startup: number,
  ) {}

  propose(index: number, observations: readonly Observation[]): Params {
    const rng = new SweepRng(this.seed, index);
    if (observations.length < this.startup) return randomPoint(this.dims, rng);
    const sorted = [...observations].sort((a, b) => b.score - a.score);
    const nGood = Math.max(1, Math.ceil(GAMMA * sorted.length));
    const good = sorted.slice(0, nGood);
    const bad = sorted.slice(nGood);
    const out: Params = {};
    for (const d of this.dims) out[d.param] = this.proposeOne(d, good, bad, rng);
    return out;
  }

  private proposeOne(d: Dimension, good: readonly Observation[], bad: readonly Observation[], rng: SweepRng): ParamValue {
    if (d.kind === 'fixed') return d.value;
    if (d.kind === 'choice') {
      const keyOf = (v: ParamValue | undefined) => JSON.stringify(v);
      const freq = (obs: readonly Observation[]) =>
        d.values.map((v) => (obs.filter((o) => keyOf(o.params[d.param]) === keyOf(v)).length + 1) / (obs.length + d.values.length));
      const l = freq(good);
      const g = freq(bad);
      let best = 0;
      let bestRatio = -Infinity;
      for (let c = 0; c < CANDIDATES; c++) {
        const i = drawCategorical(l, rng);
        const ratio = l[i]! / g[i]!;
        if (ratio > bestRatio) [best, bestRatio] = [i, ratio];
      }
      return d.values[best]!;
    }
    const pos = (obs: readonly Observation[]) =>
      obs
        .map((o) => o.params[d.param])
        .filter((v): v is number => typeof v === 'number')
        .map((v) => toUnit(d, v));
    const lp = pos(good);
    const gp = pos(bad);
    const bw = (n: number) => Math.max(0.05, 0.3 * Math.max(1, n) ** -0.2);
    const sl = bw(lp.length);
    const sg = bw(gp.length);
    let bestU = rng.next();
    let bestRatio = -Infinity;
    for (let c = 0; c < CANDIDATES; c++) {
      // Draw from l: the uniform prior with weight 1/(n+1), else a kernel around a good point.
      const u = rng.next() < 1 / (lp.length + 1) ? rng.next() : clamp01(lp[rng.int(lp.length)]! + sl * rng.normal());
      const ratio = parzen(u, lp, sl) / parzen(u, gp, sg);
      if (ratio > bestRatio) [bestU, bestRatio] = [u, ratio];
    }
    return fromUnit(d, bestU);
  }
}

function clamp01(u: number): number {
  return Math.min(1, Math.max(0, u));
}

/** Density on [0, 1] of Gaussian kernels at `points` (width s) mixed with a uniform prior of weight 1/(n+1). */
export function parzen(u: number, points: readonly number[], s: number): number {
  const n = points.length;
  let k = 0;
  for (const p of points) k += Math.exp(-0.5 * ((u - p) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
  return (1 + k) / (n + 1);
}

function drawCategorical(p: readonly number[], rng: SweepRng): number {
  const total = p.reduce((a, b) => a + b, 0);
  let r = rng.next() * total;
  for (let i = 0; i < p.length; i++) {
    r -= p[i]!;
    if (r <= 0) return i;
  }
  return p.length - 1;
}
