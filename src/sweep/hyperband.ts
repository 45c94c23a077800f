/**
 * Early termination, hyperband style (as W&B's `early_terminate: {type: hyperband}`): a trial is judged
 * at each milestone epoch (min_iter * eta^k, k < s) on its validation metric of that epoch against every
 * trial that reached the same milestone; only the best 1/eta of them continue. A milestone with fewer
 * than eta results so far stops nobody (the first trials are never pruned for lack of company).
 */
import type { Goal } from './config.js';

/**
 * Whether a trial whose metric at a milestone is `value` stops, given `all` values recorded at that
 * milestone (its own included). Ties with the last trial kept are kept.
 */
export function hyperbandStops(value: number, all: readonly number[], eta: number, goal: Goal): boolean {
  if (all.length < eta) return false;
  const better = (a: number, b: number) => (goal === 'maximize' ? a > b : a < b);
  const sorted = [...all].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  const keep = Math.max(1, Math.floor(all.length / eta));
  const cutoff = sorted[keep - 1]!;
  return better(cutoff, value);
}

/** Where the values of each milestone are kept: in memory for a local sweep, in Redis for a distributed one. */
export interface MilestoneStore {
  /** Records `trial`'s value at `milestone` (replacing a retried trial's earlier value); returns all values there. */
  record(milestone: number, trial: string, value: number): Promise<number[]>;
}

export class MemoryMilestones implements MilestoneStore {
  private readonly byMilestone = new Map<number, Map<string, number>>();
  async record(milestone: number, trial: string, value: number): Promise<number[]> {
    let m = this.byMilestone.get(milestone);
    if (!m) this.byMilestone.set(milestone, (m = new Map()));
    m.set(trial, value);
    return [...m.values()];
  }
}
