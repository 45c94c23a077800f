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
 *   distributions, each kernel truncated to the range and renormalised, mixed with a uniform prior;
 *   categorical: smoothed frequencies around the config's probabilities). 24 candidates are drawn from
 *   l (kernels truncated to the range, so no proposal piles up at a limit) and the one with the largest
 *   l(x)/g(x) is proposed. A proposal equal to a trial already proposed is drawn again (from the model,
 *   then at random), so a bayes sweep never runs the same trial twice while the space has others.
 */
import type { Dimension, ParamValue, Params, SweepConfig } from './config.js';
import { meetsConstraints, metricValue, type TrialFigures } from './metrics.js';
import type { TrialResult } from './trial.js';
import { SweepRng, fromUnit, normalCdf, sample, toUnit } from './space.js';

/** A finished trial as the search sees it: its parameters and its score, higher is better. */
export interface Observation {
  params: Params;
  score: number;
}

export interface Search {
  /** `seen`: every trial proposed so far (finished or pending): bayes proposes none of them again. */
  propose(index: number, observations: readonly Observation[], seen?: readonly Params[]): Params;
}

/**
 * What the search learns from the finished trials (in id order): completed and pruned trials with their
 * score; a completed trial that misses a constraint counts as worse than every other trial. Failed
 * trials are left out.
 */
export function observationsOf(config: Pick<SweepConfig, 'metric' | 'constraints'>, trials: readonly TrialResult[]): Observation[] {
  const sorted = [...trials].sort((a, b) => a.id.localeCompare(b.id));
  const scored = sorted.flatMap((t) => {
    const s = t.status === 'failed' ? null : score(config, t);
    return s === null ? [] : [{ t, s }];
  });
  const worst = Math.min(...scored.map((x) => x.s));
  return scored.map(({ t, s }) => ({
    params: t.params,
    score: t.status === 'completed' && !meetsConstraints(config, t) ? worst - 1 - Math.abs(worst) : s,
  }));
}

/**
 * The score a search maximises: the metric, negated when the goal is to minimise it; null when the
 * trial has none. (A trial that misses a constraint is given the worst score by the coordinator.)
 */
export function score(config: Pick<SweepConfig, 'metric'> & Partial<Pick<SweepConfig, 'constraints'>>, trial: TrialFigures | null): number | null {
  if (!trial) return null;
  const v = metricValue(trial, config.metric.name);
  if (v === null) return null;
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

  propose(index: number, observations: readonly Observation[], seen: readonly Params[] = []): Params {
    const rng = new SweepRng(this.seed, index);
    const taken = new Set(seen.map((p) => paramsKey(this.dims, p)));
    // Never the same trial twice: draw again (from the model, then at random) while the proposal was seen.
    let point = this.proposeOnce(observations, rng);
    for (let attempt = 0; attempt < 64 && taken.has(paramsKey(this.dims, point)); attempt++) {
      point = attempt < 16 ? this.proposeOnce(observations, rng) : randomPoint(this.dims, rng);
    }
    return point;
  }

  private proposeOnce(observations: readonly Observation[], rng: SweepRng): Params {
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
      // Smoothed frequencies; the prior is W&B's probabilities when given, else equal.
      const prior = d.probabilities ?? d.values.map(() => 1 / d.values.length);
      const freq = (obs: readonly Observation[]) =>
        d.values.map(
          (v, i) => (obs.filter((o) => keyOf(o.params[d.param]) === keyOf(v)).length + d.values.length * prior[i]!) / (obs.length + d.values.length),
        );
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
    const bw = (n: number) => Math.max(0.05, 0.15 * Math.max(1, n) ** -0.2);
    const sl = bw(lp.length);
    const sg = bw(gp.length);
    let bestU = rng.next();
    let bestRatio = -Infinity;
    for (let c = 0; c < CANDIDATES; c++) {
      // Draw from l: the uniform prior with weight 1/(n+1), else a kernel around a good point, truncated
      // to [0, 1] (drawn again until inside): no probability piles up at the range's limits.
      const u = rng.next() < 1 / (lp.length + 1) ? rng.next() : truncatedKernel(lp[rng.int(lp.length)]!, sl, rng);
      const ratio = parzen(u, lp, sl) / parzen(u, gp, sg);
      if (ratio > bestRatio) [bestU, bestRatio] = [u, ratio];
    }
    return fromUnit(d, bestU);
  }
}

/** A draw of a Gaussian kernel at `p` (width s) truncated to [0, 1]. */
function truncatedKernel(p: number, s: number, rng: SweepRng): number {
  for (let i = 0; i < 32; i++) {
    const u = p + s * rng.normal();
    if (u >= 0 && u <= 1) return u;
  }
  return rng.next(); // a kernel almost wholly outside [0, 1] (not reachable with s <= 0.3 and p in [0, 1])
}

/** A proposal's identity: its values in the dimensions' order (a repeated trial has the same key). */
function paramsKey(dims: readonly Dimension[], p: Params): string {
  return JSON.stringify(dims.map((d) => p[d.param] ?? null));
}

/**
 * Density on [0, 1] of Gaussian kernels at `points` (width s), each truncated to [0, 1] and renormalised,
 * mixed with a uniform prior of weight 1/(n+1).
 */
export function parzen(u: number, points: readonly number[], s: number): number {
  const n = points.length;
  let k = 0;
  for (const p of points) {
    const mass = normalCdf((1 - p) / s) - normalCdf(-p / s);
    k += Math.exp(-0.5 * ((u - p) / s) ** 2) / (s * Math.sqrt(2 * Math.PI) * mass);
  }
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
